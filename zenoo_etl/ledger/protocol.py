"""The ledger's typed protocol and the records it hands out.

The ledger is the state store beside the runner (DESIGN.md section 5). This
module owns *what* it promises, not how: the backends (``sqlite.py``,
``postgres.py``) implement :class:`Ledger` and :class:`LedgerScope` with the
same behaviour and the same test suite.

Usage::

    async with open_ledger("sqlite:///.zenoo/ledger.db", project_root) as ledger:
        scope = ledger.scope(target.url, target.database)   # per target; no credentials
        previous = await scope.acquire_lock("apply")          # LockHeldError if live
        await scope.begin_migration(3, "customers", checksum)
        await scope.record_intents(3, "customers", "res.partner", "created", keys)
        ...  # RPC
        await scope.record_done(3, "customers", "res.partner",
                                [DoneEntry(key, odoo_id, "created", None), ...])
        await scope.set_status(3, "applied", counts=Counts(created=500))
        await scope.release()

Rules every backend keeps:

* Every method that writes runs in one local transaction: a batch of intents
  or done entries commits whole or not at all, and a status change commits
  together with its history event.
* A scope never sees another scope's rows (scope = target url + database; the
  url is stripped of any user:password before it becomes a key).
* Record keys are unique per (version, step, key); ``seq`` grows with every
  inserted record so that "newest first" is "highest seq first".
* :meth:`LedgerScope.position` changes whenever migrations or records change
  (not on lock heartbeats): a saved plan carries it and is refused when it moved.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias

MigrationStatus: TypeAlias = Literal[
    "applying", "applied", "applied_with_rejects", "failed", "rolling_back", "rolled_back"
]
"""Status of a migration in the ledger (``pending`` is the absence of a row).

``applied_with_rejects``: every row was applied but those ``on_error = "reject"``
steps wrote to their reject files; ``apply`` runs it again (applying only those
rows, the others are done), ``rollback`` undoes it like an applied one.

``rolling_back``: a rollback began undoing it and has not finished (it was
interrupted, or is running): some records may be undone, so it is neither
applied nor rolled back; ``rollback`` resumes it, ``apply`` redoes it.
"""

Operation: TypeAlias = Literal["created", "updated", "deleted", "called"]
"""What the runner did to one Odoo record."""

RecordState: TypeAlias = Literal["intent", "done", "undoing", "compensated"]
"""intent: about to be sent; done: Odoo answered; undoing: rollback is about to undo it
(the compensation intent, written before the unlink/write-back/recreate); compensated:
undone by rollback."""

EventKind: TypeAlias = Literal[
    "begin",
    "applied",
    "applied_with_rejects",
    "failed",
    "rolling_back",
    "rolled_back",
    "applying",
]
"""One line of ``history``: ``begin`` when a run starts a migration, then each status change."""

JsonValue: TypeAlias = Any
"""A JSON-serialisable value (previous values, snapshots). Never holds secrets."""

MIGRATION_STATUSES: tuple[MigrationStatus, ...] = (
    "applying",
    "applied",
    "applied_with_rejects",
    "failed",
    "rolling_back",
    "rolled_back",
)
OPERATIONS: tuple[Operation, ...] = ("created", "updated", "deleted", "called")
RECORD_STATES: tuple[RecordState, ...] = ("intent", "done", "undoing", "compensated")

DEFAULT_STALE_AFTER_SECONDS = 300.0
"""A lock whose heartbeat is older than this may be taken over (runner heartbeats every ~30s)."""


def utcnow() -> datetime:
    """Aware UTC now; every time the ledger stores is UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Counts:
    """How many Odoo records a migration touched, per operation."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    called: int = 0
    filtered: int = 0  # source rows left out by `when` or a `missing = "skip-row"` cell
    archived: int = 0  # delete steps with archive = true

    def to_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "called": self.called,
            "filtered": self.filtered,
            "archived": self.archived,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Counts:
        data = data or {}
        return cls(
            created=int(data.get("created", 0)),
            updated=int(data.get("updated", 0)),
            deleted=int(data.get("deleted", 0)),
            called=int(data.get("called", 0)),
            filtered=int(data.get("filtered", 0)),
            archived=int(data.get("archived", 0)),
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created,
            self.updated + other.updated,
            self.deleted + other.deleted,
            self.called + other.called,
            self.filtered + other.filtered,
            self.archived + other.archived,
        )


@dataclass(frozen=True)
class RunBy:
    """Who wrote a migration row or event: the process's user, host and pid."""

    host: str
    user: str
    pid: int

    @classmethod
    def this_process(cls) -> RunBy:
        try:
            user = getpass.getuser()
        except Exception:  # no login name (e.g. uid without a passwd entry): still record host/pid
            user = "?"
        return cls(host=socket.gethostname(), user=user, pid=os.getpid())

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.pid}"


