"""Step keys and per-action validation; messages name file, line, step and key."""

# The table of small TOML step bodies reads best one step per line.
# ruff: noqa: E501

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from zenoo_etl.compiler import load_project
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py


def load_one(make_project: MakeProject, body: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    files = {"migrations/0001_m.toml": body, **(extra or {})}
    return load_project(make_project(files), environ={})


def error_of(make_project: MakeProject, body: str, extra: dict[str, str] | None = None) -> str:
    with pytest.raises(MigrationFileError) as info:
        load_one(make_project, body, extra)
    return str(info.value)


CSV = {"data/x.csv": "id,name\n1,a\n"}


def test_every_key_of_a_create_step(make_project: MakeProject) -> None:
    project = load_one(
        make_project,
        """
        description = "all keys"

        [[steps]]
        id = "s1"
        model = "res.partner"
        action = "create"
        source = { csv = "data/x.csv", delimiter = ",", encoding = "utf-8", quotechar = '"', skip_rows = 0 }
        key = "{{ row.id }}"
        identity = "fields"
        match = ["ref"]
        chunk_size = 50
        context = { lang = "en_US" }
        description = "step description"

        [steps.fields]
        name = "{{ row.name }}"
        ref = "R{{ row.id }}"
        """,
        CSV,
    )
    migration = project.migrations[0]
    assert migration.description == "all keys"
    step = migration.steps[0]
    assert (step.id, step.model, step.action, step.identity) == (
        "s1",
        "res.partner",
        "create",
        "fields",
    )
    assert step.match == ["ref"] and step.chunk_size == 50 and step.context == {"lang": "en_US"}
    assert step.has_source and step.key == "{{ row.id }}" and step.line == 4
    assert step.file == project.root / "migrations" / "0001_m.toml"
    assert step.reversible


def test_identity_defaults(make_project: MakeProject) -> None:
    project = load_one(
        make_project,
        """
        [[steps]]
        id = "a"
        model = "res.partner"
        action = "create"
        records = [{ n = "x" }]
        fields = { name = "{{ row.n }}" }

        [[steps]]
        id = "b"
        model = "res.partner"
        action = "update"
        domain = [["ref", "=like", "LEG-%"]]
        values = { active = false }
        """,
    )
    a, b = project.migrations[0].steps
    assert a.identity == "xmlid"
    assert (
        b.identity == "none" and b.domain == [["ref", "=like", "LEG-%"]] and b.selector == "domain"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # upsert without match
        (
            'id="s"\nmodel="res.partner"\naction="upsert"\nrecords=[{a="1"}]\nfields={name="x"}',
            "needs match",
        ),
        # create without source
        ('id="s"\nmodel="res.partner"\naction="create"\nfields={name="x"}', "needs a source"),
        # create without fields
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]',
            "needs \\[steps.fields\\]",
        ),
        # update without values
        ('id="s"\nmodel="res.partner"\naction="update"\ndomain=[]', "needs values"),
        # update with neither domain nor match+source
        ('id="s"\nmodel="res.partner"\naction="update"\nvalues={a=1}', "needs domain"),
        # delete with neither
        ('id="s"\nmodel="res.partner"\naction="delete"', "needs domain"),
        # call without method
        ('id="s"\nmodel="res.partner"\naction="call"\ndomain=[]', "needs method"),
        # private method
        ('id="s"\nmodel="res.partner"\naction="call"\nmethod="_x"', "private"),
        # key not allowed for the action
        (
            'id="s"\nmodel="res.partner"\naction="update"\ndomain=[]\nvalues={a=1}\narchive=true',
            "'archive' is not allowed on a 'update' step",
        ),
        (
            'id="s"\nmodel="res.partner"\naction="delete"\ndomain=[]\nmethod="x"',
            "'method' is not allowed",
        ),
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}\nvalues={a=1}',
            "'values' is not allowed",
        ),
        (
            'id="s"\nmodel="res.partner"\naction="call"\nmethod="x"\nundo={method="y"}\narchive=true',
            "'archive' is not allowed",
        ),
        # unknown key
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}\nchunksize=3',
            "unknown key 'chunksize'",
        ),
        # bad action
        ('id="s"\nmodel="res.partner"\naction="insert"', "action"),
        # bad identity
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}\nidentity="uuid"',
            "identity",
        ),
        # identity fields without match
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}\nidentity="fields"',
            'identity = "fields" needs match',
        ),
        # match field not in fields
        (
            'id="s"\nmodel="res.partner"\naction="upsert"\nrecords=[{a="1"}]\nfields={a="1"}\nmatch=["ref"]',
            "match field\\(s\\) ref must also appear in fields",
        ),
        # domain and source together
        (
            'id="s"\nmodel="res.partner"\naction="update"\nrecords=[{a="1"}]\nmatch=["a"]\nvalues={a="1"}\ndomain=[]',
            "either domain or a source",
        ),
        # source and records together
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nsource={csv="data/x.csv"}\nfields={a="1"}',
            "either source",
        ),
        # source with two kinds
        (
            'id="s"\nmodel="res.partner"\naction="create"\nsource={csv="data/x.csv", jsonl="data/x.csv"}\nfields={a="1"}',
            "exactly one of csv",
        ),
        # unknown source option
        (
            'id="s"\nmodel="res.partner"\naction="create"\nsource={csv="data/x.csv", sep=";"}\nfields={a="1"}',
            "unknown key 'sep'",
        ),
        # bad model name
        (
            'id="s"\nmodel="Res Partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}',
            "not an Odoo model name",
        ),
        # bad id
        (
            'id="s s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}',
            "step id",
        ),
        # chunk_size out of range
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="1"}\nchunk_size=0',
            "chunk_size",
        ),
        # a table that is not a reference
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a={b=1}}',
            "not a reference",
        ),
        # a half reference
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a={ref="s"}}',
            "step reference is",
        ),
        # key without source
        (
            'id="s"\nmodel="res.partner"\naction="update"\ndomain=[]\nvalues={a=1}\nkey="x"',
            "'key' only makes sense",
        ),
        # a domain that is not a list of terms
        (
            'id="s"\nmodel="res.partner"\naction="delete"\ndomain=["ref", "=", "x"]',
            "is not \\[field, operator, value\\]",
        ),
        (
            'id="s"\nmodel="res.partner"\naction="delete"\ndomain=[["ref", 1, "x"]]',
            "operator must be a string",
        ),
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={c={search=["code","=","x"], model="res.country"}}',
            "search term 'code'",
        ),
        # a domain cannot use row
        (
            'id="s"\nmodel="res.partner"\naction="delete"\ndomain=[["ref", "=", "{{ row.ref }}"]]',
            "cannot use row.ref",
        ),
        # a domain with an undefined variable
        (
            'id="s"\nmodel="res.partner"\naction="delete"\ndomain=[["ref", "=", "{{ vars.nope }}"]]',
            "cannot render domain",
        ),
        # Jinja syntax error in a field
        (
            'id="s"\nmodel="res.partner"\naction="create"\nrecords=[{a="1"}]\nfields={a="{{ row.a "}',
            "Jinja syntax error",
        ),
    ],
)
def test_action_rules(make_project: MakeProject, body: str, expected: str) -> None:
    message = error_of(make_project, "\n\n[[steps]]\n" + body + "\n", CSV)
    line = int(re.match(r"migrations/0001_m\.toml:(\d+)", message).group(1))  # type: ignore[union-attr]
    assert 3 <= line <= 4 + body.count("\n")  # the step's header or the offending key
    assert "step 's" in message or "step id" in message
    assert re.search(expected, message), message


