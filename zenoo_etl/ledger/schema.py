"""The ledger's own tables, versioned from day one, and their in-place upgrade.

``zenoo_meta`` holds ``schema_version`` and a random ``instance`` id (part of
:meth:`position`, so a deleted-and-recreated ledger never reuses positions).
:data:`UPGRADES` maps each schema version to the statements that bring the
previous version to it, per dialect; :func:`ensure_schema` applies the
missing ones in one transaction when a ledger is opened. To change the
layout, append a version: never edit a released one.

Tables carry a ``zenoo_`` prefix so a shared PostgreSQL database can hold them
next to other applications' ``migrations`` tables.
"""

from __future__ import annotations

import uuid

from zenoo_etl.ledger.driver import Conn, Dialect
from zenoo_etl.ledger.errors import LedgerError

_STATUS_CHECK = "CHECK (status IN ('applying', 'applied', 'failed', 'rolled_back'))"
_OPERATION_CHECK = "CHECK (operation IN ('created', 'updated', 'deleted', 'called'))"
_STATE_CHECK = "CHECK (state IN ('intent', 'done', 'compensated'))"


def _v1(dialect: Dialect) -> list[str]:
    if dialect == "sqlite":
        serial, big, ts, json = "INTEGER PRIMARY KEY", "INTEGER", "TEXT", "TEXT"
        # SQLite evaluates CHECK (x IN (...)) per row at a cost that tripled the
        # batched record writes (measured); sql.py validates those values instead.
        op_check = state_check = ""
    else:
        serial, big, ts, json = "BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ", "JSONB"
        op_check, state_check = _OPERATION_CHECK, _STATE_CHECK
    return [
        f"""CREATE TABLE zenoo_scopes (
            id {serial},
            target_url TEXT NOT NULL,
            database TEXT NOT NULL,
            revision {big} NOT NULL DEFAULT 0,
            UNIQUE (target_url, database))""",
        f"""CREATE TABLE zenoo_migrations (
            scope_id {big} NOT NULL REFERENCES zenoo_scopes (id),
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            status TEXT NOT NULL {_STATUS_CHECK},
            started_at {ts} NOT NULL,
            finished_at {ts},
            counts {json} NOT NULL,
            error TEXT,
            PRIMARY KEY (scope_id, version))""",
        f"""CREATE TABLE zenoo_events (
            seq {serial},
            scope_id {big} NOT NULL REFERENCES zenoo_scopes (id),
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            event TEXT NOT NULL,
            at {ts} NOT NULL,
            checksum TEXT NOT NULL,
            counts {json} NOT NULL,
            error TEXT)""",
        "CREATE INDEX zenoo_events_by_scope ON zenoo_events (scope_id, seq)",
        # seq orders records newest-first for rollback. The unique key also
        # serves lookups by (scope, step, key); it leads with `key` so that no
        # planner (PostgreSQL with stale statistics did) can use it to scan a
        # whole step when a bulk lookup names keys. A separate (scope, step,
        # state) index cost 15% on every batched write and misled SQLite's
        # planner the same way; whole-step reads go through by_version. That one
        # leaves `state` out: state changes on every done/compensated write, and
        # keeping it indexed cost ~27% of a done batch (measured); reads by
        # (scope, version, state) filter the version's rows in seq order instead.
        f"""CREATE TABLE zenoo_records (
            seq {serial},
            scope_id {big} NOT NULL REFERENCES zenoo_scopes (id),
            version INTEGER NOT NULL,
            step TEXT NOT NULL,
            key TEXT NOT NULL,
            model TEXT NOT NULL,
            odoo_id {big},
            operation TEXT NOT NULL {op_check},
            state TEXT NOT NULL {state_check},
            previous {json},
            UNIQUE (key, step, scope_id, version))""",
        "CREATE INDEX zenoo_records_by_version ON zenoo_records (scope_id, version, seq)",
        f"""CREATE TABLE zenoo_locks (
            scope_id {big} PRIMARY KEY REFERENCES zenoo_scopes (id),
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            command TEXT NOT NULL,
            started_at {ts} NOT NULL,
            heartbeat_at {ts} NOT NULL,
            token TEXT NOT NULL)""",
    ]


# Version 2: who wrote each migration row and event (user, host, pid), for
# ``status`` and ``history``. Nullable: rows from version 1 stay as they were.
_V2 = [
    f"ALTER TABLE {table} ADD COLUMN {column} {kind}"
    for table in ("zenoo_migrations", "zenoo_events")
    for column, kind in (("by_host", "TEXT"), ("by_user", "TEXT"), ("by_pid", "INTEGER"))
]

# Version 3: each migration row keeps the SHA-256 of every file it was applied
# from (JSON ``{path: sum}``), so drift names the file that changed. Nullable:
# rows written before say only "the file or one of its sources".
_V3 = ["ALTER TABLE zenoo_migrations ADD COLUMN parts TEXT"]

