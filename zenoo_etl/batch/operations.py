"""What a batch holds: the closed union of queued operations, and their results.

An :data:`Operation` is one of :class:`CreateOp`, :class:`UpdateOp`,
:class:`DeleteOp`; code that handles them dispatches with ``match`` and ends
with ``assert_never`` so that adding a kind is a type error until handled.
An operation runs at most once: once sent, its ``result`` is set, and every
way of running it (``BatchContext.execute()``, the context's
``_execute_*_operations`` hooks, ``op.execute(client)``) skips it.

A create's result carries a :class:`RecordRef`: the new id as an ``int``
that also knows its model (``.id``, ``._model_name``), as the seed's
examples use it. The names ``BatchOperation``, ``CreateOperation``,
``UpdateOperation`` and ``DeleteOperation`` are the seed's spellings of the
same classes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from zenoo_etl.client import ZenooClient


class RecordRef(int):
    """A created record: its id, usable wherever an int id is (``==``, hashing, JSON).

    ``ref.id`` is the plain int and ``ref._model_name`` the model. Two refs
    to the same id of different models compare equal, like their ids do.
    """

    _model_name: str

    def __new__(cls, model: str, record_id: int) -> RecordRef:
        ref = super().__new__(cls, record_id)
        ref._model_name = model
        return ref

    @property
    def id(self) -> int:
        return int(self)

    @property
    def model(self) -> str:
        return self._model_name

    def __repr__(self) -> str:
        return f"{self._model_name}({int(self)})"

    __str__ = int.__repr__  # str() and f-strings print the bare id

    def __reduce__(self) -> tuple[type[RecordRef], tuple[str, int]]:
        return (RecordRef, (self._model_name, int(self)))


@dataclass(frozen=True, slots=True)
class BatchOperationResult:
    """Outcome of one queued operation.

    ``success`` with ``data`` (a :class:`RecordRef` for a create, True
    otherwise); or a failure with ``error`` (the operation's own error); or,
    when ``success`` is False and ``error`` is None, the operation was not
    sent. A successful create's result also answers ``.id`` and
    ``._model_name``; other results have neither (``hasattr`` is False).
    """

    success: bool
    data: Any = None
    error: BaseException | str | None = None

    @property
    def skipped(self) -> bool:
        """True when the operation was never sent."""
        return not self.success and self.error is None

    @property
    def id(self) -> int:
        if isinstance(self.data, RecordRef):
            return self.data.id
        raise AttributeError("only the result of a successful create has a record id")

    @property
    def _model_name(self) -> str:
        if isinstance(self.data, RecordRef):
            return self.data._model_name
        raise AttributeError("only the result of a successful create has a model name")


@dataclass(slots=True)
class CreateOp:
    """Create one record of ``model`` with ``values``."""

    model: str
    values: Mapping[str, Any]
    kind: Literal["create"] = "create"
    #: Set once the operation was sent (or skipped by a failed ``execute()``).
    result: BatchOperationResult | None = field(default=None, compare=False, repr=False)

    async def execute(
        self, client: ZenooClient, *, context: Mapping[str, Any] | None = None
    ) -> BatchOperationResult:
        """Send this operation alone (once); raises the client error if it fails."""

        async def send() -> RecordRef:
            return RecordRef(
                self.model, await client.create(self.model, self.values, context=context)
            )

        return await _send_once(self, send)


@dataclass(slots=True)
class UpdateOp:
    """Write ``values`` on the records ``ids`` of ``model``."""

    model: str
    values: Mapping[str, Any]
    ids: tuple[int, ...]
    kind: Literal["update"] = "update"
    result: BatchOperationResult | None = field(default=None, compare=False, repr=False)

    async def execute(
        self, client: ZenooClient, *, context: Mapping[str, Any] | None = None
    ) -> BatchOperationResult:
        """Send this operation alone (once); raises the client error if it fails."""

        async def send() -> bool:
            if self.ids:
                await client.write(self.model, self.ids, self.values, context=context)
            return True

        return await _send_once(self, send)


@dataclass(slots=True)
class DeleteOp:
    """Delete the records ``ids`` of ``model``."""

    model: str
    ids: tuple[int, ...]
    kind: Literal["delete"] = "delete"
    result: BatchOperationResult | None = field(default=None, compare=False, repr=False)

    async def execute(
        self, client: ZenooClient, *, context: Mapping[str, Any] | None = None
    ) -> BatchOperationResult:
        """Send this operation alone (once); raises the client error if it fails."""

        async def send() -> bool:
            if self.ids:
                await client.unlink(self.model, self.ids, context=context)
            return True

        return await _send_once(self, send)


Operation = CreateOp | UpdateOp | DeleteOp


async def _send_once(op: Operation, send: Callable[[], Awaitable[Any]]) -> BatchOperationResult:
    """Run ``send`` unless ``op`` already ran; its answer (or error) becomes ``op.result``."""
    if op.result is None:
        try:
            data = await send()
        except Exception as exc:
            op.result = BatchOperationResult(False, None, exc)
            raise
        op.result = BatchOperationResult(True, data)
    return op.result


# The seed's names for the same classes.
BatchOperation = Operation
CreateOperation = CreateOp
UpdateOperation = UpdateOp
DeleteOperation = DeleteOp


__all__ = [
    "BatchOperation",
    "BatchOperationResult",
    "CreateOp",
    "CreateOperation",
    "DeleteOp",
    "DeleteOperation",
    "Operation",
    "RecordRef",
    "UpdateOp",
    "UpdateOperation",
]
