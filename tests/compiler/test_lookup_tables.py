"""``[lookups.<name>]`` in zenoo.toml: a mapping table declared once, called by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import iter_rows, load_project
from zenoo_etl.compiler.project import Project
from zenoo_etl.compiler.values import Row, XmlidRef
from zenoo_etl.errors import ConfigError, MigrationFileError

MakeProject = Callable[..., Path]

BASE_CONFIG = """\
[project]
name = "t"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

PEOPLE = """\
    legacy_id,name,country
    1,Acme,Belgique
    2,Alice,Deutschland
    3,Bob,  Belgique
"""

# The key column is not the first one: [lookups] names it.
COUNTRY_MAP = """\
    iso,legacy,label
    be,Belgique,Belgium
    de,Deutschland,Germany
    fr,France,France
"""

COUNTRIES = """
[lookups.countries]
file = "data/country_map.csv"
key = "legacy"
value = "iso"
"""


def _migration(fields: str) -> str:
    return f"""\
    [[steps]]
    id = "people"
    model = "res.partner"
    action = "create"
    source = {{ csv = "data/people.csv" }}
    key = "{{{{ row.legacy_id }}}}"

    [steps.fields]
    name = "{{{{ row.name }}}}"
    {fields}
    """


def _project(
    make_project: MakeProject, fields: str, lookups: str = COUNTRIES, people: str = PEOPLE
) -> Project:
    root = make_project(
        {
            "migrations/0001_people.toml": _migration(fields),
            "data/people.csv": people,
            "data/country_map.csv": COUNTRY_MAP,
        },
        config=BASE_CONFIG + lookups,
    )
    return load_project(root)


def _rows(project: Project) -> list[Row]:
    migration = project.migrations[0]
    return list(iter_rows(project, migration, migration.steps[0]))


def test_a_named_table_maps_keys_and_its_file_enters_the_checksum(
    make_project: MakeProject,
) -> None:
    project = _project(
        make_project,
        "country_id = { xmlid = \"base.{{ lookup('countries', row.country) }}\" }\n"
        "    comment = \"{{ lookup('countries', row.country, 'label') }}\"",
    )
    rows = _rows(project)
    assert [r.values["country_id"] for r in rows] == [
        XmlidRef("base.be"),
        XmlidRef("base.de"),
        XmlidRef("base.be"),  # keys compared as stripped text
    ]
    assert [r.values["comment"] for r in rows] == ["Belgium", "Germany", "Belgium"]
    migration = project.migrations[0]
    assert migration.sources == ["data/country_map.csv", "data/people.csv"]
    before = migration.checksum
    (project.root / "data/country_map.csv").write_text("iso,legacy\nbe,Belgique\n", "utf-8")
    assert load_project(project.root).migrations[0].checksum != before


def test_a_named_table_is_read_once_per_project(make_project: MakeProject) -> None:
    project = _project(make_project, "comment = \"{{ lookup('countries', row.country) }}\"")
    assert [r.values["comment"] for r in _rows(project)] == ["be", "de", "be"]
    # Gone from disk after the first use: the loaded table still answers.
    (project.root / "data/country_map.csv").unlink()
    assert [r.values["comment"] for r in _rows(project)] == ["be", "de", "be"]


def test_a_missing_key_names_the_table_its_file_and_the_row(make_project: MakeProject) -> None:
    project = _project(
        make_project,
        "comment = \"{{ lookup('countries', row.country) }}\"",
        people=PEOPLE + "    4,Dan,Atlantis\n",
    )
    with pytest.raises(MigrationFileError) as caught:
        _rows(project)
    err = caught.value
    assert (err.path, err.row, err.step) == ("data/people.csv", 4, "people")
    assert str(err).startswith("data/people.csv:5, step 'people', row 4: field 'comment': ")
    assert (
        "lookup table 'countries': 'Atlantis' is not in data/country_map.csv (column 'legacy')"
        in err.detail
    )
    assert "[lookups.countries]" in err.detail


