"""One run's resources: ledger scope + lock, embedded sandbox, client, caches.

:func:`open_session` takes the ledger lock FIRST (so a second pipeline fails
fast with exit 3 without touching Odoo), keeps it alive with a heartbeat
task, starts the embedded sandbox in-process for ``sandbox:`` targets, opens
ONE :class:`ZenooClient` and logs in. Everything is released in reverse
order, also when the run fails or is cancelled.

The ledger scope of a sandbox target is its ``sandbox:`` url, never the
ephemeral loopback port the server happens to get. After login the scope is
tied to Odoo's ``database.uuid`` (:meth:`LedgerScope.bind_database`): another
URL of a known database moves to that database's history (and lock), a
different uuid than recorded refuses the run (exit 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import Project
from zenoo_etl.compiler.config import concurrency_bounds
from zenoo_etl.compiler.connect import check_series, login, open_client
from zenoo_etl.errors import LockLostError
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.ledger.protocol import LedgerScope
from zenoo_etl.runner.odoo import ClientTarget, OdooTarget
from zenoo_etl.runner.progress import NullProgress, ProgressReporter
from zenoo_etl.runner.resolve import Resolver

log = logging.getLogger("zenoo_etl.runner")

HEARTBEAT_SECONDS = 30.0

TargetWrapper = Callable[[OdooTarget], OdooTarget]


@dataclass
class Session:
    """Everything a run needs, opened once."""

    project: Project
    scope: LedgerScope
    odoo: OdooTarget
    progress: ProgressReporter
    resolver: Resolver
    uid: int | None = None  # the Odoo user the client logged in as (None: a target given in)
    fields_cache: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # rollback: {model: {old id: new id}} for deleted records recreated in this run, so
    # undoing an OLDER migration (which created or updated them) reaches the new record
    recreated: dict[str, dict[int, int]] = field(default_factory=dict)
    # rollback: {model: ids this run wrote previous values back to}, so a record apply
    # created and then updated is not mistaken for one someone else changed
    restored: dict[str, set[int]] = field(default_factory=dict)
    # calls of this run whose answer was lost (they may still commit late)
    lost_answers: int = 0
    # faults the client retried, by reason (the client's own counter; empty without one)
    client_faults: Counter[str] = field(default_factory=Counter)

    def faults(self) -> dict[str, int]:
        """Retried faults and lost answers so far, for the chunk tuner (:mod:`.tuning`)."""
        return {**self.client_faults, "lost answer": self.lost_answers}

    def lost_answer(self) -> None:
        self.lost_answers += 1

    def current_id(self, model: str, odoo_id: int) -> int:
        """The id a record has now, following recreations made by this rollback run."""
        moved = self.recreated.get(model, {})
        seen: set[int] = set()
        while odoo_id in moved and odoo_id not in seen:
            seen.add(odoo_id)
            odoo_id = moved[odoo_id]
        return odoo_id

    async def fields(self, model: str) -> dict[str, dict[str, Any]]:
        """``fields_get`` of ``model``, fetched once per run."""
        cached = self.fields_cache.get(model)
        if cached is None:
            cached = await self.odoo.fields_get(model)
            self.fields_cache[model] = cached
        return cached

    def context(self, step_context: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**self.project.config.runner.context, **(step_context or {})}

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        # zenoo_shown: the progress reporter prints it; a text log handler may skip it
        log.warning(message, extra={"zenoo_shown": True})
        self.progress.warning(message)


async def _heartbeat(scope: LedgerScope, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await scope.heartbeat()
        except LockLostError as exc:
            # every ledger write is fenced by the lock's token: the run's next write
            # fails with this same error (exit 3) before it announces another Odoo call
            log.error("%s", exc)
            return
        except Exception as exc:  # a ledger blip: keep working, the next beat retries
            log.warning("lock heartbeat failed: %s", exc)


@asynccontextmanager
async def open_session(
    project: Project,
    command: str,
    progress: ProgressReporter | None = None,
    *,
    wrap_target: TargetWrapper | None = None,
    odoo: OdooTarget | None = None,
) -> AsyncIterator[Session]:
    """Lock the target's ledger scope, connect to Odoo, yield a :class:`Session`.

    ``odoo`` replaces the connection (no sandbox, no client): for embedding and tests.
    """
    target = project.target
    async with AsyncExitStack() as stack:
        ledger = await stack.enter_async_context(
            open_ledger(project.config.ledger.url, project.root)
        )
        scope = ledger.scope(target.url, target.database)
        taken_over = await scope.acquire_lock(command)
        if taken_over is not None:
            log.warning("took over a stale lock held by %s", taken_over.describe())

        async def _release() -> None:
            await scope.release()

        stack.push_async_callback(_release)
        beat = asyncio.ensure_future(_heartbeat(scope, HEARTBEAT_SECONDS))

        async def _stop_beat() -> None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

        stack.push_async_callback(_stop_beat)

        unknown_uuid = False
        faults: Counter[str] = Counter()
        uid = None
        if odoo is None:
            client = await _connect(stack, project)
            faults = client.faults
            uid = client.uid
            odoo = ClientTarget(client)
            db_uuid = await client.database_uuid()
            if db_uuid is None:
                unknown_uuid = True
            elif await scope.bind_database(db_uuid):
                # this URL is another name of a database the ledger knows: its lock now
                await scope.acquire_lock(command)
        if wrap_target is not None:
            odoo = wrap_target(odoo)
        session = Session(
            project=project,
            scope=scope,
            odoo=odoo,
            progress=progress or NullProgress(),
            resolver=Resolver(odoo, scope),
            uid=uid,
            client_faults=faults,
        )
        if unknown_uuid:
            session.warn(
                f"cannot read the database uuid of target '{project.target_name}' (user "
                f"'{target.username}' is not a system user and has no web session with an "
                "API key); the ledger knows this target by its URL only, so another URL of "
                "the same database would get a history of its own"
            )
        yield session


async def _connect(stack: AsyncExitStack, project: Project) -> ZenooClient:
    """Start the embedded sandbox if the target is one; open ONE client and log in."""
    schema_file = None
    if project.target.is_sandbox:
        # Imported lazily: only sandbox targets pay for (and need) the embedded server.
        from zenoo_etl.sandbox.snapshot import project_schema_file

        # a project with a pulled schema (schema/odoo.json) rehearses on a twin of its server
        schema_file = project_schema_file(project.root)
    client = await open_client(
        stack,
        project.target,
        project.config.runner,
        schema_file=schema_file,
        # connections for the most calls in flight the tuner may choose
        concurrency=concurrency_bounds(project.config.runner.concurrency).high,
    )
    await login(client, project)
    return client


__all__ = ["HEARTBEAT_SECONDS", "Session", "TargetWrapper", "check_series", "open_session"]
