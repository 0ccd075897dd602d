"""What one chunk of one step does to Odoo and to the ledger, per action.

:class:`StepRun` holds a step's compiled state (field types, converters,
``load()`` columns, context) and runs one :class:`Chunk` at a time; the
pipeline decides how many run at once. Ledger writes are batched per chunk
and always ahead of the work they describe:

* create (and the create half of upsert): keys as ``intent`` → RPC → ids
  ``done``;
* updates, deletes and archives: the previous values / snapshot are stored
  (``done`` with ``previous``) BEFORE the write. Recording them only after
  the answer would lose them for ever if the runner died in between; written
  first, a rerun simply re-applies the (idempotent) write and rollback
  restores values that are, at worst, already there;
* call: ``intent`` → call → ``done``.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import assert_never  # typing has it from 3.11 only

from zenoo_etl.client.errors import (
    AccessError,
    AuthenticationError,
    ConcurrencyError,
    ConnectError,
    MissingRecordError,
    OdooError,
    OutcomeUnknownError,
)
from zenoo_etl.compiler.steps import LINES_SUFFIX, Step
from zenoo_etl.compiler.values import Row
from zenoo_etl.ledger.protocol import DoneEntry, LedgerScope, StepRow
from zenoo_etl.runner.coerce import (
    CoercionError,
    Converter,
    equal_values,
    field_types,
    load_converter,
    load_row_converter,
    rpc_converter,
    rpc_row_converter,
    to_rpc_value,
)
from zenoo_etl.runner.drift import pack_created, pack_previous
from zenoo_etl.runner.identity import (
    Creating,
    LoadFailed,
    NamingFailed,
    UnknownOutcome,
    can_bind,
    can_read_names,
    chunk_note,
    create_and_bind,
    create_by_fields,
    create_by_load,
    create_plain,
    find_unbound,
    id_floor,
    lookup_xmlids,
    name_records,
    names_by_metadata,
    search_matches,
    xmlid_name,
    xmlid_prefix,
)
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.runner.ordering import parent_field
from zenoo_etl.runner.progress import StepCounts
from zenoo_etl.runner.resolve import Resolver, RowError

# fields whose load() cells Odoo checks one by one (see StepRun._binds)
RELATIONAL = frozenset({"many2one", "one2many", "many2many"})

# Above this many distinct value sets in one chunk, updates go through one
# load() with a ".id" column instead of one write() per distinct set.
_WRITE_GROUPS_MAX = 4
_SNAPSHOT_SKIP = frozenset(
    {"id", "create_uid", "create_date", "write_uid", "write_date", "display_name", "__last_update"}
)


@dataclass
class Chunk:
    """One unit of work: source rows, or record ids found by a domain."""

    rows: list[Row] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) or len(self.ids)


@dataclass
class StepRun:
    """A step's compiled state and its per-chunk behaviour."""

    odoo: OdooTarget
    scope: LedgerScope
    resolver: Resolver
    version: int
    step: Step
    fields_get: dict[str, dict[str, Any]]
    context: dict[str, Any]
    row_values: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False
    project_id: str | None = None  # zenoo.toml [project] id, part of every external id
    force: bool = False  # apply --force: existing records may be overwritten
    # apply --force: key -> id of existing records this step's external ids name while
    # the ledger knew nothing of them; load() updates them: recorded as updates
    overwrite: dict[str, int] = field(default_factory=dict)
    counts: StepCounts = field(default_factory=StepCounts)
    unmatched: int = 0  # source rows whose match found no record (update/delete/call)
    gone: int = 0  # rows the ledger said created whose record was gone on resume
    # after a lost answer: seconds to let a call still running server-side land
    settle: float = 0.0
    # identity xmlid by create: seconds after a lost answer during which its records
    # are looked for before the chunk is sent again (create_and_bind)
    window: float = 0.0
    on_lost: Callable[[], None] | None = None  # told of every lost answer
    # [steps.lines]: fields_get of the lines' model (the one2many's relation)
    line_fields_get: dict[str, dict[str, Any]] = field(default_factory=dict)
    # identity xmlid by create + ir.model.data (None: not decided yet; see _binds)
    binds: bool | None = None
    floor: int | None = None  # the model's highest id before this step's first create
    uid: int | None = None  # the run's Odoo user (None: not known, e.g. a target given in)
    creating: Creating = field(default_factory=Creating)  # creates in flight (create_and_bind)
    notes: dict[str, dict[str, Any]] | None = None  # see _intent_notes
    # a user who may not read ir.model.data: the step's names that existed at its first
    # chunk (see _existing_xmlids; None: looked up per chunk)
    names_read: bool = False
    named: dict[str, int] | None = None
    _deciding: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.types = field_types(self.fields_get)
        names = list(self.step.row_fields)
        # the many2one Odoo copies a child's fields from (a lost create's lookup)
        self.parent = parent_field(self.step.model, names, self.fields_get)
        for name in [*names, *self.step.match]:
            if name not in self.types:
                close = difflib.get_close_matches(name, list(self.types), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise RowError(f"model '{self.step.model}' has no field '{name}'{hint}", field=name)
        self.line_converters: dict[str, Converter] = {}
        self.line_model = ""
        if self.step.lines is not None:
            self.line_model = lines_model(self.step, self.fields_get)
            line_types = field_types(self.line_fields_get)
            for name in self.step.lines.fields:
                if name not in line_types:
                    raise RowError(
                        f"model '{self.line_model}' (the lines of {self.step.lines.field}) has "
                        f"no field '{name}'",
                        field=f"lines.{name}",
                    )
            self.line_converters = {n: rpc_converter(line_types[n]) for n in self.step.lines.fields}
        self.converters: dict[str, Converter] = {n: rpc_converter(self.types[n]) for n in names}
        self.load_columns: list[tuple[str, str, Converter]] = [
            (name, *load_converter(name, self.types[name])) for name in names
        ]
        self.load_row = load_row_converter([(n, conv) for n, _c, conv in self.load_columns])
        self.rpc_row = rpc_row_converter([(n, self.converters[n]) for n in names])
        # whether the rows carry relational values (see _binds)
        self.relational = any(self.types[n] in RELATIONAL for n in names)

    # -- helpers -------------------------------------------------------------

    def convert(self, row: Row, resolved: dict[str, Any]) -> dict[str, Any]:
        try:  # converters are pure: on a refusal, the loop below finds the field
            values = self.rpc_row(resolved)
        except CoercionError:
            values = None
        if values is not None:
            return values
        out: dict[str, Any] = {}
        for name, value in resolved.items():
            try:
                out[name] = self.converters[name](value)
            except CoercionError as exc:
                raise RowError(f"field '{name}': {exc}", row=row, field=name) from None
        return out

    def load_cells(self, row: Row, resolved: dict[str, Any]) -> list[str]:
        try:  # converters are pure: on a refusal, the loop below finds the field
            return self.load_row(resolved)
        except CoercionError:
            pass
        cells: list[str] = []
        for name, _column, conv in self.load_columns:
            try:
                cells.append(conv(resolved.get(name, False)))
            except CoercionError as exc:
                raise RowError(f"field '{name}': {exc}", row=row, field=name) from None
        return cells

    async def states(self, keys: Sequence[str]) -> dict[str, StepRow]:
        if self.fresh or not keys:
            return {}
        return await self.scope.step_state(self.version, self.step.id, keys)

    async def _resolved(self, rows: list[Row]) -> list[dict[str, Any]]:
        if self.step.lines is not None:
            await self.resolver.prepare([*rows, *(line for r in rows for line in r.lines)])
        else:
            await self.resolver.prepare(rows)
        return [self.resolver.resolve_row(row) for row in rows]

    def document(self, row: Row, resolved: dict[str, Any]) -> dict[str, Any]:
        """A header's create values with its lines as one2many create commands."""
        values = self.convert(row, resolved)
        spec = self.step.lines
        if spec is None:
            return values
        commands: list[Any] = []
        source = spec.source.path or "the lines' records"
        for line in row.lines:
            line_values: dict[str, Any] = {}
            where = f"line {line.key!r} ({source}" + (f":{line.line})" if line.line else ")")
            try:
                resolved_line = self.resolver.resolve_row(line)
            except RowError as exc:
                raise RowError(f"{where}: {exc.message}", row=row, field=exc.field) from None
            for name, value in resolved_line.items():
                try:
                    line_values[name] = self.line_converters[name](value)
                except CoercionError as exc:
                    raise RowError(f"{where}, field '{name}': {exc}", row=row, field=name) from None
            commands.append((0, 0, line_values))
        values[spec.field] = commands
        return values

    async def record_lines(self, rows: list[Row], ids: list[int]) -> None:
        """Ledger entries for the lines Odoo created with ``rows`` (headers ``ids``).

        Read back from the header's one2many (ids ascending = creation order) and
        paired with the rows' lines; lines Odoo added by itself are recorded too
        (``<header>/+<id>``) so rollback removes them. Written before the headers
        are marked done, so no crash leaves created lines unknown to the ledger.
        """
        spec = self.step.lines
        if spec is None or not ids:
            return
        records = await self.odoo.read(
            self.step.model, ids, [spec.field], {**self.context, "active_test": False}
        )
        by_header = {int(r["id"]): sorted(int(i) for i in r.get(spec.field) or []) for r in records}
        entries: list[DoneEntry] = []
        for row, header_id in zip(rows, ids, strict=True):
            line_ids = by_header.get(header_id, [])
            for line, line_id in zip(row.lines, line_ids, strict=False):
                entries.append(DoneEntry(line.key, line_id, "created", None))
            for extra in line_ids[len(row.lines) :]:
                entries.append(DoneEntry(f"{row.key}/+{extra}", extra, "created", None))
        await self.scope.record_done(
            self.version, self.step.id + LINES_SUFFIX, self.line_model, entries
        )
        self.counts.lines += len(entries)

    # -- dispatch --------------------------------------------------------------

    async def run(self, chunk: Chunk) -> int:
        """Run one chunk; returns how many units it covered (for progress)."""
        action = self.step.action
        match action:
            case "create":
                await self._create(chunk.rows)
            case "upsert":
                await self._upsert(chunk.rows)
            case "update":
                await self._update(chunk)
            case "delete":
                await self._delete(chunk)
            case "call":
                await self._call(chunk)
            case _:
                assert_never(action)
        return len(chunk)

    # -- create / upsert -------------------------------------------------------

    async def _skip_done(self, rows: list[Row]) -> tuple[list[Row], dict[str, StepRow]]:
        """Rows not yet created (an upsert's written rows are re-checked, not skipped)."""
        states = await self.states([r.key for r in rows])
        if not states:
            return rows, states
        states = await self._check_created(states)
        # a create step's done rows are all skipped (an "updated" one is a record that
        # existed and was overwritten with --force); an upsert re-checks what it wrote
        create = self.step.action == "create"
        todo = [
            r
            for r in rows
            if (s := states.get(r.key)) is None
            or s.state != "done"
            or (s.operation != "created" and not create)
        ]
        self.counts.skipped += len(rows) - len(todo)
        return todo, states

    async def _check_created(self, states: dict[str, StepRow]) -> dict[str, StepRow]:
        """On resume, one search per chunk: are the records the ledger says created there?

        A record gone since (deleted by hand, or unlinked by a rollback that
        died before it could say so) is not skipped as done: its key is marked
        ``compensated`` (the ledger's word for "undone") and the row is created
        again, so a resumed apply never ends with rows missing.
        """
        done = {
            k: s.odoo_id
            for k, s in states.items()
            if s.state == "done" and s.operation == "created" and s.odoo_id is not None
        }
        if not done:
            return states
        alive = set(
            await self.odoo.search(
                self.step.model,
                [["id", "in", sorted(set(done.values()))]],
                {**self.context, "active_test": False},
            )
        )
        gone = [k for k, i in done.items() if i not in alive]
        if not gone:
            return states
        await self.scope.mark_compensated(self.version, self.step.id, gone)
        self.gone += len(gone)
        return {k: (s._replace(state="compensated") if k in gone else s) for k, s in states.items()}

    async def _create(self, rows: list[Row]) -> None:
        rows, states = await self._skip_done(rows)
        if not rows:
            return
        resolved = await self._resolved(rows)
        intents = any(r.key in states and states[r.key].state == "intent" for r in rows)
        if self.step.identity == "fields" and intents:
            rows, resolved = await self._adopt_by_fields(rows, resolved, states)
        elif self.step.identity == "xmlid" and intents:
            rows, resolved = await self._adopt_unbound(rows, resolved)
        if rows:
            await self._create_rows(rows, resolved)

    async def _adopt_by_fields(
        self, rows: list[Row], resolved: list[dict[str, Any]], states: dict[str, StepRow]
    ) -> tuple[list[Row], list[dict[str, Any]]]:
        """Intents of an interrupted run with identity fields: adopt what the match finds."""
        values = [self.convert(r, v) for r, v in zip(rows, resolved, strict=True)]
        hits = await search_matches(
            self.odoo, self.step.model, self.step.match, self.types, values, [], self.context
        )
        entries: list[DoneEntry] = []
        rest_rows: list[Row] = []
        rest_resolved: list[dict[str, Any]] = []
        for row, res, found in zip(rows, resolved, hits, strict=True):
            pending = row.key in states and states[row.key].state == "intent"
            if pending and found:
                entries.append(DoneEntry(row.key, min(int(f["id"]) for f in found), "created"))
            else:
                rest_rows.append(row)
                rest_resolved.append(res)
        if entries:
            adopted = {e.key for e in entries}
            adopted_rows = [r for r in rows if r.key in adopted]
            by_key = {e.key: int(e.odoo_id or 0) for e in entries}
            await self.record_lines(adopted_rows, [by_key[r.key] for r in adopted_rows])
            await self.scope.record_done(self.version, self.step.id, self.step.model, entries)
            self.counts.adopted += len(entries)
            self.counts.created += len(entries)
        return rest_rows, rest_resolved

    async def _adopt_unbound(
        self, rows: list[Row], resolved: list[dict[str, Any]]
    ) -> tuple[list[Row], list[dict[str, Any]]]:
        """Intents of an interrupted run that may have created records it had not named.

        Each intent of a create-and-name chunk notes its chunk and the id floor
        (``_create_rows``); the rows of each such chunk here are looked for among the
        unnamed records above the floor (:func:`find_unbound`). Found: adopted and
        named; not found: created as usual.
        """
        notes = await self._intent_notes()
        by_chunk: dict[str, list[tuple[Row, dict[str, Any]]]] = {}
        for row, res in zip(rows, resolved, strict=True):
            note = notes.get(row.key)
            if note is not None:
                by_chunk.setdefault(str(note["chunk"]), []).append((row, res))
        adopted: set[str] = set()
        for members in by_chunk.values():
            values = [self.convert(r, v) for r, v in members]
            note = notes[members[0][0].key]
            async with self.creating.looking():  # other chunks' creates may be in flight
                ids = await find_unbound(
                    self.odoo,
                    self.step.model,
                    int(note["floor"]),
                    self.types,
                    values,
                    self.context,
                    self.creating.ids,
                    note.get("uid"),  # who sent the chunk (the resuming run may be someone else)
                    self.parent,
                )
                self.creating.ids.update(ids or ())
            if ids is None:
                raise UnknownOutcome([r.key for r, _v in members], self.step.model)
            if not ids:
                continue
            keys = [r.key for r, _v in members]
            names = [xmlid_name(self.step.id, k, self.project_id) for k in keys]
            # fenced: no call after losing the lock
            await name_records(
                self.odoo, self.step.model, names, ids, self.creating, self.scope.heartbeat
            )
            await self.scope.record_done(
                self.version,
                self.step.id,
                self.step.model,
                [DoneEntry(k, i, "created") for k, i in zip(keys, ids, strict=True)],
            )
            adopted.update(keys)
        if not adopted:
            return rows, resolved
        self.counts.adopted += len(adopted)
        self.counts.created += len(adopted)
        kept = [(r, v) for r, v in zip(rows, resolved, strict=True) if r.key not in adopted]
        return [r for r, _v in kept], [v for _r, v in kept]

    async def _intent_notes(self) -> dict[str, dict[str, Any]]:
        """key -> note of this step's create-and-name intents (read once per step run)."""
        if self.notes is None:
            self.notes = {
                r.key: note
                for r in await self.scope.intents(self.version)
                if r.step == self.step.id and (note := chunk_note(r.previous)) is not None
            }
        return self.notes

    async def _binds(self, rows: list[Row]) -> bool:
        """Whether this chunk's rows are created by ``create`` + naming (else ``load()``).

        ``load()`` stays for headers with lines, for rows whose record exists already
        (``--force``: load() updates it), where the user may not create external ids,
        and for steps without relational fields: there load() costs a real Odoo less
        than the two calls (it only gets slower with relational cells, each checked
        with a query of its own: on real 18, 10,000 contacts with five text fields
        0.94x ``create`` vs 0.86x with the naming call; with a country 0.72x vs 0.85x)
        and keeps each record and its external id in one transaction.
        """
        if self.step.identity != "xmlid" or self.step.lines is not None:
            return False
        if not self.relational:
            return False
        if any(r.key in self.overwrite for r in rows):
            return False
        async with self._deciding:  # chunks in flight ask at once: one answer for all
            if self.binds is None:
                self.binds = await can_bind(self.odoo)
            if self.binds and self.floor is None:
                self.floor = await id_floor(self.odoo, self.step.model, self.context)
        return self.binds

    async def _create_rows(self, rows: list[Row], resolved: list[dict[str, Any]]) -> None:
        step, model = self.step, self.step.model
        keys = [r.key for r in rows]
        overwritten = await self._overwritten(rows, resolved)
        if step.action == "upsert" and step.identity == "xmlid" and not self.force:
            await self._refuse_existing_xmlids(rows)
        notes: list[Any] | None = None
        if await self._binds(rows):
            token = uuid.uuid4().hex[:12]
            notes = [{"chunk": token, "floor": self.floor, "uid": self.uid}] * len(keys)
        await self.scope.record_intents(self.version, step.id, model, "created", keys, notes)

        def adopted(n: int) -> None:
            self.counts.adopted += n

        lost: list[bool] = []

        def unknown() -> None:
            lost.append(True)
            if self.on_lost is not None:
                self.on_lost()

        try:
            if notes is not None:
                ids = await self._create_and_bind(rows, resolved, keys, adopted, unknown)
            else:
                ids = await self._send_creates(rows, resolved, keys, adopted, unknown)
        except NamingFailed as unnamed:
            # the records exist, without their external ids: the ledger holds them (the
            # step fails; rollback removes them), never forgets nor makes them again
            entries = [DoneEntry(k, i, "created") for k, i in zip(keys, unnamed.ids, strict=True)]
            await self.scope.record_done(self.version, step.id, model, entries)
            raise
        except (OdooError, ConnectError, LoadFailed, RowError):
            # Odoo refused the call (or it was never sent: a value did not convert): nothing
            # of it was kept, so these keys are not pending; a rerun or rollback must not
            # try to settle them.
            await self.scope.mark_compensated(self.version, step.id, keys)
            raise
        written: list[Any] = [None] * len(rows)
        if lost:
            # A lost call may still commit later and rewrite these records with the same
            # values (moving write_date): the ledger keeps what was written, so rollback
            # tells that late commit from someone else's edit.
            written = [self._written(r, v) for r, v in zip(rows, resolved, strict=True)]
        entries = [
            DoneEntry(k, i, "updated", overwritten[k])
            if k in overwritten
            else DoneEntry(k, i, "created", w)
            for k, i, w in zip(keys, ids, written, strict=True)
        ]
        await self.record_lines(rows, ids)
        await self.scope.record_done(self.version, step.id, model, entries)
        # load() updated the records that existed before the call: never "created"
        self.counts.updated += len(overwritten)
        self.counts.created += len(entries) - len(overwritten)

    async def _refuse_existing_xmlids(self, rows: list[Row]) -> None:
        """An upsert row its match found nothing for, whose external id exists all the same
        (its match values were changed on the target, or another project's record):
        load() would silently overwrite that record, so the step fails before sending."""
        names = {xmlid_name(self.step.id, r.key, self.project_id): r for r in rows}
        found = await self._existing_xmlids(list(names))
        if not found:
            return
        name, record_id = next(iter(found.items()))
        raise RowError(
            f"no {self.step.model} record matches {self.step.match}, but {len(found)} row(s) "
            f"have an external id that exists already (__zenoo__.{name}, record {record_id}): "
            "creating would overwrite that record. Its match values were changed on the "
            "target, or another project uses this step name; fix the data, or run with "
            "--force to overwrite it",
            row=names[name],
        )

    async def _existing_xmlids(self, names: list[str]) -> dict[str, int]:
        """:func:`lookup_xmlids`, but where the user may not read ``ir.model.data`` (one
        call per name there) the step's names are read once, at its first chunk, with
        :func:`names_by_metadata`: the names this step makes later are its other rows'."""
        async with self._deciding:
            if not self.names_read:
                self.names_read = True
                if not await can_read_names(self.odoo):
                    prefix = xmlid_prefix(self.step.id, self.project_id)
                    self.named = await names_by_metadata(self.odoo, self.step.model, prefix)
        if self.named is None:
            return await lookup_xmlids(self.odoo, self.step.model, names)
        return {name: self.named[name] for name in names if name in self.named}

    async def _overwritten(self, rows: list[Row], resolved: list[dict[str, Any]]) -> dict[str, Any]:
        """With ``--force``: key -> ledger ``previous`` of rows whose record exists already."""
        if not self.overwrite or self.step.identity != "xmlid":
            return {}
        mine = {r.key: self.overwrite[r.key] for r in rows if r.key in self.overwrite}
        if not mine:
            return {}
        names = list(self.step.row_fields)
        records = await self.odoo.search_read(
            self.step.model,
            [["id", "in", sorted(set(mine.values()))]],
            names,
            {**self.context, "active_test": False},
        )
        by_id = {int(r["id"]): r for r in records}
        previous: dict[str, Any] = {}
        for row, res in zip(rows, resolved, strict=True):
            record = by_id.get(mine.get(row.key, 0))
            if record is not None:
                diff, before = self._diff(record, self.convert(row, res))
                previous[row.key] = pack_previous(before, diff)
        return previous

    def _written(self, row: Row, resolved: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return pack_created(self.convert(row, resolved))
        except RowError:
            return None  # load() took a value the RPC form cannot express: no late-commit check

    async def _create_and_bind(
        self,
        rows: list[Row],
        resolved: list[dict[str, Any]],
        keys: list[str],
        adopted: Callable[[int], None],
        unknown: Callable[[], None],
    ) -> list[int]:
        """Identity xmlid at ``create``'s speed (:func:`create_and_bind`).

        Odoo refusing the chunk: it is sent once more as ``load()``, which commits
        nothing either and names the row it refuses (``LoadFailed``), as before.
        """
        values = [self.convert(r, v) for r, v in zip(rows, resolved, strict=True)]
        names = [xmlid_name(self.step.id, k, self.project_id) for k in keys]
        assert self.floor is not None
        try:
            return await create_and_bind(
                self.odoo,
                self.step.model,
                names,
                values,
                self.types,
                self.context,
                self.floor,
                creating=self.creating,
                before_bind=self.scope.heartbeat,  # fenced: no call after losing the lock
                on_adopt=adopted,
                on_unknown=unknown,
                settle=self.settle,
                window=self.window,
                uid=self.uid,
                parent=self.parent,
            )
        except OdooError as refused:
            if not _data_error(refused):
                raise
        return await self._send_creates(rows, resolved, keys, adopted, unknown)

    async def _send_creates(
        self,
        rows: list[Row],
        resolved: list[dict[str, Any]],
        keys: list[str],
        adopted: Callable[[int], None],
        unknown: Callable[[], None],
    ) -> list[int]:
        step, model = self.step, self.step.model
        match step.identity:
            case "xmlid":
                # Relations go as field/.id cells, not as field/id external ids: measured on a
                # real Odoo 18 (issue 17), looking external ids up costs load() more Python
                # time than the exists() query per cell it saves.
                cells = [self.load_cells(r, v) for r, v in zip(rows, resolved, strict=True)]
                columns = [column for _n, column, _c in self.load_columns]
                try:
                    return await create_by_load(
                        self.odoo,
                        model,
                        step.id,
                        keys,
                        columns,
                        cells,
                        self.context,
                        adopted,
                        unknown,
                        project=self.project_id,
                        settle=self.settle,
                    )
                except LoadFailed as failed:
                    if failed.record is not None and 0 <= failed.record < len(rows):
                        failed.row = rows[failed.record]
                    raise
            case "fields":
                values = [self.document(r, v) for r, v in zip(rows, resolved, strict=True)]
                return await create_by_fields(
                    self.odoo,
                    model,
                    step.match,
                    self.types,
                    values,
                    self.context,
                    adopted,
                    unknown,
                    self.settle,
                )
            case "none":
                values = [self.document(r, v) for r, v in zip(rows, resolved, strict=True)]
                return await create_plain(self.odoo, model, keys, values, self.context)
            case _:
                assert_never(step.identity)

    async def _upsert(self, rows: list[Row]) -> None:
        rows, states = await self._skip_done(rows)
        if not rows:
            return
        resolved = await self._resolved(rows)
        if self.step.identity == "xmlid" and any(
            r.key in states and states[r.key].state == "intent" for r in rows
        ):
            # an interrupted run's create whose records were not named yet: adopted as
            # created (rollback removes them), not found by the match as someone's record
            rows, resolved = await self._adopt_unbound(rows, resolved)
            if not rows:
                return
        values = [self.convert(r, v) for r, v in zip(rows, resolved, strict=True)]
        hits = await search_matches(
            self.odoo,
            self.step.model,
            self.step.match,
            self.types,
            values,
            list(self.step.row_fields),
            self.context,
        )
        updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        entries: list[DoneEntry] = []
        new_rows: list[Row] = []
        new_resolved: list[dict[str, Any]] = []
        for row, res, vals, found in zip(rows, resolved, values, hits, strict=True):
            if len(found) > 1:
                ids = sorted(int(f["id"]) for f in found)
                raise RowError(
                    f"match {self.step.match} finds {len(found)} records (ids {ids[:5]}); an "
                    "upsert key must identify at most one record",
                    row=row,
                )
            if not found:
                new_rows.append(row)
                new_resolved.append(res)
                continue
            record = found[0]
            diff, previous = self._diff(record, vals)
            if row.key not in states or states[row.key].state != "done":
                # An interrupted run stored the original previous values: keep them.
                entries.append(
                    DoneEntry(row.key, int(record["id"]), "updated", pack_previous(previous, diff))
                )
            if diff:
                updates.append((int(record["id"]), diff, vals))
            else:
                self.counts.unchanged += 1
        if entries:
            await self.scope.record_done(self.version, self.step.id, self.step.model, entries)
        await self._write_many(updates)
        self.counts.updated += len(updates)
        if new_rows:
            await self._create_rows(new_rows, new_resolved)

    def _diff(
        self, record: dict[str, Any], values: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        diff: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        for name, new in values.items():
            current = record.get(name, False)
            if not equal_values(self.types[name], current, new):
                diff[name] = new
                previous[name] = to_rpc_value(self.types[name], current)
        return diff, previous

    async def _write_many(self, updates: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> None:
        """Write per-record diffs in as few calls as possible."""
        if not updates:
            return
        groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
        for record_id, diff, _full in updates:
            token = json.dumps(diff, sort_keys=True, default=str)
            groups.setdefault(token, (diff, []))[1].append(record_id)
        model = self.step.model
        if len(groups) <= _WRITE_GROUPS_MAX:
            for diff, ids in groups.values():
                await self.odoo.write(model, ids, diff, self.context)
            return
        # Many distinct value sets: one load() with a ".id" column writes them all.
        names = sorted({name for _i, diff, _f in updates for name in diff})
        convs = [load_converter(name, self.types[name]) for name in names]
        columns = [".id", *(column for column, _c in convs)]
        data = [
            [
                str(record_id),
                *(
                    conv(full.get(name, False))
                    for name, (_c, conv) in zip(names, convs, strict=True)
                ),
            ]
            for record_id, _diff, full in updates
        ]
        answer = await self.odoo.load(model, columns, data, self.context)
        if answer.ids is None:
            raise LoadFailed(answer)

    # -- records selected by match or domain -------------------------------------

    async def _targets(
        self, chunk: Chunk, fields: Sequence[str]
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The records a chunk addresses, read with ``fields``, each with the converted
        values of its row (``row_values`` for records found by a domain)."""
        if chunk.ids:
            records = await self.odoo.read(
                self.step.model, chunk.ids, list(fields), {**self.context, "active_test": False}
            )
            return [(self.row_values, r) for r in records]
        resolved = await self._resolved(chunk.rows)
        values = [self.convert(r, v) for r, v in zip(chunk.rows, resolved, strict=True)]
        hits = await search_matches(
            self.odoo, self.step.model, self.step.match, self.types, values, fields, self.context
        )
        out: list[tuple[dict[str, Any], dict[str, Any]]] = []
        seen: set[int] = set()
        missing = 0  # rows that bring no record of their own
        for vals, found in zip(values, hits, strict=True):
            before = len(out)
            for record in found:
                if int(record["id"]) not in seen:
                    seen.add(int(record["id"]))
                    out.append((vals, record))
            missing += len(out) == before
        self.counts.skipped += missing
        self.unmatched += missing
        return out

    async def _update(self, chunk: Chunk) -> None:
        names = list(self.step.row_fields)
        targets = await self._targets(chunk, names)
        if not targets:
            return
        keys = [str(r["id"]) for _vals, r in targets]
        states = await self.states(keys)
        updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        entries: list[DoneEntry] = []
        for (vals, record), key in zip(targets, keys, strict=True):
            diff, previous = self._diff(record, vals)
            if key not in states or states[key].state != "done":
                entries.append(
                    DoneEntry(key, int(record["id"]), "updated", pack_previous(previous, diff))
                )
            if diff:
                updates.append((int(record["id"]), diff, vals))
            else:
                self.counts.unchanged += 1
        if entries:
            await self.scope.record_done(self.version, self.step.id, self.step.model, entries)
        await self._write_many(updates)
        self.counts.updated += len(updates)

    def snapshot_fields(self) -> list[str]:
        return sorted(
            name
            for name, spec in self.fields_get.items()
            if name not in _SNAPSHOT_SKIP
            and spec.get("store", True) is not False
            and not spec.get("readonly", False)
            and spec.get("type") not in ("one2many",)
        )

    async def _delete(self, chunk: Chunk) -> None:
        archive = self.step.archive
        fields = ["active"] if archive else self.snapshot_fields()
        targets = await self._targets(chunk, fields)
        if not targets:
            return
        ids = [int(r["id"]) for _vals, r in targets]
        keys = [str(i) for i in ids]
        states = await self.states(keys)
        entries: list[DoneEntry] = []
        for key, (_vals, record) in zip(keys, targets, strict=True):
            if key in states and states[key].state == "done":
                continue  # snapshot already stored by the interrupted run: keep the original
            if archive:
                previous: dict[str, Any] = {"active": bool(record.get("active", True))}
                packed = pack_previous(previous, {"active": False})
                entries.append(DoneEntry(key, int(record["id"]), "updated", packed))
            else:
                snapshot = {
                    f: to_rpc_value(self.types[f], record[f]) for f in fields if f in record
                }
                entries.append(DoneEntry(key, int(record["id"]), "deleted", snapshot))
        if entries:
            await self.scope.record_done(self.version, self.step.id, self.step.model, entries)
        if archive:
            await self.odoo.write(self.step.model, ids, {"active": False}, self.context)
        else:
            await self._unlink(ids)
        if archive:
            self.counts.archived += len(ids)
        else:
            self.counts.deleted += len(ids)

    async def _unlink(self, ids: list[int]) -> None:
        model = self.step.model
        try:
            await self.odoo.unlink(model, ids, self.context)
        except MissingRecordError:
            # Some vanished meanwhile (Odoo refuses the whole call): unlink the rest.
            alive = await self.odoo.search(model, [["id", "in", ids]], {"active_test": False})
            await self.odoo.unlink(model, alive, self.context)

    async def _call(self, chunk: Chunk) -> None:
        step = self.step
        method = step.method or ""
        if step.selector == "model":
            states = await self.states(["model"])
            if "model" in states and states["model"].state == "done":
                self.counts.skipped += 1
                return
            await self.scope.record_intents(self.version, step.id, step.model, "called", ["model"])
            await self._call_rpc(method, [])
            await self.scope.record_done(
                self.version, step.id, step.model, [DoneEntry("model", None, "called", None)]
            )
            self.counts.called += 1
            return
        targets = await self._targets(chunk, ["id"])
        keys = [str(r["id"]) for _vals, r in targets]
        states = await self.states(keys)
        todo = [k for k in keys if k not in states or states[k].state != "done"]
        self.counts.skipped += len(keys) - len(todo)
        if not todo:
            return
        await self.scope.record_intents(self.version, step.id, step.model, "called", todo)
        await self._call_rpc(method, [int(k) for k in todo])
        entries = [DoneEntry(k, int(k), "called", None) for k in todo]
        await self.scope.record_done(self.version, step.id, step.model, entries)
        self.counts.called += len(todo)

    async def _call_rpc(self, method: str, ids: list[int]) -> None:
        try:
            await self.odoo.call(
                self.step.model, method, ids, self.step.args, self.step.kwargs, self.context
            )
        except OutcomeUnknownError:
            raise UnknownOutcome([str(i) for i in ids], self.step.model) from None


def _data_error(error: OdooError) -> bool:
    """Odoo refused the values (not the user, the session or a concurrent transaction)."""
    return not isinstance(error, (AuthenticationError, AccessError, ConcurrencyError))


def lines_model(step: Step, fields_get: dict[str, dict[str, Any]]) -> str:
    """The model of a step's lines: the relation of its one2many field (RowError if not one)."""
    spec = step.lines
    assert spec is not None
    attrs = fields_get.get(spec.field)
    if attrs is None or attrs.get("type") != "one2many" or not attrs.get("relation"):
        what = (
            "has no field" if attrs is None else f"has a {attrs.get('type')} field, not a one2many,"
        )
        raise RowError(
            f"model '{step.model}' {what} '{spec.field}' ([steps.lines] field names the "
            "one2many that holds the lines, e.g. order_line)",
            field=spec.field,
        )
    return str(attrs["relation"])


__all__ = ["Chunk", "StepRun", "lines_model"]
