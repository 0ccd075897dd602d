"""The database behind the server: authentication and one transaction per call.

:class:`Database` owns the SQLite connection, the registry and the id
sequences. :meth:`Database.execute` checks the method name the way Odoo's
dispatcher does (private, unknown), binds the arguments, runs the method in an
:class:`~zenoo_etl.sandbox.orm.Env` inside ``BEGIN``/``COMMIT`` and rolls back
on any error. It is synchronous on purpose: the server calls it on the event
loop with no ``await`` inside, so concurrent calls never interleave.
"""

from __future__ import annotations

import getpass
import hashlib
import inspect
import os
import shutil
import sqlite3
import tempfile
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from zenoo_etl.errors import UsageError
from zenoo_etl.sandbox import access, methods
from zenoo_etl.sandbox.exceptions import (
    AccessDenied,
    AccessError,
    PythonError,
    SandboxRpcError,
    UserError,
    missing,
)
from zenoo_etl.sandbox.models import declare_models
from zenoo_etl.sandbox.orm import Env
from zenoo_etl.sandbox.registry import Registry
from zenoo_etl.sandbox.seed import ADMIN_UID, seed
from zenoo_etl.sandbox.snapshot import snapshot_digest
from zenoo_etl.sandbox.storage import (
    SCHEMA_VERSION,
    Sequences,
    connect,
    create_schema,
    get_meta,
    hash_key,
    set_meta,
)

SUPERUSER_ID = 1


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=8)
def registry_for(version: str, schema_file: Path | None = None) -> Registry:
    """The registry of one Odoo version, with a pulled schema over it when given
    (built once per process, shared, read-only)."""
    return Registry(declare_models(version, schema_file), version, schema_file)


def _initialise(conn: sqlite3.Connection, registry: Registry, version: str) -> None:
    """Tables, reference records and bookkeeping of a new database file."""
    create_schema(conn, registry)
    sequences = Sequences(conn, registry)
    env = Env(conn, registry, sequences, SUPERUSER_ID, {}, _now())
    conn.execute("BEGIN IMMEDIATE")
    try:
        seed(env, version)
        set_meta(conn, "seeded", "1")
        set_meta(conn, "odoo_version", version)
        set_meta(conn, "snapshot", snapshot_digest(version, registry.schema_file))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@lru_cache(maxsize=8)
