"""The ledger's own schema: versioned, created once, upgraded in place."""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path

import pytest

from zenoo_etl.ledger import DoneEntry, LedgerError, RunBy, open_ledger
from zenoo_etl.ledger import schema as ledger_schema
from zenoo_etl.ledger.protocol import utcnow
from zenoo_etl.ledger.sql import SqlLedger

from .conftest import TARGET


async def _meta(ledger: SqlLedger) -> dict[str, str]:
    async with ledger.driver.session(write=False) as conn:
        return {k: v for k, v in await conn.fetchall("SELECT key, value FROM zenoo_meta")}


async def test_a_new_ledger_records_its_schema_version(ledger: SqlLedger) -> None:
    meta = await _meta(ledger)
    assert meta["schema_version"] == str(ledger_schema.latest_version())
    assert ledger.schema_version == ledger_schema.latest_version() >= 5
    assert len(meta["instance"]) == 12


async def test_reopening_is_idempotent_and_keeps_data(ledger_url: str, tmp_path: Path) -> None:
    async with open_ledger(ledger_url, tmp_path) as first:
        scope = first.scope(TARGET, "prod")
        await scope.begin_migration(1, "m", "c")
        await scope.record_done(1, "s", "res.partner", [DoneEntry("k", 5, "created")])
        meta = await _meta(first)
        position = await scope.position()
    for _ in range(2):
        async with open_ledger(ledger_url, tmp_path) as again:
            assert await _meta(again) == meta
            scope = again.scope(TARGET, "prod")
            assert await scope.done_ids("s", ["k"]) == {"k": 5}
            assert await scope.position() == position


