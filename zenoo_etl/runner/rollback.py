"""Undoing migrations from the ledger, newest record first (``zenoo-etl rollback``).

Per migration: settle its intents (:mod:`.reconcile`), mark it
``rolling_back`` (from then on it never claims ``applied``), then repeatedly
take the newest ``done``/``undoing`` records (a page at a time, so memory
stays flat and an interrupted rollback resumes where it stopped), group
consecutive records of the same step and operation, and undo each group in
three steps, each crash-safe:

1. check what exists (and, without ``--force``, what someone else changed);
2. mark the keys about to be undone ``undoing`` (the compensation intent) in
   one ledger batch, BEFORE any call;
3. undo them in one or two calls, then mark them ``compensated``.

A run killed between 2 and 3 leaves ``undoing`` keys: a rerun of rollback
undoes them again (an unlink of what is gone, a write-back of values already
restored, are recognised as done), and ``apply`` settles them by looking at
what exists (:func:`.reconcile.settle_undoing`). What each operation does:

* created → ``unlink`` the ids still present (already gone is fine);
* updated → ``write`` the previous values back (one call per distinct set);
* deleted → recreate from the snapshot (``create`` list), new ids recorded;
  a record still present was never deleted and is left alone;
* called → the step's ``undo`` method, or refused unless ``--force``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from zenoo_etl.client.errors import MissingRecordError, OutcomeUnknownError
from zenoo_etl.compiler import Migration, Project
from zenoo_etl.errors import LockLostError, UsageError, ZenooError
from zenoo_etl.ledger.protocol import LedgerRecord, MigrationRecord
from zenoo_etl.runner.coerce import field_types
from zenoo_etl.runner.drift import (
    Changed,
    Drift,
    first_difference,
    modified_after_create,
    split_previous,
)
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.runner.progress import ProgressReporter, StepCounts
from zenoo_etl.runner.reconcile import find_recreations, reconcile
from zenoo_etl.runner.results import MigrationResult, RunFailed, RunResult, StepResult
from zenoo_etl.runner.session import Session, TargetWrapper, open_session
from zenoo_etl.runner.stop import RunInterrupted, StopRequested, stop_requested

# Records undone per page: one unlink per group. On a real Odoo every unlink of
# records with external ids clears the server's caches; a client sending its
# password with each call pays a password re-check (600,000 PBKDF2 rounds, ~0.3 s)
# on the NEXT call, which big pages pay a few times instead of once per 500
# records (issue 17: 25 s with pages of 500 against 5 s for a raw unlink in pages
# of 5,000). The client's web session (JSON-RPC with a password) is re-checked
# with one query instead. Memory stays a few MB per page.
PAGE = 5000
# Ledger records taken per read-ahead window: what still exists and what changed
# since apply is read for the whole window (one read_group per model and READ
# ids, :func:`_dates`) BEFORE its first unlink, then the window's pages are
# unlinked back to back, so no unlink's effects (a parent's recomputed fields)
# are mistaken for an edit; memory stays bounded by the window.
WINDOW = 50_000
READ = 20_000
_UNDOABLE = ("applied", "applied_with_rejects", "failed", "applying", "rolling_back")


class IrreversibleStep(ZenooError):
    """A step cannot be undone (a call without ``undo``) and ``--force`` was not given."""


def _migration(project: Project, version: int) -> Migration | None:
    return next((m for m in project.migrations if m.version == version), None)


async def _newest(
    session: Session, version: int, kept: set[int], limit: int = PAGE
) -> list[LedgerRecord]:
    """The newest ``done`` records, minus those left alone as changed since apply."""
    records: list[LedgerRecord] = []
    iterator = session.scope.records_for_rollback(version)
    try:
        async for record in iterator:
            if record.seq in kept:
                continue
            records.append(record)
            if len(records) >= limit:
                break
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return records


def _groups(records: list[LedgerRecord], page: int = PAGE) -> list[list[LedgerRecord]]:
    """Consecutive records of one step and operation, at most ``page`` per group."""
    groups: list[list[LedgerRecord]] = []
    for record in records:
        last = groups[-1][0] if groups else None
        if (
            last is not None
            and len(groups[-1]) < page
            and (last.step, last.model, last.operation)
            == (record.step, record.model, record.operation)
        ):
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


async def _alive(session: Session, model: str, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    found = await session.odoo.search(model, [["id", "in", ids]], {"active_test": False})
    return set(found)


async def undo_group(
    session: Session,
    migration: Migration | None,
    group: list[LedgerRecord],
    *,
    force: bool,
    counts: StepCounts,
    drift: Drift | None = None,
    read_ahead: dict[str, dict[int, dict[str, Any]]] | None = None,
    unlink_later: list[int] | None = None,
) -> set[str]:
    """Undo one group of same-step, same-operation records; mark them compensated.

    Records gone from Odoo are skipped and listed in ``drift.missing``; without
    ``force``, records someone changed since apply are listed in
    ``drift.changed``, left as they are and stay ``done`` in the ledger.
    ``read_ahead`` holds, per model, what :func:`_read_ahead` read of created
    records before the window's first unlink; a created group found there is
    not read again. With ``unlink_later``, a created group is checked and marked
    ``undoing`` but its ids are appended there instead of unlinked: the caller
    unlinks them together with neighbouring groups of the same model and then
    marks them compensated (:func:`_flush`).
    """
    drift = drift if drift is not None else Drift()
    keep: set[str] = set()
    scope = session.scope

    async def intend(records: list[LedgerRecord]) -> None:
        """The compensation intent, in the ledger before the call that undoes them."""
        await scope.mark_undoing(version, step_id, [r.key for r in records if r.key not in keep])

    first = group[0]
    version, step_id, model = first.version, first.step, first.model
    step = next((s for s in migration.steps if s.id == step_id), None) if migration else None
    context = session.context(step.context if step is not None else None)
    odoo = session.odoo
    recreated: dict[str, int] = {}
    match first.operation:
        case "created":
            ids = [session.current_id(model, r.odoo_id) for r in group if r.odoo_id is not None]
            known = read_ahead.get(model) if read_ahead is not None else None
            if force:
                alive = set(known).intersection(ids) if known is not None else None
                if alive is None:
                    alive = await _alive(session, model, ids)
            else:
                # one call: which ids are still there, and whether someone wrote to them
                if known is not None:
                    found = {i: known[i] for i in ids if i in known}
                else:
                    found = await _dates(session.odoo, model, ids)
                alive = set(found)
                ours = session.restored.get(model, set())
                edited = {
                    i for i, rec in found.items() if i not in ours and modified_after_create(rec)
                }
                edited -= await _late_commits(session, model, group, edited)
                for record in group:
                    now_id = _now_id(session, model, record)
                    if now_id in edited:
                        rec = found[now_id]
                        drift.changed.append(
                            Changed(
                                record.key,
                                now_id,
                                "write_date",
                                rec.get("create_date"),
                                rec.get("write_date"),
                            )
                        )
                        keep.add(record.key)
                alive -= edited
            drift.missing.extend(_gone_before(session, model, group, alive, keep))
            await intend(group)
            if unlink_later is not None:
                unlink_later.extend(sorted(alive))
                counts.deleted += len(alive)
                return keep
            counts.deleted += await _unlink(session, model, sorted(alive), context)
        case "updated":
            types = field_types(await session.fields(model))
            restore: list[tuple[LedgerRecord, int, dict[str, Any], dict[str, Any] | None]] = []
            for record in group:
                previous, written = split_previous(record.previous)
                if previous and record.odoo_id is not None:
                    now_id = session.current_id(model, record.odoo_id)
                    restore.append((record, now_id, previous, written))
            checked = sorted({n for _r, _i, _p, w in restore if w and not force for n in w})
            match = [n for n in (step.match if step is not None else []) if n in types]
            read = sorted({*checked, *match}) if checked else checked
            found = await _present(session, model, [i for _r, i, _p, _w in restore], read)
            by_values: dict[str, tuple[dict[str, Any], list[int]]] = {}
            for record, now_id, previous, written in restore:
                if now_id not in found:
                    drift.missing.append(now_id)
                    continue
                if written and not force:
                    # a field already back at its previous value is not someone else's
                    # edit: an interrupted rollback (or a partial one) restored it
                    differs = first_difference(types, written, found[now_id], also=previous)
                    if differs is not None:
                        name, current = differs
                        named = {n: found[now_id].get(n) for n in match} or None
                        drift.changed.append(
                            Changed(record.key, now_id, name, written.get(name), current, named)
                        )
                        keep.add(record.key)
                        continue
                token = json.dumps(previous, sort_keys=True, default=str)
                by_values.setdefault(token, (previous, []))[1].append(now_id)
            await intend([r for r, _i, _p, _w in restore])
            ours = session.restored.setdefault(model, set())
            for previous, targets in by_values.values():
                await odoo.write(model, sorted(targets), _rpc_values(previous), context)
                ours.update(targets)
                counts.updated += len(targets)
        case "deleted":
            ids = [r.odoo_id for r in group if r.odoo_id is not None]
            present = await _alive(session, model, ids)
            todo = [r for r in group if r.odoo_id not in present and r.previous]
            # an interrupted rollback may have recreated some already: find, do not duplicate
            found_again = await find_recreations(
                session, model, [r for r in todo if r.state == "undoing"]
            )
            if found_again:
                recreated.update(found_again)
                for r in todo:
                    if r.key in found_again and r.odoo_id is not None:
                        session.recreated.setdefault(model, {})[r.odoo_id] = found_again[r.key]
                todo = [r for r in todo if r.key not in found_again]
            snapshots = [_rpc_values(r.previous) for r in todo]
            await intend(group)
            try:
                new_ids = await odoo.create(model, snapshots, context)
            except OutcomeUnknownError:
                # the answer was lost: the records may exist. Look (after letting a
                # late commit land); what is not found stays 'undoing' for a rerun
                await asyncio.sleep(min(session.project.config.runner.timeout, 5.0))
                recreations = await find_recreations(session, model, todo)
                if recreations:
                    await session.scope.mark_compensated(
                        version, step_id, list(recreations), recreated_ids=recreations
                    )
                raise
            recreated.update({r.key: i for r, i in zip(todo, new_ids, strict=True)})
            moved = session.recreated.setdefault(model, {})
            for r, new_id in zip(todo, new_ids, strict=True):
                if r.odoo_id is not None:
                    moved[r.odoo_id] = new_id
            counts.created += len(new_ids)
        case "called":
            if step is not None and step.undo is not None:
                ids = [session.current_id(model, r.odoo_id) for r in group if r.odoo_id is not None]
                session.restored.setdefault(model, set()).update(ids)
                await intend(group)
                await odoo.call(
                    model, step.undo.method, ids, step.undo.args, step.undo.kwargs, context
                )
                counts.called += len(group)
            elif not force:
                where = migration.path.name if migration else f"version {version}"
                raise IrreversibleStep(
                    f"{where}, step '{step_id}' called '{step.method if step else '?'}' on "
                    f"{model} without an undo; it cannot be rolled back. Give the step "
                    "undo = { method = ..., args = [...] }, or pass --force to roll back the "
                    "rest and leave these calls as they are."
                )
            else:
                session.warn(f"step '{step_id}': {len(group)} call(s) left as they are (--force)")
        case other:
            raise AssertionError(f"unknown ledger operation {other!r}")
    keys = [r.key for r in group if r.key not in keep]
    if keys:
        await session.scope.mark_compensated(
            version, step_id, keys, recreated_ids=recreated or None
        )
    return keep


async def _late_commits(
    session: Session, model: str, group: list[LedgerRecord], edited: set[int]
) -> set[int]:
    """Of the ``edited`` ids, those still holding exactly what this migration wrote.

    A create whose answer was lost may commit late (the server processed the
    held request after the client gave up) and rewrite the records created
    meanwhile with the same values: ``write_date`` moves, nobody else edited.
    Apply keeps the written values of such chunks in the ledger.
    """
    written = {
        now_id: values
        for r in group
        if (now_id := _now_id(session, model, r)) in edited
        and (values := split_previous(r.previous)[1])
    }
    if not written:
        return set()
    types = field_types(await session.fields(model))
    names = sorted({n for values in written.values() for n in values})
    current = await _present(session, model, sorted(written), names)
    return {
        i
        for i, values in written.items()
        if i in current and first_difference(types, values, current[i]) is None
    }


class _Batch:
    """Created groups of one model and context, checked and marked, unlinked in one call.

    Groups of different steps (customers, then contacts of one model) would
    otherwise cost an unlink each (and, with the password in every call, every
    unlink after one that removed external ids pays the password re-check).
    """

    def __init__(self) -> None:
        self.model: str | None = None
        self.context: Any = None
        self.ids: list[int] = []
        self.groups: list[tuple[list[LedgerRecord], set[str]]] = []
        self.size = 0

    def takes(self, group: list[LedgerRecord], migration: Migration | None) -> bool:
        head = group[0]
        if head.operation != "created":
            return False
        if not self.groups:
            return True
        return (
            head.model == self.model
            and _step_context(migration, head.step) == self.context
            and self.size + len(group) <= PAGE
        )

    def add(self, group: list[LedgerRecord], keep: set[str], migration: Migration | None) -> None:
        self.model = group[0].model
        self.context = _step_context(migration, group[0].step)
        self.groups.append((group, keep))
        self.size += len(group)


def _step_context(migration: Migration | None, step_id: str) -> Any:
    step = next((s for s in migration.steps if s.id == step_id), None) if migration else None
    return step.context if step is not None else None


async def _flush(session: Session, batch: _Batch) -> None:
    """Unlink a batch's ids (already marked ``undoing``), then mark them compensated."""
    if not batch.groups or batch.model is None:
        return
    await _unlink(session, batch.model, sorted(batch.ids), session.context(batch.context))
    for group, keep in batch.groups:
        keys = [r.key for r in group if r.key not in keep]
        if keys:
            await session.scope.mark_compensated(group[0].version, group[0].step, keys)
    batch.groups.clear()


