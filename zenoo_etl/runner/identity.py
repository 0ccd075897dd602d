"""Creating records so that a lost answer can be settled (DESIGN.md section 5).

Three identities, one function each, all with the same shape: send a chunk of
new records, return their ids in row order; when the client raises
:class:`OutcomeUnknownError` (the call may or may not have committed), find
out what exists and re-send only the rest:

* ``xmlid`` — one ``load()`` with an ``id`` column ``__zenoo__.<step>_<hash>``,
  so records and external ids commit in the same transaction; reconciliation
  looks the names up in ``ir.model.data`` and adopts what exists;
* ``fields`` — ``create`` with a list; reconciliation searches the ``match``
  fields;
* ``none`` — ``create``; an unanswered chunk is reported, never guessed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from zenoo_etl.client.errors import OutcomeUnknownError
from zenoo_etl.runner.coerce import normalise_read, normalise_written
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget

XMLID_MODULE = "__zenoo__"
_MAX_ATTEMPTS = 4


class LoadFailed(Exception):
    """``load()`` answered with error messages (nothing of the chunk was kept)."""

    def __init__(self, answer: LoadAnswer) -> None:
        errors = [m for m in answer.messages if m.get("type") == "error"] or answer.messages
        first = errors[0] if errors else {"message": "load() returned no ids"}
        super().__init__(str(first.get("message", "")))
        self.message = str(first.get("message", "load() failed"))
        record = first.get("record")
        self.record: int | None = record if isinstance(record, int) else None
        self.field: str | None = first.get("field") or None
        self.row: Any = None  # the Row, set by the caller that knows the chunk


class UnknownOutcome(Exception):
    """A chunk's answer was lost and the identity cannot tell what happened."""

    def __init__(self, keys: Sequence[str], model: str) -> None:
        super().__init__(f"{len(keys)} record(s) of {model}: outcome unknown")
        self.keys = list(keys)
        self.model = model


def xmlid_name(step: str, key: str, project: str | None = None) -> str:
    """The external id name (without module) of a step's row.

    ``project`` is the project id of zenoo.toml (``<project>__<step>_<hash>``):
    two projects with the same step names never share an external id. Without
    one, the names of projects made before project ids (``<step>_<hash>``).
    """
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    if project:
        return f"{project}__{step}_{digest}"
    return f"{step}_{digest}"


async def lookup_xmlids(odoo: OdooTarget, model: str, names: Sequence[str]) -> dict[str, int]:
    """name -> id for the external ids of ``names`` whose record still exists."""
    if not names:
        return {}
    rows = await odoo.search_read(
        "ir.model.data",
        [["module", "=", XMLID_MODULE], ["name", "in", list(names)], ["model", "=", model]],
        ["name", "res_id"],
    )
    found = {str(r["name"]): int(r["res_id"]) for r in rows}
    if not found:
        return {}
    # A dangling ir.model.data row (its record deleted) must not be adopted.
    alive = set(
        await odoo.search(
            model, [["id", "in", sorted(set(found.values()))]], {"active_test": False}
        )
    )
    return {name: rid for name, rid in found.items() if rid in alive}


async def create_by_load(
    odoo: OdooTarget,
    model: str,
    step: str,
    keys: Sequence[str],
    columns: list[str],
    cells: list[list[str]],
    context: Context,
    on_adopt: Callable[[int], None] | None = None,
    on_unknown: Callable[[], None] | None = None,
    *,
    project: str | None = None,
    settle: float = 0.0,
) -> list[int]:
    """Create rows via ``load()`` with xmlids; returns ids in row order.

    ``on_unknown`` is called when an answer was lost: the lost call may still
    commit later (a late commit rewrites the rows with the same values).
    """
    names = [xmlid_name(step, key, project) for key in keys]
    ids: list[int | None] = [None] * len(keys)
    pending = list(range(len(keys)))
    for attempt in range(_MAX_ATTEMPTS):
        data = [[f"{XMLID_MODULE}.{names[i]}", *cells[i]] for i in pending]
        try:
            answer = await odoo.load(model, ["id", *columns], data, context)
        except OutcomeUnknownError:
            if on_unknown is not None:
                on_unknown()
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            await asyncio.sleep(settle)  # a call still running server-side lands first
            found = await lookup_xmlids(odoo, model, [names[i] for i in pending])
            still: list[int] = []
            for i in pending:
                if names[i] in found:
                    ids[i] = found[names[i]]
                    if on_adopt is not None:
                        on_adopt(1)
                else:
                    still.append(i)
            pending = still
            if not pending:
                break
            continue
        if answer.ids is None or len(answer.ids) != len(pending):
            failed = LoadFailed(answer)
            if failed.record is not None and 0 <= failed.record < len(pending):
                failed.record = pending[failed.record]  # index into the caller's rows
            raise failed
        for i, new_id in zip(pending, answer.ids, strict=True):
            ids[i] = new_id
        break
    return [int(i) for i in ids if i is not None]


