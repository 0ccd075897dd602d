"""Creating records so that a lost answer can be settled (DESIGN.md section 5).

Three identities, one function each, all with the same shape: send a chunk of
new records, return their ids in row order; when the client raises
:class:`OutcomeUnknownError` (the call may or may not have committed), find
out what exists and re-send only the rest:

* ``xmlid`` — ``create`` with a list, then one ``ir.model.data`` ``create``
  naming the records ``__zenoo__.<project>__<step>_<hash>``
  (:func:`create_and_bind`); a record is unnamed only between those two calls,
  and the call that made it is found again by its transaction (every record
  one call creates shares one ``create_date``), its ids above the step's id
  floor (kept in the ledger's intents) and its values. Where the user may not
  create external ids, one ``load()`` with an ``id`` column
  (:func:`create_by_load`), which commits records and names together;
  reconciliation looks the names up in ``ir.model.data`` and adopts what
  exists;
* ``fields`` — ``create`` with a list; reconciliation searches the ``match``
  fields;
* ``none`` — ``create``; an unanswered chunk is reported, never guessed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from zenoo_etl.client.errors import (
    AccessError,
    ClientError,
    OdooError,
    OutcomeUnknownError,
    ServerError,
)
from zenoo_etl.runner.coerce import equal_values, normalise_read, normalise_written, to_rpc_value
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget

XMLID_MODULE = "__zenoo__"
_MAX_ATTEMPTS = 4
_POLL = 0.5  # seconds between looks for the records of a lost create
_DIGEST = 16  # hex digits of the row's key hash ending each external id name
_SWEEP_MAX = 20_000  # records of a model whose names a user without ir.model.data reads
_SWEEP_PAGE = 1000  # records per get_metadata call


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


class NamingFailed(Exception):
    """``create`` made a chunk's records, the call naming them failed: they exist
    without their external ids (not a refusal: nothing may treat them as never made)."""

    def __init__(self, model: str, ids: Sequence[int], cause: BaseException) -> None:
        super().__init__(
            f"Odoo created {len(ids)} {model} record(s) (ids {_shown_ids(ids)}) but naming "
            f"them failed ({cause}); the ledger holds them without their external ids"
        )
        self.model = model
        self.ids = list(ids)


def _shown_ids(ids: Sequence[int], shown: int = 5) -> str:
    return ", ".join(map(str, ids[:shown])) + (", ..." if len(ids) > shown else "")


class UnknownOutcome(Exception):
    """A chunk's answer was lost and the identity cannot tell what happened."""

    def __init__(self, keys: Sequence[str], model: str) -> None:
        super().__init__(f"{len(keys)} record(s) of {model}: outcome unknown")
        self.keys = list(keys)
        self.model = model


_COMPARABLE = frozenset(
    {"char", "text", "integer", "float", "monetary", "boolean", "selection", "date", "datetime",
     "many2one"}
)  # fmt: skip


def xmlid_name(step: str, key: str, project: str | None = None) -> str:
    """The external id name (without module) of a step's row.

    ``project`` is the project id of zenoo.toml (``<project>__<step>_<hash>``):
    two projects with the same step names never share an external id. Without
    one, the names of projects made before project ids (``<step>_<hash>``).
    """
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:_DIGEST]
    if project:
        return f"{project}__{step}_{digest}"
    return f"{step}_{digest}"


def xmlid_prefix(step: str, project: str | None = None) -> str:
    """What the external id names of all of a step's rows begin with."""
    return xmlid_name(step, "", project)[:-_DIGEST]


async def can_read_names(odoo: OdooTarget) -> bool:
    """Whether this user may read ``ir.model.data`` (on Odoo 18/19: Access Rights). Odoo
    16 and 17 have no ``has_access``: False, and names are read the slower way."""
    return await _may(odoo, "read")


async def _may(odoo: OdooTarget, operation: str) -> bool:
    """``ir.model.data.has_access(operation)``; False where Odoo has no such method."""
    try:
        answer = await odoo.call("ir.model.data", "has_access", [], [[]], {"operation": operation})
    except OdooError:
        return False
    return answer is True


