"""Issue 11 scenario 5: a lock identifies its holder by more than host name + pid,
and a holder that lost its lock writes nothing more (fencing token, exit 3).

Both backends; PostgreSQL also keeps a session advisory lock, so a live
holder is recognised wherever it runs.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from zenoo_etl.errors import LockHeldError, LockLostError
from zenoo_etl.ledger import DoneEntry, LockHolder, open_ledger
from zenoo_etl.ledger.protocol import process_identity, utcnow

from .conftest import TARGET


def _free_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def _other_container(pid: int) -> LockHolder:
    """A process on a host of the same name, in another pid namespace (a container)."""
    boot = process_identity(os.getpid()).partition("/")[0]
    return LockHolder(host=socket.gethostname(), pid=pid, identity=f"{boot}/4026531999/12345")


async def test_a_holder_in_another_pid_namespace_is_not_taken_for_dead(
    ledger_url: str, tmp_path: Path
) -> None:
    """Same host name, a pid that does not exist HERE: the holder may well be alive."""
    async with open_ledger(ledger_url, tmp_path) as one, open_ledger(ledger_url, tmp_path) as two:
        holder = one.scope(TARGET, "prod")
        await holder.acquire_lock("apply", holder=_other_container(_free_pid()))
        with pytest.raises(LockHeldError):
            await two.scope(TARGET, "prod").acquire_lock("apply")
        # and the holder keeps writing undisturbed
        await holder.begin_migration(1, "m", "c")


async def test_a_holder_gone_from_this_very_namespace_is_taken_over_at_once(
    ledger_url: str, tmp_path: Path
) -> None:
    async with open_ledger(ledger_url, tmp_path) as one:
        dead = _free_pid()
        await one.scope(TARGET, "prod").acquire_lock(
            "apply", holder=LockHolder(pid=dead, identity=process_identity(dead))
        )
    async with open_ledger(ledger_url, tmp_path) as two:  # the first connection is closed
        previous = await two.scope(TARGET, "prod").acquire_lock("apply")
    assert previous is not None and previous.pid == dead


async def test_a_reused_pid_does_not_keep_a_dead_holders_lock(
    ledger_url: str, tmp_path: Path
) -> None:
    """The recorded start time differs from the live process now using that pid."""
    async with open_ledger(ledger_url, tmp_path) as one:
        boot, _, rest = process_identity(os.getppid()).partition("/")
        namespace = rest.partition("/")[0]
        await one.scope(TARGET, "prod").acquire_lock(
            "apply", holder=LockHolder(pid=os.getppid(), identity=f"{boot}/{namespace}/1")
        )
    async with open_ledger(ledger_url, tmp_path) as two:
        assert await two.scope(TARGET, "prod").acquire_lock("apply") is not None


async def test_a_holder_that_lost_its_lock_cannot_write_the_ledger(
    ledger_url: str, tmp_path: Path
) -> None:
    """Fencing: after a takeover, the old holder's next ledger write fails (exit 3)."""
    async with open_ledger(ledger_url, tmp_path) as one, open_ledger(ledger_url, tmp_path) as two:
        old = one.scope(TARGET, "prod")
        await old.acquire_lock("apply")
        await old.begin_migration(1, "m", "c")
        new = two.scope(TARGET, "prod")
        await new.force_unlock()
        await new.acquire_lock("apply")
        with pytest.raises(LockLostError) as lost:
            await old.record_intents(1, "s", "res.partner", "created", ["a"])
        assert lost.value.exit_code == 3
        assert "lost the lock" in str(lost.value)
        with pytest.raises(LockLostError):
            await old.heartbeat()
        with pytest.raises(LockLostError):  # still fenced after the failed heartbeat
            await old.record_done(1, "s", "res.partner", [DoneEntry("a", 1, "created")])
        assert await new.step_state(1, "s") == {}  # nothing of the old holder landed
        await new.record_intents(1, "s", "res.partner", "created", ["b"])  # the new one writes
        await old.release()  # a no-op for the lock it no longer holds
        assert (await new.lock_info()) is not None


@pytest.mark.postgres
async def test_postgres_a_live_session_keeps_its_lock_however_old_its_heartbeat(
    pg_url: str, tmp_path: Path
) -> None:
    from .conftest import _fresh_pg_database

    for url in _fresh_pg_database(pg_url):
        async with open_ledger(url, tmp_path) as one, open_ledger(url, tmp_path) as two:
            holder = one.scope(TARGET, "prod")
            await holder.acquire_lock("apply", holder=LockHolder(host="elsewhere", pid=7))
            async with one.driver.session(write=True) as conn:  # heartbeat 1 h old
                await conn.execute(
                    "UPDATE zenoo_locks SET heartbeat_at = ?",
                    (one.driver.ts(utcnow() - timedelta(hours=1)),),
                )
            with pytest.raises(LockHeldError):
                await two.scope(TARGET, "prod").acquire_lock("apply")
        async with open_ledger(url, tmp_path) as three:
            # its session ended (the holder's connection is gone): taken over at once
            previous = await three.scope(TARGET, "prod").acquire_lock("apply")
            assert previous is not None and previous.host == "elsewhere"
