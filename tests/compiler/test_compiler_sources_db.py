"""Excel and SQL sources: typed cells, streaming, errors that name the source, checksum rules."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from zenoo_etl.compiler import compile_plan, iter_rows, load_project
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py


def _step(source: str, fields: str = 'name = "{{ row.name }}"', key: str = "{{ row.code }}") -> str:
    return f"""\
    [[steps]]
    id = "things"
    model = "res.partner"
    action = "create"
    source = {source}
    key = "{key}"

    [steps.fields]
    {fields}
    """


def _workbook(path: Path, rows: list[list[object]], sheet: str = "Customers") -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["this sheet is not data"])
    data = book.create_sheet(sheet)
    for row in rows:
        data.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def test_xlsx_rows_are_typed_as_in_the_cells_and_located_by_sheet_row(
    make_project: MakeProject,
) -> None:
    root = make_project(
        {
            "migrations/0001_x.toml": _step(
                '{ xlsx = "data/c.xlsx", sheet = "Customers", header_row = 2 }',
                'name = "{{ row.name }}"\n    comment = "{{ row.since }}"\n'
                '    credit_limit = "{{ row.credit * 2 }}"',
            )
        }
    )
    _workbook(
        root / "data/c.xlsx",
        [
            ["exported 2026-11-30"],
            ["code", "name", "since", "credit", None],
            ["C1", "Acme", dt.datetime(2024, 1, 5), 1500.5],
            [None, None, None, None],
            [42, "Beta", dt.datetime(2024, 1, 5, 13, 30), 10],
        ],
    )
    project = load_project(root)
    migration = project.migrations[0]
    rows = list(iter_rows(project, migration, migration.steps[0]))
    assert [(r.key, r.line) for r in rows] == [("C1", 3), ("42", 5)]
    assert rows[0].values == {"name": "Acme", "comment": "2024-01-05", "credit_limit": 3001.0}
    assert rows[1].values["comment"] == "2024-01-05 13:30:00"
    assert rows[1].values["credit_limit"] == 20
    plan = compile_plan(project)
    assert plan.migrations[0].steps[0].source == "data/c.xlsx"
    assert plan.migrations[0].steps[0].source_checksum == "bytes of data/c.xlsx"


def test_xlsx_errors_name_the_file_sheet_and_row(make_project: MakeProject) -> None:
    root = make_project(
        {"migrations/0001_x.toml": _step('{ xlsx = "data/c.xlsx", sheet = "Nope" }')}
    )
    _workbook(root / "data/c.xlsx", [["code", "name"], ["C1", "Acme"]])
    project = load_project(root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert caught.value.path == "data/c.xlsx"
    assert "no sheet 'Nope'; its sheets are 'Notes', 'Customers'" in caught.value.detail

    (root / "migrations/0001_x.toml").write_text(
        _step('{ xlsx = "data/c.xlsx", sheet = "Customers" }').replace("\n    ", "\n"), "utf-8"
    )
    _workbook(root / "data/c.xlsx", [["code", "name"], ["C1", "Acme", "stray"]])
    project = load_project(root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert (caught.value.line, caught.value.row) == (2, 1)
    assert "column 3, right of the last named column" in caught.value.detail

    (root / "data/c.xlsx").write_text("code,name\nC1,Acme\n", "utf-8")
    project = load_project(root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert "not an Excel .xlsx workbook" in caught.value.detail


def _legacy(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customer (code TEXT, name TEXT, balance NUMERIC, active INT)")
        db.executemany(
            "INSERT INTO customer VALUES (?, ?, ?, ?)",
            [("C1", "Acme", 10.5, 1), ("C2", "Beta", None, 0), ("C3", "Gamma", 3, 1)],
        )
    db.close()


def test_sqlite_file_source_streams_query_rows_and_checksums_the_file(
    make_project: MakeProject,
) -> None:
    root = make_project(
        {
            "migrations/0001_x.toml": _step(
                '{ sql = "SELECT code, name, balance FROM customer WHERE active = 1 '
                'ORDER BY code", '
                'sqlite = "data/legacy.sqlite" }',
                'name = "{{ row.name }}"\n    credit_limit = "{{ row.balance }}"',
            )
        }
    )
    _legacy(root / "data/legacy.sqlite")
    project = load_project(root)
    migration = project.migrations[0]
    rows = list(iter_rows(project, migration, migration.steps[0]))
    assert [(r.key, r.values["credit_limit"]) for r in rows] == [("C1", 10.5), ("C3", 3)]
    assert migration.sources == ["data/legacy.sqlite"]
    plan = compile_plan(project)
    step = plan.migrations[0].steps[0]
    assert step.source == "sql:data/legacy.sqlite"
    assert step.source_checksum == "query text + bytes of data/legacy.sqlite"
    before = migration.checksum
    with sqlite3.connect(root / "data/legacy.sqlite") as db:
        db.execute("UPDATE customer SET name = 'Acme NV' WHERE code = 'C1'")
    db.close()
    assert load_project(root).migrations[0].checksum != before


def test_sql_url_comes_from_the_environment_and_is_never_shown(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(
        {
            "migrations/0001_x.toml": _step(
                '{ sql = "SELECT code, name FROM customer", url_env = "LEGACY_DB_URL", '
                'checksum_query = "SELECT count(*), max(name) FROM customer" }'
            )
        }
    )
    _legacy(root / "data/legacy.sqlite")
    monkeypatch.delenv("LEGACY_DB_URL", raising=False)
    with pytest.raises(MigrationFileError) as caught:
        load_project(root)  # the checksum query needs the database
    assert "LEGACY_DB_URL, which is not set" in caught.value.detail

    url = f"sqlite:///{root / 'data/legacy.sqlite'}"
    monkeypatch.setenv("LEGACY_DB_URL", url)
    project = load_project(root)
    migration = project.migrations[0]
    assert [r.key for r in iter_rows(project, migration, migration.steps[0])] == ["C1", "C2", "C3"]
    step = compile_plan(project).migrations[0].steps[0]
    assert step.source == "sql:LEGACY_DB_URL"
    assert step.source_checksum == "query text + rows of checksum_query"
    assert url not in compile_plan(project).model_dump_json()
    before = migration.checksum
    with sqlite3.connect(root / "data/legacy.sqlite") as db:
        db.execute("INSERT INTO customer VALUES ('C4', 'Delta', 0, 1)")
    db.close()
    assert load_project(root).migrations[0].checksum != before

    secret = "postgresql://etl:s3cr3t-pw@127.0.0.1:1/legacy"
    monkeypatch.setenv("LEGACY_DB_URL", secret)
    with pytest.raises(MigrationFileError) as caught:
        load_project(root)
    text = str(caught.value)
    assert "s3cr3t-pw" not in text and secret not in text
    assert "checksum_query failed" in text or "cannot open the SQL source" in text


def test_sql_errors_are_one_paragraph_naming_the_source(make_project: MakeProject) -> None:
    root = make_project(
        {
            "migrations/0001_x.toml": _step(
                '{ sql = "SELECT code, nam FROM customer", sqlite = "data/legacy.sqlite" }'
            )
        }
    )
    _legacy(root / "data/legacy.sqlite")
    project = load_project(root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert caught.value.path == "sql:data/legacy.sqlite"
    assert "the query failed: OperationalError: no such column: nam" in caught.value.detail
    assert "\n" not in caught.value.detail


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ('{ sql = "SELECT 1" }', "exactly one of url_env"),
        ('{ sql = "SELECT 1", url_env = "A", sqlite = "data/legacy.sqlite" }', "exactly one of"),
        ('{ sql = "SELECT 1", sqlite = "../outside.sqlite" }', "outside the project"),
        ('{ sql = "SELECT 1", url_env = "not a name" }', "url_env"),
        ('{ xlsx = "data/c.xlsx", header_row = 0 }', "header_row"),
    ],
)
def test_bad_source_specs_are_reported_at_the_step(
    make_project: MakeProject, source: str, words: str
) -> None:
    root = make_project({"migrations/0001_x.toml": _step(source)})
    _legacy(root / "data/legacy.sqlite")
    _workbook(root / "data/c.xlsx", [["code", "name"]])
    with pytest.raises(MigrationFileError) as caught:
        load_project(root)
    assert words in caught.value.detail
    assert caught.value.step == "things" and caught.value.line is not None


@pytest.mark.postgres
def test_a_postgresql_source_streams_with_a_server_side_cursor(
    make_project: MakeProject, pg_ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real PostgreSQL through SQLAlchemy + psycopg: typed rows, batch_size at a time
    (a named server-side cursor), the URL (and its password) never in an error."""
    import psycopg

    with psycopg.connect(pg_ledger_url, autocommit=True) as db:
        db.execute("CREATE TABLE customer (code text, name text, since date, balance numeric)")
        db.execute(
            "INSERT INTO customer SELECT 'C' || i, 'Name ' || i, DATE '2020-01-01' + i, i * 1.5 "
            "FROM generate_series(1, 2500) AS i"
        )
    root = make_project(
        {
            "migrations/0001_x.toml": _step(
                '{ sql = "SELECT code, name, since, balance FROM customer ORDER BY code", '
                'url_env = "LEGACY_PG_URL", batch_size = 1000 }',
                'name = "{{ row.name }}"\n    comment = "{{ row.since }}"\n'
                '    credit_limit = "{{ row.balance }}"',
            )
        }
    )
    sa_url = pg_ledger_url.replace("postgresql://", "postgresql+psycopg://", 1)
    monkeypatch.setenv("LEGACY_PG_URL", sa_url)
    project = load_project(root)
    migration = project.migrations[0]
    rows = list(iter_rows(project, migration, migration.steps[0]))
    assert len(rows) == 2500
    first = next(r for r in rows if r.key == "C1")
    assert first.values == {"name": "Name 1", "comment": "2020-01-02", "credit_limit": 1.5}

    (root / "migrations/0001_x.toml").write_text(
        _step('{ sql = "SELECT nope FROM customer", url_env = "LEGACY_PG_URL" }').replace(
            "\n    ", "\n"
        ),
        "utf-8",
    )
    project = load_project(root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert "the query failed" in caught.value.detail and "nope" in caught.value.detail
    assert sa_url not in str(caught.value)