async def names_by_metadata(odoo: OdooTarget, model: str, prefix: str) -> dict[str, int] | None:
    """For a user who may not read ``ir.model.data``: name -> record id of the
    external ids ``__zenoo__.<prefix>…`` on records of ``model``, read with
    ``get_metadata`` (which reads external ids as superuser) over every record, a
    page of ids per call.

    One look-up per name costs a call per row (on Odoo 18, 1,000 rows: 4.6 s
    before the first write, the step itself 0.6 s); a model of up to
    ``_SWEEP_MAX`` records costs a few calls this way. A larger model, or one
    whose records the user may not all read, answers None: the names are then
    looked up one by one (:func:`lookup_xmlids`).
    """
    ids = await odoo.search(model, [], {"active_test": False}, limit=_SWEEP_MAX + 1)
    if len(ids) > _SWEEP_MAX:
        return None
    wanted = f"{XMLID_MODULE}.{prefix}"
    named: dict[str, int] = {}
    for start in range(0, len(ids), _SWEEP_PAGE):
        page = ids[start : start + _SWEEP_PAGE]
        try:
            records = await odoo.call(model, "get_metadata", page, [], {})
        except AccessError:
            return None
        for record in records:
            xmlids = [x["xmlid"] for x in record.get("xmlids") or []] or [record.get("xmlid")]
            for xmlid in xmlids:
                if isinstance(xmlid, str) and xmlid.startswith(wanted):
                    named[xmlid.partition(".")[2]] = int(record["id"])
    return named


async def lookup_xmlids(odoo: OdooTarget, model: str, names: Sequence[str]) -> dict[str, int]:
    """name -> id for the external ids of ``names`` whose record still exists."""
    if not names:
        return {}
    try:
        rows = await odoo.search_read(
            "ir.model.data",
            [["module", "=", XMLID_MODULE], ["name", "in", list(names)], ["model", "=", model]],
            ["name", "res_id"],
        )
    except AccessError:  # a user who may not read external ids (see resolve_one_by_one)
        named = await resolve_one_by_one(odoo, XMLID_MODULE, names)
        return {name: rid for name, (of, rid) in named.items() if of == model}
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


async def resolve_one_by_one(
    odoo: OdooTarget, module: str, names: Iterable[str]
) -> dict[str, tuple[str, int]]:
    """name -> (model, id) of the external ids ``module.<names>`` whose record exists,
    archived ones included: one ``check_object_reference`` per name.

    For a user who may not read ``ir.model.data`` (on Odoo 18/19 anyone without
    Access Rights: a search_read there is refused), this public method is the
    way to a name; it answers ``[model, false]`` for a name whose record is
    gone or hidden from the user and a ValueError for an unknown name.
    """

    async def one(name: str) -> tuple[str, tuple[str, int]] | None:
        try:
            model, res_id = await odoo.call(
                "ir.model.data",
                "check_object_reference",
                [],
                [module, name],
                {},
                {"active_test": False},
            )
        except ServerError as exc:
            if exc.message.startswith("External ID not found in the system"):
                return None
            raise
        return (name, (str(model), int(res_id))) if res_id else None

    answers = await asyncio.gather(*(one(name) for name in dict.fromkeys(names)))
    return dict(a for a in answers if a is not None)


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

    async def send(pending: list[int]) -> list[int]:
        data = [[f"{XMLID_MODULE}.{names[i]}", *cells[i]] for i in pending]
        answer = await odoo.load(model, ["id", *columns], data, context)
        if answer.ids is None or len(answer.ids) != len(pending):
            failed = LoadFailed(answer)
            if failed.record is not None and 0 <= failed.record < len(pending):
                failed.record = pending[failed.record]  # index into the caller's rows
            raise failed
        return answer.ids

    async def find(pending: list[int]) -> list[int | None]:
        found = await lookup_xmlids(odoo, model, [names[i] for i in pending])
        return [found.get(names[i]) for i in pending]

    return await _send_settling(len(keys), send, find, on_adopt, on_unknown, settle)


async def _send_settling(
    count: int,
    send: Callable[[list[int]], Awaitable[list[int]]],
    find: Callable[[list[int]], Awaitable[list[int | None]]],
    on_adopt: Callable[[int], None] | None,
    on_unknown: Callable[[], None] | None,
    settle: float,
) -> list[int]:
    """Ids in row order of ``count`` rows that ``send(pending)`` creates (``pending``:
    the indexes of the rows still to send). After a lost answer, ``find(pending)``
    names the record the lost call made for each row, or None; only those rows are
    sent again (at most :data:`_MAX_ATTEMPTS` sends)."""
    ids: list[int | None] = [None] * count
    pending = list(range(count))
    for attempt in range(_MAX_ATTEMPTS):
        try:
            sent = await send(pending)
        except OutcomeUnknownError:
            if on_unknown is not None:
                on_unknown()
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            await asyncio.sleep(settle)  # a call still running server-side lands first
            still: list[int] = []
            for i, found in zip(pending, await find(pending), strict=True):
                if found is None:
                    still.append(i)
                    continue
                ids[i] = found
                if on_adopt is not None:
                    on_adopt(1)
            pending = still
            if not pending:
                break
            continue
        for i, new_id in zip(pending, sent, strict=True):
            ids[i] = new_id
        break
    return [int(i) for i in ids if i is not None]


