"""on_error = "reject": rows Odoo refuses are bisected out of their chunk and written to a
reject file with their error; the rest is applied; a rerun after fixing applies only them."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.cli.state import history_report, status_report
from zenoo_etl.ledger import MigrationRecord
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RunFailed, apply, rollback

from .helpers import ProjectFiles, Spy, looking_at, table

STEP = """\
    description = "partners, bad rows set aside"

    [[steps]]
    id = "people"
    model = "res.partner"
    action = "create"
    source = { csv = "data/people.csv" }
    key = "{{ row.code }}"
    on_error = "reject"
    chunk_size = 4

    [steps.fields]
    name = "{{ row.name }}"
    ref = "REJ-{{ row.code }}"
    type = "{{ row.type }}"
    country_id = { xmlid = "base.{{ row.country }}" }
"""

GOOD = [
    ("1", "Ann", "contact", "be"),
    ("2", "Bob", "contact", "de"),
    ("3", "Cid", "invoice", "fr"),
    ("4", "Dee", "contact", "nl"),
    ("5", "Eve", "contact", "be"),
    ("6", "Fay", "contact", "de"),
    ("7", "Gus", "contact", "fr"),
]
BAD = [
    ("8", "", "contact", "be"),  # Odoo: contacts require a name
    ("9", "Ida", "billing", "be"),  # not a choice of type
    ("10", "Jo", "contact", "xx"),  # no such external id
]


def _csv(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["code,name,type,country", *(",".join(r) for r in rows)]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, project_files: ProjectFiles) -> str:
    """The project's ledger: its SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        project_files.ledger_url = request.getfixturevalue("pg_ledger_url")
    return str(request.param)


async def _ledger_row(project_files: ProjectFiles) -> MigrationRecord | None:
    async with open_ledger(project_files.load().config.ledger.url, project_files.root) as ledger:
        return await ledger.scope("sandbox:.zenoo/sandbox.db", "etl").migration(1)


async def test_rejected_rows_are_set_aside_and_a_rerun_applies_only_them(
    project_files: ProjectFiles, ledger: str
) -> None:
    mixed = [GOOD[0], BAD[0], *GOOD[1:4], BAD[1], *GOOD[4:], BAD[2]]
    project_files.write({"0001_people.toml": STEP}, {"data/people.csv": _csv(mixed)})
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])

    with pytest.raises(RunFailed) as caught:
        await apply(project_files.load())
    result = caught.value.result
    migration = result.migrations[0]
    assert migration.status == "applied_with_rejects"
    counts = migration.steps[0].counts
    assert (counts.created, counts.rejected) == (7, 3)
    reject_file = project_files.root / ".zenoo/rejects/0001_people/people.csv"
    assert migration.steps[0].reject_file == ".zenoo/rejects/0001_people/people.csv"
    assert "3 rejected row(s)" in str(caught.value) and "people.csv" in str(caught.value)
    with reject_file.open(encoding="utf-8", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["row"], r["line"], r["key"]) for r in rejected] == [
        ("2", "3", "8"),
        ("6", "7", "9"),
        ("10", "11", "10"),
    ]
    assert rejected[0]["name"] == "" and rejected[1]["type"] == "billing"
    assert "name" in rejected[0]["error"].lower()
    assert "billing" in rejected[1]["error"]
    assert "base.xx" in rejected[2]["error"] and rejected[2]["field"] == "country_id"
    async with looking_at(project_files.sandbox_db) as client:
        refs = await table(client, "res.partner", ["ref"], [["ref", "like", "REJ-"]])
    assert sorted(r["ref"] for r in refs) == sorted(f"REJ-{g[0]}" for g in GOOD)
    record = await _ledger_row(project_files)
    assert record is not None and record.status == "applied_with_rejects"
    assert record.error is not None and "rejected" in record.error
    assert record.counts.created == 7
    # What `status --json` and `history --json` print.
    row = (await status_report(project_files.load()))["migrations"][0]
    assert (row["status"], row["error"]) == ("applied_with_rejects", record.error)
    assert row["applied_at"] is not None
    events = [e["event"] for e in (await history_report(project_files.root, None))["events"]]
    assert events[:2] == ["applied_with_rejects", "begin"]  # newest first

    fixed = [GOOD[0], ("8", "Hal", "contact", "be"), *GOOD[1:4], ("9", "Ida", "invoice", "be")]
    fixed += [*GOOD[4:], ("10", "Jo", "contact", "us")]
    project_files.write({"0001_people.toml": STEP}, {"data/people.csv": _csv(fixed)})
    spies: list[Spy] = []

    def wrap(target):  # type: ignore[no-untyped-def]
        spy = Spy(target)
        spies.append(spy)
        return spy

    again = await apply(project_files.load(), wrap_target=wrap)
    assert again.ok
    counts = again.migrations[0].steps[0].counts
    assert (counts.created, counts.skipped, counts.rejected) == (3, 7, 0)
    assert again.migrations[0].status == "applied"
    record = await _ledger_row(project_files)
    assert record is not None and (record.status, record.error) == ("applied", None)
    assert not reject_file.exists()
    async with looking_at(project_files.sandbox_db) as client:
        refs = await table(client, "res.partner", ["ref"], [["ref", "like", "REJ-"]])
    assert len(refs) == 10  # every row exactly once

    await rollback(project_files.load(), to_version=0)
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before