def _gone_before(
    session: Session, model: str, group: list[LedgerRecord], alive: set[int], keep: set[str]
) -> list[int]:
    """Missing ids of a group, without those an interrupted rollback itself unlinked."""
    return sorted(
        i
        for r in group
        if r.state != "undoing"
        and r.key not in keep
        and (i := _now_id(session, model, r)) is not None
        and i not in alive
    )


async def _unlink(session: Session, model: str, ids: list[int], context: dict[str, Any]) -> int:
    """Unlink ``ids``; some vanishing meanwhile (Odoo refuses the whole call) is fine.

    Returns how many were unlinked by this call.
    """
    if not ids:
        return 0
    try:
        await session.odoo.unlink(model, ids, context)
    except MissingRecordError:
        alive = await _alive(session, model, ids)
        if alive:
            await session.odoo.unlink(model, sorted(alive), context)
        return len(alive)
    return len(ids)


async def _read_ahead(
    session: Session, records: list[LedgerRecord], *, force: bool
) -> dict[str, dict[int, dict[str, Any]]]:
    """What exists of a window's created records, and their dates: few large reads.

    Done before the window's first unlink, so no read pays a password re-check
    that an unlink's cache clear causes (without a web session), and the dates
    are those from before this rollback touched anything (an unlinked child
    recomputing a field of its parent does not make the parent look edited). A
    record someone edits after this read is as undetected as one edited after
    a per-page read was.
    """
    wanted: dict[str, set[int]] = {}
    for record in records:
        if record.operation == "created" and record.odoo_id is not None:
            wanted.setdefault(record.model, set()).add(_now_id_of(session, record))
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for model, ids in wanted.items():
        ordered = sorted(ids)
        seen = found.setdefault(model, {})
        for start in range(0, len(ordered), READ):
            part = ordered[start : start + READ]
            if force:
                seen.update({i: {"id": i} for i in await _alive(session, model, part)})
            else:
                seen.update(await _dates(session.odoo, model, part))
    return found