async def can_bind(odoo: OdooTarget) -> bool:
    """Whether this user may create external ids itself (``ir.model.data`` create rights).

    Only administrators (Settings / ERP manager) may on a stock database; anyone
    else gets them through ``load()``, which creates them as superuser. Odoo
    16 and 17 have no ``has_access``: they get ``load()`` too.
    """
    return await _may(odoo, "create")


async def id_floor(odoo: OdooTarget, model: str, context: Context) -> int:
    """The highest id of ``model`` now: every record created after this is above it."""
    found = await odoo.call(
        model,
        "search",
        [],
        [[]],
        {"limit": 1, "order": "id desc"},
        {**context, "active_test": False},
    )
    return int(found[0]) if found else 0


async def bind_xmlids(
    odoo: OdooTarget, model: str, names: Sequence[str], ids: Sequence[int]
) -> None:
    """Name ``ids`` ``__zenoo__.<names>`` (one ``ir.model.data`` create; safe to repeat)."""
    todo = list(zip(names, ids, strict=True))
    for attempt in range(_MAX_ATTEMPTS):
        try:
            await odoo.create(
                "ir.model.data",
                [{"module": XMLID_MODULE, "name": n, "model": model, "res_id": i} for n, i in todo],
            )
            return
        except OutcomeUnknownError:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            there = await lookup_xmlids(odoo, model, [n for n, _i in todo])
            todo = [(n, i) for n, i in todo if n not in there]
            if not todo:
                return


class Creating:
    """One step's ``create`` calls in flight and its records not named yet, as the
    lookup of a lost create (:func:`find_unbound`) must see them.

    Another chunk's records are unnamed too, and look like rows of the same step:
    until they are named their ids are in ``ids``, and while a create's answer is on
    its way (its records may be committed already) it is ``sending``. A lookup
    (``looking``) waits for the creates in flight to answer, holds new ones back
    while it reads, and leaves ``ids`` out: a lost chunk never takes another
    chunk's records for its own. Lookups follow lost answers only, so the creates
    of a step without one never wait.
    """

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self._sending = 0
        self._looking = False
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Around a ``create``: waits while a lookup reads."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._looking)
            self._sending += 1
        try:
            yield
        finally:
            async with self._changed:
                self._sending -= 1
                self._changed.notify_all()

    @asynccontextmanager
    async def looking(self) -> AsyncIterator[None]:
        """Around a lookup: one at a time, once no ``create`` is in flight."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._looking)
            self._looking = True
            try:
                await self._changed.wait_for(lambda: self._sending == 0)
            except BaseException:
                self._looking = False
                self._changed.notify_all()
                raise
        try:
            yield
        finally:
            async with self._changed:
                self._looking = False
                self._changed.notify_all()


async def name_records(
    odoo: OdooTarget,
    model: str,
    names: Sequence[str],
    ids: Sequence[int],
    creating: Creating,
    before_bind: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Name records this run created (:func:`bind_xmlids`); while the call is out their
    ids are in ``creating.ids``, so a lost answer of another chunk never takes them."""
    creating.ids.update(ids)
    if before_bind is not None:
        await before_bind()
    await bind_xmlids(odoo, model, names, ids)
    creating.ids.difference_update(ids)  # named now: unnamed_above leaves them out


def chunk_note(previous: Any) -> dict[str, Any] | None:
    """The note of a create-and-name intent (``{"chunk", "floor", "uid"}``; notes of
    runs made before the uid have none), else None."""
    if isinstance(previous, dict) and "chunk" in previous and "floor" in previous:
        return previous
    return None