@dataclass(frozen=True)
class MigrationRecord:
    """One migration's current row in the ledger (its latest run)."""

    version: int
    name: str
    checksum: str
    status: MigrationStatus
    started_at: datetime
    finished_at: datetime | None
    counts: Counts = field(default_factory=Counts)
    error: str | None = None
    # The process that wrote the row last (began it, or set its status); None
    # for rows written before ledger schema version 2.
    by: RunBy | None = None
    # SHA-256 per file the migration was applied from ({path: sum}); None for
    # rows written before ledger schema version 3.
    parts: dict[str, str] | None = None


@dataclass(frozen=True)
class LedgerEvent:
    """One history line: a migration began, or changed status."""

    seq: int
    version: int
    name: str
    event: EventKind
    at: datetime
    checksum: str
    counts: Counts = field(default_factory=Counts)
    error: str | None = None
    by: RunBy | None = None  # None for events written before ledger schema version 2


@dataclass(frozen=True)
class LedgerRecord:
    """One Odoo record a migration step touched (or is about to touch)."""

    seq: int
    version: int
    step: str
    key: str
    model: str
    odoo_id: int | None
    operation: Operation
    state: RecordState
    previous: JsonValue = None
    """Previous field values (update/upsert-write) or full snapshot (delete); JSON."""


class DoneEntry(NamedTuple):
    """What Odoo answered for one key: the id, what was done, what was there before."""

    key: str
    odoo_id: int | None
    operation: Operation
    previous: JsonValue = None


class StepRow(NamedTuple):
    """State of one key of a step, for skipping done rows on rerun."""

    state: RecordState
    odoo_id: int | None
    operation: Operation


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot), "" when unknown."""
    stat = _read(f"/proc/{pid}/stat")
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def process_identity(pid: int) -> str:
    """``boot id / pid namespace / start time`` of ``pid`` as seen from this process.

    Host name and pid alone do not identify a process: two containers may
    share a host name but not a pid namespace, and pids are reused. A lock
    holder is only judged gone when it ran in this very kernel boot and pid
    namespace and its pid is free or now belongs to a younger process.
    """
    boot = _read("/proc/sys/kernel/random/boot_id")
    return f"{boot}/{_pid_namespace()}/{_start_time(pid)}"


@dataclass(frozen=True)
class LockHolder:
    """Who asks for a lock. Defaults to this process on this host."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    command: str = ""
    identity: str | None = None
    """:func:`process_identity` of ``pid``; None: computed when the lock is taken."""