def test_error_points_at_the_key_line(make_project: MakeProject) -> None:
    body = '[[steps]]\nid = "a"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { n = "x" }\n\n[[steps]]\nid = "b"\nmodel = "res.partner"\naction = "upsert"\nrecords = [{n = "x"}]\nmatch = []\nfields = { n = "x" }\n'
    message = error_of(make_project, body)
    assert message.startswith("migrations/0001_m.toml:13, step 'b'")


def test_call_step_with_undo_is_reversible_and_without_is_not(make_project: MakeProject) -> None:
    project = load_one(
        make_project,
        """
        [[steps]]
        id = "arch"
        model = "res.partner"
        action = "call"
        domain = [["ref", "=like", "LEG-%"]]
        method = "action_archive"
        args = ["{{ vars.company }}"]
        kwargs = { flag = true }
        undo = { method = "action_unarchive", args = [] }

        [[steps]]
        id = "post"
        model = "account.move"
        action = "call"
        method = "action_post"
        """,
    )
    arch, post = project.migrations[0].steps
    assert arch.reversible and arch.undo is not None and arch.undo.method == "action_unarchive"
    assert arch.args == ["Acme"] and arch.kwargs == {"flag": True}
    assert not post.reversible and post.selector == "model"
    assert not project.migrations[0].reversible


