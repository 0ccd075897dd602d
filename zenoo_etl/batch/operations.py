"""What a batch holds: the closed union of queued operations, and their results.

An :data:`Operation` is one of :class:`CreateOp`, :class:`UpdateOp`,
:class:`DeleteOp`; code that handles them dispatches with ``match`` and ends
with ``assert_never`` so that adding a kind is a type error until handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class CreateOp:
    """Create one record of ``model`` with ``values``."""

    model: str
    values: Mapping[str, Any]
    kind: Literal["create"] = "create"


@dataclass(frozen=True, slots=True)
class UpdateOp:
    """Write ``values`` on the records ``ids`` of ``model``."""

    model: str
    values: Mapping[str, Any]
    ids: tuple[int, ...]
    kind: Literal["update"] = "update"


@dataclass(frozen=True, slots=True)
class DeleteOp:
    """Delete the records ``ids`` of ``model``."""

    model: str
    ids: tuple[int, ...]
    kind: Literal["delete"] = "delete"


Operation = CreateOp | UpdateOp | DeleteOp


@dataclass(frozen=True, slots=True)
class BatchOperationResult:
    """Outcome of one queued operation.

    ``success`` with ``data`` (the new id for a create, True otherwise); or a
    failure with ``error``; or, when ``success`` is False and ``error`` is None,
    the operation was not executed because an earlier one failed.
    """

    success: bool
    data: Any = None
    error: BaseException | None = None

    @property
    def skipped(self) -> bool:
        """True when the operation was never sent."""
        return not self.success and self.error is None


__all__ = ["BatchOperationResult", "CreateOp", "DeleteOp", "Operation", "UpdateOp"]
