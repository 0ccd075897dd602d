"""Records on the target that a step would overwrite while the ledger knows nothing of them.

A create step's rows get external ids ``__zenoo__.<project>__<step>_<hash>``
(identity ``xmlid``) or are found again by their ``match`` fields (identity
``fields``). When such a record already exists but the ledger has no row for
its key, something is off: the ledger is new, lost or was moved, the target
was reached under another name, or another project uses the same step names.
``load()`` would silently update those records (reverting people's edits)
and the run would report them as created.

:func:`find_foreign` looks them up before the first write, with the batched
lookups reconciliation uses (``ir.model.data`` by name, ``search_read`` on the
match fields); ``apply`` stops with :class:`ForeignRecordsError` (exit 4),
``zenoo-etl ledger adopt`` records them as the migration's own
(:func:`adopt_foreign`) and ``apply --force`` overwrites them, recording
them as updates so that rollback restores their values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from zenoo_etl.client.errors import AccessError
from zenoo_etl.compiler import Migration, Project, Step
from zenoo_etl.compiler.plan import KeyFilter, report_duplicate_keys
from zenoo_etl.compiler.project import iter_key_rows, iter_rows
from zenoo_etl.compiler.values import Ref, Row, SearchRef, XmlidRef
from zenoo_etl.errors import DriftError
from zenoo_etl.ledger.protocol import DoneEntry
from zenoo_etl.runner.coerce import CoercionError, field_types, rpc_converter
from zenoo_etl.runner.identity import (
    XMLID_MODULE,
    lookup_xmlids,
    names_by_metadata,
    search_matches,
    xmlid_name,
    xmlid_prefix,
)
from zenoo_etl.runner.pipeline import chunked
from zenoo_etl.runner.session import Session

_BATCH = 1000  # names per ir.model.data lookup (one search_read each)


#: rows of a step -> key -> id of the existing record each would overwrite
Lookup = Callable[[Session, Step, list[Row]], Awaitable[dict[str, int]]]


class ForeignRecordsError(DriftError):
    """Apply would overwrite records the ledger does not know (exit 4)."""


@dataclass
class Foreign:
    """The records one step would overwrite (or duplicate), by row key."""

    migration: Migration
    step: Step
    found: dict[str, int] = field(default_factory=dict)  # key -> existing odoo id


def _plain(value: Any) -> bool:
    return not isinstance(value, (Ref, XmlidRef, SearchRef, list))


async def _unknown_to_ledger(
    session: Session, migration: Migration, step: Step, found: dict[str, int]
) -> dict[str, int]:
    """``found`` without the keys the ledger has a row for (done in any version, or
    an intent or done row of this migration: reconciliation settles those)."""
    if not found:
        return found
    keys = list(found)
    known = set(await session.scope.done_ids(step.id, keys))
    state = await session.scope.step_state(migration.version, step.id, keys)
    known |= {k for k, row in state.items() if row.state in ("intent", "done", "undoing")}
    return {k: v for k, v in found.items() if k not in known}


async def _known_xmlids(session: Session, step: Step) -> dict[str, int] | None:
    """The external ids of ``step``'s rows that exist (name -> record id) when one
    look tells them all, else None (they are looked up batch by batch).

    One search for the name prefix all of them share tells whether any exists:
    a step none of whose records exist (a first apply) reads no external ids row
    by row. A user who may not read ``ir.model.data`` cannot search names: for
    that user the records' metadata is read (:func:`.identity.names_by_metadata`).

    ``_`` and ``%`` in the prefix act as wildcards, which can only find more
    names, never fewer; a prefix with a backslash (an escape in LIKE) is not
    searched that way.
    """
    pid = session.project.config.project.id
    prefix = xmlid_prefix(step.id, pid)
    domain = [
        ["module", "=", XMLID_MODULE],
        ["model", "=", step.model],
        ["name", "=like", f"{prefix}%"],
    ]
    try:
        if "\\" in prefix or await session.odoo.search("ir.model.data", domain, limit=1):
            return None
    except AccessError:  # the user may not read external ids
        return await names_by_metadata(session.odoo, step.model, prefix)
    return {}


async def _xmlids_exist(session: Session, step: Step, rows: list[Row]) -> dict[str, int]:
    pid = session.project.config.project.id
    names = {xmlid_name(step.id, row.key, pid): row.key for row in rows}
    hits = await lookup_xmlids(session.odoo, step.model, list(names))
    return {key: hits[name] for name, key in names.items() if name in hits}


async def _xmlids_among(
    known: dict[str, int], session: Session, step: Step, rows: list[Row]
) -> dict[str, int]:
    """Like :func:`_xmlids_exist`, from the names :func:`_known_xmlids` read at once."""
    pid = session.project.config.project.id
    names = ((xmlid_name(step.id, row.key, pid), row.key) for row in rows)
    return {key: known[name] for name, key in names if name in known}


async def _matches_exist(session: Session, step: Step, rows: list[Row]) -> dict[str, int]:
    """Rows whose ``match`` values (plain ones: a reference may not resolve yet) exist."""
    types = field_types(await session.fields(step.model))
    if any(name not in types for name in step.match):
        return {}  # the run reports the unknown field with its row
    converters = {name: rpc_converter(types[name]) for name in step.match}
    kept: list[Row] = []
    values: list[dict[str, Any]] = []
    for row in rows:
        wanted = {name: row.values.get(name, False) for name in step.match}
        if not all(_plain(v) for v in wanted.values()):
            continue
        try:
            values.append({n: converters[n](v) for n, v in wanted.items()})
        except CoercionError:
            continue  # the run reports it with its row
        kept.append(row)
    if not kept:
        return {}
    context = session.context(step.context)
    hits = await search_matches(session.odoo, step.model, step.match, types, values, [], context)
    pairs = zip(kept, hits, strict=True)
    return {row.key: min(int(r["id"]) for r in found) for row, found in pairs if found}


async def _scan_step(
    session: Session,
    migration: Migration,
    step: Step,
    unique_keys: bool,
    suspects: set[str] | None = None,
) -> dict[str, int]:
    """One pass over the step's rows: keys proven unique, existing records looked up.

    ``suspects`` are the keys the preflight's row pass found may repeat (None: it
    did not see them all): they are confirmed here, and the pass reads no row for
    the keys alone.
    """
    project = session.project
    if unique_keys and suspects is not None:
        if suspects:
            report_duplicate_keys(project, migration, step, suspects)
        unique_keys = False
    lookup: Lookup | None = None
    if step.action == "create" and step.identity == "xmlid":
        lookup = _xmlids_exist
    elif step.action == "create" and step.identity == "fields" and step.match:
        lookup = _matches_exist
    if step.source is None or (lookup is None and not unique_keys):
        return {}
    if lookup is _xmlids_exist:
        known = await _known_xmlids(session, step)
        if known == {}:
            lookup = None  # none of the step's external ids exists: nothing to look up
            if not unique_keys:
                return {}
        elif known is not None:
            lookup = partial(_xmlids_among, known)
    keys = KeyFilter() if unique_keys else None
    found: dict[str, int] = {}
    # only the match values need the fields rendered; keys alone are much cheaper
    rows = iter_rows if lookup is _matches_exist else iter_key_rows
    for batch in chunked(rows(project, migration, step), _BATCH):
        if keys is not None:
            for row in batch:
                keys.add(row.key)
        if lookup is not None:
            found.update(await lookup(session, step, batch))
    if keys is not None and keys.suspects:
        report_duplicate_keys(project, migration, step, keys.suspects)
    return found


async def find_foreign(
    session: Session,
    migrations: list[Migration],
    *,
    unique_keys: bool = True,
    seen_keys: dict[str, set[str]] | None = None,
) -> list[Foreign]:
    """Per create step of ``migrations``: existing records the ledger does not know.

    The same pass over each step's rows proves its keys unique (a duplicate key
    raises ``MigrationFileError`` naming both rows) unless ``unique_keys`` is
    off (``apply --no-preflight``: then only create steps are read), or the
    preflight's pass saw them (``seen_keys``: step id -> keys that may repeat).
    """
    seen = seen_keys or {}
    result: list[Foreign] = []
    for migration in migrations:
        for step in migration.steps:
            found = await _scan_step(session, migration, step, unique_keys, seen.get(step.id))
            found = await _unknown_to_ledger(session, migration, step, found)
            if found:
                result.append(Foreign(migration, step, found))
    return result


def foreign_message(project: Project, foreign: list[Foreign]) -> str:
    parts = []
    for item in foreign:
        step = item.step
        keys = ", ".join(list(item.found)[:5])
        how = (
            "carry its external ids"
            if step.identity == "xmlid"
            else f"match its rows on {', '.join(step.match)}"
        )
        parts.append(
            f"{project.relative(item.migration.path)} step '{step.id}': {len(item.found)} "
            f"{step.model} record(s) {how} (first keys: {keys})"
        )
    return (
        "Records already exist on the target that the ledger does not know, so nothing "
        f"was written: {'; '.join(parts)}. The ledger may be new, lost or moved (move one "
        "with 'zenoo-etl ledger copy --to URL', never by starting empty), the "
        "database may have been reached under another name, or another project uses the "
        "same step names without a project id. Run 'zenoo-etl ledger adopt' to record "
        "them as this project's own without writing anything, or 'zenoo-etl apply "
        "--force' to overwrite them "
        "(recorded as updates, so rollback restores their values; a create with identity "
        "'fields' makes new records beside them)."
    )


async def adopt_foreign(session: Session, foreign: list[Foreign]) -> int:
    """Record every found record as created by its step, writing nothing to Odoo.

    Each migration concerned is begun if it was not and left ``failed`` with a
    note, so that ``apply`` finishes it (skipping the adopted rows) and
    ``rollback`` can undo it like any other.
    """
    scope = session.scope
    adopted = 0
    by_migration: dict[int, list[Foreign]] = {}
    for item in foreign:
        by_migration.setdefault(item.migration.version, []).append(item)
    for items in by_migration.values():
        migration = items[0].migration
        record = await scope.migration(migration.version)
        if record is None or record.status == "rolled_back":
            if record is not None:
                await scope.forget(migration.version)
            await scope.begin_migration(
                migration.version, migration.name, migration.checksum, migration.parts
            )
        count = 0
        for item in items:
            entries = [DoneEntry(key, rid, "created", None) for key, rid in item.found.items()]
            for part in chunked(entries, _BATCH):
                await scope.record_done(migration.version, item.step.id, item.step.model, part)
            count += len(entries)
        adopted += count
        await scope.set_status(
            migration.version,
            "failed",
            error=(
                f"{count} existing record(s) adopted by 'zenoo-etl ledger adopt'; run "
                "'zenoo-etl apply' to finish this migration"
            ),
        )
    return adopted


__all__ = ["Foreign", "ForeignRecordsError", "adopt_foreign", "find_foreign", "foreign_message"]