@dataclass(frozen=True)
class LockInfo:
    """The lock row of a scope."""

    host: str
    pid: int
    command: str
    started_at: datetime
    heartbeat_at: datetime
    token: str
    """Random per acquisition (the run id): release, heartbeat and every ledger write
    of the holder act only while the lock row still carries it (a fencing token)."""
    identity: str = ""
    """:func:`process_identity` of the holder; "" for locks taken before schema 6."""

    def age_of_heartbeat(self, now: datetime | None = None) -> timedelta:
        return (now or utcnow()) - self.heartbeat_at

    def is_stale(self, stale_after_seconds: float, now: datetime | None = None) -> bool:
        """Whether another run may take this lock over.

        A lock is stale when its heartbeat is old, or at once when its holder
        was a process of this very host that no longer exists (a run killed
        with SIGKILL, or one whose ledger failed before it could release):
        there is nothing to wait for then.
        """
        if self.age_of_heartbeat(now).total_seconds() > stale_after_seconds:
            return True
        return self.holder_is_gone()

    def holder_is_gone(self) -> bool:
        """True when the holder provably ended: it ran in this kernel boot and pid
        namespace (not merely on a host of the same name) and its pid is free or
        was reused by another process. Anything else is judged by the heartbeat."""
        if self.host != socket.gethostname() or self.pid == os.getpid():
            return False
        boot, _, rest = self.identity.partition("/")
        namespace, _, started = rest.partition("/")
        mine = process_identity(os.getpid())
        my_boot, _, my_rest = mine.partition("/")
        if not boot or boot != my_boot or namespace != my_rest.partition("/")[0]:
            return False  # another machine or container with this host name: cannot tell
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, owned by another user
        # alive: the holder, unless the pid now belongs to a process started later
        now_started = _start_time(self.pid)
        return bool(started and now_started and now_started != started)

    def describe(self) -> str:
        """Human words for messages: who, where, since when."""
        what = f" running '{self.command}'" if self.command else ""
        return (
            f"host {self.host} pid {self.pid}{what}, started "
            f"{self.started_at.isoformat(timespec='seconds')}, last heartbeat "
            f"{self.heartbeat_at.isoformat(timespec='seconds')}"
        )


class LedgerReader(Protocol):
    """What ``status``, ``history``, ``plan`` and the resolver need: reads only."""

    @property
    def target_url(self) -> str: ...

    @property
    def database(self) -> str: ...

    async def migrations(self) -> list[MigrationRecord]:
        """Every migration row of this scope, by version."""
        ...

    async def migration(self, version: int) -> MigrationRecord | None:
        """One migration's row, or None if it never ran (pending)."""
        ...

    async def history(self) -> list[LedgerEvent]:
        """Every event of this scope, newest first."""
        ...

    async def done_ids(self, step: str, keys: Iterable[str]) -> dict[str, int]:
        """Bulk ref lookup: key -> odoo id for ``done`` rows of STEP (any version).

        Keys not done (or without id) are absent from the result.
        """
        ...

    async def step_state(
        self, version: int, step: str, keys: Iterable[str] | None = None
    ) -> dict[str, StepRow]:
        """Every key of a step (or only ``keys``) with its state, id and operation."""
        ...

    def records_for_rollback(self, version: int) -> AsyncIterator[LedgerRecord]:
        """``done`` and ``undoing`` records of a migration, newest first (paged)."""
        ...

    async def undoing(self, version: int) -> list[LedgerRecord]:
        """Records in ``undoing`` state: a rollback was about to undo them and never said."""
        ...

    async def intents(self, version: int) -> list[LedgerRecord]:
        """Records still in ``intent`` state: outcome unknown, to reconcile."""
        ...

    async def record_counts(self, version: int) -> dict[RecordState, int]:
        """How many records of a migration are in each state."""
        ...

    async def position(self) -> str:
        """A short string that changes whenever migrations or records change."""
        ...

    async def lock_info(self) -> LockInfo | None:
        """The current lock row, or None."""
        ...


