"""The PostgreSQL ledger driver: one psycopg 3 async connection.

psycopg is an optional dependency (``pip install 'zenoo-etl[postgres]'``); it
is imported only when a ``postgresql://`` ledger is opened. Batched writes
use ``executemany``, which psycopg pipelines into one round trip. One
asyncio lock serialises sessions, because the runner has several chunks in
flight and a connection carries one transaction at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, cast

from zenoo_etl.errors import ConfigError
from zenoo_etl.ledger.driver import Dialect, Row
from zenoo_etl.ledger.errors import LedgerError
from zenoo_etl.ledger.keys import mask_url

_SQL_CACHE: dict[str, str] = {}


def _pg(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (our SQL has no literal ``?`` or ``%``)."""
    cached = _SQL_CACHE.get(sql)
    if cached is None:
        cached = _SQL_CACHE[sql] = sql.replace("?", "%s")
    return cached


class _PgConn:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        cur = await self._conn.execute(_pg(sql), params)
        return int(cur.rowcount)

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        async with self._conn.cursor() as cur:
            await cur.executemany(_pg(sql), rows)
            return int(cur.rowcount)

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cur = await self._conn.execute(_pg(sql), params)
        rows: list[Row] = await cur.fetchall()
        return rows

    async def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        cur = await self._conn.execute(_pg(sql), params)
        row: Row | None = await cur.fetchone()
        return row


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(
            "The ledger url is postgresql://... but psycopg is not installed. Install the "
            "extra with `pip install 'zenoo-etl[postgres]'`, or use a sqlite:/// ledger url."
        ) from exc
    return psycopg


class PostgresDriver:
    """A ledger in a PostgreSQL database (tables ``zenoo_*`` on the search path)."""

    dialect: Dialect = "postgresql"

    def __init__(self, conn: Any, url: str, psycopg: Any, connect_timeout: int) -> None:
        self._raw = conn
        self._conn = _PgConn(conn)
        self._psycopg = psycopg
        self._url = url  # may hold a password: kept only to reconnect, never shown
        self._connect_timeout = connect_timeout
        self.display_url = mask_url(url)
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, connect_timeout: int = 10) -> PostgresDriver:
        psycopg = _psycopg()
        conn = await cls._open(psycopg, url, connect_timeout)
        return cls(conn, url, psycopg, connect_timeout)

    @staticmethod
    async def _open(psycopg: Any, url: str, connect_timeout: int) -> Any:
        try:
            return await psycopg.AsyncConnection.connect(
                url,
                autocommit=True,
                connect_timeout=connect_timeout,
                application_name="zenoo-etl",
            )
        except psycopg.Error as exc:
            raise LedgerError(
                f"Cannot connect to the ledger {mask_url(url)}: {_first_line(exc)}. Check "
                "that the server is up, the database exists and the user may connect "
                "(ZENOO_LEDGER_URL or [ledger] url in zenoo.toml)."
            ) from exc

    async def _ensure_connected(self) -> None:
        # A connection lost between two sessions (server restart, idle timeout on a
        # proxy) is reopened, so one blip fails at most the session it hit, and the
        # runner can still record that failure.
        if self._closed:
            raise LedgerError(f"The ledger {self.display_url} is closed.")
        if self._raw.closed:
            self._raw = await self._open(self._psycopg, self._url, self._connect_timeout)
            self._conn = _PgConn(self._raw)

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[_PgConn]:
        # write is only a hint here: PostgreSQL takes row locks as statements run.
        async with self._lock:
            await self._ensure_connected()
            try:
                async with self._raw.transaction():
                    yield self._conn
            except self._psycopg.Error as exc:
                raise LedgerError(
                    f"The ledger {self.display_url} failed: {_first_line(exc)}. Check the "
                    "server and that this database holds a zenoo-etl ledger."
                ) from exc

    def ts(self, value: datetime) -> object:
        return value

    def parse_ts(self, value: Any) -> datetime:
        # Every time column is TIMESTAMPTZ: psycopg hands back aware datetimes.
        return cast(datetime, value).astimezone(timezone.utc)

    async def close(self) -> None:
        self._closed = True
        await self._raw.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


__all__ = ["PostgresDriver"]