def _match_tuple(
    types: dict[str, str], match: Sequence[str], values: dict[str, Any]
) -> tuple[Any, ...]:
    return tuple(normalise_written(types[f], values.get(f, False)) for f in match)


def _read_tuple(
    types: dict[str, str], match: Sequence[str], record: dict[str, Any]
) -> tuple[Any, ...]:
    return tuple(normalise_read(types[f], record.get(f, False)) for f in match)


async def search_matches(
    odoo: OdooTarget,
    model: str,
    match: Sequence[str],
    types: dict[str, str],
    values: Sequence[dict[str, Any]],
    fields: Sequence[str],
    context: Context,
) -> list[list[dict[str, Any]]]:
    """For each row of converted ``values``, the records whose ``match`` fields equal it.

    One ``search_read`` for the whole chunk: an ``in`` leaf per match field
    narrows the candidates, exact tuples are compared here.
    """
    tuples = [_match_tuple(types, match, v) for v in values]
    domain: list[Any] = []
    for pos, f in enumerate(match):
        wanted = {t[pos] for t in tuples}
        wanted.discard(False)
        if not wanted:
            return [[] for _ in values]
        domain.append([f, "in", sorted(wanted, key=repr)])
    read_fields = sorted(set(match) | set(fields))
    records = await odoo.search_read(
        model, domain, read_fields, {**dict(context), "active_test": False}
    )
    by_tuple: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        by_tuple.setdefault(_read_tuple(types, match, record), []).append(record)
    return [by_tuple.get(t, []) for t in tuples]


async def create_by_fields(
    odoo: OdooTarget,
    model: str,
    match: Sequence[str],
    types: dict[str, str],
    values: list[dict[str, Any]],
    context: Context,
    on_adopt: Callable[[int], None] | None = None,
    on_unknown: Callable[[], None] | None = None,
    settle: float = 0.0,
) -> list[int]:
    """``create`` a list; after a lost answer, adopt rows found by ``match``.

    ``settle``: seconds to wait after a lost answer before looking: a call the
    server is still processing (it outlived the client's timeout) commits
    meanwhile and is found, instead of being created a second time.
    """
    ids: list[int | None] = [None] * len(values)
    pending = list(range(len(values)))
    for attempt in range(_MAX_ATTEMPTS):
        try:
            created = await odoo.create(model, [values[i] for i in pending], context)
        except OutcomeUnknownError:
            if on_unknown is not None:
                on_unknown()
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            await asyncio.sleep(settle)
            found = await search_matches(
                odoo, model, match, types, [values[i] for i in pending], [], context
            )
            still: list[int] = []
            for i, hits in zip(pending, found, strict=True):
                if hits:
                    ids[i] = int(min(h["id"] for h in hits))
                    if on_adopt is not None:
                        on_adopt(1)
                else:
                    still.append(i)
            pending = still
            if not pending:
                break
            continue
        for i, new_id in zip(pending, created, strict=True):
            ids[i] = new_id
        break
    return [int(i) for i in ids if i is not None]


async def create_plain(
    odoo: OdooTarget,
    model: str,
    keys: Sequence[str],
    values: list[dict[str, Any]],
    context: Context,
) -> list[int]:
    """``create`` a list; a lost answer is :class:`UnknownOutcome` (never guessed)."""
    try:
        return await odoo.create(model, values, context)
    except OutcomeUnknownError:
        raise UnknownOutcome(keys, model) from None


__all__ = [
    "XMLID_MODULE",
    "LoadFailed",
    "UnknownOutcome",
    "create_by_fields",
    "create_by_load",
    "create_plain",
    "lookup_xmlids",
    "search_matches",
    "xmlid_name",
]