def test_a_default_in_the_table_or_the_call_covers_missing_keys(
    make_project: MakeProject,
) -> None:
    people = PEOPLE + "    4,Dan,Atlantis\n"
    fields = "comment = \"{{ lookup('countries', row.country) }}\""
    project = _project(make_project, fields, COUNTRIES + 'default = "xx"\n', people)
    assert [r.values["comment"] for r in _rows(project)] == ["be", "de", "be", "xx"]
    fields = "comment = \"{{ lookup('countries', row.country, default='??') }}\""
    project = _project(make_project, fields, COUNTRIES + 'default = "xx"\n', people)
    assert [r.values["comment"] for r in _rows(project)][-1] == "??"


def test_without_value_a_named_table_gives_the_whole_row(make_project: MakeProject) -> None:
    lookups = '\n[lookups.countries]\nfile = "data/country_map.csv"\nkey = "legacy"\n'
    project = _project(
        make_project, "comment = \"{{ lookup('countries', row.country).label }}\"", lookups
    )
    assert [r.values["comment"] for r in _rows(project)] == ["Belgium", "Germany", "Belgium"]


def test_an_undeclared_name_is_an_error_naming_the_migration_line(
    make_project: MakeProject,
) -> None:
    with pytest.raises(MigrationFileError) as caught:
        _project(make_project, "comment = \"{{ lookup('contries', row.country) }}\"")
    err = caught.value
    assert err.path == "migrations/0001_people.toml" and err.line == 10
    assert "no lookup table 'contries' is declared in zenoo.toml (declared: countries)" in str(err)


def test_a_key_column_the_file_lacks_is_an_error(make_project: MakeProject) -> None:
    lookups = COUNTRIES.replace('key = "legacy"', 'key = "legacy_name"')
    project = _project(
        make_project, "comment = \"{{ lookup('countries', row.country) }}\"", lookups
    )
    with pytest.raises(MigrationFileError) as caught:
        _rows(project)
    assert (
        "lookup table 'countries' (zenoo.toml:10): data/country_map.csv has no column "
        "'legacy_name' to take keys from; its columns are iso, legacy, label"
    ) in caught.value.detail


@pytest.mark.parametrize(
    ("lookups", "message"),
    [
        (
            '\n[lookups.countries]\nfile = "data/nope.csv"\n',
            "zenoo.toml:11: [lookups.countries] file 'data/nope.csv' does not exist",
        ),
        (
            '\n[lookups.countries]\nfile = "../outside.csv"\n',
            "zenoo.toml:11: [lookups.countries] file '../outside.csv' is outside the project",
        ),
        (
            '\n[lookups."data.csv"]\nfile = "data/country_map.csv"\n',
            "zenoo.toml:10: lookup table name 'data.csv' must be letters, digits",
        ),
        (
            '\n[lookups.countries]\nfile = "data/country_map.csv"\ncolumn = "iso"\n',
            "zenoo.toml:12: unknown key 'lookups.countries.column'",
        ),
        (
            '\n[lookups.countries]\nkey = "legacy"\n',
            "zenoo.toml:10: missing required key 'lookups.countries.file'",
        ),
    ],
)
def test_a_bad_declaration_is_a_config_error_naming_its_line(
    make_project: MakeProject, lookups: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _project(make_project, "comment = \"{{ lookup('countries', row.country) }}\"", lookups)
    assert message in str(caught.value)


def test_validate_reports_an_undeclared_name_and_a_missing_key(
    make_project: MakeProject,
) -> None:
    """`zenoo-etl validate` (exit 2): the file and line of a call naming no table, the
    source row whose key the table lacks."""
    fields = "comment = \"{{ lookup('countries', row.country) }}\""
    project = _project(make_project, fields, people=PEOPLE + "    4,Dan,Atlantis\n")
    root = str(project.root)
    result = CliRunner().invoke(main, ["validate", "--project", root, "--json"])
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert (problem["file"], problem["line"], problem["step"]) == ("data/people.csv", 5, "people")
    assert "'Atlantis' is not in data/country_map.csv" in problem["message"]

    migration = project.root / "migrations" / "0001_people.toml"
    migration.write_text(migration.read_text("utf-8").replace("'countries'", "'contries'"))
    result = CliRunner().invoke(main, ["validate", "--project", root, "--json"])
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert (problem["file"], problem["line"]) == ("migrations/0001_people.toml", 10)
    assert "no lookup table 'contries' is declared" in problem["message"]