_DATE_FIELDS = ["id", "create_date", "write_date"]
_DATES = [f"{name}:array_agg" for name in _DATE_FIELDS]


async def _dates(odoo: OdooTarget, model: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The records of ``ids`` still in Odoo (archived too) with ``create_date``/``write_date``.

    One ``read_group`` answering three arrays (``ARRAY_AGG(... ORDER BY id)``)
    rather than a ``search_read``: the values are the same strings, but Odoo's
    read builds each record's fields in Python (0.19 s for 10,000 partners on a
    real 18) where the arrays come straight from SQL (0.04 s). An answer of
    another shape (an older server) falls back to the ``search_read``.
    """
    if not ids:
        return {}
    context = {"active_test": False}
    answer = await odoo.call(
        model,
        "read_group",
        [],
        [[["id", "in", ids]], _DATES, []],
        {"lazy": False},
        context,
    )
    group = answer[0] if isinstance(answer, list) and len(answer) == 1 else None
    columns = [group.get(name) for name in _DATE_FIELDS] if group else []
    if not columns or not all(isinstance(c, list) for c in columns):
        rows = await odoo.search_read(model, [["id", "in", ids]], _DATE_FIELDS, context)
        return {int(r["id"]): r for r in rows}
    return {
        int(i): {"id": int(i), "create_date": created, "write_date": written}
        for i, created, written in zip(*columns, strict=True)
    }


def _now_id_of(session: Session, record: LedgerRecord) -> int:
    assert record.odoo_id is not None
    return session.current_id(record.model, record.odoo_id)


def _now_id(session: Session, model: str, record: LedgerRecord) -> int | None:
    return None if record.odoo_id is None else session.current_id(model, record.odoo_id)


async def _present(
    session: Session, model: str, ids: list[int], fields: list[str]
) -> dict[int, dict[str, Any]]:
    """The records of ``ids`` still in Odoo (archived too), read with ``fields``: one call."""
    if not ids:
        return {}
    found = await session.odoo.search_read(
        model, [["id", "in", ids]], ["id", *fields], {"active_test": False}
    )
    return {int(r["id"]): r for r in found}


def _rpc_values(stored: dict[str, Any]) -> dict[str, Any]:
    """Values read back from the ledger's JSON: x2many commands become tuples again."""
    return {k: ([tuple(c) for c in v] if _is_commands(v) else v) for k, v in stored.items()}


