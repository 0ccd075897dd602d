"""Field templates: native values, literals, references, and the never-evaluate-data rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler import Ref, SearchRef, XmlidRef, iter_rows, load_project
from zenoo_etl.compiler.j2file import render_file
from zenoo_etl.compiler.render import RowView, compile_text, compile_value
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py

CTX = {"vars": {"company": "Acme", "n": 2}, "target": {"name": "local"}}


def render(template: object, cells: dict[str, object]) -> object:
    ctx = dict(CTX, row=RowView(cells))
    return compile_value(template, "f")(cells, ctx)


@pytest.mark.parametrize(
    ("template", "cells", "expected"),
    [
        ("{{ 3 }}", {}, 3),
        ("{{ 2.5 }}", {}, 2.5),
        ("{{ row.kind == 'company' }}", {"kind": "company"}, True),
        ("{{ row.kind == 'company' }}", {"kind": "person"}, False),
        ("{{ row.name }}", {"name": "Alice"}, "Alice"),
        ("{{ row['two words'] }}", {"two words": "x"}, "x"),
        ("{{ row.name | trim }}", {"name": "  Bob "}, "Bob"),
        ("{{ row.price | float }}", {"price": "12.5"}, 12.5),
        ("LEG-{{ row.id }}", {"id": "7"}, "LEG-7"),
        ("{{ vars.company }} {{ vars.n }}", {}, "Acme 2"),
        ("{{ row.email }}", {"email": ""}, False),
        ("{{ none }}", {}, False),
        ("{{ row.x or '' }}", {"x": ""}, False),
        ("{% if row.a %}yes{% endif %}", {"a": ""}, False),
        ("plain text", {}, "plain text"),
        ("", {}, False),
        (True, {}, True),
        (12, {}, 12),
        (4.5, {}, 4.5),
        ("{{ [1, 2] }}", {}, [1, 2]),
        ("{{ row.n }}", {"n": 5}, 5),  # JSON sources keep native cell types
        ("{{ 3 }}\n", {}, "3\n"),  # a trailing newline makes it text
        ("{{ row.name }}\n", {"name": "A"}, "A\n"),
    ],
)
def test_native_values(template: object, cells: dict[str, object], expected: object) -> None:
    value = render(template, cells)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "cell",
    [
        "{{ 7*7 }}",
        "[1, 2]",
        "True",
        "{% for x in range(9) %}x{% endfor %}",
        "{{ ''.__class__ }}",
        "3",
    ],
)
def test_row_data_is_never_evaluated(cell: str) -> None:
    assert render("{{ row.v }}", {"v": cell}) == cell
    assert render("{{ row.v | trim }}", {"v": cell}) == cell
    assert render("x{{ row.v }}", {"v": cell}) == "x" + cell


def test_sandbox_refuses_unsafe_attribute_in_a_migration_template() -> None:
    from zenoo_etl.compiler.render import RenderError

    with pytest.raises(RenderError, match=r"unsafe|sandbox"):
        render("{{ ''.__class__.__mro__ }}", {})
    with pytest.raises(RenderError, match=r"unsafe|sandbox"):
        render("{{ vars.__class__ }}", {})


def test_templates_cannot_mutate_vars() -> None:
    from zenoo_etl.compiler.render import RenderError

    with pytest.raises(RenderError):
        render("{{ vars.update({'company': 'X'}) }}", {})
    assert CTX["vars"]["company"] == "Acme"


def test_column_named_like_a_dict_method_is_a_column() -> None:
    assert render("{{ row.items }}", {"items": "3 boxes"}) == "3 boxes"
    assert render("{{ row.get | upper }}", {"get": "x"}) == "X"


def test_missing_column_names_it() -> None:
    from zenoo_etl.compiler.render import RenderError

    for template in ("{{ row.nme }}", "{{ row.nme | trim }}", "a{{ row.nme }}"):
        with pytest.raises(RenderError) as info:
            render(template, {"name": "x"})
        assert info.value.column == "nme"


def test_undefined_variable_is_an_error_not_empty() -> None:
    from zenoo_etl.compiler.render import RenderError

    with pytest.raises(RenderError, match="no attribute 'nope'"):
        render("{{ vars.nope }}", {})
    with pytest.raises(RenderError, match="undefined"):
        render("x{{ nope }}", {})


def test_references() -> None:
    cells = {"country": "US", "tag": "vip", "code": "fr"}
    assert render({"xmlid": "base.{{ row.country | lower }}"}, cells) == XmlidRef("base.us")
    assert render({"ref": "tags", "key": "{{ row.tag }}"}, cells) == Ref("tags", "vip")
    assert render(
        [{"ref": "tags", "key": "{{ row.tag }}"}, {"ref": "tags", "key": "x"}], cells
    ) == [
        Ref("tags", "vip"),
        Ref("tags", "x"),
    ]
    found = render(
        {"search": [["code", "=", "{{ row.code | upper }}"]], "model": "res.country"}, cells
    )
    assert found == SearchRef("res.country", [["code", "=", "FR"]])
    assert isinstance(found, SearchRef) and isinstance(hash(found), int)
    assert render({"ref": "tags", "key": "{{ 5 }}"}, {}) == Ref("tags", "5")


def test_bad_xmlid_and_empty_key() -> None:
    from zenoo_etl.compiler.render import RenderError

    with pytest.raises(RenderError, match=r"module\.name"):
        render({"xmlid": "{{ row.x }}"}, {"x": "nodot"})
    with pytest.raises(RenderError, match="empty"):
        render({"ref": "tags", "key": "{{ row.x }}"}, {"x": ""})


def test_fast_path_does_not_call_jinja() -> None:
    fast = compile_text("{{ row.name }}")
    # A plain dict lookup: no context needed at all.
    assert fast({"name": "A"}, {}) == "A"


def test_render_file_with_vars_target_env_and_protected_row_templates() -> None:
    text = (
        "description = \"{{ vars.company }} on {{ target.name }} {{ env('ZT_X') }}\"\n"
        'name = "{{ row.name | trim }}"\n'
        'raw = "{% raw %}{{ row.a }}{% endraw %}"\n'
        "{% set xs = [] %}{% do xs.append(1) if false %}"
    )
    out = render_file(
        text.replace("{% do xs.append(1) if false %}", "{% set _ = xs.append(1) %}"),
        vars={"company": "Acme"},
        target={"name": "local"},
        environ={"ZT_X": "envval"},
    )
    assert 'description = "Acme on local envval"' in out
    assert 'name = "{{ row.name | trim }}"' in out
    assert 'raw = "{{ row.a }}"' in out


def test_render_file_errors_have_lines() -> None:
    from zenoo_etl.compiler.render import RenderError

    with pytest.raises(RenderError, match=r"^3: .*no attribute 'nope'"):
        render_file("a = 1\nb = 2\nc = '{{ vars.nope }}'\n", vars={}, target={})
    with pytest.raises(RenderError, match=r"^2: environment variable ZT_MISSING is not set"):
        render_file("a = 1\nb = '{{ env('ZT_MISSING') }}'\n", vars={}, target={}, environ={})
    with pytest.raises(RenderError, match=r"^2: Jinja syntax error"):
        render_file("a = 1\nb = '{% if %}'\n", vars={}, target={})
    assert (
        render_file("x = '{{ env('ZT_MISSING', 'dflt') }}'", vars={}, target={}, environ={})
        == "x = 'dflt'"
    )


def test_j2_migration_end_to_end(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_subs.toml.j2": """\
            description = "{{ vars.company }} subsidiaries"
            {% for code in ["fr", "de"] %}
            [[steps]]
            id = "sub-{{ code }}"
            model = "res.partner"
            action = "create"
            records = [{ code = "{{ code }}" }]
            fields = { name = "{{ vars.company }} {{ code|upper }}", ref = "{{ row.code|upper }}" }
            {% endfor %}
            """,
        }
    )
    project = load_project(root, vars={"company": "Initech"}, environ={})
    migration = project.migrations[0]
    assert migration.description == "Initech subsidiaries" and migration.templated
    assert [s.id for s in migration.steps] == ["sub-fr", "sub-de"]
    rows = list(iter_rows(project, migration, migration.steps[1]))
    assert rows[0].values == {"name": "Initech DE", "ref": "DE"}


def test_j2_undefined_variable_reports_file_and_line(make_project: MakeProject) -> None:
    root = make_project(
        {"migrations/0001_x.toml.j2": 'description = "x"\n\nname = "{{ vars.missing }}"\n'}
    )
    with pytest.raises(MigrationFileError) as info:
        load_project(root, environ={})
    assert str(info.value).startswith("migrations/0001_x.toml.j2:3:")
    assert "missing" in str(info.value)


def test_j2_sandbox_refuses_class_access(make_project: MakeProject) -> None:
    root = make_project(
        {"migrations/0001_x.toml.j2": "description = \"{{ ''.__class__.__mro__ }}\"\n"}
    )
    with pytest.raises(MigrationFileError, match="unsafe"):
        load_project(root, environ={})


@settings(max_examples=300, deadline=None)
@given(cell=st.text())
def test_any_cell_text_arrives_verbatim(cell: str) -> None:
    """Whatever a data cell holds (Jinja syntax, Python literals), it is never evaluated."""
    assert render("{{ row.v }}", {"v": cell}) == (cell if cell else False)
    assert render("<{{ row.v }}>", {"v": cell}) == f"<{cell}>"
    assert render({"ref": "s", "key": "{{ row.v }}"}, {"v": cell + "k"}) == Ref("s", cell + "k")


def test_row_statements_in_j2_files_survive_and_lines_do_not_move() -> None:
    from zenoo_etl.compiler.j2file import protect_row_templates

    text = (
        "{%- set n = 2 -%}\n"
        'a = "{{ n }}"\n'
        "kind = \"{% if row.kind == 'c' %}Co{% else %}{{ row.name }}{% endif %}\"\n"
        "tags = \"{%- for t in row.tags.split(',') -%}{{ t }};{%- endfor -%}\"\n"
        'keep = "{% raw %}{% if row.x %}y{% endif %}{% endraw %}"\n'
        '{% for i in range(n) %}\nloop{{ i }} = "{{ row.v }}-{{ i }}"\n{% endfor %}\n'
    )
    protected = protect_row_templates(text)
    assert protected.count("\n") == text.count("\n")
    out = render_file(text, vars={}, target={})
    assert 'a = "2"' in out
    assert "kind = \"{% if row.kind == 'c' %}Co{% else %}{{ row.name }}{% endif %}\"" in out
    assert "tags = \"{%- for t in row.tags.split(',') -%}{{ t }};{%- endfor -%}\"" in out
    assert 'keep = "{% if row.x %}y{% endif %}"' in out
    assert 'loop0 = "{{ row.v }}-0"' in out and 'loop1 = "{{ row.v }}-1"' in out


def test_row_in_a_non_block_statement_explains_raw() -> None:
    from zenoo_etl.compiler.render import RenderError

    text = 'a = 1\nb = "{% set y = row.x %}{{ y }}"\n'
    with pytest.raises(RenderError, match=r"^2: .*'row' is undefined.*\{% raw %\}"):
        render_file(text, vars={}, target={})


def test_line_numbers_survive_whitespace_control() -> None:
    from zenoo_etl.compiler.render import RenderError

    text = (
        "a = 1\n   {%- if true -%}\n\n b = 2 {%- endif %}\n"
        "c = '{{ row.x }}'\nd = '{{ vars.nope }}'\n"
    )
    with pytest.raises(RenderError, match=r"^6: "):
        render_file(text, vars={}, target={})


def test_only_the_row_variable_is_protected_in_j2_files() -> None:
    out = render_file(
        'a = "{{ vars.t.row }}"\nb = "{{ row.x }}"\nc = "{{ vars.rows }}"\n',
        vars={"t": {"row": "R"}, "rows": 3},
        target={},
    )
    assert out == 'a = "R"\nb = "{{ row.x }}"\nc = "3"\n'


def test_toml_dates_become_odoo_text_in_values_domains_and_expressions() -> None:
    import datetime as dt

    from zenoo_etl.compiler.render import compile_domain, to_native

    stamp = dt.datetime(2026, 11, 27, 10, 5, 0)
    assert render(stamp, {}) == "2026-11-27 10:05:00"
    assert render(dt.date(2026, 11, 27), {}) == "2026-11-27"
    assert render(dt.time(10, 5), {}) == "10:05:00"
    domain = compile_domain([["date", ">=", dt.date(2026, 1, 2)], ["at", "<", stamp]], "d")
    assert domain({}, dict(CTX)) == [
        ["date", ">=", "2026-01-02"],
        ["at", "<", "2026-11-27 10:05:00"],
    ]
    assert to_native(stamp) == "2026-11-27 10:05:00"
    assert to_native(dt.date(2026, 11, 27)) == "2026-11-27"
