"""The SQLite driver's error boundary when SQLite has already ended the transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from zenoo_etl.ledger import LedgerError
from zenoo_etl.ledger.sqlite import SqliteDriver


async def test_an_error_after_sqlite_rolled_back_by_itself_keeps_its_message(
    tmp_path: Path,
) -> None:
    # On SQLITE_FULL / SQLITE_IOERR SQLite may roll the transaction back itself;
    # our own ROLLBACK must not then replace the real error with "no transaction".
    driver = SqliteDriver(tmp_path / "ledger.db")
    try:
        with pytest.raises(LedgerError, match="Free disk space"):
            async with driver.session(write=True):
                driver._db.execute("ROLLBACK")  # what SQLite did on the failed statement
                raise sqlite3.OperationalError("database or disk is full")
        async with driver.session(write=True) as conn:  # and the driver is still usable
            assert await conn.fetchone("SELECT 1") == (1,)
    finally:
        await driver.close()