def _is_commands(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(c, (list, tuple)) and len(c) == 3 and isinstance(c[0], int) for c in value
        )
    )


async def _refuse_irreversible(session: Session, record: MigrationRecord) -> None:
    """Stop before a migration whose calls without ``undo`` actually ran."""
    migration = _migration(session.project, record.version)
    if migration is None:
        return
    for step in migration.steps:
        if step.reversible:
            continue
        states = await session.scope.step_state(record.version, step.id)
        if any(s.state == "done" for s in states.values()):
            raise IrreversibleStep(
                f"Migration {session.project.relative(migration.path)} step '{step.id}' called "
                f"'{step.method}' on {step.model} without an undo, so it cannot be rolled back; "
                "the rollback stopped before it. Give the step undo = { method = ..., args = "
                "[...] }, roll back only newer migrations with --to, or pass --force to undo "
                "the rest and leave those calls as they are."
            )


async def undo_migration(
    session: Session,
    record: MigrationRecord,
    *,
    force: bool,
    error: str | None = None,
) -> MigrationResult:
    """Undo everything the ledger holds for one migration; status ``rolled_back``."""
    started = time.monotonic()
    project = session.project
    migration = _migration(project, record.version)
    file = project.relative(migration.path) if migration else f"version {record.version}"
    result = MigrationResult(record.version, record.name, file, "rolled_back")
    session.progress.migration_started(record.version, record.name, 1)
    await reconcile(session, migration, record.version, for_rollback=True, force=force)
    if record.status != "rolling_back":
        # before the first undo: an interrupted rollback must never leave "applied"
        await session.scope.set_status(record.version, "rolling_back", error=error)
    per_step: dict[str, StepResult] = {}
    kept: set[int] = set()
    while True:
        if stop_requested():
            # each page is undone and marked compensated before we look again
            raise StopRequested(f"stopped on request while undoing version {record.version}")
        window = await _newest(session, record.version, kept, WINDOW)
        if not window:
            break
        read_ahead = await _read_ahead(session, window, force=force)
        batch = _Batch()
        for group in _groups(window):
            head = group[0]
            if not batch.takes(group, migration):
                await _flush(session, batch)
                batch = _Batch()
            if stop_requested():
                # what this window undid so far is marked compensated; nothing half-done
                await _flush(session, batch)
                raise StopRequested(f"stopped on request while undoing version {record.version}")
            step_result = per_step.get(head.step)
            if step_result is None:
                step_result = StepResult(head.step, head.model, "rollback")
                per_step[head.step] = step_result
                session.progress.step_started(head.step, head.model, "rollback", None)
            began = time.monotonic()
            left = await undo_group(
                session,
                migration,
                group,
                force=force,
                counts=step_result.counts,
                drift=step_result.drift,
                read_ahead=read_ahead,
                unlink_later=batch.ids if batch.takes(group, migration) else None,
            )
            if batch.takes(group, migration):
                batch.add(group, left, migration)
            kept.update(r.seq for r in group if r.key in left)
            step_result.seconds += time.monotonic() - began
            step_result.records += len(group)
            session.progress.step_advanced(head.step, len(group))
        await _flush(session, batch)
        for name in list(per_step):
            session.resolver.forget_step(name)
    for step_result in per_step.values():
        session.progress.step_finished(step_result.step, step_result.counts, step_result.seconds)
        gone = step_result.drift.missing
        if gone:
            shown = ", ".join(str(i) for i in gone[:10]) + (" ..." if len(gone) > 10 else "")
            session.warn(
                f"{file} step '{step_result.step}': {len(gone)} {step_result.model} record(s) "
                f"were already deleted by someone else and were skipped (ids {shown})"
            )
        # records changed since apply: the ChangedSinceApply error below tells them
    result.steps = list(per_step.values())
    result.seconds = time.monotonic() - started
    changed = [(s.step, c) for s in result.steps for c in s.drift.changed]
    if changed:
        result.status = "changed_since_apply"
        result.error = _changed_message(file, changed)
        # partly undone: neither applied nor rolled back; rollback --force or apply resumes
        await session.scope.set_status(record.version, "rolling_back", error=result.error)
        session.progress.migration_finished(record.version, record.name, result.status)
        raise ChangedSinceApply(result.error, result)
    await session.scope.set_status(record.version, "rolled_back", error=error)
    session.progress.migration_finished(record.version, record.name, "rolled_back")
    return result


