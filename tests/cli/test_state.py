"""``zenoo-etl status``, ``history`` and ``unlock`` on a temp project, over real ledgers."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import load_project
from zenoo_etl.compiler.scaffold import init_project, new_migration
from zenoo_etl.ledger import Counts, DoneEntry, LockHolder, open_ledger

LEDGER = "sqlite:///.zenoo/ledger.db"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ZENOO_LEDGER_URL", raising=False)
    monkeypatch.delenv("ZENOO_TARGET", raising=False)
    init_project(tmp_path)
    new_migration(tmp_path, "second-step")
    new_migration(tmp_path, "third-step")
    return tmp_path


def cli(project: Path, *args: str) -> tuple[int, str, str]:
    # Tables are laid out for a 100-column terminal (the documented minimum).
    result = CliRunner(env={"COLUMNS": "100"}).invoke(
        main, [args[0], "--project", str(project), *args[1:]]
    )
    return result.exit_code, result.stdout, result.stderr


async def _populate(project: Path, url: str = LEDGER) -> None:
    """1 applied (matching checksum), 2 failed, 9 applied but its file is gone."""
    loaded = load_project(project)
    checksum = {m.version: m.checksum for m in loaded.migrations}
    async with open_ledger(url, project) as ledger:
        scope = ledger.scope(loaded.target.url, loaded.target.database)
        await scope.begin_migration(1, "example", checksum[1])
        await scope.record_done(
            1, "example-partners", "res.partner", [DoneEntry("1", 7, "created")]
        )
        await scope.set_status(1, "applied", counts=Counts(created=3))
        await scope.begin_migration(2, "second-step", checksum[2])
        await scope.set_status(2, "failed", error="step second-step row 0: boom")
        await scope.begin_migration(9, "vanished", "old")
        await scope.set_status(9, "applied", counts=Counts(updated=1))


def test_status_of_a_fresh_project_is_all_pending_and_creates_nothing(project: Path) -> None:
    code, out, _ = cli(project, "status", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["target"] == "local" and report["database"] == "etl"
    assert [(m["version"], m["status"]) for m in report["migrations"]] == [
        (1, "pending"),
        (2, "pending"),
        (3, "pending"),
    ]
    assert report["lock"] is None
    assert not (project / ".zenoo" / "ledger.db").exists()


def test_status_reports_applied_failed_pending_and_drift(project: Path) -> None:
    asyncio.run(_populate(project))
    code, out, _ = cli(project, "status", "--json")
    assert code == 0
    rows = {m["version"]: m for m in json.loads(out)["migrations"]}
    assert {v: r["status"] for v, r in rows.items()} == {
        1: "applied",
        2: "failed",
        3: "pending",
        9: "drift",
    }
    assert rows[1]["counts"] == {
        "created": 3,
        "updated": 0,
        "deleted": 0,
        "called": 0,
        "filtered": 0,
        "archived": 0,
    }
    assert rows[1]["applied_at"] is not None and rows[1]["file"].startswith("migrations/0001_")
    assert rows[2]["applied_at"] is None and rows[2]["error"] == "step second-step row 0: boom"
    assert rows[9]["file"] is None and rows[9]["name"] == "vanished"

    # Editing an applied migration's file is drift.
    path = project / rows[1]["file"]
    path.write_text(path.read_text() + "\n# edited\n")
    code, out, _ = cli(project, "status", "--json")
    assert json.loads(out)["migrations"][0]["status"] == "drift"

    code, out, _ = cli(project, "status")
    assert code == 0
    for word in ("drift", "failed", "pending", "3 created", "Lock: free", "boom"):
        assert word in out


def test_an_applying_migration_without_a_live_lock_is_reported_interrupted(
    project: Path,
) -> None:
    async def crashed_run() -> None:
        loaded = load_project(project)
        async with open_ledger(LEDGER, project) as ledger:
            scope = ledger.scope(loaded.target.url, loaded.target.database)
            await scope.acquire_lock("apply")
            await scope.begin_migration(1, "example", "c")

    asyncio.run(crashed_run())
    row = json.loads(cli(project, "status", "--json")[1])["migrations"][0]
    assert row["status"] == "applying" and row["interrupted"] is False  # its lock is live
    assert cli(project, "unlock", "--force")[0] == 0
    out = cli(project, "status", "--json")[1]
    row = json.loads(out)["migrations"][0]
    assert row["status"] == "applying" and row["interrupted"] is True
    assert "interrupted" in cli(project, "status")[1]


def test_history_lists_every_event_newest_first(project: Path) -> None:
    asyncio.run(_populate(project))
    code, out, _ = cli(project, "history", "--json")
    assert code == 0
    events = json.loads(out)["events"]
    assert [(e["version"], e["event"]) for e in events] == [
        (9, "applied"),
        (9, "begin"),
        (2, "failed"),
        (2, "begin"),
        (1, "applied"),
        (1, "begin"),
    ]
    assert events[4]["counts"]["created"] == 3 and events[2]["error"].endswith("boom")
    code, out, _ = cli(project, "history", "--json", "--version", "2")
    assert [e["event"] for e in json.loads(out)["events"]] == ["failed", "begin"]
    code, out, _ = cli(project, "history")
    assert code == 0 and "rolled_back" not in out and "failed" in out and "vanished" in out


def test_history_of_a_fresh_project_is_empty(project: Path) -> None:
    code, out, _ = cli(project, "history", "--json")
    assert code == 0 and json.loads(out)["events"] == []


async def _lock(project: Path, *, age: timedelta | None = None) -> None:
    loaded = load_project(project)
    async with open_ledger(LEDGER, project) as ledger:
        scope = ledger.scope(loaded.target.url, loaded.target.database)
        await scope.acquire_lock("apply", holder=LockHolder(host="ci-box", pid=31337))
    if age is not None:
        old = (datetime.now(timezone.utc) - age).isoformat()
        with sqlite3.connect(project / ".zenoo" / "ledger.db") as db:
            db.execute("UPDATE zenoo_locks SET heartbeat_at = ?", (old,))


def test_unlock_without_a_lock_does_nothing(project: Path) -> None:
    code, out, _ = cli(project, "unlock")
    assert code == 0 and "not locked" in out


def test_unlock_refuses_a_live_lock_without_force(project: Path) -> None:
    asyncio.run(_lock(project))
    code, _, err = cli(project, "unlock")
    assert code == 3
    assert "ci-box" in err and "31337" in err and "--force" in err
    code, out, _ = cli(project, "status", "--json")
    lock = json.loads(out)["lock"]
    assert lock["host"] == "ci-box" and lock["pid"] == 31337 and lock["stale"] is False
    code, out, _ = cli(project, "unlock", "--json")
    assert code == 3 and json.loads(out)["ok"] is False

    code, out, _ = cli(project, "unlock", "--force")
    assert code == 0 and "ci-box" in out and "31337" in out
    assert json.loads(cli(project, "status", "--json")[1])["lock"] is None


def test_unlock_releases_a_stale_lock(project: Path) -> None:
    asyncio.run(_lock(project, age=timedelta(hours=2)))
    code, out, _ = cli(project, "status")
    assert "Lock: stale" in out
    code, out, _ = cli(project, "unlock", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["released"] is True and report["lock"]["host"] == "ci-box"
    assert cli(project, "unlock")[1].startswith("Target 'local' is not locked")


def test_a_broken_config_exits_2(project: Path) -> None:
    (project / "zenoo.toml").write_text("[project]\nname = 'x'\nbogus = 1\n")
    for command in ("status", "history", "unlock"):
        code, _, err = cli(project, command)
        assert code == 2, (command, err)
        assert "zenoo.toml" in err


@pytest.fixture
def pg_ledger(pg_url: str) -> Iterator[str]:
    name = f"zenoo_cli_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_status_and_history_read_a_postgres_ledger(
    project: Path, pg_ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENOO_LEDGER_URL", pg_ledger)
    asyncio.run(_populate(project, pg_ledger))
    report = json.loads(cli(project, "status", "--json")[1])
    assert [m["status"] for m in report["migrations"]] == ["applied", "failed", "pending", "drift"]
    assert report["ledger"].startswith("postgresql://")
    assert len(json.loads(cli(project, "history", "--json")[1])["events"]) == 6
    assert not (project / ".zenoo" / "ledger.db").exists()


def _me() -> dict[str, object]:
    return {"host": socket.gethostname(), "user": getpass.getuser(), "pid": os.getpid()}


def test_status_and_history_say_who_ran_each_migration(project: Path) -> None:
    asyncio.run(_populate(project))
    rows = {m["version"]: m for m in json.loads(cli(project, "status", "--json")[1])["migrations"]}
    assert rows[1]["by"] == rows[2]["by"] == rows[9]["by"] == _me()
    assert rows[3]["by"] is None  # pending: nobody ran it
    assert rows[1]["started_at"] <= rows[1]["finished_at"]
    events = json.loads(cli(project, "history", "--json")[1])["events"]
    assert all(e["by"] == _me() for e in events)
    me = f"{getpass.getuser()}@"
    assert me in cli(project, "history")[1]


def test_status_of_the_example_project_fits_100_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every example migration applied (and one failed) by a long-named user on a long host."""
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "zenoo.toml", tmp_path / "zenoo.toml")
    shutil.copytree(root / "migrations", tmp_path / "migrations")
    shutil.copytree(root / "data", tmp_path / "data")
    monkeypatch.delenv("ZENOO_LEDGER_URL", raising=False)
    monkeypatch.delenv("ZENOO_TARGET", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(socket, "gethostname", lambda: "build-agent-0042.ci.example.com")
    monkeypatch.setattr(getpass, "getuser", lambda: "deploy-bot")

    async def populate() -> None:
        loaded = load_project(tmp_path)
        async with open_ledger(LEDGER, tmp_path) as ledger:
            scope = ledger.scope(loaded.target.url, loaded.target.database)
            for m in loaded.migrations[:-1]:
                await scope.begin_migration(m.version, m.name, m.checksum)
                await scope.set_status(m.version, "applied", counts=Counts(created=1250))
            last = loaded.migrations[-1]
            await scope.begin_migration(last.version, last.name, last.checksum)
            await scope.set_status(last.version, "failed", error="step x row 3: boom")

    asyncio.run(populate())
    code, out, _ = cli(tmp_path, "status")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100, out
    assert "…" not in out  # nothing cut off
    for word in ("started (UTC)", "finished", "by", "1250 created", "failed", "boom"):
        assert word in out, word
    assert sum("deploy-bot@" in line for line in lines) == len(load_project(tmp_path).migrations)
