"""The fault matrix: one scenario = (action, fault, ledger backend, seed).

A scenario builds a project whose target is a sandbox served in this process
on a file database (so it can be stopped and restarted), applies a setup
migration cleanly, then applies the migration exercising ``action`` while
``fault`` is injected. Whatever that run did (succeed, fail, stop), the fault
is removed and apply is run again until it converges. The oracle is the same
project applied to a fresh sandbox with no fault (the *control*):

* duplicates: rows present more often than in the control (a row sent twice);
* losses: control rows missing (a row never sent, or written wrongly);
* a rollback to version 0 must then give back the original table exactly.

Used by ``tests/faults/test_matrix.py`` (reduced size) and
``scripts/fault_matrix.py`` (many seeds). Tables are read over HTTP with a
fresh client; ids are not compared (a rolled-back delete recreates its
record under a new id, as Odoo would) but every business field is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import textwrap
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.errors import ZenooError
from zenoo_etl.ledger import sqlite as ledger_sqlite
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.sandbox import SandboxServer, serve_sandbox

ACTIONS = ("create", "upsert", "update", "delete", "call")
FAULTS = (
    "refused",  # nothing listens when the run starts
    "reset",  # connections reset before the request is processed
    "reset_after_send",  # answers dropped after commit (connection reset after sending)
    "burst",  # 502/503/504 bursts
    "throttle",  # 429 with Retry-After
    "slow",  # calls slower than the client timeout
    "restart",  # the server stops mid-run and starts again on the same db file
    "ledger_down",  # the ledger fails mid-run (PG: backends terminated; SQLite: I/O error)
    "disk_full",  # SQLite: "database or disk is full" at the driver boundary
)
PASSWORD_ENV = "ZENOO_FAULTS_TARGET_PASSWORD"
FIELDS = ["name", "ref", "comment", "function", "email", "active"]
BASE_ROWS = 10
MODEL = "res.partner"


def _records(rows: list[dict[str, str]]) -> str:
    inner = ",\n  ".join(
        "{ " + ", ".join(f'{k} = "{v}"' for k, v in row.items()) + " }" for row in rows
    )
    return f"records = [\n  {inner},\n]"


BASE = f"""\
description = "base partners"

[[steps]]
id = "base"
model = "{MODEL}"
action = "create"
key = "{{{{ row.ref }}}}"
chunk_size = 2
{_records([{"ref": f"BASE-{i}", "name": f"Base {i}"} for i in range(1, BASE_ROWS + 1)])}

[steps.fields]
ref = "{{{{ row.ref }}}}"
name = "{{{{ row.name }}}}"
email = "{{{{ row.ref | lower }}}}@example.com"
"""

ACTION_MIGRATIONS = {
    "upsert": f"""\
description = "upsert: rename half, add new ones"

[[steps]]
id = "act"
model = "{MODEL}"
action = "upsert"
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 2
{
        _records(
            [{"ref": f"BASE-{i}", "name": f"Renamed {i}"} for i in range(1, 6)]
            + [{"ref": f"NEW-{i}", "name": f"New {i}"} for i in range(1, 6)]
        )
    }

[steps.fields]
ref = "{{{{ row.ref }}}}"
name = "{{{{ row.name }}}}"
""",
    "update": f"""\
description = "update: a comment on most partners"

[[steps]]
id = "act"
model = "{MODEL}"
action = "update"
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 2
{_records([{"ref": f"BASE-{i}", "comment": f"Note {i}"} for i in range(1, 9)])}

[steps.values]
ref = "{{{{ row.ref }}}}"
comment = "{{{{ row.comment }}}}"
""",
    "delete": f"""\
description = "delete most partners"

[[steps]]
id = "act"
model = "{MODEL}"
action = "delete"
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 2
{_records([{"ref": f"BASE-{i}"} for i in range(1, 9)])}

[steps.fields]
ref = "{{{{ row.ref }}}}"
""",
    "call": f"""\
description = "call: write a function on most partners"

[[steps]]
id = "act"
model = "{MODEL}"
action = "call"
method = "write"
args = [{{ function = "Called" }}]
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 2
undo = {{ method = "write", args = [{{ function = false }}] }}
{_records([{"ref": f"BASE-{i}"} for i in range(1, 9)])}

[steps.fields]
ref = "{{{{ row.ref }}}}"
""",
}


def migrations_for(action: str) -> dict[str, str]:
    """The setup migration plus the one exercising ``action`` (create: the setup itself)."""
    files = {"0001_base.toml": BASE}
    if action != "create":
        files[f"0002_{action}.toml"] = ACTION_MIGRATIONS[action]
    return files


def write_project(root: Path, url: str, ledger_url: str, action: str, runner: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "faults"

            [targets.local]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "{PASSWORD_ENV}"

            [ledger]
            url = "{ledger_url}"

            [runner]
            {runner}
            """
        )
    )
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    for name, text in migrations_for(action).items():
        (folder / name).write_text(text)


