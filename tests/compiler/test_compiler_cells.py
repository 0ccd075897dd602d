"""Messy cells: optional references, multi-valued cells, row filters, lookups, files."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from zenoo_etl.compiler import compile_plan, iter_rows, load_project
from zenoo_etl.compiler.project import Project, RowStats
from zenoo_etl.compiler.values import Ref, Row, SearchRef, XmlidRef
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py

PEOPLE = """\
    legacy_id,name,parent,tags,status,country,sku
    1,Acme,,VIP; Prospect;VIP,active,Belgique,A1
    2,Alice,1,,active,Deutschland,B2
    3,Bob,1,Prospect,inactive,Belgique,C3
    4,Carol,,;,active,France,
"""

COUNTRY_MAP = """\
    name,iso
    Belgique,be
    Deutschland,de
    France,fr
"""


ISO = "\"{{ lookup('data/country_map.csv', row.country, 'iso') }}\""
TAG_XMLIDS = (
    "{{ row.tags | lower | replace(' ', '') | replace('vip', 'm.vip')"
    " | replace('prospect', 'm.prospect') }}"
)
TAG_SEARCH = (
    '{ search = [["name", "=", "{{ key }}"]], model = "res.partner.category", '
    'keys = "{{ row.tags }}", split = ";" }'
)


def _step(fields: str, extra: str = "") -> str:
    return f"""\
    [[steps]]
    id = "companies"
    model = "res.partner"
    action = "create"
    records = [{{ name = "Acme" }}]
    fields = {{ name = "{{{{ row.name }}}}" }}

    [[steps]]
    id = "tags"
    model = "res.partner.category"
    action = "create"
    records = [{{ name = "VIP" }}]
    fields = {{ name = "{{{{ row.name }}}}" }}

    [[steps]]
    id = "people"
    model = "res.partner"
    action = "create"
    source = {{ csv = "data/people.csv" }}
    key = "{{{{ row.legacy_id }}}}"
    {extra}

    [steps.fields]
    name = "{{{{ row.name }}}}"
    {fields}
    """


def _rows(
    make_project: MakeProject, fields: str, extra: str = "", files: dict[str, str] | None = None
) -> tuple[Project, list[Row], RowStats]:
    root = make_project(
        {
            "migrations/0001_people.toml": _step(fields, extra),
            "data/people.csv": PEOPLE,
            "data/country_map.csv": COUNTRY_MAP,
            **(files or {}),
        }
    )
    project = load_project(root)
    migration = project.migrations[0]
    stats = RowStats()
    rows = list(iter_rows(project, migration, migration.steps[-1], stats))
    return project, rows, stats


def test_missing_null_leaves_the_reference_empty(make_project: MakeProject) -> None:
    _, rows, stats = _rows(
        make_project,
        'parent_id = { ref = "companies", key = "{{ row.parent }}", missing = "null" }',
    )
    assert [r.values["parent_id"] for r in rows] == [
        False,
        Ref("companies", "1"),
        Ref("companies", "1"),
        False,
    ]
    assert stats.filtered == 0


def test_missing_skip_row_filters_the_row(make_project: MakeProject) -> None:
    _, rows, stats = _rows(
        make_project,
        'parent_id = { ref = "companies", key = "{{ row.parent }}", missing = "skip-row" }',
    )
    assert [r.key for r in rows] == ["2", "3"]
    assert stats.filtered == 2


def test_missing_defaults_to_an_error_naming_file_step_and_row(make_project: MakeProject) -> None:
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, 'parent_id = { ref = "companies", key = "{{ row.parent }}" }')
    err = caught.value
    assert err.path == "data/people.csv" and err.line == 2 and err.row == 1
    assert err.step == "people"
    assert "renders empty" in err.detail and 'missing = "null"' in err.detail


def test_split_makes_one_reference_per_item_deduplicated_and_stripped(
    make_project: MakeProject,
) -> None:
    _, rows, _ = _rows(
        make_project,
        'category_id = { ref = "tags", keys = "{{ row.tags }}", split = ";" }\n'
        f'    x_xmlids = {{ xmlid = "{TAG_XMLIDS}", split = ";" }}\n'
        f"    x_search = {TAG_SEARCH}",
    )
    assert rows[0].values["category_id"] == [Ref("tags", "VIP"), Ref("tags", "Prospect")]
    assert rows[1].values["category_id"] == []
    assert rows[3].values["category_id"] == []  # ";" alone is no item
    assert rows[0].values["x_xmlids"] == [XmlidRef("m.vip"), XmlidRef("m.prospect")]
    assert rows[2].values["x_search"] == [
        SearchRef("res.partner.category", [["name", "=", "Prospect"]])
    ]


def test_when_filters_rows_and_plan_counts_them(make_project: MakeProject) -> None:
    project, rows, stats = _rows(
        make_project, "", extra="when = \"{{ row.status != 'inactive' }}\""
    )
    assert [r.key for r in rows] == ["1", "2", "4"]
    assert stats.filtered == 1
    plan = compile_plan(project)
    step = plan.migrations[0].steps[-1]
    assert (step.records, step.filtered) == (3, 1)
    assert plan.migrations[0].filtered == 1
    assert step.source_checksum == "bytes of data/people.csv"


def test_when_treats_false_looking_text_as_false(make_project: MakeProject) -> None:
    _, rows, _ = _rows(
        make_project, "", extra="when = \"{{ row.status == 'active' and 'yes' or 'no' }}\""
    )
    assert [r.key for r in rows] == ["1", "2", "4"]


def test_when_must_be_a_template(make_project: MakeProject) -> None:
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, "", extra='when = "active"')
    assert "not a template" in caught.value.detail and caught.value.step == "people"


def test_lookup_maps_codes_and_its_file_enters_the_checksum(make_project: MakeProject) -> None:
    project, rows, _ = _rows(
        make_project,
        "country_id = { xmlid = \"base.{{ lookup('data/country_map.csv', row.country, 'iso') }}\" }",  # noqa: E501
    )
    assert [r.values["country_id"] for r in rows] == [
        XmlidRef("base.be"),
        XmlidRef("base.de"),
        XmlidRef("base.be"),
        XmlidRef("base.fr"),
    ]
    assert project.migrations[0].sources == ["data/country_map.csv", "data/people.csv"]
    before = project.migrations[0].checksum
    (project.root / "data/country_map.csv").write_text("name,iso\nBelgique,be\n", "utf-8")
    assert load_project(project.root).migrations[0].checksum != before


def test_lookup_missing_key_is_a_clear_error_unless_a_default_is_given(
    make_project: MakeProject,
) -> None:
    small = {"data/country_map.csv": "name,iso\nBelgique,be\n"}
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, f"comment = {ISO}", files=small)
    err = caught.value
    assert err.row == 2 and err.step == "people" and err.path == "data/people.csv"
    assert "'Deutschland' is not in data/country_map.csv" in err.detail
    _, rows, _ = _rows(
        make_project,
        "comment = \"{{ lookup('data/country_map.csv', row.country, 'iso', default='??') }}\"",
        files=small,
    )
    assert [r.values["comment"] for r in rows] == ["be", "??", "be", "??"]


def test_lookup_file_must_exist_and_stay_inside_the_project(make_project: MakeProject) -> None:
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, "comment = \"{{ lookup('data/nope.csv', row.country, 'iso') }}\"")
    assert "lookup file data/nope.csv does not exist" in caught.value.detail
    assert caught.value.line is not None
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, "comment = \"{{ lookup('../x.csv', row.country, 'iso') }}\"")
    assert "outside the project" in caught.value.detail


def test_file_values_are_base64_with_missing_and_size_rules(make_project: MakeProject) -> None:
    root = make_project({})
    (root / "images").mkdir()
    (root / "images/A1.jpg").write_bytes(b"\xff\xd8jpeg-A1")
    (root / "images/B2.jpg").write_bytes(b"x" * 50)
    _, rows, _ = _rows(
        make_project,
        'image_1920 = { file = "images/{{ row.sku }}.jpg", missing = "null" }',
    )
    images = [r.values["image_1920"] for r in rows]
    assert base64.b64decode(str(images[0])) == b"\xff\xd8jpeg-A1"
    assert images[2:] == [False, False]  # C3.jpg does not exist; row 4 has no sku
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, 'image_1920 = { file = "images/{{ row.sku }}.jpg", max_size = 20 }')
    assert "images/B2.jpg is 50 bytes, over the limit of 20" in caught.value.detail
    assert caught.value.row == 2
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, 'image_1920 = { file = "../{{ row.sku }}.jpg" }')
    assert "outside the project" in caught.value.detail
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, 'image_1920 = { file = "images/{{ row.sku }}.jpg" }')
    assert "file images/C3.jpg does not exist" in caught.value.detail
    assert caught.value.row == 3


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ('{ ref = "companies", key = "x", missing = "maybe" }', "is not one of"),
        ('{ ref = "companies", keys = "x" }', "split must be"),
        ('{ ref = "companies", keys = "x", split = ";", missing = "null" }', "does not apply"),
        ('{ xmlid = "a.b", extra = 1 }', "external id reference"),
        ('{ file = "x", size = 1 }', "a file value is"),
        ('{ file = "x", max_size = 0 }', "max_size must be"),
        ('{ search = [["a", "=", "b"]], model = "m", split = ";" }', "split needs keys"),
    ],
)
def test_malformed_cell_specs_name_the_field_and_line(
    make_project: MakeProject, spec: str, words: str
) -> None:
    with pytest.raises(MigrationFileError) as caught:
        _rows(make_project, f"parent_id = {spec}")
    assert words in caught.value.detail
    assert caught.value.step == "people"
    assert caught.value.path == "migrations/0001_people.toml"


def test_skip_row_rows_do_not_count_as_duplicate_keys(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_people.toml": _step(
                'parent_id = { ref = "companies", key = "{{ row.parent }}", missing = "skip-row" }'
            ).replace("{{ row.legacy_id }}", "{{ row.status }}"),
            "data/people.csv": PEOPLE,
        }
    )
    project = load_project(root)
    plan = compile_plan(project)  # rows 2 and 3 remain: keys "active" and "inactive"
    assert plan.migrations[0].steps[-1].records == 2