def test_delete_by_match_with_archive(make_project: MakeProject) -> None:
    project = load_one(
        make_project,
        """
        [[steps]]
        id = "gone"
        model = "product.template"
        action = "delete"
        archive = true
        match = ["default_code"]
        source = { csv = "data/x.csv" }
        fields = { default_code = "{{ row.id }}" }
        """,
        CSV,
    )
    step = project.migrations[0].steps[0]
    assert step.archive and step.match == ["default_code"] and step.identity == "none"


def test_step_ids_unique_across_the_project(make_project: MakeProject) -> None:
    step = '[[steps]]\nid = "same"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { name = "x" }\n'
    root = make_project({"migrations/0001_a.toml": step, "migrations/0002_b.toml": step})
    with pytest.raises(MigrationFileError) as info:
        load_project(root, environ={})
    message = str(info.value)
    assert "migrations/0002_b.toml:1" in message and "migrations/0001_a.toml:1" in message


def test_unknown_and_later_references_are_errors(make_project: MakeProject) -> None:
    ref_step = '[[steps]]\nid = "kids"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { parent_id = { ref = "%s", key = "1" } }\n'
    make = '[[steps]]\nid = "parents"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { name = "x" }\n'
    message = error_of(make_project, ref_step % "nobody")
    assert 'ref = "nobody"' in message and "step 'kids'" in message
    # a reference to a later step of the same migration is refused...
    message = error_of(make_project, ref_step % "parents" + "\n" + make)
    assert "no earlier step" in message
    # ...an earlier one is fine, as is one in an earlier migration
    assert load_one(make_project, make + "\n" + ref_step % "parents").migrations[0].steps[
        1
    ].references == ["parents"]


def test_reference_to_a_non_creating_step_is_refused(make_project: MakeProject) -> None:
    body = (
        '[[steps]]\nid = "u"\nmodel = "res.partner"\naction = "update"\ndomain = []\nvalues = { a = 1 }\n\n'
        '[[steps]]\nid = "k"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { parent_id = { ref = "u", key = "1" } }\n'
    )
    assert "only create and upsert" in error_of(make_project, body)


def test_depends_on_must_name_an_earlier_step(make_project: MakeProject) -> None:
    body = '[[steps]]\nid = "k"\nmodel = "res.partner"\naction = "create"\nrecords = [{n = "x"}]\nfields = { name = "x" }\ndepends_on = ["later"]\n'
    assert "depends_on names 'later'" in error_of(make_project, body)


def test_migration_needs_steps_and_known_top_keys(make_project: MakeProject) -> None:
    assert "at least one [[steps]]" in error_of(make_project, 'description = "x"\n')
    assert "unknown top-level key 'descripton'" in error_of(make_project, 'descripton = "x"\n')


def test_a_templated_migration_may_render_no_step(make_project: MakeProject) -> None:
    """A .toml.j2 leaving its steps out (a module the target lacks) is a no-op migration;
    a plain .toml without a step stays an error (above)."""
    body = '{% if vars.on %}[[steps]]\nid = "k"\nmodel = "res.partner"\naction = "create"\n'
    body += 'records = [{n = "x"}]\nfields = { name = "x" }\n{% endif %}\n'
    for on, steps in (("true", ["k"]), ("", [])):
        root = make_project({"migrations/0001_maybe.toml.j2": body})
        migration = load_project(root, vars={"on": on}).migrations[0]
        assert [s.id for s in migration.steps] == steps


def test_toml_syntax_error_has_file_line_col(make_project: MakeProject) -> None:
    message = error_of(make_project, 'description = "x"\n[[steps]]\nid = \n')
    assert message.startswith("migrations/0001_m.toml:3:")
    assert "invalid TOML" in message


def test_missing_source_file(make_project: MakeProject, tmp_path: Path) -> None:
    body = '[[steps]]\nid = "k"\nmodel = "res.partner"\naction = "create"\nsource = { csv = "data/none.csv" }\nfields = { name = "x" }\n'
    message = error_of(make_project, body)
    assert "data/none.csv does not exist" in message and ":5" in message