async def read_table(url: str) -> list[dict[str, Any]]:
    async with ZenooClient(url=url, retries=8) as client:
        await client.login("etl", "admin", "admin")
        rows = await client.execute_kw(
            MODEL,
            "search_read",
            [[]],
            {"fields": FIELDS, "context": {"active_test": False}, "order": "id"},
        )
    return [{k: r[k] for k in FIELDS} for r in rows]


def as_counter(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r[k] for k in FIELDS) for r in rows)


@dataclass
class Outcome:
    """What one scenario saw; ``duplicates``/``losses`` must be 0 and ``restored`` true."""

    action: str
    fault: str
    backend: str
    seed: int
    first_error: str | None = None
    reruns: int = 0
    duplicates: int = 0
    losses: int = 0
    restored: bool = False
    faults_seen: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.losses == 0 and self.restored


class Server:
    """A sandbox on a file db that can be stopped and started again on the same port."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = 0
        self._stack: AsyncExitStack | None = None
        self.sb: SandboxServer | None = None

    async def start(self) -> SandboxServer:
        stack = AsyncExitStack()
        for attempt in range(50):
            try:
                self.sb = await stack.enter_async_context(
                    serve_sandbox(db_path=self.db, port=self.port)
                )
                break
            except OSError:  # the port is still being released
                if attempt == 49:
                    raise
                await asyncio.sleep(0.05)
        assert self.sb is not None
        self.port = self.sb.port
        self._stack = stack
        return self.sb

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Hook:
    """Wraps the runner's :class:`OdooTarget`: awaits ``before(n)`` before the n-th write."""

    WRITES = frozenset({"create", "write", "unlink", "load", "call"})

    def __init__(self, inner: OdooTarget, before: Callable[[int], Awaitable[None]]) -> None:
        self._inner = inner
        self._before = before
        self.writes = 0
        self.calls = inner.calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in self.WRITES:
            return method

        async def hooked(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            await self._before(self.writes)
            return await method(*args, **kwargs)

        return hooked


@contextlib.contextmanager
def sqlite_fault(message: str, after: int) -> Any:
    """Make SQLite ledger statements raise ``OperationalError(message)`` after ``after`` ones.

    Patched at the driver boundary (``_SqliteConn``), where the stdlib would raise it
    on a full disk. Yields a switch: ``state["on"] = False`` frees the disk.
    """
    conn_cls = ledger_sqlite._SqliteConn
    original = conn_cls.execute, conn_cls.executemany
    state = {"n": 0, "on": True, "hits": 0}

    def check(sql: str) -> None:
        if not state["on"] or sql.lstrip().upper().startswith("SELECT"):
            return
        state["n"] += 1
        if state["n"] > after:
            state["hits"] += 1
            raise sqlite3.OperationalError(message)

    async def execute(self: Any, sql: str, params: Any = ()) -> int:
        check(sql)
        return await original[0](self, sql, params)

    async def executemany(self: Any, sql: str, rows: Any) -> int:
        check(sql)
        return await original[1](self, sql, rows)

    conn_cls.execute = execute  # type: ignore[method-assign]
    conn_cls.executemany = executemany  # type: ignore[method-assign]
    try:
        yield state
    finally:
        conn_cls.execute, conn_cls.executemany = original  # type: ignore[method-assign]


def terminate_pg_backends(pg_url: str, ledger_url: str) -> int:
    """Terminate every connection to the ledger's database (the ledger 'goes away')."""
    import psycopg

    name = ledger_url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


@asynccontextmanager
async def pg_database(pg_url: str) -> AsyncIterator[str]:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"zenoo_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_CONTROL: dict[str, list[dict[str, Any]]] = {}


async def control_table(action: str, tmp: Path) -> list[dict[str, Any]]:
    """The final table of ``action``'s project applied without any fault (cached)."""
    if action not in _CONTROL:
        server = Server(tmp / f"control-{action}.db")
        sb = await server.start()
        try:
            root = tmp / f"control-{action}"
            write_project(root, sb.url, "sqlite:///.zenoo/ledger.db", action, "")
            os.environ[PASSWORD_ENV] = sb.password
            await apply(load_project(root))
            _CONTROL[action] = await read_table(sb.url)
        finally:
            await server.stop()
    return _CONTROL[action]


def _runner_config(fault: str) -> str:
    # slow: every call after the strike takes longer than the timeout (few retries: fast)
    timing = "timeout = 0.3\nretries = 1" if fault == "slow" else "timeout = 30\nretries = 4"
    return f'chunk_size = 2\nconcurrency = 2\n{timing}\non_error = "stop"'


async def run_scenario(
    action: str,
    fault: str,
    backend: str,
    seed: int,
    tmp: Path,
    pg_url: str | None = None,
) -> Outcome:
    """Run one cell of the matrix; see the module docstring."""
    outcome = Outcome(action, fault, backend, seed)
    rng = random.Random(seed)
    async with AsyncExitStack() as stack:
        if backend == "postgres":
            assert pg_url is not None
            ledger_url = await stack.enter_async_context(pg_database(pg_url))
        else:
            ledger_url = "sqlite:///.zenoo/ledger.db"
        server = Server(tmp / "target.db")
        sb = await server.start()
        stack.push_async_callback(server.stop)
        os.environ[PASSWORD_ENV] = sb.password
        root = tmp / "project"
        url = sb.url
        if fault == "refused":
            # a port nobody listens on: the run must fail before touching anything
            url = "http://127.0.0.1:9"
        write_project(root, url, ledger_url, action, _runner_config(fault))
        original = await read_table(sb.url)
        if action != "create" and fault != "refused":
            await apply(load_project(root), to_version=1)
        # the n-th write (0 < n <= 4) is where mid-run faults strike
        strike = rng.randint(1, 4)
        wrap: Callable[[OdooTarget], OdooTarget] | None = None
        restart_task: list[asyncio.Task[None]] = []

        async def before(n: int) -> None:
            if n != strike:
                return
            if fault == "slow":
                sb.faults.configure(latency_ms=450)
            elif fault == "restart":
                await server.stop()

                async def later() -> None:
                    await asyncio.sleep(rng.uniform(0.05, 0.4))
                    await server.start()

                restart_task.append(asyncio.ensure_future(later()))
            elif fault == "ledger_down" and backend == "postgres":
                assert pg_url is not None
                terminate_pg_backends(pg_url, ledger_url)

        if fault in ("slow", "restart") or (fault == "ledger_down" and backend == "postgres"):
            wrap = lambda target: Hook(target, before)  # type: ignore[return-value]  # noqa: E731
        rates = {
            "reset": {"reset_rate": 0.3},
            "reset_after_send": {"drop_after_commit_rate": 0.3},
            "burst": {"error_rate": 0.25, "error_burst": 3},
            "throttle": {"throttle_rate": 0.3, "retry_after": 0},
        }
        if fault in rates:
            sb.faults.configure(seed=seed, **rates[fault])
        sqlite_cm: Any = contextlib.nullcontext()
        if fault == "disk_full" or (fault == "ledger_down" and backend == "sqlite"):
            message = "database or disk is full" if fault == "disk_full" else "disk I/O error"
            # the setup migration is applied: the fault strikes during the action's run
            sqlite_cm = sqlite_fault(message, after=rng.randint(2, 12))
        with sqlite_cm as disk:
            try:
                await apply(load_project(root), wrap_target=wrap)
            except ZenooError as exc:
                outcome.first_error = f"{type(exc).__name__}: {exc}"[:300]
            if disk is not None:
                disk["on"] = False  # the operator frees space / the ledger comes back
        for task in restart_task:
            await task
        outcome.faults_seen = list(sb.faults.history) if server.sb is not None else []
        if server.sb is None:
            await server.start()
        sb = server.sb
        assert sb is not None
        sb.faults.clear()
        if fault == "refused":
            write_project(root, sb.url, ledger_url, action, _runner_config(fault))
        # converge: a lock left by a run whose ledger died is stale only after a while;
        # the documented way out is `zenoo-etl unlock`, which we emulate with force_unlock
        for _ in range(3):
            outcome.reruns += 1
            try:
                result = await apply(load_project(root))
                if result.ok:
                    break
            except ZenooError as exc:
                if "lock" not in str(exc).lower():
                    raise AssertionError(
                        f"rerun did not converge after {outcome.first_error!r}: {exc}"
                    ) from exc
                await _force_unlock(root, ledger_url, url)
        final = await read_table(sb.url)
        want, got = as_counter(await control_table(action, tmp)), as_counter(final)
        outcome.duplicates = sum((got - want).values())
        outcome.losses = sum((want - got).values())
        await rollback(load_project(root), to_version=0)
        outcome.restored = as_counter(await read_table(sb.url)) == as_counter(original)
    return outcome


async def _force_unlock(root: Path, ledger_url: str, url: str) -> None:
    from zenoo_etl.ledger.open import open_ledger

    project = load_project(root)
    async with open_ledger(ledger_url, root) as ledger:
        await ledger.scope(project.target.url, project.target.database).force_unlock()


__all__ = ["ACTIONS", "FAULTS", "Outcome", "run_scenario"]
