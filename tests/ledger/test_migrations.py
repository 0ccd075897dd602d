"""Migration rows and history: the lifecycle the runner drives, on both backends."""

from __future__ import annotations

import getpass
import os
import socket

import pytest

from zenoo_etl.ledger import Counts, LedgerError, RunBy
from zenoo_etl.ledger.sql import SqlScope


async def test_a_migration_that_never_ran_is_absent(scope: SqlScope) -> None:
    """Pending is the absence of a row; an empty scope reads without writing."""
    assert await scope.migrations() == []
    assert await scope.migration(1) is None
    assert await scope.history() == []


async def test_begin_then_applied_records_times_counts_and_events(scope: SqlScope) -> None:
    started = await scope.begin_migration(1, "categories", "sha-1")
    assert started.status == "applying" and started.finished_at is None
    stored = await scope.migration(1)
    assert stored is not None and stored.status == "applying" and stored.checksum == "sha-1"

    done = await scope.set_status(1, "applied", counts=Counts(created=5, updated=2))
    assert done.status == "applied" and done.finished_at is not None
    assert done.finished_at >= done.started_at
    (row,) = await scope.migrations()
    assert row.status == "applied"
    assert row.counts == Counts(created=5, updated=2)
    assert row.started_at == started.started_at
    assert row.finished_at is not None and row.finished_at.tzinfo is not None

    history = await scope.history()
    assert [e.event for e in history] == ["applied", "begin"]  # newest first
    assert history[0].counts == Counts(created=5, updated=2)
    assert history[0].seq > history[1].seq


async def test_failed_keeps_the_error_and_counts_when_not_given(scope: SqlScope) -> None:
    await scope.begin_migration(2, "customers", "c2")
    await scope.set_status(2, "applying", counts=Counts(created=3))
    failed = await scope.set_status(2, "failed", error="step customers row 4: bad email")
    assert failed.counts == Counts(created=3)
    row = await scope.migration(2)
    assert row is not None and row.status == "failed"
    assert row.error == "step customers row 4: bad email"
    assert (await scope.history())[0].error == "step customers row 4: bad email"


async def test_rerun_after_failure_and_reapply_after_rollback(scope: SqlScope) -> None:
    await scope.begin_migration(1, "a", "c")
    await scope.set_status(1, "failed", error="boom", counts=Counts(created=1))
    again = await scope.begin_migration(1, "a", "c-new")
    assert again.status == "applying"
    row = await scope.migration(1)
    assert row is not None and row.error is None and row.counts == Counts()
    assert row.checksum == "c-new" and row.finished_at is None
    await scope.set_status(1, "applied")
    await scope.set_status(1, "rolled_back")
    await scope.begin_migration(1, "a", "c-new")
    assert [e.event for e in await scope.history()] == [
        "begin",
        "rolled_back",
        "applied",
        "begin",
        "failed",
        "begin",
    ]


async def test_beginning_an_applied_migration_is_refused(scope: SqlScope) -> None:
    await scope.begin_migration(1, "a", "c")
    await scope.set_status(1, "applied")
    with pytest.raises(LedgerError, match="already applied"):
        await scope.begin_migration(1, "a", "c")
    assert [e.event for e in await scope.history()] == ["applied", "begin"]


async def test_set_status_of_an_unknown_version_is_an_error(scope: SqlScope) -> None:
    with pytest.raises(LedgerError, match="begin_migration"):
        await scope.set_status(7, "applied")


async def test_migrations_are_listed_by_version(scope: SqlScope) -> None:
    for version in (3, 1, 2):
        await scope.begin_migration(version, f"m{version}", "c")
    assert [m.version for m in await scope.migrations()] == [1, 2, 3]


async def test_forget_removes_rows_but_keeps_history(scope: SqlScope) -> None:
    await scope.begin_migration(1, "a", "c")
    await scope.record_intents(1, "s", "res.partner", "created", ["k"])
    await scope.forget(1)
    assert await scope.migration(1) is None
    assert await scope.step_state(1, "s") == {}
    assert [e.event for e in await scope.history()] == ["begin"]


async def test_each_row_and_event_says_which_process_wrote_it(
    scope: SqlScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applied by one process, rolled back by another (user, host, pid): both are kept."""
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    monkeypatch.setattr(socket, "gethostname", lambda: "ci-1")
    monkeypatch.setattr(os, "getpid", lambda: 111)
    began = await scope.begin_migration(1, "m", "c")
    assert began.by == RunBy("ci-1", "alice", 111)
    await scope.set_status(1, "applied")

    def no_login() -> str:
        raise OSError("no username for this uid")  # getuser() in a container without passwd

    monkeypatch.setattr(getpass, "getuser", no_login)
    monkeypatch.setattr(socket, "gethostname", lambda: "laptop")
    monkeypatch.setattr(os, "getpid", lambda: 222)
    rolled = await scope.set_status(1, "rolled_back")
    assert rolled.by == RunBy("laptop", "?", 222)
    stored = await scope.migration(1)
    assert stored is not None and stored.by == rolled.by
    assert [(e.event, e.by) for e in await scope.history()] == [
        ("rolled_back", RunBy("laptop", "?", 222)),
        ("applied", RunBy("ci-1", "alice", 111)),
        ("begin", RunBy("ci-1", "alice", 111)),
    ]
