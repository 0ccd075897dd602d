"""Schema checks of `validate`: types, selections, relations, required fields, all at once."""

# Small TOML migration bodies and the value table read best one per line.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler import Ref, SearchRef, XmlidRef, load_project, validate
from zenoo_etl.compiler.schema import cache_path, load_schema, read_cache, write_cache
from zenoo_etl.compiler.validate import (
    _accepts,
    _checker,
    check_value,
    models_used,
    validate_project,
)
from zenoo_etl.errors import ConfigError, MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py

TAGS = '[[steps]]\nid = "tags"\nmodel = "res.partner.category"\naction = "create"\nrecords = [{ n = "a" }]\nfields = { name = "{{ row.n }}" }\n'


@pytest.fixture
def project(make_project: MakeProject):  # type: ignore[no-untyped-def]
    return load_project(make_project({"migrations/0001_tags.toml": TAGS}), environ={})


@pytest.mark.parametrize(
    ("attrs", "value", "problem"),
    [
        ({"type": "char"}, "x", None),
        ({"type": "char"}, False, None),
        ({"type": "char"}, [1], "cannot go into a char"),
        ({"type": "float"}, "12.5", None),
        ({"type": "float"}, "12,5", "not a number"),
        ({"type": "float"}, 3, None),
        ({"type": "monetary"}, True, "not a number"),
        ({"type": "integer"}, "42", None),
        ({"type": "integer"}, "4.2", "not an integer"),
        ({"type": "boolean"}, True, None),
        ({"type": "boolean"}, "False", "not a boolean"),
        ({"type": "selection", "selection": [["a", "A"], ["b", "B"]]}, "b", None),
        ({"type": "selection", "selection": [["a", "A"]]}, "c", "not a valid choice"),
        ({"type": "date"}, "2026-11-27", None),
        ({"type": "date"}, "2026-02-30", "not a valid date"),
        ({"type": "date"}, "27/11/2026", "not a date"),
        ({"type": "datetime"}, "2026-11-27 10:00:00", None),
        ({"type": "datetime"}, "tomorrow", "not a datetime"),
        ({"type": "many2one", "relation": "res.country"}, XmlidRef("base.us"), None),
        ({"type": "many2one", "relation": "res.country"}, 7, None),
        (
            {"type": "many2one", "relation": "res.country"},
            [XmlidRef("base.us")],
            "a list on a many2one",
        ),
        ({"type": "many2one", "relation": "res.country"}, "US", "not a reference"),
        ({"type": "many2one", "relation": "res.country"}, SearchRef("res.country", []), None),
        (
            {"type": "many2one", "relation": "res.country"},
            SearchRef("res.partner", []),
            "search is on res.partner",
        ),
        ({"type": "many2one", "relation": "res.partner.category"}, Ref("tags", "a"), None),
        (
            {"type": "many2one", "relation": "res.country"},
            Ref("tags", "a"),
            "makes res.partner.category records",
        ),
        ({"type": "many2many", "relation": "res.partner.category"}, [Ref("tags", "a")], None),
        (
            {"type": "many2many", "relation": "res.partner.category"},
            Ref("tags", "a"),
            "needs a list",
        ),
        ({"type": "many2many", "relation": "res.partner.category"}, [[6, 0, [1]]], None),
    ],
)
def test_check_value(project, attrs: dict, value: object, problem: str | None) -> None:  # type: ignore[no-untyped-def]
    message = check_value(value, attrs, project, {})  # type: ignore[arg-type]
    if problem is None:
        assert message is None
    else:
        assert message is not None and problem in message
    # the per-field checker the row pass uses says exactly the same
    check, _code = _checker(attrs, project, {})  # type: ignore[arg-type]
    assert check(value) == message  # type: ignore[arg-type]
    assert check(None) is None  # type: ignore[arg-type]
    # the row's generated condition accepts a value only when the checker has no message
    accepts = _accepts({"f": _checker(attrs, project, {})})  # type: ignore[arg-type]
    if accepts({"f": value}):
        assert message is None


@pytest.mark.parametrize(
    ("attrs", "value"),
    [
        ({"type": "char"}, "x"),
        ({"type": "char"}, False),
        ({"type": "boolean"}, True),
        ({"type": "many2one", "relation": "res.country"}, XmlidRef("base.us")),
        ({"type": "many2one", "relation": "res.partner.category"}, Ref("tags", "a")),
        ({"type": "many2many", "relation": "res.partner.category"}, [Ref("tags", "a")]),
        ({"type": "date"}, "2026-11-27"),
    ],
)
def test_common_values_are_accepted_by_one_condition_per_row(  # type: ignore[no-untyped-def]
    project, attrs: dict, value: object
) -> None:
    """The row pass checks a row's values with one generated condition; the values most
    rows hold pass it without a checker call (a date through its checker)."""
    assert _accepts({"f": _checker(attrs, project, {})})({"f": value})  # type: ignore[arg-type]