# Version 4: crash-safe rollback. A migration being undone is ``rolling_back``
# (never ``applied`` while a compensation is pending), and a record about to
# be undone is ``undoing`` (the compensation intent) until rollback settles it
# as ``compensated``. PostgreSQL replaces its CHECK constraints; SQLite keeps no
# state check (sql.py validates) but its status check is part of the table, so
# the migrations table is rebuilt (same columns, same rows).
_STATUS_CHECK_V4 = (
    "CHECK (status IN ('applying', 'applied', 'failed', 'rolling_back', 'rolled_back'))"
)
_STATE_CHECK_V4 = "CHECK (state IN ('intent', 'done', 'undoing', 'compensated'))"
_V4_PG = [
    "ALTER TABLE zenoo_migrations DROP CONSTRAINT IF EXISTS zenoo_migrations_status_check",
    f"ALTER TABLE zenoo_migrations ADD CONSTRAINT zenoo_migrations_status_check {_STATUS_CHECK_V4}",
    "ALTER TABLE zenoo_records DROP CONSTRAINT IF EXISTS zenoo_records_state_check",
    f"ALTER TABLE zenoo_records ADD CONSTRAINT zenoo_records_state_check {_STATE_CHECK_V4}",
]
_V4_SQLITE = [
    f"""CREATE TABLE zenoo_migrations_v4 (
        scope_id INTEGER NOT NULL REFERENCES zenoo_scopes (id),
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        checksum TEXT NOT NULL,
        status TEXT NOT NULL {_STATUS_CHECK_V4},
        started_at TEXT NOT NULL,
        finished_at TEXT,
        counts TEXT NOT NULL,
        error TEXT,
        by_host TEXT,
        by_user TEXT,
        by_pid INTEGER,
        parts TEXT,
        PRIMARY KEY (scope_id, version))""",
    "INSERT INTO zenoo_migrations_v4 (scope_id, version, name, checksum, status, started_at, "
    "finished_at, counts, error, by_host, by_user, by_pid, parts) SELECT scope_id, version, "
    "name, checksum, status, started_at, finished_at, counts, error, by_host, by_user, "
    "by_pid, parts "
    "FROM zenoo_migrations",
    "DROP TABLE zenoo_migrations",
    "ALTER TABLE zenoo_migrations_v4 RENAME TO zenoo_migrations",
]

# Version 7: ``applied_with_rejects``, a migration whose rows were all applied but
# those an ``on_error = "reject"`` step set aside (apply runs it again for them,
# rollback undoes it like an applied one). Same rebuild as version 4 on SQLite.
_STATUS_CHECK_V7 = (
    "CHECK (status IN ('applying', 'applied', 'applied_with_rejects', 'failed', "
    "'rolling_back', 'rolled_back'))"
)
_V7_PG = [
    "ALTER TABLE zenoo_migrations DROP CONSTRAINT IF EXISTS zenoo_migrations_status_check",
    f"ALTER TABLE zenoo_migrations ADD CONSTRAINT zenoo_migrations_status_check {_STATUS_CHECK_V7}",
]
_V7_SQLITE = [
    statement.replace("zenoo_migrations_v4", "zenoo_migrations_v7").replace(
        _STATUS_CHECK_V4, _STATUS_CHECK_V7
    )
    for statement in _V4_SQLITE
]

UPGRADES: dict[int, list[str] | dict[Dialect, list[str]]] = {
    1: {"sqlite": _v1("sqlite"), "postgresql": _v1("postgresql")},
    2: _V2,
    3: _V3,
    4: {"sqlite": _V4_SQLITE, "postgresql": _V4_PG},
    5: [
        # A target is the database itself: Odoo's database.uuid (NULL until a run
        # read it, or when the user may not); a row reached under another URL of an
        # already known database points at that scope's row (alias_of).
        "ALTER TABLE zenoo_scopes ADD COLUMN db_uuid TEXT",
        "ALTER TABLE zenoo_scopes ADD COLUMN alias_of BIGINT",
    ],
    # The lock holder's process identity (boot id / pid namespace / start time):
    # a holder is judged gone only when it ran in this kernel and pid namespace,
    # not merely on a host of the same name. NULL for locks taken before.
    6: ["ALTER TABLE zenoo_locks ADD COLUMN holder TEXT"],
    7: {"sqlite": _V7_SQLITE, "postgresql": _V7_PG},
}
"""schema version -> statements from the previous version (per dialect, or shared)."""


def latest_version() -> int:
    return max(UPGRADES)


async def _table_exists(conn: Conn, dialect: Dialect, table: str) -> bool:
    if dialect == "sqlite":
        row = await conn.fetchone(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        )
        return row is not None
    row = await conn.fetchone("SELECT to_regclass(?) IS NOT NULL", (table,))
    return bool(row and row[0])


async def ensure_schema(conn: Conn, dialect: Dialect, display_url: str) -> tuple[int, str]:
    """Create or upgrade the ledger tables in place; return (schema version, instance id).

    Runs inside the caller's write transaction, so concurrent openers
    serialise and a failed upgrade leaves the previous version intact
    (SQLite and PostgreSQL both have transactional DDL).
    """
    if dialect == "postgresql":
        # Two processes opening a fresh database at once must not both create tables.
        await conn.execute("SELECT pg_advisory_xact_lock(7244175201)")
    current = 0
    instance = ""
    if await _table_exists(conn, dialect, "zenoo_meta"):
        for key, value in await conn.fetchall("SELECT key, value FROM zenoo_meta"):
            if key == "schema_version":
                current = int(value)
            elif key == "instance":
                instance = str(value)
    else:
        await conn.execute("CREATE TABLE zenoo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    latest = latest_version()
    if current > latest:
        raise LedgerError(
            f"The ledger {display_url} has schema version {current}, newer than this "
            f"zenoo-etl understands ({latest}). Upgrade zenoo-etl; do not write to this "
            "ledger with an older version."
        )
    for version in range(current + 1, latest + 1):
        upgrade = UPGRADES[version]
        statements = upgrade if isinstance(upgrade, list) else upgrade[dialect]
        for statement in statements:
            await conn.execute(statement)
    if not instance:
        instance = uuid.uuid4().hex[:12]
        await conn.execute(
            "INSERT INTO zenoo_meta (key, value) VALUES ('instance', ?)", (instance,)
        )
    if current != latest:
        await conn.execute(
            "INSERT INTO zenoo_meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(latest),),
        )
    return latest, instance


__all__ = ["UPGRADES", "ensure_schema", "latest_version"]
