"""The SQLite ledger driver: one stdlib sqlite3 connection in WAL mode.

Statements run directly on the event loop thread. Measured
(``bench/ledger_speed.py``): a 500-row intent or done batch, fsync included,
holds the loop ~1.5 ms, next to the Odoo call of seconds it announces; a
worker thread would add ~30 µs per call and a second place for transactions
to go wrong, for no gain that matters. Write transactions use ``BEGIN
IMMEDIATE`` so two processes on one file queue on the write lock (up to
``busy_timeout``) instead of deadlocking.

Durability: ``synchronous = FULL`` — every commit is on disk before the
runner sends the RPC it announces (the write-ahead promise of DESIGN.md
section 5 must survive a power cut, not just a killed process).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zenoo_etl.ledger.driver import Dialect, Row
from zenoo_etl.ledger.errors import LedgerError

BUSY_TIMEOUT_MS = 10_000


class _SqliteConn:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return self._db.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        return self._db.executemany(sql, rows).rowcount

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    async def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row: Row | None = self._db.execute(sql, params).fetchone()
        return row


class SqliteDriver:
    """A ledger stored in one SQLite file (or ``:memory:``)."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.display_url = f"sqlite:///{path}"
        try:
            if isinstance(path, Path):
                path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves.
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(
                f"Cannot open the ledger {self.display_url}: {exc}. Check that the folder "
                "exists and is writable, or set [ledger] url in zenoo.toml."
            ) from exc
        self._conn = _SqliteConn(self._db)
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[_SqliteConn]:
        async with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            try:
                yield self._conn
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise self._error(exc) from exc

    def _rollback(self) -> None:
        # After SQLITE_FULL, SQLITE_IOERR and the like SQLite may already have rolled
        # back: a ROLLBACK then fails with "no transaction" and hides the real error.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        text = str(exc)
        if "locked" in text:
            hint = "Another process holds the ledger's write lock too long; retry when it is done."
        elif "disk is full" in text or "disk I/O error" in text:
            hint = (
                "Free disk space on the ledger's volume (or fix the I/O error), then rerun: "
                "the run stopped safely and resumes where it was."
            )
        else:
            hint = "Check the file is a zenoo-etl ledger and not damaged."
        return LedgerError(f"The ledger {self.display_url} failed: {exc}. {hint}")

    def ts(self, value: datetime) -> object:
        return value.astimezone(timezone.utc).isoformat()

    def parse_ts(self, value: Any) -> datetime:
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

    async def close(self) -> None:
        self._db.close()


__all__ = ["SqliteDriver"]