class LedgerWriter(Protocol):
    """What a run changes: migration status, records, and the lock (runner only)."""

    async def bind_database(self, db_uuid: str) -> bool:
        """Tie the scope to Odoo's ``database.uuid``; True when it moved to the scope
        the same database has under another URL (the caller then takes its lock).

        Raises ``TargetMismatchError`` (exit 4) when the scope was recorded with
        another uuid (the database was restored as a copy or recreated).
        """
        ...

    async def begin_migration(
        self, version: int, name: str, checksum: str, parts: Mapping[str, str] | None = None
    ) -> MigrationRecord:
        """Start (or restart) a migration: status ``applying``, a ``begin`` event.

        ``parts`` (the SHA-256 of each file, ``Migration.parts``) is kept so that
        drift can name the file that changed.

        Restarting a failed/applying/rolled-back migration keeps its records
        (done rows are what a rerun skips); counts are reset. Beginning an
        ``applied`` migration is refused with a ZenooError.
        """
        ...

    async def set_status(
        self,
        version: int,
        status: MigrationStatus,
        *,
        counts: Counts | None = None,
        error: str | None = None,
    ) -> MigrationRecord:
        """Change status; records the event in the same transaction.

        ``finished_at`` is set for applied/failed/rolled_back. ``counts`` None
        keeps the stored counts. Unknown version: ZenooError.
        """
        ...

    async def record_intents(
        self,
        version: int,
        step: str,
        model: str,
        operation: Operation,
        keys: Sequence[str],
        notes: Sequence[JsonValue] | None = None,
    ) -> None:
        """Write-ahead: these keys are about to be sent (one transaction).

        A key already ``done`` is left untouched (its odoo id is never lost);
        intent/compensated rows are reset to ``intent`` with no id and their
        note (one per key, stored as ``previous``: what a resumed run needs to
        settle a lost answer, e.g. the chunk and id floor of a create,
        :func:`zenoo_etl.runner.identity.create_and_bind`).
        """
        ...

    async def record_done(
        self, version: int, step: str, model: str, entries: Sequence[DoneEntry]
    ) -> None:
        """Odoo answered: store ids/previous values, state ``done`` (one transaction).

        Works with or without a prior intent (reconciliation may adopt rows).
        """
        ...

    async def mark_compensated(
        self,
        version: int,
        step: str,
        keys: Sequence[str],
        *,
        recreated_ids: Mapping[str, int] | None = None,
    ) -> None:
        """Rollback undid these keys (one transaction).

        ``recreated_ids``: for deleted records recreated by rollback, their new id.
        """
        ...

    async def mark_undoing(self, version: int, step: str, keys: Sequence[str]) -> None:
        """Compensation intent: rollback is about to undo these ``done`` keys (one transaction).

        Written BEFORE the unlink / write-back / recreate, so a run killed in
        between leaves a trace that the next apply or rollback settles by
        looking at what exists. Keys in another state are left as they are.
        """
        ...

    async def restore_done(self, version: int, step: str, keys: Sequence[str]) -> None:
        """Settle ``undoing`` keys as ``done`` again (the undo did not happen, or is redone)."""
        ...

    async def forget(self, version: int) -> None:
        """Delete a migration's row and records (events stay in history).

        Compensated ``deleted`` records stay: they map a deleted record's id to
        the id rollback recreated it under, which undoing an older migration
        (that created or updated that record) must follow.
        """
        ...

    async def acquire_lock(
        self,
        command: str = "",
        *,
        stale_after_seconds: float = DEFAULT_STALE_AFTER_SECONDS,
        holder: LockHolder | None = None,
    ) -> LockInfo | None:
        """Take the scope's lock.

        Raises LockHeldError (exit 3) naming host/pid/started when a live lock
        exists. A stale lock is taken over: a warning is logged and the
        previous holder's LockInfo is returned; otherwise returns None.
        """
        ...

    async def heartbeat(self) -> None:
        """Refresh our lock's heartbeat; LockHeldError if we no longer hold it."""
        ...

    async def release(self) -> None:
        """Release our lock (no-op if we do not hold it)."""
        ...

    async def force_unlock(self) -> LockInfo | None:
        """Delete whatever lock the scope has; returns who held it."""
        ...

    @property
    def held_lock(self) -> LockInfo | None:
        """The lock this scope object holds, if any."""
        ...


class LedgerScope(LedgerReader, LedgerWriter, Protocol):
    """The ledger as seen by one target (url + database). Every call is scoped."""


class Ledger(Protocol):
    """An open ledger store (one connection). Get per-target views with :meth:`scope`."""

    @property
    def url(self) -> str:
        """The ledger url, with any password masked."""
        ...

    @property
    def schema_version(self) -> int: ...

    def scope(self, target_url: str, database: str) -> LedgerScope:
        """The per-target view. Credentials in ``target_url`` are stripped."""
        ...

    async def close(self) -> None: ...


__all__ = [
    "DEFAULT_STALE_AFTER_SECONDS",
    "MIGRATION_STATUSES",
    "OPERATIONS",
    "RECORD_STATES",
    "Counts",
    "DoneEntry",
    "EventKind",
    "JsonValue",
    "Ledger",
    "LedgerEvent",
    "LedgerReader",
    "LedgerRecord",
    "LedgerScope",
    "LedgerWriter",
    "LockHolder",
    "LockInfo",
    "MigrationRecord",
    "MigrationStatus",
    "Operation",
    "RecordState",
    "StepRow",
    "process_identity",
    "utcnow",
]