async def test_allow_rejects_goes_on_with_later_migrations(project_files: ProjectFiles) -> None:
    later = STEP.replace('id = "people"', 'id = "more"').replace("REJ-", "MORE-")
    project_files.write(
        {"0001_people.toml": STEP, "0002_more.toml": later},
        {"data/people.csv": _csv([*GOOD[:2], BAD[0]])},
    )
    result = await apply(project_files.load(), allow_rejects=True)
    assert [m.status for m in result.migrations] == ["applied_with_rejects"] * 2
    assert result.ok
    # Fixed, both run again (neither is applied) and apply only the fixed row.
    project_files.write(
        {"0001_people.toml": STEP, "0002_more.toml": later},
        {"data/people.csv": _csv([*GOOD[:2], ("8", "Hal", "contact", "be")])},
    )
    again = await apply(project_files.load())
    assert [(m.version, m.status) for m in again.migrations] == [(1, "applied"), (2, "applied")]
    assert [m.steps[0].counts.created for m in again.migrations] == [1, 1]
    assert [m.steps[0].counts.skipped for m in again.migrations] == [2, 2]


async def test_rollback_undoes_a_migration_applied_with_rejects(
    project_files: ProjectFiles, ledger: str
) -> None:
    """Rejected rows left unfixed: rollback removes the applied ones, like any migration."""
    project_files.write({"0001_people.toml": STEP}, {"data/people.csv": _csv([*GOOD, *BAD])})
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])
    first = await apply(project_files.load(), allow_rejects=True)
    assert first.migrations[0].status == "applied_with_rejects"
    async with looking_at(project_files.sandbox_db) as client:
        made = await table(client, "res.partner", ["ref"], [["ref", "like", "REJ-"]])
    assert len(made) == len(GOOD)

    undone = await rollback(project_files.load(), to_version=0)
    assert undone.ok
    assert [(m.version, m.status) for m in undone.migrations] == [(1, "rolled_back")]
    assert undone.migrations[0].totals().deleted == len(GOOD)
    record = await _ledger_row(project_files)
    assert record is not None and record.status == "rolled_back"
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before


def test_on_error_reject_needs_rows(project_files: ProjectFiles) -> None:
    from zenoo_etl.errors import MigrationFileError

    bad = STEP.replace('source = { csv = "data/people.csv" }\n', "")
    bad = bad.replace('key = "{{ row.code }}"\n', "").replace(
        'action = "create"', 'action = "update"'
    )
    bad = bad.replace("[steps.fields]", 'domain = [["id", "=", 0]]\n\n    [steps.values]')
    project_files.write({"0001_people.toml": bad}, {})
    with pytest.raises(MigrationFileError, match="on_error"):
        project_files.load()


def test_the_cli_exits_1_with_rejects_and_0_with_allow_rejects(
    project_files: ProjectFiles,
) -> None:
    """`apply` exits 1 when rows were rejected; `--allow-rejects` exits 0; --json names the file."""
    project_files.write({"0001_people.toml": STEP}, {"data/people.csv": _csv([GOOD[0], BAD[1]])})
    root = str(project_files.root)
    first = CliRunner().invoke(main, ["apply", "--project", root, "--yes", "--json"])
    assert first.exit_code == 1, first.output
    data = json.loads(first.stdout)
    step = data["migrations"][0]["steps"][0]
    assert data["migrations"][0]["status"] == "applied_with_rejects"
    assert (step["created"], step["rejected"]) == (1, 1)
    assert step["reject_file"] == ".zenoo/rejects/0001_people/people.csv"
    again = CliRunner().invoke(main, ["apply", "--project", root, "--yes", "--allow-rejects"])
    assert again.exit_code == 0, again.output
    assert "rejected" in again.output
