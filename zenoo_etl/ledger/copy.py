"""Copying one target's history to another ledger (``zenoo-etl ledger copy --to URL``).

Moving from the SQLite file to a shared PostgreSQL ledger (or back, or to a
new file) must not go through an empty ledger: with an empty history, every
migration looks pending again. :func:`copy_scope` copies everything the
source knows of one target (its database uuid, migrations with their file
sums, the event history, every record with its previous values, in their
original order) into the same target of another ledger, under both locks, in
one transaction on the destination. A destination that already has history
for the target is refused: nothing is merged.
"""

from __future__ import annotations

from dataclasses import dataclass

from zenoo_etl.ledger.driver import Conn
from zenoo_etl.ledger.errors import LedgerError
from zenoo_etl.ledger.sql import SqlScope, _dump, _load

_PAGE = 2000
_MIGRATIONS = (
    "version, name, checksum, status, started_at, finished_at, counts, error, by_host, "
    "by_user, by_pid, parts"
)
_EVENTS = "version, name, event, at, checksum, counts, error, by_host, by_user, by_pid"
_RECORDS = "version, step, key, model, odoo_id, operation, state, previous"


@dataclass(frozen=True)
class Copied:
    migrations: int
    events: int
    records: int


def _ts(source: SqlScope, dest: SqlScope, value: object) -> object:
    return None if value is None else dest._d.ts(source._d.parse_ts(value))


async def _scope(scope: SqlScope, conn: Conn, *, create: bool) -> int | None:
    return await scope._scope_id(conn, create=create)


async def copy_scope(source: SqlScope, dest: SqlScope) -> Copied:
    """Copy ``source``'s whole history into ``dest`` (same target, another ledger)."""
    async with source._d.session(write=False) as conn:
        sid = await _scope(source, conn, create=False)
        if sid is None:
            raise LedgerError(f"The ledger has no history of {source.describe()}: nothing to copy.")
        uuid_row = await conn.fetchone("SELECT db_uuid FROM zenoo_scopes WHERE id = ?", (sid,))
        migrations = await conn.fetchall(
            f"SELECT {_MIGRATIONS} FROM zenoo_migrations WHERE scope_id = ? ORDER BY version",
            (sid,),
        )
        events = await conn.fetchall(
            f"SELECT {_EVENTS} FROM zenoo_events WHERE scope_id = ? ORDER BY seq", (sid,)
        )
    records = 0
    async with dest._d.session(write=True) as out:
        did = await _scope(dest, out, create=True)
        assert did is not None
        if await out.fetchone("SELECT 1 FROM zenoo_migrations WHERE scope_id = ?", (did,)):
            raise LedgerError(
                f"The destination ledger already has a history of {dest.describe()}; nothing "
                "was copied (histories are never merged). Copy into a new ledger."
            )
        if uuid_row is not None and uuid_row[0] is not None:
            await out.execute(
                "UPDATE zenoo_scopes SET db_uuid = ? WHERE id = ?", (uuid_row[0], did)
            )
        for m in migrations:
            await out.execute(
                f"INSERT INTO zenoo_migrations (scope_id, {_MIGRATIONS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    did,
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    _ts(source, dest, m[4]),
                    _ts(source, dest, m[5]),
                    _dump(_load(m[6])),
                    m[7],
                    m[8],
                    m[9],
                    m[10],
                    m[11],
                ),
            )
        for e in events:
            await out.execute(
                f"INSERT INTO zenoo_events (scope_id, {_EVENTS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (did, e[0], e[1], e[2], _ts(source, dest, e[3]), e[4], _dump(_load(e[5])), *e[6:]),
            )
        after = -1
        while True:  # records in their original order (rollback goes newest first by seq)
            async with source._d.session(write=False) as conn:
                page = await conn.fetchall(
                    f"SELECT seq, {_RECORDS} FROM zenoo_records WHERE scope_id = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (sid, after, _PAGE),
                )
            if not page:
                break
            after = int(page[-1][0])
            await out.executemany(
                f"INSERT INTO zenoo_records (scope_id, {_RECORDS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(did, *r[1:8], None if r[8] is None else _dump(_load(r[8]))) for r in page],
            )
            records += len(page)
        await out.execute("UPDATE zenoo_scopes SET revision = revision + 1 WHERE id = ?", (did,))
    return Copied(len(migrations), len(events), records)


__all__ = ["Copied", "copy_scope"]
