"""What rollback checks before undoing: records gone, and records changed since apply.

Owns the ledger's ``previous`` format for ``updated`` records. Apply stores
``{"_undo": 2, "previous": {...}, "written": {...}}`` (the values it found and
the values it wrote); ledgers written before that hold the flat previous
values only, and :func:`split_previous` reads both (an old-format record has
no ``written``, so it cannot be checked for changes and is restored as before).

Checks are one call per group: ``search_read`` of the ids (``active_test``
off) with the fields apply wrote, or ``write_date``/``create_date`` for
created records, which tells both which ids are gone and what they hold now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zenoo_etl.runner.coerce import equal_values

FORMAT = 2
_MARK = "_undo"


def pack_previous(previous: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """The ledger ``previous`` of an ``updated`` record: old values and what apply wrote."""
    if not previous:
        return {}  # nothing was written: nothing to restore or check
    return {_MARK: FORMAT, "previous": previous, "written": written}


def pack_created(written: dict[str, Any]) -> dict[str, Any]:
    """The ledger ``previous`` of a ``created`` record whose create may commit late:
    nothing to restore, only what was written (for the change check)."""
    return {_MARK: FORMAT, "previous": {}, "written": written}


def split_previous(stored: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``(previous values, written values or None)`` from either ledger format."""
    if not isinstance(stored, dict):
        return {}, None
    if stored.get(_MARK) == FORMAT and isinstance(stored.get("previous"), dict):
        written = stored.get("written")
        return dict(stored["previous"]), dict(written) if isinstance(written, dict) else None
    return dict(stored), None  # the flat format of earlier ledgers


@dataclass
class Changed:
    """One record someone else changed after apply (not undone without ``--force``)."""

    key: str
    odoo_id: int
    field: str
    written: Any
    current: Any
    # Records an update/delete found by ``match`` are kept in the ledger under their id;
    # their match values ({"default_code": "P003"}) say which row they came from.
    match: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "odoo_id": self.odoo_id,
            "field": self.field,
            "written": self.written,
            "current": self.current,
            **({"match": self.match} if self.match else {}),
        }

    def label(self) -> str:
        """``key 'P003' (id 3)``; ``default_code 'P003' (id 3)`` for a record found by match."""
        if self.match:
            named = ", ".join(f"{name} {value!r}" for name, value in self.match.items())
            return f"{named} (id {self.odoo_id})"
        if self.key == str(self.odoo_id):
            return f"record id {self.odoo_id}"  # found by a domain: the id is all there is
        return f"key {self.key!r} (id {self.odoo_id})"

    def describe(self) -> str:
        return (
            f"{self.label()} field '{self.field}': apply wrote {self.written!r}, "
            f"now {self.current!r}"
        )


@dataclass
class Drift:
    """What the checks of one step found."""

    missing: list[int] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)


def first_difference(
    types: dict[str, str],
    written: dict[str, Any],
    current: dict[str, Any],
    *,
    also: dict[str, Any] | None = None,
) -> tuple[str, Any] | None:
    """The first field whose current value is not what apply wrote (compared like ``_diff``).

    ``also``: other accepted values per field (the previous values a rollback
    restores: a field already back at its previous value was restored by an
    interrupted rollback, or holds what rollback would write anyway).
    """
    for name, value in written.items():
        kind = types.get(name, "char")
        if kind in ("many2many", "one2many") and not _replaces_all(value):
            continue  # add/remove commands say nothing of the whole value: cannot compare
        now = current.get(name, False)
        if equal_values(kind, now, value):
            continue
        if also is not None and name in also and equal_values(kind, now, also[name]):
            continue
        return name, now
    return None


def _replaces_all(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], (list, tuple))
        and len(value[0]) == 3
        and value[0][0] == 6
    )


def modified_after_create(record: dict[str, Any]) -> bool:
    """Whether a record was written after its creation (Odoo keeps seconds only)."""
    created, written = record.get("create_date"), record.get("write_date")
    return bool(created and written and written != created)


__all__ = [
    "FORMAT",
    "Changed",
    "Drift",
    "first_difference",
    "modified_after_create",
    "pack_created",
    "pack_previous",
    "split_previous",
]