async def test_an_older_layout_is_upgraded_in_place(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A current ledger opened by a build that knows one more version gets upgraded, data kept."""
    current = ledger_schema.latest_version()
    async with open_ledger(ledger_url, tmp_path) as old:
        await old.scope(TARGET, "prod").begin_migration(1, "m", "c")
    original = dict(ledger_schema.UPGRADES)
    upgrades = dict(original)
    upgrades[current + 1] = ["ALTER TABLE zenoo_migrations ADD COLUMN note TEXT"]
    monkeypatch.setattr(ledger_schema, "UPGRADES", upgrades)
    async with open_ledger(ledger_url, tmp_path) as new:
        assert new.schema_version == current + 1
        assert (await _meta(new))["schema_version"] == str(current + 1)
        async with new.driver.session(write=False) as conn:
            rows = await conn.fetchall("SELECT version, note FROM zenoo_migrations")
        assert rows == [(1, None)]
    monkeypatch.setattr(ledger_schema, "UPGRADES", original)
    # The older build now refuses to write to the newer ledger.
    with pytest.raises(LedgerError, match="newer"):
        async with open_ledger(ledger_url, tmp_path):
            pass


async def test_a_failed_upgrade_leaves_the_previous_version(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_ledger(ledger_url, tmp_path):
        pass
    current = ledger_schema.latest_version()
    original = dict(ledger_schema.UPGRADES)
    upgrades = dict(original)
    upgrades[current + 1] = [
        "ALTER TABLE zenoo_migrations ADD COLUMN note TEXT",
        "THIS IS NOT SQL",
    ]
    monkeypatch.setattr(ledger_schema, "UPGRADES", upgrades)
    with pytest.raises(LedgerError):
        async with open_ledger(ledger_url, tmp_path):
            pass
    monkeypatch.setattr(ledger_schema, "UPGRADES", original)
    async with open_ledger(ledger_url, tmp_path) as again:
        assert (await _meta(again))["schema_version"] == str(current)
        async with again.driver.session(write=False) as conn:
            await conn.fetchall("SELECT version FROM zenoo_migrations")


async def test_a_database_with_other_tables_gets_ours_alongside(
    ledger_url: str, tmp_path: Path
) -> None:
    """Version 0: a database (shared PostgreSQL, or an old file) without zenoo tables."""
    async with open_ledger(ledger_url, tmp_path) as first, first.driver.session(write=True) as conn:
        await conn.execute("CREATE TABLE migrations (id INTEGER)")
        for table in ("zenoo_locks", "zenoo_records", "zenoo_events", "zenoo_migrations"):
            await conn.execute(f"DROP TABLE {table}")
        await conn.execute("DROP TABLE zenoo_scopes")
        await conn.execute("DROP TABLE zenoo_meta")
    async with open_ledger(ledger_url, tmp_path) as ledger:
        assert ledger.schema_version == ledger_schema.latest_version()
        assert await ledger.scope(TARGET, "prod").migrations() == []
        async with ledger.driver.session(write=False) as conn:
            assert await conn.fetchall("SELECT id FROM migrations") == []


async def test_a_version_1_ledger_gains_who_ran_it_in_place(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema-1 ledger (0.1.0) is upgraded in place: old rows say nobody, new rows who."""
    monkeypatch.setattr(ledger_schema, "UPGRADES", {1: ledger_schema.UPGRADES[1]})
    async with open_ledger(ledger_url, tmp_path) as v1:
        assert v1.schema_version == 1
        async with v1.driver.session(write=True) as conn:
            # What a version-1 build writes (its own columns only).
            await conn.execute(
                "INSERT INTO zenoo_scopes (target_url, database, revision) VALUES (?, ?, 1)",
                (TARGET, "prod"),
            )
            await conn.execute(
                "INSERT INTO zenoo_migrations (scope_id, version, name, checksum, status, "
                "started_at, finished_at, counts, error) "
                "SELECT id, 1, 'old', 'c', 'applied', ?, ?, '{}', NULL FROM zenoo_scopes",
                (v1.driver.ts(utcnow()), v1.driver.ts(utcnow())),
            )
    monkeypatch.undo()
    async with open_ledger(ledger_url, tmp_path) as v2:
        assert v2.schema_version == ledger_schema.latest_version()
        scope = v2.scope(TARGET, "prod")
        [old] = await scope.migrations()
        assert (old.name, old.status, old.by) == ("old", "applied", None)
        await scope.begin_migration(2, "new", "c2")
        await scope.set_status(2, "failed", error="boom")
        by = {m.version: m.by for m in await scope.migrations()}
        assert by[1] is None
        assert by[2] == RunBy(socket.gethostname(), getpass.getuser(), os.getpid())
        events = await scope.history()
        assert [(e.version, e.event, e.by is not None) for e in events] == [
            (2, "failed", True),
            (2, "begin", True),
        ]


async def test_a_version_3_ledger_learns_rollback_states_in_place(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 4 adds status rolling_back and record state undoing; older rows are kept."""
    monkeypatch.setattr(
        ledger_schema, "UPGRADES", {v: ledger_schema.UPGRADES[v] for v in (1, 2, 3)}
    )
    async with open_ledger(ledger_url, tmp_path) as v3:
        now = v3.driver.ts(utcnow())
        async with v3.driver.session(write=True) as conn:
            # what a version-3 build writes (its own columns only)
            await conn.execute(
                "INSERT INTO zenoo_scopes (target_url, database, revision) VALUES (?, ?, 1)",
                (TARGET, "prod"),
            )
            await conn.execute(
                "INSERT INTO zenoo_migrations (scope_id, version, name, checksum, status, "
                "started_at, finished_at, counts, error, parts) "
                "SELECT id, 1, 'old', 'c', 'applied', ?, ?, '{}', NULL, '{}' FROM zenoo_scopes",
                (now, now),
            )
            await conn.execute(
                "INSERT INTO zenoo_records (scope_id, version, step, key, model, odoo_id, "
                "operation, state) SELECT id, 1, 's', 'k', 'res.partner', 5, 'created', 'done' "
                "FROM zenoo_scopes"
            )
        with pytest.raises(LedgerError):  # the version-3 CHECK refuses the new status
            async with v3.driver.session(write=True) as conn:
                await conn.execute("UPDATE zenoo_migrations SET status = 'rolling_back'")
    monkeypatch.undo()
    async with open_ledger(ledger_url, tmp_path) as latest:
        assert latest.schema_version == ledger_schema.latest_version()
        scope = latest.scope(TARGET, "prod")
        [old] = await scope.migrations()
        assert (old.name, old.status) == ("old", "applied")
        await scope.set_status(1, "rolling_back")
        await scope.mark_undoing(1, "s", ["k"])
        assert [r.key for r in await scope.undoing(1)] == ["k"]
        assert [m.status for m in await scope.migrations()] == ["rolling_back"]


async def test_a_version_6_ledger_learns_applied_with_rejects_in_place(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 7 widens the status check (SQLite rebuilds the table, PostgreSQL swaps the
    constraint): rows written before keep every column; an unknown status stays refused."""
    before = {v: s for v, s in ledger_schema.UPGRADES.items() if v <= 6}
    monkeypatch.setattr(ledger_schema, "UPGRADES", before)
    async with open_ledger(ledger_url, tmp_path) as v6:
        assert v6.schema_version == 6
        scope = v6.scope(TARGET, "prod")
        await scope.begin_migration(1, "people", "c1", {"migrations/0001_people.toml": "s"})
        await scope.set_status(1, "failed", error="3 rejected row(s)")
        with pytest.raises(LedgerError):  # the version-6 check refuses the new status
            await scope.set_status(1, "applied_with_rejects")
    monkeypatch.undo()
    async with open_ledger(ledger_url, tmp_path) as v7:
        assert v7.schema_version == ledger_schema.latest_version() >= 7
        scope = v7.scope(TARGET, "prod")
        kept = await scope.migration(1)
        assert kept is not None
        assert (kept.name, kept.checksum, kept.status, kept.error) == (
            "people",
            "c1",
            "failed",
            "3 rejected row(s)",
        )
        assert kept.parts == {"migrations/0001_people.toml": "s"}
        record = await scope.set_status(1, "applied_with_rejects", error="2 rejected row(s)")
        assert record.status == "applied_with_rejects"
        again = await scope.migration(1)
        assert again is not None and again.status == "applied_with_rejects"
        assert [e.event for e in await scope.history()][:1] == ["applied_with_rejects"]
        with pytest.raises(LedgerError):
            await scope.set_status(1, "bogus")  # type: ignore[arg-type]