def test_unknown_model_field_and_uncached_model(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_tags.toml": TAGS,
            "migrations/0002_p.toml": '[[steps]]\nid = "p"\nmodel = "res.partner"\naction = "update"\ndomain = [["reff", "=", "x"]]\nvalues = { nme = "x" }\n',
            "migrations/0003_q.toml": '[[steps]]\nid = "q"\nmodel = "x.unknown"\naction = "delete"\ndomain = []\n',
        }
    )
    project = load_project(root, environ={})
    assert models_used(project) == ["res.partner", "res.partner.category", "x.unknown"]
    problems = validate_project(
        project,
        {
            "res.partner.category": {"name": {"type": "char"}},
            "res.partner": {"name": {"type": "char"}},
        },
    )
    text = [str(p) for p in problems]
    assert any(
        "migrations/0002_p.toml:6, step 'p', field 'nme'" in t and "'name'" in t for t in text
    )
    assert any("domain field 'reff'" in t for t in text)
    assert any("'x.unknown' is not in the schema cache" in t for t in text)


def test_load_errors_are_collected_not_raised(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_a.toml": '[[steps]]\nid = "a"\nmodel = "res.partner"\naction = "nuke"\n\n'
            + TAGS,
            "migrations/0002_b.toml": "[[steps]\n",
            "migrations/0003_c.toml": '[[steps]]\nid = "c"\nmodel = "res.partner"\naction = "create"\nrecords = [{ n = "a" }]\nfields = { parent_id = { ref = "a", key = "1" }, category_id = [{ ref = "nope", key = "1" }] }\n',
        }
    )
    errors: list[MigrationFileError] = []
    project = load_project(root, environ={}, errors=errors)
    messages = [str(e) for e in errors]
    assert len(messages) == 3, messages
    assert messages[0].startswith("migrations/0001_a.toml:4, step 'a'")
    assert messages[1].startswith("migrations/0002_b.toml:1:")
    assert "nope" in messages[2] and 'ref = "a"' not in messages[2]  # no cascade for the bad step
    assert [s.id for m in project.migrations for s in m.steps] == ["tags", "c"]
    with pytest.raises(MigrationFileError):
        load_project(root, environ={})


async def test_schema_cache_round_trip_and_sandbox_guard(make_project: MakeProject) -> None:
    config = (
        '[project]\nname = "t"\n\n[targets.prod]\nurl = "https://erp.invalid"\ndatabase = "d"\n'
        'username = "u"\npassword_env = "ZT_UNSET_PW"\n'
    )
    project = load_project(
        make_project({"migrations/0001_tags.toml": TAGS}, config=config), environ={}
    )
    write_cache(cache_path(project), {"res.partner.category": {"name": {"type": "char"}}})
    assert cache_path(project) == project.root / ".zenoo" / "schema" / "prod.json"
    assert read_cache(cache_path(project)) == {"res.partner.category": {"name": {"type": "char"}}}
    schema = await load_schema(project)  # cached: no server needed
    assert schema == {"res.partner.category": {"name": {"type": "char"}}}
    cache_path(project).write_text("{not json")
    with pytest.raises(ConfigError, match="--refresh"):
        await load_schema(project)


def test_domain_update_values_and_search_fields_are_checked(make_project: MakeProject) -> None:
    body = (
        '[[steps]]\nid = "u"\nmodel = "res.partner"\naction = "update"\ndomain = [["name", "=", "x"]]\n'
        'values = { color = "red", country_id = { search = [["cod", "=", "US"]], model = "res.country" } }\n'
    )
    project = load_project(make_project({"migrations/0001_u.toml": body}), environ={})
    schema = {
        "res.partner": {
            "name": {"type": "char"},
            "color": {"type": "integer"},
            "country_id": {"type": "many2one", "relation": "res.country"},
        },
        "res.country": {"code": {"type": "char"}},
    }
    problems = validate_project(project, schema)
    text = [str(p) for p in problems]
    assert "migrations/0001_u.toml:6, step 'u', field 'color': 'red' is not an integer" in text
    assert any("search on res.country uses field 'cod'" in t for t in text)
    assert all(p.row is None for p in problems)


