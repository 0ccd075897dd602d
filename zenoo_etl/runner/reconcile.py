"""Settling intents left by an interrupted run (DESIGN.md section 5).

An ``intent`` row means "about to be sent": the runner died, or the answer
was lost, before Odoo's answer was recorded. Before anything else, apply and
rollback settle them per step:

* created with ``identity = "xmlid"``: look the external ids up in
  ``ir.model.data``; adopt what exists (``done`` with its id), the rest stays
  an intent and is simply sent again by the run (or dropped by rollback);
* created with ``identity = "fields"``: settled chunk by chunk by the run,
  which searches the ``match`` fields of those rows before re-sending
  (the ledger does not keep field values); rollback cannot look them up;
* method calls of an idempotent method (``write``, ``read``..., the client's
  :data:`~zenoo_etl.client.retry.IDEMPOTENT_METHODS`): sending them again
  gives the same result, so apply drops the intents and the run re-sends;
* created with ``identity = "none"`` and other method calls: unverifiable —
  apply stops and says so; ``rollback --force`` drops them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from zenoo_etl.client.retry import IDEMPOTENT_METHODS
from zenoo_etl.compiler import Migration
from zenoo_etl.errors import MigrationFailed
from zenoo_etl.ledger.protocol import DoneEntry, LedgerRecord
from zenoo_etl.runner.coerce import field_types
from zenoo_etl.runner.identity import chunk_note, lookup_xmlids, unnamed_above, xmlid_name
from zenoo_etl.runner.session import Session


class OutcomeUnknown(MigrationFailed):
    """Records whose creation (or call) cannot be verified (exit 1)."""


def _group(intents: list[LedgerRecord]) -> dict[tuple[str, str, str], list[LedgerRecord]]:
    groups: dict[tuple[str, str, str], list[LedgerRecord]] = defaultdict(list)
    for record in intents:
        groups[(record.step, record.model, record.operation)].append(record)
    return groups


async def reconcile(
    session: Session,
    migration: Migration | None,
    version: int,
    *,
    for_rollback: bool = False,
    force: bool = False,
) -> int:
    """Settle the intents of ``version``; returns how many records were adopted.

    Apply also settles compensation intents (:func:`settle_undoing`) first.
    """
    scope = session.scope
    if not for_rollback:
        await settle_undoing(session, version)
    intents = await scope.intents(version)
    if not intents:
        return 0
    steps = {s.id: s for s in migration.steps} if migration is not None else {}
    adopted = 0
    where = migration.path.name if migration is not None else f"version {version}"
    for (step_id, model, operation), records in _group(intents).items():
        keys = [r.key for r in records]
        step = steps.get(step_id)
        identity = step.identity if step is not None else "none"
        if operation == "created" and identity == "xmlid":
            # the project's names, and those of runs made before it had a project id
            pid = session.project.config.project.id
            names = {xmlid_name(step_id, key): key for key in keys}
            if pid:
                names.update({xmlid_name(step_id, key, pid): key for key in keys})
            found = await lookup_xmlids(session.odoo, model, list(names))
            settled = {names[n]: rid for n, rid in found.items()}
            entries = [DoneEntry(key, rid, "created", None) for key, rid in settled.items()]
            if entries:
                await scope.record_done(version, step_id, model, entries)
                adopted += len(entries)
            if for_rollback:
                rest = [r for r in records if r.key not in settled]
                if not force:
                    await _refuse_unnamed(session, where, step_id, model, rest)
                if rest:
                    await scope.mark_compensated(version, step_id, [r.key for r in rest])
            continue
        if operation == "created" and identity == "fields" and not for_rollback:
            continue  # settled per chunk by the run (it has the match values)
        if (
            operation == "called"
            and not for_rollback
            and step is not None
            and step.method in IDEMPOTENT_METHODS
        ):
            # e.g. a 504 on a `write` call: whether it landed or not, sending it again
            # leaves the same values, so nothing needs verifying
            await scope.mark_compensated(version, step_id, keys)
            continue
        if for_rollback:
            session.warn(
                f"{where}, step '{step_id}': {len(keys)} {model} record(s) were sent but never "
                "confirmed and cannot be looked up; check the target for them by hand "
                f"(first keys: {', '.join(keys[:5])})"
            )
            await scope.mark_compensated(version, step_id, keys)
            continue
        what = "method calls" if operation == "called" else f"{model} record(s)"
        raise OutcomeUnknown(
            f"{where}, step '{step_id}': {len(keys)} {what} were sent by an interrupted run and "
            f"their outcome cannot be verified (identity '{identity}', first keys: "
            f"{', '.join(keys[:5])}). Check the target by hand, then run "
            "'zenoo-etl rollback --force' to undo this migration and drop these records from "
            'the ledger, or use identity = "xmlid" so reruns can settle this on their own.'
        )
    return adopted


async def _refuse_unnamed(
    session: Session, where: str, step_id: str, model: str, intents: list[LedgerRecord]
) -> None:
    """Intents of a create-and-name chunk (identity xmlid by ``create``) whose records
    may exist without their external ids yet (the run died between the two calls):
    apply recognises them by their rows' values and names them; rollback, which has
    no values, neither deletes records it cannot attribute nor forgets them."""
    notes = [note for r in intents if (note := chunk_note(r.previous))]
    if not notes:
        return  # sent by load(): records and names commit together, nothing unnamed
    users = {note.get("uid") for note in notes}
    above = await unnamed_above(
        session.odoo,
        model,
        min(int(note["floor"]) for note in notes),
        ["id"],
        {},
        None if None in users else {int(u) for u in users if u is not None},
    )
    unnamed = {int(r["id"]) for r in above}
    if unnamed:  # records this migration holds otherwise (identity none steps) are not in doubt
        version = intents[0].version
        async for record in session.scope.records_for_rollback(version):
            if record.model == model and record.odoo_id is not None:
                unnamed.discard(record.odoo_id)
    if not unnamed:
        return
    unnamed_ids = sorted(unnamed)
    raise OutcomeUnknown(
        f"{where}, step '{step_id}': an interrupted apply sent {len(intents)} {model} "
        f"record(s) and died before naming them, and {len(unnamed_ids)} record(s) without an "
        f"external id were created since (ids {_ids(unnamed_ids)}): they may be those rows. Run "
        "'zenoo-etl apply' first (it recognises its rows by their values, names them and "
        "finishes the migration), then roll back; or pass --force to roll back without "
        "them and check those records by hand."
    )


def _ids(ids: list[int], shown: int = 5) -> str:
    return ", ".join(map(str, ids[:shown])) + (", ..." if len(ids) > shown else "")


_SNAPSHOT_MATCH = frozenset({"char", "selection", "many2one", "integer", "date"})


async def find_recreations(
    session: Session, model: str, records: list[LedgerRecord]
) -> dict[str, int]:
    """Records a rollback may have recreated from these deleted ``records``' snapshots
    without hearing the new ids (killed after ``create``, or its answer lost): key ->
    new id. Each snapshot is looked for by its plain stored values among records
    newer than the deleted one; the newest match not claimed yet is the recreation.
    """
    pending = [r for r in records if isinstance(r.previous, dict)]
    if not pending:
        return {}
    types = field_types(await session.fields(model))
    claimed = set(session.recreated.get(model, {}).values())
    found: dict[str, int] = {}
    for record in pending:
        domain: list[Any] = [["id", ">", record.odoo_id or 0]]
        for name, value in sorted(record.previous.items()):
            if types.get(name) in _SNAPSHOT_MATCH and value not in (False, None, ""):
                domain.append([name, "=", value])
        if len(domain) == 1:
            continue  # nothing to recognise it by: recreated again (as before)
        ids = await session.odoo.search(model, domain, {"active_test": False})
        candidates = sorted(set(ids) - claimed)
        if candidates:
            found[record.key] = candidates[-1]
            claimed.add(candidates[-1])
    return found


async def settle_undoing(session: Session, version: int) -> None:
    """Before apply redoes a migration: settle what an interrupted rollback left ``undoing``.

    Checked against what exists, per step and operation:

    * created: records still there are ``done`` again (kept, not sent again);
      records gone were unlinked: ``compensated``, so the run creates them again;
    * updated: ``done`` again; the run re-applies its writes, the stored
      previous values stay the originals;
    * deleted: recreated already (found by snapshot): ``compensated`` with the
      new id (the run deletes the recreation again); else ``done`` again;
    * called: ``compensated``: the undo may have run, so the run calls again.
    """
    scope = session.scope
    pending = await scope.undoing(version)
    for (step_id, model, operation), records in _group(pending).items():
        keys = [r.key for r in records]
        if operation == "created":
            ids = {r.key: r.odoo_id for r in records if r.odoo_id is not None}
            found = await session.odoo.search(
                model, [["id", "in", sorted(set(ids.values()))]], {"active_test": False}
            )
            alive = set(found)
            kept = [k for k in keys if ids.get(k) in alive]
            await scope.restore_done(version, step_id, kept)
            await scope.mark_compensated(version, step_id, [k for k in keys if k not in kept])
        elif operation == "called":
            await scope.mark_compensated(version, step_id, keys)
        elif operation == "deleted":
            # recreated already? then the delete was undone: say so with the new id
            # (the run deletes the recreation again, under its own key)
            recreations = await find_recreations(session, model, records)
            if recreations:
                await scope.mark_compensated(
                    version, step_id, list(recreations), recreated_ids=recreations
                )
            await scope.restore_done(version, step_id, [k for k in keys if k not in recreations])
        else:
            await scope.restore_done(version, step_id, keys)


__all__ = ["OutcomeUnknown", "find_recreations", "reconcile", "settle_undoing"]
