"""The ledger written once in SQL, over a :class:`~zenoo_etl.ledger.driver.Driver`.

:class:`SqlLedger` implements :class:`~zenoo_etl.ledger.protocol.Ledger` and
:class:`SqlScope` implements :class:`~zenoo_etl.ledger.protocol.LedgerScope`
for both backends; only the driver differs. Every public method is one
transaction; every write bumps the scope's ``revision`` in that same
transaction (that is what :meth:`SqlScope.position` reports), except the lock
whose heartbeats must not invalidate saved plans.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from zenoo_etl.ledger.driver import Conn, Driver, chunked, placeholders
from zenoo_etl.ledger.errors import LedgerError, TargetMismatchError
from zenoo_etl.ledger.keys import scope_key
from zenoo_etl.ledger.lock import LockMixin
from zenoo_etl.ledger.protocol import (
    OPERATIONS,
    RECORD_STATES,
    Counts,
    DoneEntry,
    EventKind,
    JsonValue,
    LedgerEvent,
    LedgerRecord,
    LockInfo,
    MigrationRecord,
    MigrationStatus,
    Operation,
    RecordState,
    RunBy,
    StepRow,
    utcnow,
)

log = logging.getLogger("zenoo_etl.ledger")

_IN_CHUNK = 500  # keys per IN (...) lookup: well under every dialect's parameter limit
_PAGE = 2000  # records per page when streaming a rollback

_MIGRATION_COLUMNS = (
    "version, name, checksum, status, started_at, finished_at, counts, error, "
    "by_host, by_user, by_pid, parts"
)
_RECORD_COLUMNS = "seq, version, step, key, model, odoo_id, operation, state, previous"

# Batched record writes. A done row keeps its id: the WHERE makes a repeated
# intent a no-op for it.
_INTENTS = (
    "INSERT INTO zenoo_records (scope_id, version, step, key, model, operation, state, previous) "
    "VALUES (?, ?, ?, ?, ?, ?, 'intent', ?) "
    "ON CONFLICT (key, step, scope_id, version) DO UPDATE SET model = excluded.model, "
    "operation = excluded.operation, state = 'intent', odoo_id = NULL, "
    "previous = excluded.previous WHERE zenoo_records.state <> 'done'"
)
_PG_INTENTS = (
    "INSERT INTO zenoo_records (scope_id, version, step, key, model, operation, state, previous) "
    "SELECT ?, ?, ?, t.k, ?, ?, 'intent', t.p::jsonb FROM unnest(?::text[], ?::text[]) AS t(k, p) "
    "ON CONFLICT (key, step, scope_id, version) DO UPDATE SET model = excluded.model, "
    "operation = excluded.operation, state = 'intent', odoo_id = NULL, "
    "previous = excluded.previous WHERE zenoo_records.state <> 'done'"
)
_DONE_CONFLICT = (
    "ON CONFLICT (key, step, scope_id, version) DO UPDATE SET model = excluded.model, "
    "odoo_id = excluded.odoo_id, operation = excluded.operation, state = 'done', "
    "previous = excluded.previous"
)
_DONE = (
    "INSERT INTO zenoo_records (scope_id, version, step, key, model, odoo_id, operation, "
    f"state, previous) VALUES (?, ?, ?, ?, ?, ?, ?, 'done', ?) {_DONE_CONFLICT}"
)
_PG_DONE = (
    "INSERT INTO zenoo_records (scope_id, version, step, key, model, odoo_id, operation, "
    "state, previous) SELECT ?, ?, ?, t.k, ?, t.i, t.o, 'done', t.p::jsonb "
    f"FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[]) AS t(k, i, o, p) {_DONE_CONFLICT}"
)
_UNDOING = (
    "UPDATE zenoo_records SET state = 'undoing' "
    "WHERE scope_id = ? AND step = ? AND key = ? AND version = ? AND state = 'done'"
)
_PG_UNDOING = (
    "UPDATE zenoo_records AS r SET state = 'undoing' FROM unnest(?::text[]) AS t(k) "
    "WHERE r.key = t.k AND r.scope_id = ? AND r.step = ? AND r.version = ? AND r.state = 'done'"
)
_REDONE = (
    "UPDATE zenoo_records SET state = 'done' "
    "WHERE scope_id = ? AND step = ? AND key = ? AND version = ? AND state = 'undoing'"
)
_PG_REDONE = (
    "UPDATE zenoo_records AS r SET state = 'done' FROM unnest(?::text[]) AS t(k) "
    "WHERE r.key = t.k AND r.scope_id = ? AND r.step = ? AND r.version = ? "
    "AND r.state = 'undoing'"
)
_COMPENSATED = (
    "UPDATE zenoo_records SET state = 'compensated', odoo_id = COALESCE(?, odoo_id) "
    "WHERE scope_id = ? AND step = ? AND key = ? AND version = ?"
)
_PG_COMPENSATED = (
    "UPDATE zenoo_records AS r SET state = 'compensated', odoo_id = COALESCE(t.i, r.odoo_id) "
    "FROM unnest(?::text[], ?::bigint[]) AS t(k, i) "
    "WHERE r.key = t.k AND r.scope_id = ? AND r.step = ? AND r.version = ?"
)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dump(value: Any) -> str | None:
    return None if value is None else _ENCODER.encode(value)


def _dump_each(values: Sequence[Any]) -> list[str | None]:
    """:func:`_dump` of each value; one object given many times (a chunk's rows share
    one note) is encoded once."""
    done: dict[int, str | None] = {}
    out: list[str | None] = []
    for value in values:
        key = id(value)  # values holds every object for the whole call: ids stay unique
        if key not in done:
            done[key] = _dump(value)
        out.append(done[key])
    return out


def _run_by(row: Sequence[Any]) -> RunBy | None:
    """host, user, pid columns as a RunBy; None for rows written before schema version 2."""
    host, user, pid = row
    if host is None:
        return None
    return RunBy(host=host, user=user or "?", pid=int(pid or 0))


def _by_params(by: RunBy | None) -> tuple[str | None, str | None, int | None]:
    return (None, None, None) if by is None else (by.host, by.user, by.pid)


def _load(value: Any) -> Any:
    # SQLite hands back JSON text; psycopg has already decoded JSONB.
    return json.loads(value) if isinstance(value, str) else value


class SqlLedger:
    """An open ledger store: one driver, scopes handed out by target."""

    def __init__(self, driver: Driver, schema_version: int, instance: str) -> None:
        self._driver = driver
        self._schema_version = schema_version
        self._instance = instance
        self._closed = False

    @property
    def url(self) -> str:
        return self._driver.display_url

    @property
    def schema_version(self) -> int:
        return self._schema_version

    @property
    def driver(self) -> Driver:
        return self._driver

    def scope(self, target_url: str, database: str) -> SqlScope:
        if self._closed:
            raise LedgerError(f"The ledger {self.url} is closed; open it again to use it.")
        url, db = scope_key(target_url, database)
        return SqlScope(self._driver, self._instance, url, db)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._driver.close()


class SqlScope(LockMixin):
    """The ledger of one target (url + database)."""

    def __init__(self, driver: Driver, instance: str, target_url: str, database: str) -> None:
        self._d = driver
        self._instance = instance
        self._target_url = target_url
        self._database = database
        self._id: int | None = None
        self._held: LockInfo | None = None
        # PostgreSQL takes a whole batch as arrays in one statement (unnest): one
        # round trip and one executor run instead of one per row (measured: 2x on
        # writes against executemany, which psycopg already pipelines).
        self._pg = driver.dialect == "postgresql"

    @property
    def target_url(self) -> str:
        return self._target_url

    @property
    def database(self) -> str:
        return self._database

    # Bulk key lookups: one array parameter on PostgreSQL, IN lists of at most
    # _IN_CHUNK on SQLite (its parameter limit).
    def _key_parts(self, keys: Sequence[str]) -> Iterable[Sequence[str]]:
        return [keys] if self._pg else chunked(keys, _IN_CHUNK)

    def _key_in(self, part: Sequence[str]) -> str:
        return "key = ANY(?::text[])" if self._pg else f"key IN ({placeholders(len(part))})"

    def _key_params(self, part: Sequence[str]) -> Sequence[object]:
        return [list(part)] if self._pg else part

    def describe(self) -> str:
        """``target URL database NAME``, for messages."""
        return self._where()

    def _where(self) -> str:
        return f"target {self._target_url} database {self._database}"

    # -- scope row -------------------------------------------------------------

    async def _scope_id(self, conn: Conn, *, create: bool) -> int | None:
        if self._id is not None:
            return self._id
        sql = "SELECT id, alias_of FROM zenoo_scopes WHERE target_url = ? AND database = ?"
        row = await conn.fetchone(sql, (self._target_url, self._database))
        if row is not None:
            # a URL known as another name of an already known database uses its history
            self._id = int(row[1] if row[1] is not None else row[0])
            return self._id
        if not create:
            return None
        await conn.execute(
            "INSERT INTO zenoo_scopes (target_url, database, revision) VALUES (?, ?, 0) "
            "ON CONFLICT (target_url, database) DO NOTHING",
            (self._target_url, self._database),
        )
        row = await conn.fetchone(sql, (self._target_url, self._database))
        assert row is not None
        # Not cached yet: this transaction may still roll back and take the row with it.
        return int(row[1] if row[1] is not None else row[0])

    async def bind_database(self, db_uuid: str) -> bool:
        """Tie this scope to the database Odoo calls ``db_uuid``; True if it moved.

        First time (or a ledger from before schema 5): the uuid is recorded in
        place. Known already under another URL (``localhost`` vs ``127.0.0.1``,
        a load balancer, a renamed DNS entry) while this URL has no history of
        its own: this URL becomes an alias of that scope, and the scope switches
        to it; the lock held on this URL's row is released, so the caller takes
        the lock of the scope it moved to. A different uuid than recorded (the
        database was restored or recreated, or the URL leads elsewhere) raises
        :class:`TargetMismatchError`.
        """
        async with self._d.session(write=True) as conn:
            sid = await self._scope_id(conn, create=True)
            assert sid is not None
            row = await conn.fetchone("SELECT db_uuid FROM zenoo_scopes WHERE id = ?", (sid,))
            known = None if row is None else row[0]
            if known == db_uuid:
                return False
            if known is not None:
                raise TargetMismatchError(
                    f"The ledger's history of {self._where()} is of the database with uuid "
                    f"{known}, but the server now reports uuid {db_uuid}: the database was "
                    "recreated or restored as a copy, or the URL now leads to another server. "
                    "Nothing was done: that history does not describe this database. If the "
                    "URL is wrong, fix it in zenoo.toml. If the database was replaced on "
                    "purpose, keep this ledger (it is the old database's history) and start a "
                    "new one for this target (another [ledger] url); apply then stops on "
                    "records that exist already, and 'zenoo-etl ledger adopt' takes them over."
                )
            other = await conn.fetchone(
                "SELECT id, target_url FROM zenoo_scopes WHERE db_uuid = ? AND database = ? "
                "AND id <> ? AND alias_of IS NULL",
                (db_uuid, self._database, sid),
            )
            if other is None:
                await conn.execute(
                    "UPDATE zenoo_scopes SET db_uuid = ? WHERE id = ?", (db_uuid, sid)
                )
                return False
            history = await conn.fetchone(
                "SELECT 1 FROM zenoo_migrations WHERE scope_id = ? LIMIT 1", (sid,)
            )
            if history is not None:
                raise TargetMismatchError(
                    f"The ledger holds two histories of the database with uuid {db_uuid} "
                    f"({self._database}): one under {other[1]}, one under {self._target_url} "
                    "(recorded before zenoo-etl knew databases by their uuid). Nothing was "
                    "done. Roll back what one of them applied and remove it, or keep using "
                    "the URL of the other one."
                )
            if self._held is not None:
                await conn.execute(
                    "DELETE FROM zenoo_locks WHERE scope_id = ? AND token = ?",
                    (sid, self._held.token),
                )
            await conn.execute(
                "UPDATE zenoo_scopes SET alias_of = ? WHERE id = ?", (int(other[0]), sid)
            )
        self._id = int(other[0])
        self._held = None
        self._fence = None
        return True

    async def _write_scope(self, conn: Conn) -> int:
        """The scope id for a write, with the revision bumped in the same transaction."""
        sid = await self._scope_id(conn, create=True)
        assert sid is not None
        await self.bump_revision(conn, sid)  # fenced: a run that lost its lock writes nothing
        return sid

    # -- migrations ------------------------------------------------------------

    def _migration(self, row: Sequence[Any]) -> MigrationRecord:
        return MigrationRecord(
            version=int(row[0]),
            name=row[1],
            checksum=row[2],
            status=row[3],
            started_at=self._d.parse_ts(row[4]),
            finished_at=None if row[5] is None else self._d.parse_ts(row[5]),
            counts=Counts.from_dict(_load(row[6])),
            error=row[7],
            by=_run_by(row[8:11]),
            parts=None if row[11] is None else dict(_load(row[11])),
        )

    async def migrations(self) -> list[MigrationRecord]:
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return []
            rows = await conn.fetchall(
                f"SELECT {_MIGRATION_COLUMNS} FROM zenoo_migrations WHERE scope_id = ? "
                "ORDER BY version",
                (sid,),
            )
        return [self._migration(r) for r in rows]

    async def migration(self, version: int) -> MigrationRecord | None:
        async with self._d.session(write=False) as conn:
            return await self._get_migration(conn, version)

    async def _get_migration(self, conn: Conn, version: int) -> MigrationRecord | None:
        sid = await self._scope_id(conn, create=False)
        if sid is None:
            return None
        row = await conn.fetchone(
            f"SELECT {_MIGRATION_COLUMNS} FROM zenoo_migrations WHERE scope_id = ? AND version = ?",
            (sid, version),
        )
        return None if row is None else self._migration(row)

    async def _event(
        self, conn: Conn, sid: int, m: MigrationRecord, event: EventKind, error: str | None
    ) -> None:
        await conn.execute(
            "INSERT INTO zenoo_events (scope_id, version, name, event, at, checksum, counts, "
            "error, by_host, by_user, by_pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                m.version,
                m.name,
                event,
                self._d.ts(utcnow()),
                m.checksum,
                _dump(m.counts.to_dict()),
                error,
                *_by_params(m.by),
            ),
        )

    async def begin_migration(
        self, version: int, name: str, checksum: str, parts: Mapping[str, str] | None = None
    ) -> MigrationRecord:
        async with self._d.session(write=True) as conn:
            existing = await self._get_migration(conn, version)
            if existing is not None and existing.status == "applied":
                raise LedgerError(
                    f"Migration {version} ({existing.name}) is already applied on "
                    f"{self._where()}; roll it back before applying it again."
                )
            sid = await self._write_scope(conn)
            now = utcnow()
            by = RunBy.this_process()
            await conn.execute(
                f"INSERT INTO zenoo_migrations (scope_id, {_MIGRATION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, 'applying', ?, NULL, ?, NULL, ?, ?, ?, ?) "
                "ON CONFLICT (scope_id, version) DO UPDATE SET name = excluded.name, "
                "checksum = excluded.checksum, status = 'applying', "
                "started_at = excluded.started_at, finished_at = NULL, "
                "counts = excluded.counts, error = NULL, by_host = excluded.by_host, "
                "by_user = excluded.by_user, by_pid = excluded.by_pid, parts = excluded.parts",
                (
                    sid,
                    version,
                    name,
                    checksum,
                    self._d.ts(now),
                    _dump(Counts().to_dict()),
                    *_by_params(by),
                    _dump(dict(parts)) if parts else None,
                ),
            )
            stored = dict(parts) if parts else None
            record = MigrationRecord(
                version, name, checksum, "applying", now, None, by=by, parts=stored
            )
            await self._event(conn, sid, record, "begin", None)
        return record

    async def set_status(
        self,
        version: int,
        status: MigrationStatus,
        *,
        counts: Counts | None = None,
        error: str | None = None,
    ) -> MigrationRecord:
        async with self._d.session(write=True) as conn:
            current = await self._get_migration(conn, version)
            if current is None:
                raise LedgerError(
                    f"Migration {version} has no ledger row on {self._where()}; "
                    "begin_migration must come first (this is a bug in the caller)."
                )
            sid = await self._write_scope(conn)
            finished = None if status in ("applying", "rolling_back") else utcnow()
            new_counts = current.counts if counts is None else counts
            # The process setting the status is who ran it now (a rollback is
            # often run by someone else than the apply was).
            by = RunBy.this_process()
            await conn.execute(
                "UPDATE zenoo_migrations SET status = ?, finished_at = ?, counts = ?, error = ?, "
                "by_host = ?, by_user = ?, by_pid = ? WHERE scope_id = ? AND version = ?",
                (
                    status,
                    None if finished is None else self._d.ts(finished),
                    _dump(new_counts.to_dict()),
                    error,
                    *_by_params(by),
                    sid,
                    version,
                ),
            )
            record = MigrationRecord(
                version,
                current.name,
                current.checksum,
                status,
                current.started_at,
                finished,
                new_counts,
                error,
                by,
                current.parts,
            )
            await self._event(conn, sid, record, status, error)
        return record

    async def history(self) -> list[LedgerEvent]:
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return []
            rows = await conn.fetchall(
                "SELECT seq, version, name, event, at, checksum, counts, error, "
                "by_host, by_user, by_pid FROM zenoo_events WHERE scope_id = ? ORDER BY seq DESC",
                (sid,),
            )
        return [
            LedgerEvent(
                seq=int(r[0]),
                version=int(r[1]),
                name=r[2],
                event=r[3],
                at=self._d.parse_ts(r[4]),
                checksum=r[5],
                counts=Counts.from_dict(_load(r[6])),
                error=r[7],
                by=_run_by(r[8:11]),
            )
            for r in rows
        ]

    # -- records ---------------------------------------------------------------

    async def record_intents(
        self,
        version: int,
        step: str,
        model: str,
        operation: Operation,
        keys: Sequence[str],
        notes: Sequence[JsonValue] | None = None,
    ) -> None:
        if not keys:
            return
        if operation not in OPERATIONS:
            raise LedgerError(f"Unknown record operation {operation!r} for step {step!r}.")
        dumped = [None] * len(keys) if notes is None else _dump_each(notes)
        async with self._d.session(write=True) as conn:
            sid = await self._write_scope(conn)
            if self._pg:
                await conn.execute(
                    _PG_INTENTS, (sid, version, step, model, operation, list(keys), dumped)
                )
                return
            await conn.executemany(
                _INTENTS,
                [
                    (sid, version, step, key, model, operation, note)
                    for key, note in zip(keys, dumped, strict=True)
                ],
            )

    async def record_done(
        self, version: int, step: str, model: str, entries: Sequence[DoneEntry]
    ) -> None:
        if not entries:
            return
        for e in entries:
            if e.operation not in OPERATIONS:
                raise LedgerError(f"Unknown record operation {e.operation!r} for key {e.key!r}.")
        async with self._d.session(write=True) as conn:
            sid = await self._write_scope(conn)
            if self._pg:
                last = {e.key: e for e in entries}  # one row per key in one statement
                await conn.execute(
                    _PG_DONE,
                    (
                        sid,
                        version,
                        step,
                        model,
                        list(last),
                        [e.odoo_id for e in last.values()],
                        [e.operation for e in last.values()],
                        [_dump(e.previous) for e in last.values()],
                    ),
                )
                return
            await conn.executemany(
                _DONE,
                [
                    (sid, version, step, e.key, model, e.odoo_id, e.operation, _dump(e.previous))
                    for e in entries
                ],
            )

    async def mark_compensated(
        self,
        version: int,
        step: str,
        keys: Sequence[str],
        *,
        recreated_ids: Mapping[str, int] | None = None,
    ) -> None:
        if not keys:
            return
        new_ids = recreated_ids or {}
        async with self._d.session(write=True) as conn:
            sid = await self._write_scope(conn)
            if self._pg:
                wanted = list(dict.fromkeys(keys))
                await conn.execute(
                    _PG_COMPENSATED,
                    (wanted, [new_ids.get(k) for k in wanted], sid, step, version),
                )
                return
            await conn.executemany(
                _COMPENSATED, [(new_ids.get(key), sid, step, key, version) for key in keys]
            )

    async def _set_states(
        self, sqlite_sql: str, pg_sql: str, version: int, step: str, keys: Sequence[str]
    ) -> None:
        if not keys:
            return
        async with self._d.session(write=True) as conn:
            sid = await self._write_scope(conn)
            if self._pg:
                await conn.execute(pg_sql, (list(dict.fromkeys(keys)), sid, step, version))
                return
            await conn.executemany(sqlite_sql, [(sid, step, key, version) for key in keys])

    async def mark_undoing(self, version: int, step: str, keys: Sequence[str]) -> None:
        await self._set_states(_UNDOING, _PG_UNDOING, version, step, keys)

    async def restore_done(self, version: int, step: str, keys: Sequence[str]) -> None:
        await self._set_states(_REDONE, _PG_REDONE, version, step, keys)

    async def done_ids(self, step: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, int] = {}
        if not wanted:
            return found
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return found
            for part in self._key_parts(wanted):
                # ORDER BY seq: if a step ever moved between versions, the newest row wins.
                rows = await conn.fetchall(
                    "SELECT key, odoo_id FROM zenoo_records WHERE scope_id = ? AND step = ? "
                    f"AND state = 'done' AND odoo_id IS NOT NULL AND {self._key_in(part)} "
                    "ORDER BY seq",
                    (sid, step, *self._key_params(part)),
                )
                found.update((k, int(i)) for k, i in rows)
        return found

    async def step_state(
        self, version: int, step: str, keys: Iterable[str] | None = None
    ) -> dict[str, StepRow]:
        out: dict[str, StepRow] = {}
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return out
            base = (
                "SELECT key, state, odoo_id, operation FROM zenoo_records "
                "WHERE scope_id = ? AND version = ? AND step = ?"
            )
            if keys is None:
                batches = [await conn.fetchall(base, (sid, version, step))]
            else:
                batches = []
                for part in self._key_parts(list(dict.fromkeys(keys))):
                    batches.append(
                        await conn.fetchall(
                            f"{base} AND {self._key_in(part)}",
                            (sid, version, step, *self._key_params(part)),
                        )
                    )
        for rows in batches:
            for key, state, odoo_id, operation in rows:
                out[key] = StepRow(state, None if odoo_id is None else int(odoo_id), operation)
        return out

    def _record(self, r: Sequence[Any]) -> LedgerRecord:
        return LedgerRecord(
            seq=int(r[0]),
            version=int(r[1]),
            step=r[2],
            key=r[3],
            model=r[4],
            odoo_id=None if r[5] is None else int(r[5]),
            operation=r[6],
            state=r[7],
            previous=_load(r[8]),
        )

    async def records_for_rollback(self, version: int) -> AsyncIterator[LedgerRecord]:
        # Keyset pages by seq: the caller may mark records compensated between
        # pages without disturbing the walk, and memory stays one page.
        before: int | None = None
        while True:
            async with self._d.session(write=False) as conn:
                sid = await self._scope_id(conn, create=False)
                if sid is None:
                    return
                bound = "" if before is None else "AND seq < ? "
                params: tuple[object, ...] = (sid, version)
                if before is not None:
                    params += (before,)
                rows = await conn.fetchall(
                    f"SELECT {_RECORD_COLUMNS} FROM zenoo_records WHERE scope_id = ? "
                    f"AND version = ? AND state IN ('done', 'undoing') {bound}"
                    f"ORDER BY seq DESC LIMIT {_PAGE}",
                    params,
                )
            for row in rows:
                yield self._record(row)
            if len(rows) < _PAGE:
                return
            before = int(rows[-1][0])

    async def intents(self, version: int) -> list[LedgerRecord]:
        return await self._in_state(version, "intent")

    async def undoing(self, version: int) -> list[LedgerRecord]:
        return await self._in_state(version, "undoing")

    async def _in_state(self, version: int, state: RecordState) -> list[LedgerRecord]:
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return []
            rows = await conn.fetchall(
                f"SELECT {_RECORD_COLUMNS} FROM zenoo_records WHERE scope_id = ? "
                "AND version = ? AND state = ? ORDER BY seq",
                (sid, version, state),
            )
        return [self._record(r) for r in rows]

    async def record_counts(self, version: int) -> dict[RecordState, int]:
        counts: dict[RecordState, int] = dict.fromkeys(RECORD_STATES, 0)
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            if sid is None:
                return counts
            rows = await conn.fetchall(
                "SELECT state, COUNT(*) FROM zenoo_records WHERE scope_id = ? AND version = ? "
                "GROUP BY state",
                (sid, version),
            )
        for state, n in rows:
            counts[cast(RecordState, state)] = int(n)
        return counts

    async def forget(self, version: int) -> None:
        async with self._d.session(write=True) as conn:
            sid = await self._write_scope(conn)
            # Compensated deletes stay: their key is the deleted record's id and their
            # odoo_id its recreation, which later rollbacks of older migrations follow.
            await conn.execute(
                "DELETE FROM zenoo_records WHERE scope_id = ? AND version = ? AND NOT "
                "(operation = 'deleted' AND state = 'compensated')",
                (sid, version),
            )
            await conn.execute(
                "DELETE FROM zenoo_migrations WHERE scope_id = ? AND version = ?", (sid, version)
            )

    async def position(self) -> str:
        # The scope part is a hash of the target, not the row id: creating the
        # scope row (e.g. when a run takes the lock) must not move the position
        # a plan was made at, and revision 0 is "nothing ever written".
        async with self._d.session(write=False) as conn:
            sid = await self._scope_id(conn, create=False)
            row = None
            if sid is not None:
                row = await conn.fetchone("SELECT revision FROM zenoo_scopes WHERE id = ?", (sid,))
        revision = 0 if row is None else int(row[0])
        target = hashlib.sha256(f"{self._target_url}\0{self._database}".encode()).hexdigest()
        return f"{self._instance}-{target[:8]}.{revision}"


__all__ = ["SqlLedger", "SqlScope"]


if TYPE_CHECKING:  # mypy proves both classes implement the protocol
    from zenoo_etl.ledger.protocol import Ledger, LedgerScope

    def _scope_conforms(scope: SqlScope) -> LedgerScope:
        return scope

    def _ledger_conforms(ledger: SqlLedger) -> Ledger:
        return ledger
