"""SQLite storage: opening the file, creating tables from the registry, id sequences.

One table per model (``res.partner`` -> ``res_partner``) with a column per
stored field, one link table per many2many, and two bookkeeping tables:
``_sandbox_meta`` (schema version, seeded flag) and ``_sandbox_sequence``.
Ids come from :class:`Sequences`, held in memory like PostgreSQL sequences:
a rolled-back call still consumes its ids, so ids are never reused.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

from zenoo_etl.sandbox.fields import ModelDef
from zenoo_etl.sandbox.registry import Registry

SCHEMA_VERSION = "2"
#: ids handled per SQL statement (SQLite binds at most 32766 parameters)
CHUNK = 900

_SQL_TYPES = {
    "integer": "INTEGER",
    "many2one": "INTEGER",
    "many2one_reference": "INTEGER",
    "boolean": "INTEGER",
    "float": "REAL",
    "monetary": "REAL",
}


def placeholders(n: int) -> str:
    """``n`` comma-separated ``?`` for an ``IN (...)`` list."""
    return ",".join("?" * n)


def connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode; transactions are explicit BEGIN/COMMIT."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def _columns_sql(mdef: ModelDef) -> list[str]:
    cols = ["id INTEGER PRIMARY KEY"]
    for name, fdef in mdef.column_fields().items():
        sql_type = _SQL_TYPES.get(fdef.type, "TEXT")
        cols.append(f'"{name}" {sql_type}')
    cols += ["create_uid INTEGER", "create_date TEXT", "write_uid INTEGER", "write_date TEXT"]
    return cols


_LIKE_ESCAPED = re.compile(r"(like\s+'[^']*\\[^']*')", re.IGNORECASE)


def usable_checks(conn: sqlite3.Connection, mdef: ModelDef) -> list[tuple[str, str, str]]:
    """The recorded CHECK constraints SQLite can evaluate on this model's columns.

    A definition in PostgreSQL-only syntax, or naming a column the sandbox does
    not store, is left out (the probe table tells).
    """
    usable = []
    for name, recorded, message in mdef.sql_checks:
        expr = _LIKE_ESCAPED.sub(r"\1 ESCAPE '\\'", recorded)  # PostgreSQL's default escape
        probe = f'CREATE TEMP TABLE "_probe" ({", ".join(_columns_sql(mdef))}, CHECK {expr})'
        try:
            conn.execute(probe)
        except sqlite3.Error:
            continue
        finally:
            conn.execute('DROP TABLE IF EXISTS temp."_probe"')
        usable.append((name, expr, message))
    return usable


def _table_sql(
    mdef: ModelDef, checks: list[tuple[str, str, str]] | None = None, skip: set[str] | None = None
) -> list[str]:
    cols = _columns_sql(mdef)
    cols += [f'CONSTRAINT "{name}" CHECK {expr}' for name, expr, _ in checks or []]
    stmts = [f'CREATE TABLE IF NOT EXISTS "{mdef.table}" ({", ".join(cols)})']
    for name, fdef in mdef.column_fields().items():
        if fdef.type == "many2one" or name in ("code", "default_code", "ref", "login"):
            stmts.append(
                f'CREATE INDEX IF NOT EXISTS "{mdef.table}_{name}_index" '
                f'ON "{mdef.table}" ("{name}")'
            )
        elif fdef.type == "many2one_reference" and "model" in mdef.fields:
            stmts.append(
                f'CREATE INDEX IF NOT EXISTS "{mdef.table}_{name}_index" '
                f'ON "{mdef.table}" (model, "{name}")'
            )
    for name, definition, _message in mdef.sql_uniques:
        stmts.append(f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON {definition}')
    for unique in mdef.uniques:
        cols_sql = ", ".join(f'"{c}"' for c in unique.columns)
        stmts.append(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{unique.name}" ON "{mdef.table}" ({cols_sql})'
        )
    for fdef in mdef.fields.values():
        if fdef.type == "many2many" and fdef.relation_table and fdef.store:
            if fdef.relation_table in (skip or set()):
                continue
            c1, c2 = sorted([fdef.column1 or "", fdef.column2 or ""])
            stmts.append(
                f'CREATE TABLE IF NOT EXISTS "{fdef.relation_table}" ("{c1}" INTEGER NOT NULL, '
                f'"{c2}" INTEGER NOT NULL, PRIMARY KEY ("{c1}", "{c2}"))'
            )
            stmts.append(
                f'CREATE INDEX IF NOT EXISTS "{fdef.relation_table}_{c2}_index" '
                f'ON "{fdef.relation_table}" ("{c2}", "{c1}")'
            )
    return stmts


def create_schema(conn: sqlite3.Connection, registry: Registry) -> None:
    conn.execute("BEGIN")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS _sandbox_meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _sandbox_sequence (model TEXT PRIMARY KEY, last INTEGER)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _sandbox_apikey_secret "
            "(id INTEGER PRIMARY KEY, key_hash TEXT NOT NULL)"
        )
        for mdef in registry.models.values():
            for stmt in _table_sql(mdef, usable_checks(conn, mdef), registry.model_tables):
                try:
                    conn.execute(stmt)
                except sqlite3.OperationalError:
                    if "UNIQUE INDEX" not in stmt:
                        raise  # a recorded partial index SQLite cannot express is left out
        conn.execute(
            "INSERT OR IGNORE INTO _sandbox_meta (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM _sandbox_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO _sandbox_meta (key, value) VALUES (?, ?)", (key, value))


def hash_key(secret: str) -> str:
    """The stored form of a password or API key (never kept in clear)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Sequences:
    """Per-model id counters that survive rollbacks, like PostgreSQL sequences.

    The counter lives in memory (so a rolled-back call still consumes its ids)
    and in ``_sandbox_sequence``, read and bumped inside the caller's write
    transaction, so two processes serving the same file never hand out the
    same id.
    """

    def __init__(self, conn: sqlite3.Connection, registry: Registry) -> None:
        self._conn = conn
        self._last: dict[str, int] = {}
        for name, mdef in registry.models.items():
            row = conn.execute(f'SELECT MAX(id) FROM "{mdef.table}"').fetchone()
            self._last[name] = int(row[0] or 0)

    def next(self, model: str, count: int) -> list[int]:
        """``count`` fresh ids; call inside a write transaction."""
        row = self._conn.execute(
            "SELECT last FROM _sandbox_sequence WHERE model = ?", (model,)
        ).fetchone()
        start = max(self._last[model], int(row[0]) if row else 0) + 1
        self._last[model] = start + count - 1
        self._conn.execute(
            "INSERT OR REPLACE INTO _sandbox_sequence (model, last) VALUES (?, ?)",
            (model, self._last[model]),
        )
        return list(range(start, start + count))


__all__ = [
    "CHUNK",
    "Sequences",
    "connect",
    "create_schema",
    "get_meta",
    "hash_key",
    "placeholders",
    "set_meta",
]
