"""The apply lock of a scope: one row per target, holder host/pid, heartbeat, takeover.

Mixed into :class:`~zenoo_etl.ledger.sql.SqlScope`. Each acquisition gets a
random token; heartbeat and release act only on the row carrying our token,
and a takeover is an UPDATE conditional on the stale token, so of two runs
racing for a lock exactly one wins on both backends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from zenoo_etl.errors import LockHeldError, LockLostError
from zenoo_etl.ledger.driver import Conn, Driver
from zenoo_etl.ledger.errors import LedgerError
from zenoo_etl.ledger.protocol import (
    DEFAULT_STALE_AFTER_SECONDS,
    LockHolder,
    LockInfo,
    process_identity,
    utcnow,
)

log = logging.getLogger("zenoo_etl.ledger")

_LOCK_COLUMNS = "host, pid, command, started_at, heartbeat_at, token, holder"
_ADVISORY = 724417  # first key of the PostgreSQL advisory lock; the scope id is the second
_OWN_ADVISORY = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = ? "
    "AND objid::bigint = ? AND objsubid = 2 AND pid = pg_backend_pid() AND granted"
)


class LockMixin:
    """Lock methods of a scope; the scope provides the driver and its id."""

    _d: Driver
    _id: int | None
    _held: LockInfo | None
    # The token every ledger write checks (fencing); kept after a lost heartbeat,
    # so that the run's next write fails instead of writing over the new holder.
    _fence: str | None = None
    _advisory: int | None = None  # scope id whose PostgreSQL advisory lock we took

    async def _scope_id(self, conn: Conn, *, create: bool) -> int | None:
        raise NotImplementedError

    def _where(self) -> str:
        raise NotImplementedError

    @property
    def held_lock(self) -> LockInfo | None:
        return self._held

    def _lock(self, row: Sequence[Any]) -> LockInfo:
        return LockInfo(
            host=row[0],
            pid=int(row[1]),
            command=row[2],
            started_at=self._d.parse_ts(row[3]),
            heartbeat_at=self._d.parse_ts(row[4]),
            token=row[5],
            identity=row[6] or "",
        )

    async def _read_lock(self, conn: Conn) -> LockInfo | None:
        sid = await self._scope_id(conn, create=False)
        return None if sid is None else await self._lock_of(conn, sid)

    async def _lock_of(self, conn: Conn, sid: int) -> LockInfo | None:
        row = await conn.fetchone(
            f"SELECT {_LOCK_COLUMNS} FROM zenoo_locks WHERE scope_id = ?", (sid,)
        )
        return None if row is None else self._lock(row)

    def _held_error(self, info: LockInfo) -> LockHeldError:
        age = int(info.age_of_heartbeat().total_seconds())
        return LockHeldError(
            f"Another run holds the lock of {self._where()}: {info.describe()} ({age}s ago). "
            "Wait for it to finish. If that process is gone, run `zenoo-etl unlock` once its "
            "heartbeat is stale, or `zenoo-etl unlock --force`."
        )

    async def acquire_lock(
        self,
        command: str = "",
        *,
        stale_after_seconds: float = DEFAULT_STALE_AFTER_SECONDS,
        holder: LockHolder | None = None,
    ) -> LockInfo | None:
        who = holder or LockHolder(command=command)
        now = utcnow()
        identity = who.identity if who.identity is not None else process_identity(who.pid)
        mine = LockInfo(
            who.host, who.pid, command or who.command, now, now, uuid.uuid4().hex, identity
        )
        values = (
            mine.host,
            mine.pid,
            mine.command,
            self._d.ts(now),
            self._d.ts(now),
            mine.token,
            mine.identity,
        )
        advisory: int | None = None
        try:
            async with self._d.session(write=True) as conn:
                sid = await self._scope_id(conn, create=True)
                assert sid is not None
                # Read by this sid, not through _scope_id(create=False): that would cache
                # the id of a row this transaction may have just created and may roll back.
                current = await self._lock_of(conn, sid)
                if current is not None and self._held and current.token == self._held.token:
                    return None  # we already hold it: acquiring again is a no-op
                # PostgreSQL: the holder's session keeps an advisory lock; whether it is
                # held says whether the holder is alive, wherever it runs.
                holder_alive: bool | None = None
                if self._d.dialect == "postgresql":
                    holder_alive, advisory = await self._take_advisory(conn, sid)
                if current is not None:
                    if holder_alive is True:
                        raise self._held_error(current)
                    if holder_alive is None and not current.is_stale(stale_after_seconds, now):
                        raise self._held_error(current)
                if current is None:
                    taken = await conn.execute(
                        f"INSERT INTO zenoo_locks (scope_id, {_LOCK_COLUMNS}) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id) DO NOTHING",
                        (sid, *values),
                    )
                else:
                    # Conditional on the stale token: of two takers, exactly one wins.
                    taken = await conn.execute(
                        "UPDATE zenoo_locks SET host = ?, pid = ?, command = ?, started_at = ?, "
                        "heartbeat_at = ?, token = ?, holder = ? WHERE scope_id = ? AND token = ?",
                        (*values, sid, current.token),
                    )
                if taken != 1:
                    winner = await self._lock_of(conn, sid)
                    raise self._held_error(winner or mine)
        except BaseException:
            if advisory is not None:
                await self._drop_advisory(advisory)
            raise
        self._held = mine
        self._fence = mine.token
        self._advisory = advisory
        if current is not None:
            log.warning(
                "Took over the stale lock of %s held by %s.", self._where(), current.describe()
            )
        return current

    async def _take_advisory(self, conn: Conn, sid: int) -> tuple[bool | None, int | None]:
        """(holder alive?, scope id whose advisory lock we just took) on PostgreSQL.

        Alive: another session holds the advisory lock. None: this connection
        holds it already (another scope object of this process): no evidence.
        """
        own = await conn.fetchone(_OWN_ADVISORY, (_ADVISORY, sid))
        if own is not None and int(own[0]) > 0:
            return None, None
        got = await conn.fetchone("SELECT pg_try_advisory_lock(?, ?)", (_ADVISORY, sid))
        if got is not None and got[0]:
            return False, sid
        return True, None

    async def _drop_advisory(self, sid: int) -> None:
        try:
            async with self._d.session(write=True) as conn:
                await conn.execute("SELECT pg_advisory_unlock(?, ?)", (_ADVISORY, sid))
        except LedgerError:
            pass  # the connection is gone: so is its session lock

    def _lost(self, current: LockInfo | None) -> LockLostError:
        return LockLostError(
            f"This run lost the lock of {self._where()}"
            + (f" to {current.describe()}" if current else "")
            + ": it was taken over or force-unlocked. It stopped writing at once; rerun "
            "once the other run is done (its ledger keeps what this run did)."
        )

    async def bump_revision(self, conn: Conn, sid: int) -> None:
        """Inside a write transaction: bump the scope's revision, fenced by our lock.

        Once this scope took the lock, every write is conditional on the lock
        row still carrying our token (one statement, no extra round trip): a run
        that lost its lock raises :class:`LockLostError` (exit 3) at its next
        ledger write, before the Odoo call that write announces.
        """
        if self._fence is None:
            await conn.execute(
                "UPDATE zenoo_scopes SET revision = revision + 1 WHERE id = ?", (sid,)
            )
            return
        bumped = await conn.execute(
            "UPDATE zenoo_scopes SET revision = revision + 1 WHERE id = ? AND EXISTS "
            "(SELECT 1 FROM zenoo_locks WHERE scope_id = ? AND token = ?)",
            (sid, sid, self._fence),
        )
        if bumped != 1:
            raise self._lost(await self._lock_of(conn, sid))

    async def heartbeat(self) -> None:
        held = self._held
        if held is None:
            raise LedgerError(f"heartbeat() without holding the lock of {self._where()}.")
        async with self._d.session(write=True) as conn:
            sid = await self._scope_id(conn, create=False)
            changed = await conn.execute(
                "UPDATE zenoo_locks SET heartbeat_at = ? WHERE scope_id = ? AND token = ?",
                (self._d.ts(utcnow()), sid, held.token),
            )
            if changed == 1 and self._advisory is not None and sid is not None:
                # a reconnected ledger lost its session lock: take it again
                alive, _ = await self._take_advisory(conn, sid)
                if alive:
                    changed = 0
            if changed != 1:
                self._held = None
                raise self._lost(await self._read_lock(conn))

    async def release(self) -> None:
        held, advisory = self._held, self._advisory
        self._fence = None
        self._advisory = None
        if held is not None:
            self._held = None
            async with self._d.session(write=True) as conn:
                sid = await self._scope_id(conn, create=False)
                await conn.execute(
                    "DELETE FROM zenoo_locks WHERE scope_id = ? AND token = ?", (sid, held.token)
                )
        if advisory is not None:
            await self._drop_advisory(advisory)

    async def force_unlock(self) -> LockInfo | None:
        async with self._d.session(write=True) as conn:
            current = await self._read_lock(conn)
            if current is not None:
                await conn.execute(
                    "DELETE FROM zenoo_locks WHERE scope_id = ? AND token = ?",
                    (self._id, current.token),
                )
        if current is not None and self._held and self._held.token == current.token:
            self._held = None
        return current

    async def lock_info(self) -> LockInfo | None:
        async with self._d.session(write=False) as conn:
            return await self._read_lock(conn)


__all__ = ["LockMixin"]