def _changed_message(file: str, changed: list[tuple[str, Changed]]) -> str:
    step, first = changed[0]
    more = f" and {len(changed) - 1} more (see the --json output)" if len(changed) > 1 else ""
    return (
        f"Migration {file}: {len(changed)} record(s) were changed by someone else since "
        f"apply, so rollback left them as they are and did not mark the migration rolled "
        f"back: step '{step}' {first.describe()}{more}. The rest of this migration was "
        "undone. Check those records, then rerun the same rollback with --force to "
        "overwrite (or delete) them anyway."
    )


class ChangedSinceApply(ZenooError):
    """Records changed by someone else since apply were left alone (no ``--force``)."""

    def __init__(self, message: str, result: MigrationResult) -> None:
        super().__init__(message)
        self.result = result


async def load_recreated(session: Session, records: list[MigrationRecord]) -> None:
    """Fill ``session.recreated`` from deletes that EARLIER rollback runs undid.

    Keys of delete steps are the deleted record's id and a compensated delete
    row holds the id of its recreation, so ``{int(key): odoo_id}`` is the
    mapping. Rolled-back migrations hold such rows, and so do migrations an
    interrupted rollback left ``rolling_back`` — also after ``apply`` redid
    them (the redo deletes the recreation under a new key; the chain
    old id -> recreation -> its recreation is followed by ``current_id``).
    """
    project, scope = session.project, session.scope
    for record in records:
        migration = _migration(project, record.version)
        for step in migration.steps if migration is not None else []:
            if step.action != "delete" or step.archive:
                continue
            moved = session.recreated.setdefault(step.model, {})
            for key, row in (await scope.step_state(record.version, step.id)).items():
                if (
                    row.state == "compensated"
                    and row.operation == "deleted"
                    and row.odoo_id is not None
                    and key.isdigit()
                    and int(key) != row.odoo_id
                ):
                    moved[int(key)] = row.odoo_id


