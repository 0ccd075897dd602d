"""Server-aware chunking: rows that share a parent travel together.

Odoo syncs a child record from its parent (``res.partner.create`` copies the
commercial and address fields of ``parent_id`` and recomputes the parent's
pricelist, once per parent per call) and locks the parent row while doing it.
Children of one company spread over many chunks make the server recompute
the same parent in every chunk, and chunks in flight at once wait for each
other's lock. Measured on a real Odoo 18 (bench/realistic.py, PERFORMANCE.md):
the order of rows alone is worth +39 % to a raw ``create`` loop.

So for a step whose rows carry a self-referencing many2one (``parent_id`` on
partners and categories), :func:`grouped_chunks` reads a bounded window of
rows, packs whole parent groups into chunks (rows without a parent fill the
gaps) and :func:`chunk_groups` names each chunk's parents, so that the
pipeline never runs two chunks sharing a parent at the same time. Rows keep
their keys, source line and row number: the ledger and every message stay
exact whatever the order. Memory stays bounded by the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

from zenoo_etl.compiler.values import Row

# Rows read ahead to find children of the same parent: bounded, so a million-row
# source costs what this window costs (a few tens of MB at most).
WINDOW_MAX = 20_000
WINDOW_CHUNKS = 16  # chunks' worth of rows per window (times concurrency)


def parent_field(
    model: str, names: Iterable[str], fields_get: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The first field among ``names`` that is a many2one to ``model`` itself."""
    for name in names:
        spec = fields_get.get(name) or {}
        if spec.get("type") == "many2one" and spec.get("relation") == model:
            return name
    return None


def group_key(value: Any) -> Hashable | None:
    """What identifies a row's parent before it is resolved (None: no parent)."""
    if value is None or value is False or value == "" or value == 0:
        return None
    if isinstance(value, list):
        return None  # not a single reference: do not group
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def grouped_chunks(
    rows: Iterable[Row], size: int | Callable[[], int], field: str, window: int
) -> Iterator[list[Row]]:
    """Chunks of at most ``size`` rows where a parent's children stay together.

    Within each window of ``window`` rows: groups of the same parent, in the
    order of their first row, are packed whole into chunks; a group larger
    than a chunk fills whole chunks of its own; rows without a parent fill
    what room is left. Order inside a group is the source order. A callable
    ``size`` (``chunk_size = "auto"``) is asked again for each chunk started.
    """
    size_of = size if callable(size) else (lambda: size)
    iterator = iter(rows)
    while True:
        groups: dict[Hashable, list[Row]] = {}
        loose: list[Row] = []
        taken = 0
        for row in iterator:
            key = group_key(row.values.get(field))
            if key is None:
                loose.append(row)
            else:
                groups.setdefault(key, []).append(row)
            taken += 1
            if taken >= window:
                break
        if not taken:
            return
        yield from _pack(list(groups.values()), loose, lambda: max(1, size_of()))
        if taken < window:
            return


def _pack(
    groups: list[list[Row]], loose: list[Row], size: Callable[[], int]
) -> Iterator[list[Row]]:
    spare = deque(loose)
    current: list[Row] = []
    limit = size()  # of the chunk being filled; asked again when a new one starts
    for group in groups:
        while group:
            if len(group) >= limit:  # a big family (or the size shrank): a whole chunk of its own
                yield group[:limit]
                group = group[limit:]
                if not current:
                    limit = size()
            elif len(current) + len(group) > limit:  # no room for the family: close the chunk
                yield _topped_up(current, limit, spare)
                current = []
                limit = size()
            else:
                current.extend(group)
                group = []
    _topped_up(current, limit, spare)
    while current:
        yield current
        current = _topped_up([], size(), spare) if spare else []


def _topped_up(chunk: list[Row], limit: int, spare: deque[Row]) -> list[Row]:
    """``chunk`` with rows without a parent added, up to ``limit`` rows."""
    while spare and len(chunk) < limit:
        chunk.append(spare.popleft())
    return chunk


def chunk_groups(rows: list[Row], field: str) -> frozenset[Hashable]:
    """The parents a chunk's rows name (the pipeline keeps such chunks apart)."""
    keys = (group_key(row.values.get(field)) for row in rows)
    return frozenset(k for k in keys if k is not None)


__all__ = [
    "WINDOW_CHUNKS",
    "WINDOW_MAX",
    "chunk_groups",
    "group_key",
    "grouped_chunks",
    "parent_field",
]
