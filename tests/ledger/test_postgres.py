"""PostgreSQL-only behaviour: surviving a dropped connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from zenoo_etl.ledger import DoneEntry, LedgerError, open_ledger

from .conftest import TARGET, _fresh_pg_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_ledger_url(pg_url: str) -> Iterator[str]:
    yield from _fresh_pg_database(pg_url)


def _terminate_ledger_backends(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'zenoo-etl' AND datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


async def test_a_dropped_connection_fails_one_call_then_reconnects(
    pg_ledger_url: str, tmp_path: Path
) -> None:
    async with open_ledger(pg_ledger_url, tmp_path) as ledger:
        scope = ledger.scope(TARGET, "prod")
        await scope.begin_migration(1, "m", "c")
        await scope.record_done(1, "s", "res.partner", [DoneEntry("k", 1, "created")])
        assert _terminate_ledger_backends(pg_ledger_url) == 1
        with pytest.raises(LedgerError, match="failed"):
            await scope.record_done(1, "s", "res.partner", [DoneEntry("j", 2, "created")])
        # The next call reconnects; the failed batch left nothing, the earlier one stays.
        assert await scope.done_ids("s", ["k", "j"]) == {"k": 1}
        await scope.set_status(1, "failed", error="ledger connection lost")
        assert (await scope.history())[0].event == "failed"