async def load_touched(session: Session, records: list[MigrationRecord], oldest: int) -> None:
    """Fill ``session.restored`` with every record a migration updated or called a method on.

    Apply's own writes (and their undo) also move ``write_date``, so for those
    records a later ``write_date`` says nothing about someone else; their
    updated fields are still checked value by value. Only migrations from
    ``oldest`` on matter: an older one ran before the records were created.
    """
    project, scope = session.project, session.scope
    for record in records:
        if record.version < oldest:
            continue
        migration = _migration(project, record.version)
        for step in migration.steps if migration is not None else []:
            if step.action == "create" or (step.action == "delete" and not step.archive):
                continue
            ours = session.restored.setdefault(step.model, set())
            for row in (await scope.step_state(record.version, step.id)).values():
                if row.operation in ("updated", "called") and row.odoo_id is not None:
                    ours.add(session.current_id(step.model, row.odoo_id))


def select_for_rollback(
    records: list[MigrationRecord], to_version: int | None, last: int | None
) -> list[MigrationRecord]:
    """Migrations to undo, newest first: above ``to_version``, or the ``last`` N (default 1)."""
    undoable = sorted((r for r in records if r.status in _UNDOABLE), key=lambda r: -r.version)
    if to_version is not None and last is not None:
        raise UsageError("Give either --to VERSION or --last N, not both.")
    if to_version is not None:
        if to_version < 0:
            raise UsageError("--to takes a version number, 0 to undo every migration.")
        return [r for r in undoable if r.version > to_version]
    count = 1 if last is None else last
    if count < 1:
        raise UsageError("--last takes a positive number of migrations.")
    return undoable[:count]