async def unnamed_above(
    odoo: OdooTarget,
    model: str,
    floor: int,
    fields: Sequence[str],
    context: Context,
    users: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """The records of ``model`` above ``floor`` without any external id, id ascending,
    read with ``fields``: what a create whose records were not named yet can have left.

    ``users``: only records these users created (the run's own Odoo user: Odoo
    stamps every record with the user whose call created it, so another user's
    records are never a lost call's); None: anyone's (a run that did not know it).
    """
    domain: list[Any] = [["id", ">", floor]]
    if users is not None:
        domain.append(["create_uid", "in", sorted(users)])
    records = await odoo.search_read(model, domain, list(fields), {**context, "active_test": False})
    if not records:
        return []
    named = await odoo.search_read(
        "ir.model.data",
        [["model", "=", model], ["res_id", "in", sorted(int(r["id"]) for r in records)]],
        ["res_id"],
    )
    taken = {int(n["res_id"]) for n in named}
    return sorted((r for r in records if int(r["id"]) not in taken), key=lambda r: int(r["id"]))


def _likeness(
    types: dict[str, str],
    fields: Sequence[str],
    values: dict[str, Any],
    record: dict[str, Any],
    upper: dict[str, Any] | None = None,
) -> float:
    """Share of ``fields`` whose read value equals the value sent (0 when none compare).

    ``upper``: the record's parent, as read. A value that differs from the one sent
    but equals the parent's is left out, neither alike nor not: Odoo copies it from
    the parent on create (a contact takes its company's address, seen on a real
    Odoo 18), so it tells nothing of whose record this is.
    """
    same = compared = 0
    for f in fields:
        read = record.get(f, False)
        if equal_values(types[f], read, values.get(f, False)):
            same += 1
        elif upper is not None and equal_values(
            types[f], read, to_rpc_value(types[f], upper.get(f, False))
        ):
            continue
        compared += 1
    return same / compared if compared else 0.0


async def _uppers(
    odoo: OdooTarget,
    model: str,
    parent: str,
    fields: Sequence[str],
    records: Sequence[dict[str, Any]],
    context: Context,
) -> dict[int, dict[str, Any]]:
    """id -> the record's parent (``parent``: its self-referencing many2one), read with
    ``fields``, for the ``records`` that have one."""
    wanted = {normalise_read("many2one", r.get(parent, False)) for r in records}
    wanted.discard(False)
    if not wanted:
        return {}
    read = await odoo.read(model, sorted(wanted), list(fields), {**context, "active_test": False})
    by_id = {int(p["id"]): p for p in read}
    return {
        int(r["id"]): by_id[pid]
        for r in records
        if (pid := normalise_read("many2one", r.get(parent, False))) in by_id
    }


async def find_unbound(
    odoo: OdooTarget,
    model: str,
    floor: int,
    types: dict[str, str],
    values: Sequence[dict[str, Any]],
    context: Context,
    exclude: Iterable[int] = (),
    uid: int | None = None,
    parent: str | None = None,
) -> list[int] | None:
    """The ids (row order) of the records a lost ``create`` call made for ``values``;
    [] when it made none, None when that cannot be told (never guessed).

    The candidates are the records above ``floor`` (the model's highest id before
    the step's first call) that have no external id (this runner names its
    records right after their call), were created by ``uid`` (the user who sent
    the call; None: by anyone) and are not in ``exclude`` (ids this run already
    holds). Each row takes the candidate that carries the most of the row's
    values as sent, at least half, compared field by field; among equals, the
    oldest. Odoo may rewrite some on create: with ``parent`` (the model's
    self-referencing many2one), a value equal to the parent's is left out of the
    comparison (a contact takes its company's address).
    Odoo runs a call as one transaction: its rows were all created or none, all
    with one ``create_date`` — anything else (some rows found, or found in two
    transactions) is None.
    """
    names = sorted({f for v in values for f in v if types.get(f) in _COMPARABLE})
    skip = set(exclude)
    candidates = [
        r
        for r in await unnamed_above(
            odoo, model, floor, ["create_date", *names], context, None if uid is None else [uid]
        )
        if int(r["id"]) not in skip
    ]
    uppers = {}
    if parent is not None and parent in names and candidates:
        uppers = await _uppers(odoo, model, parent, names, candidates, context)
    found: list[dict[str, Any] | None] = []
    for row in values:
        fields = [f for f in names if f in row]
        hit, best = None, 0.5
        for record in candidates:  # the likest, not the first alike enough
            likeness = _likeness(types, fields, row, record, uppers.get(int(record["id"])))
            if likeness > best or (hit is None and likeness == best):
                hit, best = record, likeness
        if hit is not None:
            candidates.remove(hit)
        found.append(hit)
    if all(r is None for r in found):
        return []
    if any(r is None for r in found) or len({r["create_date"] for r in found if r}) != 1:
        return None
    return [int(r["id"]) for r in found if r is not None]


async def create_and_bind(
    odoo: OdooTarget,
    model: str,
    names: Sequence[str],
    values: list[dict[str, Any]],
    types: dict[str, str],
    context: Context,
    floor: int,
    *,
    creating: Creating | None = None,
    before_bind: Callable[[], Awaitable[None]] | None = None,
    on_adopt: Callable[[int], None] | None = None,
    on_unknown: Callable[[], None] | None = None,
    settle: float = 0.0,
    window: float = 0.0,
    uid: int | None = None,
    parent: str | None = None,
) -> list[int]:
    """``create`` the rows, then name them ``__zenoo__.<names>``; ids in row order.

    As exact as ``load()`` with an ``id`` column (a lost answer never creates a row
    twice nor loses one) at ``create``'s speed: ``load()`` converts every cell in
    Python and checks every relational id with a query of its own (measured on a
    real Odoo 18: 0.4-0.55x ``create`` for rows with tags). ``floor`` is
    :func:`id_floor` taken before this step's first call (and kept in the ledger's
    intents, for a run that resumes after a crash). ``creating``: the step's creates
    in flight (:class:`Creating`); its ids are those created and not named yet (no
    candidates for a lost answer), dropped once named (a named record is no
    candidate anyway), so it holds the chunks in flight, not the whole step:
    memory stays flat at a million rows. ``before_bind`` runs between the two
    calls (the ledger's fence: a run that lost its lock stops before naming).
    ``uid``: the Odoo user sending the call (a lost answer's records are its own);
    ``parent``: the model's self-referencing many2one (see :func:`find_unbound`).
    The naming call failing raises :class:`NamingFailed`: the records exist.
    """
    creating = creating if creating is not None else Creating()
    ids: list[int] | None = None
    for attempt in range(_MAX_ATTEMPTS):
        try:
            async with creating.sending():
                ids = await odoo.create(model, values, context)
                creating.ids.update(ids)  # no lookup sees them unnamed and unclaimed
            break
        except OutcomeUnknownError:
            if on_unknown is not None:
                on_unknown()
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            # A call still running server-side (it outlived the client's timeout) would
            # commit records without their names after a resend made them again: look
            # for it until ``window`` seconds after the loss before sending again.
            lost = time.monotonic()
            await asyncio.sleep(settle)
            while True:
                async with creating.looking():
                    found = await find_unbound(
                        odoo, model, floor, types, values, context, creating.ids, uid, parent
                    )
                    creating.ids.update(found or ())  # ours now: the next lookup leaves them
                if found != [] or time.monotonic() - lost >= window:
                    break
                await asyncio.sleep(min(_POLL, max(0.0, window - (time.monotonic() - lost))))
            if found is None:
                raise
            if found:
                ids = found
                if on_adopt is not None:
                    on_adopt(len(found))
                break
    assert ids is not None
    try:
        await name_records(odoo, model, names, ids, creating, before_bind)
    except ClientError as exc:  # refused, never sent, or lost: the records stay made
        raise NamingFailed(model, ids, exc) from exc
    return ids


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

    async def send(pending: list[int]) -> list[int]:
        return await odoo.create(model, [values[i] for i in pending], context)

    async def find(pending: list[int]) -> list[int | None]:
        found = await search_matches(
            odoo, model, match, types, [values[i] for i in pending], [], context
        )
        return [int(min(h["id"] for h in hits)) if hits else None for hits in found]

    return await _send_settling(len(values), send, find, on_adopt, on_unknown, settle)


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
    "Creating",
    "LoadFailed",
    "NamingFailed",
    "UnknownOutcome",
    "bind_xmlids",
    "can_bind",
    "can_read_names",
    "chunk_note",
    "create_and_bind",
    "create_by_fields",
    "create_by_load",
    "create_plain",
    "find_unbound",
    "id_floor",
    "lookup_xmlids",
    "name_records",
    "names_by_metadata",
    "resolve_one_by_one",
    "search_matches",
    "unnamed_above",
    "xmlid_name",
    "xmlid_prefix",
]
