"""The fault matrix, reduced: every action under every fault, SQLite and PostgreSQL ledgers.

Each case (see :mod:`.matrix`) injects one fault while a migration of one
action runs, removes it, reruns apply, and checks against a fault-free
control: no duplicate, no loss, and a rollback to 0 restores the table
exactly. ``scripts/fault_matrix.py`` runs the same cells with many seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .matrix import ACTIONS, Outcome, run_scenario

SQLITE_FAULTS = (
    "refused",
    "reset",
    "reset_after_send",
    "burst",
    "throttle",
    "slow",
    "restart",
    "ledger_down",
    "disk_full",
)
# the transport faults do not depend on the ledger; PostgreSQL gets the cells where it
# matters: answers lost after commit, a restart, and the ledger connection killed
POSTGRES_FAULTS = ("reset_after_send", "restart", "ledger_down")


def _check(outcome: Outcome) -> None:
    assert outcome.duplicates == 0, outcome
    assert outcome.losses == 0, outcome
    assert outcome.restored, outcome


@pytest.mark.parametrize("fault", SQLITE_FAULTS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_sqlite_ledger_survives(action: str, fault: str, tmp_path: Path) -> None:
    """Apply under the fault, rerun: exactly once; rollback restores the original."""
    random_faults = ("reset", "reset_after_send", "burst", "throttle")
    for seed in range(7, 12):  # a few requests only: try seeds until the dice strike
        outcome = await run_scenario(action, fault, "sqlite", seed=seed, tmp=tmp_path / str(seed))
        _check(outcome)
        if fault not in random_faults or any(h != "ok" for h in outcome.faults_seen):
            break
    if fault in random_faults:
        assert any(h != "ok" for h in outcome.faults_seen), "the fault never struck"
    if fault in ("refused", "slow", "ledger_down", "disk_full"):
        assert outcome.first_error is not None, "the faulty run should have stopped"


@pytest.mark.postgres
@pytest.mark.parametrize("fault", POSTGRES_FAULTS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_postgres_ledger_survives(
    action: str, fault: str, tmp_path: Path, pg_url: str
) -> None:
    outcome = await run_scenario(action, fault, "postgres", seed=7, tmp=tmp_path, pg_url=pg_url)
    _check(outcome)


async def test_retry_after_is_waited_out(tmp_path: Path) -> None:
    """429 with ``Retry-After: 1``: the runner waits (not hammering), then converges once."""
    import os
    import time

    from zenoo_etl.compiler import load_project
    from zenoo_etl.runner import apply

    from .matrix import PASSWORD_ENV, Server, as_counter, control_table, read_table, write_project

    server = Server(tmp_path / "target.db")
    sb = await server.start()
    try:
        os.environ[PASSWORD_ENV] = sb.password
        root = tmp_path / "project"
        write_project(root, sb.url, "sqlite:///.zenoo/ledger.db", "upsert", "chunk_size = 5")
        await apply(load_project(root), to_version=1)
        sb.faults.configure(throttle_rate=0.2, retry_after=1, seed=3)
        started = time.monotonic()
        result = await apply(load_project(root))
        elapsed = time.monotonic() - started
        history = list(sb.faults.history)
        sb.faults.clear()
        assert result.ok
        assert "throttle" in history
        assert elapsed >= 1.0  # Retry-After honoured at least once
        want = as_counter(await control_table("upsert", tmp_path))
        assert as_counter(await read_table(sb.url)) == want
    finally:
        await server.stop()