async def rollback(
    project: Project,
    to_version: int | None = None,
    last: int | None = None,
    force: bool = False,
    progress: ProgressReporter | None = None,
    *,
    yes: bool = True,
    confirm: Callable[[str], bool] | None = None,
    wrap_target: TargetWrapper | None = None,
    odoo: OdooTarget | None = None,
) -> RunResult:
    """Undo applied migrations newest first; see the module docstring."""
    started = time.monotonic()
    result = RunResult("rollback", project.target_name)
    async with open_session(
        project, "rollback", progress, wrap_target=wrap_target, odoo=odoo
    ) as session:
        records = await session.scope.migrations()
        chosen = select_for_rollback(records, to_version, last)
        if chosen and not yes and confirm is not None:
            summary = "\n".join(f"  undo {r.version:04d}_{r.name} ({r.status})" for r in chosen)
            if not confirm(
                f"Roll back {len(chosen)} migration(s) on target "
                f"'{project.target_name}':\n{summary}"
            ):
                raise ZenooError("Aborted: nothing was rolled back.")
        if chosen:
            await load_recreated(session, records)
            if not force:
                await load_touched(session, records, min(r.version for r in chosen))
        try:
            for record in chosen:
                if not force:
                    await _refuse_irreversible(session, record)
                try:
                    result.migrations.append(await undo_migration(session, record, force=force))
                except ChangedSinceApply as changed:
                    result.migrations.append(changed.result)
                    result.ok = False
                    result.error = str(changed)
                    result.warnings = list(session.warnings)
                    result.seconds = time.monotonic() - started
                    rest = len(chosen) - len(result.migrations)
                    tail = f" {rest} older migration(s) were not rolled back." if rest else ""
                    raise RunFailed(f"{changed}{tail}", result) from None
        except RunFailed:
            raise
        except LockLostError:
            raise  # exit 3: this run stopped writing the moment it learnt it lost the lock
        except StopRequested as stopped:
            result.ok = False
            result.error = (
                f"Rollback interrupted ({stopped}); every undo sent so far is recorded in the "
                "ledger. Run the same 'zenoo-etl rollback' again to resume."
            )
            result.warnings = list(session.warnings)
            result.seconds = time.monotonic() - started
            raise RunInterrupted(result.error, result) from stopped
        except ZenooError as exc:
            result.ok = False
            result.error = str(exc)
            result.warnings = list(session.warnings)
            result.seconds = time.monotonic() - started
            raise RunFailed(
                f"Rollback stopped: {exc} Migrations undone before the failure: "
                f"{', '.join(m.name for m in result.migrations) or 'none'}; run the rollback "
                "again to resume.",
                result,
            ) from exc
        result.warnings = list(session.warnings)
    result.seconds = time.monotonic() - started
    return result


__all__ = [
    "ChangedSinceApply",
    "IrreversibleStep",
    "load_recreated",
    "rollback",
    "select_for_rollback",
    "undo_group",
    "undo_migration",
]
