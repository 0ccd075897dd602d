"""Sources: CSV/JSON/JSONL/inline rows, line numbers, options, and path escapes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from zenoo_etl.compiler import Project, Row, iter_rows, load_project
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py


def step_file(source: str, fields: str = 'name = "{{ row.name }}"', key: str = "") -> str:
    key_line = f'key = "{key}"\n' if key else ""
    return (
        '[[steps]]\nid = "s"\nmodel = "res.partner"\naction = "create"\n'
        f"source = {source}\n{key_line}\n[steps.fields]\n{fields}\n"
    )


def rows_of(project: Project) -> list[Row]:
    migration = project.migrations[0]
    return list(iter_rows(project, migration, migration.steps[0]))


def test_csv_lines_are_physical_record_starts(make_project: MakeProject) -> None:
    csv_text = 'id,name\n1,"multi\nline"\n\n2,plain\n3,"a ""quoted"" one"\n'
    root = make_project(
        {
            "migrations/0001_m.toml": step_file('{ csv = "data/p.csv" }', key="{{ row.id }}"),
            "data/p.csv": csv_text,
        }
    )
    rows = rows_of(load_project(root, environ={}))
    assert [(r.index, r.line, r.key) for r in rows] == [(0, 2, "1"), (1, 5, "2"), (2, 6, "3")]
    assert rows[0].values == {"name": "multi\nline"}
    assert rows[2].values == {"name": 'a "quoted" one'}


def test_csv_options(make_project: MakeProject) -> None:
    data = "exported by legacy\nid;name\n1;'Caf\xe9; bar'\n"
    root = make_project(
        {
            "migrations/0001_m.toml": step_file(
                '{ csv = "data/p.csv", delimiter = ";", encoding = "latin-1", '
                'quotechar = "\'", skip_rows = 1 }'
            )
        }
    )
    (root / "data").mkdir()
    (root / "data" / "p.csv").write_bytes(data.encode("latin-1"))
    rows = rows_of(load_project(root, environ={}))
    assert [(r.line, r.key, r.values) for r in rows] == [(3, "1", {"name": "Café; bar"})]


def test_csv_bom_is_ignored_by_default(make_project: MakeProject) -> None:
    root = make_project({"migrations/0001_m.toml": step_file('{ csv = "data/p.csv" }')})
    (root / "data").mkdir()
    (root / "data" / "p.csv").write_bytes("\ufeffname\nA\n".encode())
    assert rows_of(load_project(root, environ={}))[0].values == {"name": "A"}


def test_missing_column_error_names_file_line_step_row_column(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": step_file(
                '{ csv = "data/p.csv" }', 'name = "{{ row.nmae }}"'
            ),
            "data/p.csv": "id,name\n1,a\n",
        }
    )
    with pytest.raises(MigrationFileError) as info:
        rows_of(load_project(root, environ={}))
    err = info.value
    assert (err.path, err.line, err.step, err.row) == ("data/p.csv", 2, "s", 1)
    assert "column 'nmae'" in str(err) and "field 'name'" in str(err)


def test_ragged_csv_row_is_reported(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": step_file('{ csv = "data/p.csv" }'),
            "data/p.csv": "id,name\n1,a\n2,b,extra\n",
        }
    )
    with pytest.raises(MigrationFileError, match=r"data/p\.csv:3, row 2: this record has 3 fields"):
        rows_of(load_project(root, environ={}))


def test_bad_encoding_is_reported_with_line(make_project: MakeProject) -> None:
    root = make_project({"migrations/0001_m.toml": step_file('{ csv = "data/p.csv" }')})
    (root / "data").mkdir()
    (root / "data" / "p.csv").write_bytes(b"name\nok\n\xff\xfe bad\n")
    with pytest.raises(MigrationFileError, match=r"data/p\.csv.*not valid utf-8-sig"):
        rows_of(load_project(root, environ={}))


def test_jsonl_and_json_sources(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": step_file(
                '{ jsonl = "data/p.jsonl" }', 'name = "{{ row.name }}"\nn = "{{ row.n }}"'
            ),
            "data/p.jsonl": '{"name": "a", "n": 1}\n\n{"name": "{{ 7*7 }}", "n": [1, 2]}\n',
        }
    )
    rows = rows_of(load_project(root, environ={}))
    assert [(r.line, r.values) for r in rows] == [
        (1, {"name": "a", "n": 1}),
        (3, {"name": "{{ 7*7 }}", "n": [1, 2]}),
    ]
    (root / "migrations" / "0001_m.toml").write_text(step_file('{ json = "data/p.json" }'))
    (root / "data" / "p.json").write_text(json.dumps([{"name": "x"}, {"name": None}]))
    rows = rows_of(load_project(root, environ={}))
    assert [r.values for r in rows] == [{"name": "x"}, {"name": False}]


def test_invalid_jsonl_line(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": step_file('{ jsonl = "data/p.jsonl" }'),
            "data/p.jsonl": '{"name": "a"}\n{"name": \n',
        }
    )
    with pytest.raises(MigrationFileError, match=r"data/p\.jsonl:2: invalid JSON"):
        rows_of(load_project(root, environ={}))


def test_json_must_be_a_list_of_objects(make_project: MakeProject) -> None:
    root = make_project(
        {"migrations/0001_m.toml": step_file('{ json = "data/p.json" }'), "data/p.json": '{"a": 1}'}
    )
    with pytest.raises(MigrationFileError, match="list of objects"):
        rows_of(load_project(root, environ={}))


def test_inline_records_and_default_key_is_row_number(make_project: MakeProject) -> None:
    root = make_project(
        {"migrations/0001_m.toml": step_file('{ records = [{ name = "a" }, { name = "b" }] }')}
    )
    rows = rows_of(load_project(root, environ={}))
    assert [(r.index, r.line, r.key) for r in rows] == [(0, None, "1"), (1, None, "2")]


def test_update_by_domain_yields_one_row_with_the_values(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": '[[steps]]\nid = "u"\nmodel = "product.template"\n'
            'action = "update"\ndomain = [["type", "=", "service"]]\n'
            'values = { purchase_ok = false, note = "{{ vars.company }}" }\n'
        }
    )
    rows = rows_of(load_project(root, environ={}))
    assert rows == [Row(0, None, "domain", {"purchase_ok": False, "note": "Acme"})]


@pytest.mark.parametrize("path", ["../outside.csv", "data/../../outside.csv", "/etc/passwd"])
def test_source_paths_cannot_escape_the_project(make_project: MakeProject, path: str) -> None:
    root = make_project({"migrations/0001_m.toml": step_file(f'{{ csv = "{path}" }}')})
    (root.parent / "outside.csv").write_text("name\nx\n")
    with pytest.raises(MigrationFileError) as info:
        load_project(root, environ={})
    assert "step 's'" in str(info.value)
    assert "outside the project" in str(info.value) or "must be relative" in str(info.value)


def test_symlink_escape_is_refused(make_project: MakeProject, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("name\nx\n")
    root = make_project({"migrations/0001_m.toml": step_file('{ csv = "data/link.csv" }')})
    (root / "data").mkdir()
    os.symlink(secret, root / "data" / "link.csv")
    with pytest.raises(MigrationFileError, match="outside the project"):
        load_project(root, environ={})


def test_dot_dot_that_stays_inside_is_fine(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_m.toml": step_file('{ csv = "data/../data/p.csv" }'),
            "data/p.csv": "name\nx\n",
        }
    )
    assert rows_of(load_project(root, environ={}))[0].values == {"name": "x"}
