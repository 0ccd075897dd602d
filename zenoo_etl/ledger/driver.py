"""The small database interface the SQL ledger is written against.

Two drivers implement it: :mod:`.sqlite` (stdlib sqlite3) and :mod:`.postgres`
(psycopg 3 async). The ledger's SQL uses ``?`` placeholders and only syntax
both dialects share (``ON CONFLICT ... DO UPDATE``); the PostgreSQL driver
rewrites placeholders. Drivers translate their library's exceptions into
:class:`~zenoo_etl.ledger.errors.LedgerError` at this one boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias

Dialect: TypeAlias = Literal["sqlite", "postgresql"]
Row: TypeAlias = tuple[Any, ...]


class Conn(Protocol):
    """A connection inside one transaction (see :meth:`Driver.session`)."""

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; return the affected row count."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """Run one statement for many parameter rows; return the total affected rows."""
        ...

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...


class Driver(Protocol):
    """One open connection to a ledger store."""

    dialect: Dialect
    display_url: str
    """The store's url with secrets masked."""

    def session(self, *, write: bool) -> AbstractAsyncContextManager[Conn]:
        """One transaction, serialised with every other session of this driver.

        Commits on normal exit, rolls back on an exception. ``write`` sessions
        take the write lock up front (SQLite ``BEGIN IMMEDIATE``) so two
        processes never deadlock upgrading a read lock.
        """
        ...

    def ts(self, value: datetime) -> object:
        """A datetime as this store keeps it."""
        ...

    def parse_ts(self, value: Any) -> datetime:
        """A stored time back to an aware UTC datetime."""
        ...

    async def close(self) -> None: ...


def placeholders(n: int) -> str:
    """``?, ?, ?`` for an IN list of n values."""
    return ", ".join("?" * n)


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["Conn", "Dialect", "Driver", "Row", "chunked", "placeholders"]
