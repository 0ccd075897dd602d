"""The apply lock: contention, stale takeover, heartbeat, release, force-unlock."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.errors import LockHeldError
from zenoo_etl.ledger import LockHolder, open_ledger
from zenoo_etl.ledger.sql import SqlLedger, SqlScope

from .conftest import TARGET


async def test_acquire_records_who_holds_the_lock(scope: SqlScope) -> None:
    assert await scope.lock_info() is None
    assert await scope.acquire_lock("apply") is None
    info = await scope.lock_info()
    assert info is not None
    assert (info.host, info.pid, info.command) == (socket.gethostname(), os.getpid(), "apply")
    assert info.started_at == info.heartbeat_at
    assert scope.held_lock is not None and scope.held_lock.token == info.token


async def test_a_second_run_is_refused_naming_the_holder(ledger: SqlLedger) -> None:
    first = ledger.scope(TARGET, "prod")
    await first.acquire_lock("apply", holder=LockHolder(host="ci-runner-7", pid=4242))
    second = ledger.scope(TARGET, "prod")
    with pytest.raises(LockHeldError) as caught:
        await second.acquire_lock("rollback")
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "ci-runner-7" in message and "4242" in message and "apply" in message
    assert "zenoo-etl unlock" in message
    assert second.held_lock is None
    # A different target is not locked by it.
    assert await ledger.scope(TARGET, "staging").acquire_lock("apply") is None


async def test_a_stale_lock_is_taken_over_with_a_warning(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    crashed = ledger.scope(TARGET, "prod")
    await crashed.acquire_lock("apply", holder=LockHolder(host="dead-host", pid=1))
    await asyncio.sleep(0.01)
    taker = ledger.scope(TARGET, "prod")
    with caplog.at_level(logging.WARNING, logger="zenoo_etl.ledger"):
        previous = await taker.acquire_lock("apply", stale_after_seconds=0.001)
    assert previous is not None and previous.host == "dead-host" and previous.pid == 1
    assert "stale lock" in caplog.text and "dead-host" in caplog.text
    info = await taker.lock_info()
    assert info is not None and info.pid == os.getpid()
    # The old holder finds out at its next heartbeat, and its release is harmless.
    with pytest.raises(LockHeldError, match="lost the lock"):
        await crashed.heartbeat()
    await crashed.release()
    assert await taker.lock_info() == info


async def test_a_fresh_lock_is_not_stale(scope: SqlScope, ledger: SqlLedger) -> None:
    await scope.acquire_lock("apply")
    with pytest.raises(LockHeldError):
        await ledger.scope(TARGET, "prod").acquire_lock("apply", stale_after_seconds=3600)


async def test_heartbeat_moves_forward(scope: SqlScope) -> None:
    await scope.acquire_lock("apply")
    before = await scope.lock_info()
    await asyncio.sleep(0.01)
    await scope.heartbeat()
    after = await scope.lock_info()
    assert before is not None and after is not None
    assert after.heartbeat_at > before.heartbeat_at
    assert after.started_at == before.started_at


async def test_release_then_another_run_can_lock(scope: SqlScope, ledger: SqlLedger) -> None:
    await scope.acquire_lock("apply")
    assert await scope.acquire_lock("apply") is None  # re-acquiring our own lock is a no-op
    await scope.release()
    assert await scope.lock_info() is None and scope.held_lock is None
    await scope.release()  # twice is harmless
    other = ledger.scope(TARGET, "prod")
    assert await other.acquire_lock("rollback") is None


async def test_force_unlock_returns_the_holder(scope: SqlScope, ledger: SqlLedger) -> None:
    await scope.acquire_lock("apply", holder=LockHolder(host="h", pid=9))
    operator = ledger.scope(TARGET, "prod")
    removed = await operator.force_unlock()
    assert removed is not None and (removed.host, removed.pid) == ("h", 9)
    assert await operator.force_unlock() is None
    with pytest.raises(LockHeldError):
        await scope.heartbeat()


async def test_a_lock_whose_holder_died_on_this_host_is_taken_over_at_once(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    """A fresh heartbeat does not protect a lock whose process on this host is gone."""
    finished = await asyncio.create_subprocess_exec("true")
    await finished.wait()
    crashed = ledger.scope(TARGET, "prod")
    await crashed.acquire_lock("apply", holder=LockHolder(pid=finished.pid))
    taker = ledger.scope(TARGET, "prod")
    with caplog.at_level(logging.WARNING, logger="zenoo_etl.ledger"):
        previous = await taker.acquire_lock("apply")
    assert previous is not None and previous.pid == finished.pid
    assert "stale lock" in caplog.text


async def test_a_live_holder_on_this_host_keeps_its_lock(ledger: SqlLedger) -> None:
    """The parent of this test is alive: its lock is not stale however we look at it."""
    await ledger.scope(TARGET, "prod").acquire_lock("apply", holder=LockHolder(pid=os.getppid()))
    with pytest.raises(LockHeldError):
        await ledger.scope(TARGET, "prod").acquire_lock("apply")


async def test_two_processes_racing_for_the_lock_one_wins(ledger_url: str, tmp_path: Path) -> None:
    """Two separate connections acquire at once: exactly one gets the lock."""
    async with open_ledger(ledger_url, tmp_path) as a, open_ledger(ledger_url, tmp_path) as b:
        results = await asyncio.gather(
            *(
                led.scope(TARGET, "prod").acquire_lock(
                    "apply", holder=LockHolder(host="racer", pid=pid)
                )
                for led, pid in ((a, 1), (b, 2), (a, 3), (b, 4))
            ),
            return_exceptions=True,
        )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, LockHeldError) for r in results if r not in winners)


async def test_a_failed_first_lock_does_not_keep_the_rolled_back_scope_id(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first acquire_lock of a target creates its scope row; if that transaction
    # fails, the row is gone and its id must not stay cached (the id is reused or
    # belongs to no target, and later writes would land in the wrong scope).
    driver = ledger.driver
    real_session = driver.session

    class FailingLockInsert:
        def __init__(self, conn: Any) -> None:
            self._conn = conn

        def __getattr__(self, name: str) -> Any:
            return getattr(self._conn, name)

        async def execute(self, sql: str, params: Any = ()) -> int:
            if sql.startswith("INSERT INTO zenoo_locks"):
                raise RuntimeError("injected failure")
            result: int = await self._conn.execute(sql, params)
            return result

    @asynccontextmanager
    async def failing_session(*, write: bool) -> AsyncIterator[Any]:
        async with real_session(write=write) as conn:
            yield FailingLockInsert(conn)

    prod = ledger.scope(TARGET, "prod")
    monkeypatch.setattr(driver, "session", failing_session)
    with pytest.raises(RuntimeError, match="injected"):
        await prod.acquire_lock("apply")
    monkeypatch.undo()

    staging = ledger.scope(TARGET, "staging")
    await staging.begin_migration(1, "staging_only", "c1")
    assert await prod.migrations() == []
    await prod.begin_migration(2, "prod_only", "c2")
    assert [m.name for m in await staging.migrations()] == ["staging_only"]
    assert [m.name for m in await prod.migrations()] == ["prod_only"]