def _template_key(version: str, schema_file: Path | None = None) -> str:
    """Changes with the snapshot and with the code that lays out and seeds the file."""
    snap = snapshot_digest(version, schema_file)
    digest = hashlib.sha256(f"{version}:{SCHEMA_VERSION}:{snap}".encode())
    here = Path(__file__).parent
    for module in ("fields", "models", "registry", "seed", "service", "snapshot", "storage"):
        digest.update((here / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


def template_path(version: str, schema_file: Path | None = None) -> Path:
    """A seeded database of this version, built once per machine and copied per database.

    Building one takes a few seconds (285 tables, ~3,000 reference records);
    copying it takes milliseconds. It lives in ``$ZENOO_SANDBOX_CACHE`` or a
    per-user folder of the temporary directory.
    """
    cache = Path(
        os.environ.get("ZENOO_SANDBOX_CACHE")
        or Path(tempfile.gettempdir()) / f"zenoo-sandbox-{getpass.getuser()}"
    )
    target = cache / f"odoo-{version}-{_template_key(version, schema_file)}.db"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"{target.name}.{os.getpid()}.partial"
    conn = connect(partial)
    try:
        _initialise(conn, registry_for(version, schema_file), version)
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    os.replace(partial, target)  # atomic: concurrent builders each publish a whole file
    for stale in cache.glob(f"odoo-{version}-*.db"):
        if stale != target and stale.stat().st_mtime < target.stat().st_mtime - 3600:
            stale.unlink(missing_ok=True)  # an older code's or snapshot's template
    return target


def _call_error(
    fn: methods.Method,
    method: str,
    model: str,
    args: list[Any],
    kwargs: dict[str, Any],
    exc: TypeError,
) -> PythonError:
    """The TypeError of arguments that do not fit the method.

    Over JSON-RPC Odoo calls the method, and Python words the error
    (``BaseModel.has_access() missing 1 required positional argument: ...``);
    JSON-2 binds the arguments first and answers the bare binding text
    (``bind_text``: ``missing a required argument: 'vals_list'``).
    """
    try:
        fn(None, model, *args, **kwargs)  # fails while binding, before the body runs
        native = f"{method}() {exc}"
    except TypeError as call_exc:
        text = str(call_exc)
        prefix = f"{getattr(fn, '__name__', method)}("
        native = f"BaseModel.{method}({text[len(prefix) :]}" if text.startswith(prefix) else text
    error = PythonError("TypeError", native)
    error.bind_text = str(exc)
    return error


class Database:
    """One sandbox database (a SQLite file of one Odoo version), seeded when created."""

    def __init__(
        self,
        path: Path | None,
        name: str = "etl",
        version: str = "18.0",
        schema_file: Path | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="zenoo-sandbox-")
            path = Path(self._tmpdir.name) / "sandbox.db"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        schema_file = schema_file.resolve() if schema_file is not None else None
        self.registry = registry_for(version, schema_file)
        try:
            if not path.exists() or path.stat().st_size == 0:
                shutil.copyfile(template_path(version, schema_file), path)
            self.conn: sqlite3.Connection = connect(path)
            if self._meta("seeded") is None:
                _initialise(self.conn, self.registry, version)
            self._check_layout(path)
            self.sequences = Sequences(self.conn, self.registry)
            self._ensure_database_uuid()
        except sqlite3.Error as exc:
            raise UsageError(
                f"The sandbox database {path} cannot be opened: {exc}. Give --db a writable "
                "file path (it is created if missing) that no other program uses."
            ) from exc

    def _ensure_database_uuid(self) -> None:
        """Like Odoo, each database has its own ``database.uuid`` system parameter.

        Set on first open, not in the shared seeded template: every database
        copied from it gets a uuid of its own.
        """
        found = self.conn.execute(
            "SELECT 1 FROM ir_config_parameter WHERE key = 'database.uuid'"
        ).fetchone()
        if found is None:
            value = str(uuid.uuid1())
            self._transaction(
                SUPERUSER_ID,
                {},
                lambda env: env.create(
                    "ir.config_parameter", [{"key": "database.uuid", "value": value}]
                ),
            )

    def database_uuid(self) -> str:
        """The database's ``database.uuid`` (what ``/web/session/account`` shows)."""
        row = self.conn.execute(
            "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'"
        ).fetchone()
        return str(row[0]) if row is not None else ""

    def _meta(self, key: str) -> str | None:
        try:
            return get_meta(self.conn, key)
        except sqlite3.OperationalError:
            return None  # no _sandbox_meta table yet: an empty file

    def _check_layout(self, path: Path) -> None:
        layout, version = self._meta("schema_version"), self._meta("odoo_version")
        snapshot = self._meta("snapshot")
        wanted = snapshot_digest(self.version, self.registry.schema_file)
        same_layout = layout == SCHEMA_VERSION and version == self.version
        if same_layout and snapshot is not None and snapshot != wanted:
            self.conn.close()
            raise UsageError(
                f"The sandbox database {path} was created from another schema than the one "
                "served now (a schema file was pulled, changed or removed since). Delete the "
                "file (or the project's .zenoo folder) to start a twin of the current schema."
            )
        if layout != SCHEMA_VERSION or version != self.version:
            found = f"Odoo {version}" if version else "an older sandbox layout"
            self.conn.close()
            raise UsageError(
                f"The sandbox database {path} holds {found}, not the Odoo {self.version} "
                f"layout this sandbox serves. Start it with --version {version or '18.0'} "
                "or give --db a new file (it is created and seeded)."
            )

    def close(self) -> None:
        self.conn.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    # ------------------------------------------------------------ transactions

    def _transaction(self, uid: int, context: dict[str, Any], work: Any) -> Any:
        env = Env(self.conn, self.registry, self.sequences, uid, context, _now())
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(env)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return result

    # ---------------------------------------------------------- authentication

    def authenticate(self, login: Any, password: Any, api_key_ok: bool = True) -> int | None:
        """The uid for a login and a password (or an API key: RPC only), None otherwise."""
        if not isinstance(login, str) or not isinstance(password, str):
            return None
        row = self.conn.execute(
            "SELECT id, password FROM res_users WHERE login = ? AND active = 1", (login,)
        ).fetchone()
        if row is None:
            return None
        uid, stored = row
        return int(uid) if self._secret_matches(uid, stored, password, api_key_ok) else None

    def _secret_matches(self, uid: int, stored: str | None, secret: str, api_key_ok: bool) -> bool:
        """The user's password (``stored`` is its hash) or, if allowed, one of their API keys."""
        if stored is not None and stored == hash_key(secret):
            return True
        return api_key_ok and self.api_key_uid(secret) == uid

    def api_key_uid(self, key: str) -> int | None:
        row = self.conn.execute(
            "SELECT a.user_id FROM _sandbox_apikey_secret s "
            "JOIN res_users_apikeys a ON a.id = s.id WHERE s.key_hash = ? "
            "AND (a.expiration_date IS NULL OR a.expiration_date > ?)",
            (hash_key(key), _now()),
        ).fetchone()
        return None if row is None else int(row[0])

    def check(self, uid: Any, password: Any) -> int:
        """``security.check``: MissingError for an unknown uid, AccessDenied otherwise."""
        if isinstance(uid, bool) or not isinstance(uid, int):
            raise AccessDenied()
        row = self.conn.execute(
            "SELECT login, password, active FROM res_users WHERE id = ?", (uid,)
        ).fetchone()
        if row is None:
            raise missing("res.users", [uid], uid)
        _login, stored, active = row
        if not active or not isinstance(password, str):
            raise AccessDenied()
        if self._secret_matches(uid, stored, password, api_key_ok=True):
            return uid
        raise AccessDenied()

    def create_api_key(self, name: str, uid: int = ADMIN_UID) -> str:
        key: str = self._transaction(
            uid, {}, lambda env: methods.generate_api_key(env, "res.users.apikeys", name)
        )
        return key

    # --------------------------------------------------------------- dispatch

    def resolve(self, model: str, method: str) -> tuple[methods.Method, bool]:
        """Odoo's order of checks: private name, unknown model, unknown method."""
        if not isinstance(method, str) or not isinstance(model, str):
            raise PythonError("TypeError", "model and method must be strings")
        private_19 = self.version >= "19" and method in methods.PRIVATE_IN_19
        if method.startswith("_") or private_19:
            raise AccessError(
                f"Private methods (such as '{model}.{method}') cannot be called remotely."
            )
        if model not in self.registry.models:
            raise UserError(f"Object {model} doesn't exist")
        found = methods.lookup(model, method)
        if found is None:
            raise PythonError("AttributeError", f"The method '{model}.{method}' does not exist")
        return found

    def execute(
        self,
        uid: int,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any],
        ids: list[int] | None = None,
    ) -> Any:
        """Run one ORM method in its own transaction; ``ids`` is given by JSON-2 only."""
        kwargs = dict(kwargs)
        context = kwargs.pop("context", None) or {}
        if not isinstance(context, dict):
            raise PythonError("TypeError", "context must be a dictionary")
        fn, is_model = self.resolve(model, method)
        if ids is not None and not is_model:
            args = [ids, *args]
        try:
            bound = inspect.signature(fn).bind(None, model, *args, **kwargs)
        except TypeError as exc:
            raise _call_error(fn, method, model, args, kwargs, exc) from exc

        def work(env: Env) -> Any:
            access.check_call(self.version, uid, model, method)
            return fn(env, *bound.args[1:], **bound.kwargs)

        try:
            return self._transaction(uid, context, work)
        except SandboxRpcError:
            raise
        except sqlite3.Error as exc:
            raise PythonError("ValueError", f"The operation cannot be completed: {exc}") from exc
        except Exception as exc:  # like Odoo: any Python error becomes builtins.<Name>
            raise PythonError(type(exc).__name__, str(exc)) from exc


__all__ = ["SUPERUSER_ID", "Database"]