SEEN = """\
[[steps]]
id = "{id}"
model = "res.partner"
action = "create"
source = {{ csv = "data/{id}.csv" }}
key = "{{{{ row.ref }}}}"
fields = {{ name = "{{{{ row.name }}}}"{extra} }}
"""


def test_the_row_pass_sees_keys_only_of_steps_it_checked_clean(make_project: MakeProject) -> None:
    """apply's preflight proves keys unique on its own row pass (seen_keys): a step gets
    the keys that may repeat only when every row and every key rendered cleanly."""
    files = {
        "migrations/0001_a.toml": SEEN.format(id="clean", extra="")
        + SEEN.format(id="twice", extra="")
        + SEEN.format(id="bad_row", extra=', is_company = "{{ row.c }}"')
        + SEEN.format(id="no_key", extra=""),
        "data/clean.csv": "ref,name\n1,a\n2,b\n",
        "data/twice.csv": "ref,name\n1,a\n2,b\n1,c\n",
        "data/bad_row.csv": "ref,name,c\n1,a,\n2,b,maybe\n",
        "data/no_key.csv": "ref,name\n1,a\n,b\n",
    }
    project = load_project(make_project(files), environ={})
    schema = {"res.partner": {"name": {"type": "char"}, "is_company": {"type": "boolean"}}}
    seen: dict[str, set[str]] = {}
    problems = validate_project(project, schema, keys=False, seen_keys=seen)
    assert [(p.step, p.row) for p in problems] == [("bad_row", 2)]
    assert seen == {"clean": set(), "twice": {"1"}}
    # without seen_keys the problems are the same
    assert validate_project(project, schema, keys=False) == problems


NARROW_STEP = """\
[[steps]]
id = "p"
model = "res.partner"
action = "create"
source = { csv = "data/p.csv" }
key = "{{ row.id }}"

[steps.fields]
name = "{{ row.name | trim }}"
is_company = "{{ row.kind == 'company' }}"
active = "{{ row.kind }}"
ref = "LEG-{{ row.id }}"
type = "{{ row.kind }}"
country_id = { xmlid = "base.{{ row.country | lower }}" }
parent_id = { ref = "tags", key = "T-{{ row.tag }}" }
category_id = [{ ref = "tags", key = "{{ row.tag }}" }]
comment = "fixed"
"""
NARROW_SCHEMA: dict[str, Any] = {
    "res.partner": {
        "name": {"type": "char"},
        "is_company": {"type": "boolean"},
        "active": {"type": "boolean"},
        "ref": {"type": "char"},
        "type": {"type": "selection", "selection": [["contact", "C"], ["invoice", "I"]]},
        "country_id": {"type": "many2one", "relation": "res.country"},
        "parent_id": {"type": "many2one", "relation": "res.partner"},
        "category_id": {"type": "many2many", "relation": "res.partner.category"},
        "comment": {"type": "text"},
    },
    "res.partner.category": {"name": {"type": "char"}},
    "res.country": {"code": {"type": "char"}},
}
narrow_rows = st.lists(
    st.tuples(
        st.text(alphabet='ab ,."', max_size=4),
        st.sampled_from(["company", "person", "contact", "invoice", "", "True"]),
        st.sampled_from(["us", "BE", "", "x.y"]),
        st.sampled_from(["", "a", "b"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=narrow_rows)
def test_leaving_proven_fields_out_of_a_csv_row_pass_finds_the_same_problems(
    make_project: MakeProject, rows: list[tuple[str, str, str, str]]
) -> None:
    """Fields proven to render an accepted value on every CSV row are not rendered by
    the row pass: the problems found (and the 20-problem cut) are exactly the same."""
    lines = ["id,name,kind,country,tag"]
    for i, (name, kind, country, tag) in enumerate(rows):
        quoted = name.replace('"', '""')
        lines.append(f'{i},"{quoted}",{kind},{country},{tag}')
    root = make_project(
        {
            "migrations/0001_tags.toml": TAGS,
            "migrations/0002_p.toml": NARROW_STEP,
            "data/p.csv": "\n".join(lines) + "\n",
        }
    )
    project = load_project(root, environ={})
    narrowed = validate_project(project, NARROW_SCHEMA, keys=False)
    with patch.object(validate, "csv_shape", lambda *args: None):
        every_field = validate_project(project, NARROW_SCHEMA, keys=False)
    assert [p.to_dict() for p in narrowed] == [p.to_dict() for p in every_field]
