"""The rendered values a row carries to the runner: plain data and references.

``FieldValue`` is what a field template renders to. References are resolved by
the runner (ledger, ir.model.data, search), never by the compiler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Ref:
    """The Odoo id that step ``step`` recorded under ``key`` (from the ledger)."""

    step: str
    key: str


@dataclass(frozen=True, slots=True)
class XmlidRef:
    """An external id ``module.name`` resolved through ir.model.data."""

    xmlid: str


@dataclass(frozen=True, slots=True, eq=True)
class SearchRef:
    """A search on ``model`` with ``domain`` that must match exactly one record."""

    model: str
    domain: list[Any]

    def __hash__(self) -> int:
        return hash(self.cache_key)

    @property
    def cache_key(self) -> str:
        """A stable string for batching and caching identical look-ups."""
        return json.dumps([self.model, self.domain], sort_keys=True, default=str)


FieldValue: TypeAlias = (
    bool | int | float | str | Ref | XmlidRef | SearchRef | list["FieldValue"] | None
)


@dataclass(frozen=True, slots=True)
class Row:
    """One rendered data row of a step.

    ``index`` is 0-based among the data rows; ``line`` the 1-based physical
    line where the record starts in the source file (None for inline records
    and JSON lists); ``key`` the row's identity inside its step.
    """

    index: int
    line: int | None
    key: str
    values: dict[str, FieldValue]
    # A document's lines (``[steps.lines]``), created with it in the same call.
    lines: tuple[Row, ...] = ()


__all__ = ["FieldValue", "Ref", "Row", "SearchRef", "XmlidRef"]
