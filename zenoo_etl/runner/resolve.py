"""Resolving a chunk's references in bulk, with one cache per run.

A chunk of rows may carry hundreds of references; resolving them one by one
would cost one RPC each. :class:`Resolver` first collects every reference of
a chunk, then looks up what the cache does not hold in as few calls as
possible:

* ``Ref(step, key)`` → one ``done_ids`` ledger query per referenced step;
* ``XmlidRef("m.n")`` → one ``ir.model.data`` ``search_read`` per module (a user
  who may not read it: one ``check_object_reference`` per name);
* ``SearchRef``s whose domains differ only in the value of one ``[f, "=", v]``
  leaf (``[["country_id.code", "=", "US"], ["code", "=", "{{ row.state }}"]]``)
  → one ``search_read`` per shape with an ``in`` leaf for ``f``; other
  domains → one ``search`` each (limit 2).

Then :meth:`Resolver.resolve_row` replaces references by ids, raising
:class:`RowError` naming the field and value when one resolves to nothing (or
a search to several records).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from zenoo_etl.client.errors import AccessError
from zenoo_etl.compiler.values import FieldValue, Ref, Row, SearchRef, XmlidRef
from zenoo_etl.ledger.protocol import LedgerScope
from zenoo_etl.runner.identity import resolve_one_by_one
from zenoo_etl.runner.odoo import OdooTarget

# Refs are ints keyed by short strings: 200k entries stay well under 50 MB.
_MAX_REF_CACHE = 200_000


class RowError(Exception):
    """A problem with one row (or a chunk's rows) found by the runner."""

    def __init__(self, message: str, *, row: Row | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.field = field


# Most rendered values are plain scalars: checked first, by exact type, on the hot path.
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def iter_refs(value: FieldValue) -> Iterator[Ref | XmlidRef | SearchRef]:
    if isinstance(value, (Ref, XmlidRef, SearchRef)):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from iter_refs(item)


def _varying_leaf(domain: list[Any]) -> tuple[str, str, Any] | None:
    """``(shape, field, value)`` when ``domain`` can join an ``in`` batch, else None.

    The domain must be leaves only (implicitly and-ed); the LAST ``[f, "=", v]``
    leaf with a plain field and a string or int value is the one that may
    vary; ``shape`` is the domain without it, so searches of one shape differ
    only in ``v`` and ``[f, "in", [v, ...]]`` finds each one's records.
    """
    if not domain or not all(isinstance(t, (list, tuple)) and len(t) == 3 for t in domain):
        return None
    for pos in range(len(domain) - 1, -1, -1):
        field, op, value = domain[pos]
        simple = isinstance(value, (str, int)) and not isinstance(value, bool)
        if op == "=" and isinstance(field, str) and "." not in field and simple:
            rest = [list(t) for i, t in enumerate(domain) if i != pos]
            return json.dumps(rest, sort_keys=True, default=str), field, value
    return None


class Resolver:
    """Per-run reference cache and bulk look-ups."""

    def __init__(self, odoo: OdooTarget, scope: LedgerScope) -> None:
        self._odoo = odoo
        self._scope = scope
        self._refs: dict[tuple[str, str], int] = {}
        self._xmlids: dict[str, int] = {}
        self._searches: dict[str, list[int]] = {}
        # Chunks in flight prepare one at a time, so the second finds what the first
        # fetched instead of asking Odoo for the same names again.
        self._lock = asyncio.Lock()

    def ref_id(self, step: str, key: str) -> int | None:
        """The id a ``Ref(step, key)`` resolved to in this run, if it was looked up."""
        return self._refs.get((step, key))

    def forget_step(self, step: str) -> None:
        """Drop cached refs of a step (its records were rolled back)."""
        self._refs = {k: v for k, v in self._refs.items() if k[0] != step}

    async def prepare(self, rows: Iterable[Row]) -> None:
        """Look up, in bulk, every reference of ``rows`` the cache lacks."""
        async with self._lock:
            await self._prepare(rows)

    async def _prepare(self, rows: Iterable[Row]) -> None:
        refs: dict[str, set[str]] = defaultdict(set)
        xmlids: dict[str, set[str]] = defaultdict(set)
        searches: dict[str, SearchRef] = {}
        known_refs, known_xmlids = self._refs, self._xmlids

        def note(ref: Ref | XmlidRef | SearchRef) -> None:
            if isinstance(ref, Ref):
                if (ref.step, ref.key) not in known_refs:
                    refs[ref.step].add(ref.key)
            elif isinstance(ref, XmlidRef):
                if ref.xmlid not in known_xmlids:
                    module, _, name = ref.xmlid.partition(".")
                    xmlids[module].add(name)
            elif ref.cache_key not in self._searches:
                searches[ref.cache_key] = ref

        for row in rows:
            for value in row.values.values():
                if value.__class__ in _SCALAR_TYPES:
                    continue
                # a value, or the items of a list, in iter_refs' order; the common
                # shapes (a step ref, an xmlid) by exact type first
                for item in value if type(value) is list else (value,):
                    if type(item) is Ref:
                        if (item.step, item.key) not in known_refs:
                            refs[item.step].add(item.key)
                    elif type(item) is XmlidRef:
                        if item.xmlid not in known_xmlids:
                            module, _, name = item.xmlid.partition(".")
                            xmlids[module].add(name)
                    elif item.__class__ not in _SCALAR_TYPES:
                        for ref in iter_refs(item):
                            note(ref)
        if len(self._refs) > _MAX_REF_CACHE:
            self._refs.clear()
        for step, keys in refs.items():
            found = await self._scope.done_ids(step, sorted(keys))
            for key, odoo_id in found.items():
                self._refs[(step, key)] = odoo_id
        for module, names in xmlids.items():
            try:
                records = await self._odoo.search_read(
                    "ir.model.data",
                    [["module", "=", module], ["name", "in", sorted(names)]],
                    ["name", "res_id"],
                )
            except AccessError:  # a user who may not read external ids
                named = await resolve_one_by_one(self._odoo, module, sorted(names))
                for name, (_model, res_id) in named.items():
                    self._xmlids[f"{module}.{name}"] = res_id
                continue
            for record in records:
                self._xmlids[f"{module}.{record['name']}"] = int(record["res_id"])
        await self._prepare_searches(searches)

    async def _prepare_searches(self, searches: dict[str, SearchRef]) -> None:
        grouped: dict[tuple[str, str, str], dict[Any, str]] = defaultdict(dict)
        for cache_key, ref in searches.items():
            leaf = _varying_leaf(ref.domain)
            if leaf is None:
                ids = await self._odoo.search(ref.model, ref.domain, limit=2)
                self._searches[cache_key] = ids
            else:
                shape, field, value = leaf
                grouped[(ref.model, shape, field)][value] = cache_key
        for (model, shape, field), by_value in grouped.items():
            domain = [*json.loads(shape), [field, "in", list(by_value)]]
            records = await self._odoo.search_read(model, domain, [field])
            hits: dict[Any, list[int]] = defaultdict(list)
            for record in records:
                found = record.get(field)
                if isinstance(found, list) and found:  # a many2one reads as [id, name]
                    found = found[0]
                hits[found].append(int(record["id"]))
            for value, cache_key in by_value.items():
                self._searches[cache_key] = hits.get(value, [])

    def value(self, value: FieldValue, row: Row, field: str) -> Any:
        """``value`` with references replaced by ids (call :meth:`prepare` first)."""
        if value.__class__ in _SCALAR_TYPES:
            return value
        if isinstance(value, Ref):
            try:
                return self._refs[(value.step, value.key)]
            except KeyError:
                raise RowError(
                    f"reference {{ref = '{value.step}', key = '{value.key}'}} resolves to "
                    f"nothing: step '{value.step}' has no record under that key (apply the "
                    "migration that creates it first, or fix the key)",
                    row=row,
                    field=field,
                ) from None
        if isinstance(value, XmlidRef):
            try:
                return self._xmlids[value.xmlid]
            except KeyError:
                raise RowError(
                    f"external id '{value.xmlid}' does not exist on the target",
                    row=row,
                    field=field,
                ) from None
        if isinstance(value, SearchRef):
            ids = self._searches.get(value.cache_key, [])
            if len(ids) != 1:
                what = "no record" if not ids else "several records"
                raise RowError(
                    f"search {value.domain!r} on {value.model} matches {what}; it must match "
                    "exactly one",
                    row=row,
                    field=field,
                )
            return ids[0]
        if isinstance(value, list):
            refs, one = self._refs, self.value
            try:  # step references by exact type; a ref that resolves to nothing: below
                return [
                    refs[(item.step, item.key)] if type(item) is Ref else one(item, row, field)
                    for item in value
                ]
            except KeyError:
                return [one(item, row, field) for item in value]
        return value

    def resolve_row(self, row: Row) -> dict[str, Any]:
        scalar, refs, xmlids, value = _SCALAR_TYPES, self._refs, self._xmlids, self.value
        out: dict[str, Any] = {}
        for name, item in row.values.items():
            if item.__class__ in scalar:
                out[name] = item
                continue
            try:  # the common shapes by exact type; anything else, or a miss: value()
                if type(item) is XmlidRef:
                    out[name] = xmlids[item.xmlid]
                    continue
                if type(item) is list:
                    out[name] = [
                        refs[(i.step, i.key)] if type(i) is Ref else value(i, row, name)
                        for i in item
                    ]
                    continue
            except KeyError:
                pass
            out[name] = value(item, row, name)
        return out


__all__ = ["Resolver", "RowError", "iter_refs"]
