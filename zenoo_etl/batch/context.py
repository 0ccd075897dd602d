"""``BatchContext``: queue operations, execute them in few calls, undo the creates.

::

    async with client.batch() as batch:               # executes on exit unless the block raised
        batch.create("res.partner", {"name": "P1"})
        batch.update("res.partner", {"active": False}, ids=[7, 8])
        batch.delete("res.partner", ids=[9])

    async with BatchContext(client, batch_size=100, parallel=True) as b:
        ...
        results = await b.execute()                   # one BatchOperationResult per operation

Every ``execute()`` validates all pending operations first (nothing is sent
if one is rejected), plans the calls (:mod:`zenoo_etl.batch.planner`), runs
the groups in order, and the calls of a group one by one or up to
``concurrency`` at once. On the first failed call no further call is started;
calls already in flight finish, then :class:`BatchExecutionError` is raised
with the partial results. :meth:`BatchContext.rollback` deletes the records
the context created, newest first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from types import TracebackType
from typing import Any

from typing_extensions import assert_never  # typing has it from 3.11 only

from zenoo_etl.batch.errors import BatchExecutionError, BatchValidationError
from zenoo_etl.batch.operations import (
    BatchOperationResult,
    CreateOp,
    DeleteOp,
    Operation,
    UpdateOp,
)
from zenoo_etl.batch.planner import Call, CreateCall, UnlinkCall, WriteCall, plan_calls
from zenoo_etl.client import ZenooClient
from zenoo_etl.client.errors import BadResponseError, MissingRecordError, OdooError

#: A validator looks at one operation and rejects it by raising, or by
#: returning False or a message string. None/True accept it.
Validator = Callable[[Operation], object]


def _describe(op: Operation) -> str:
    match op:
        case CreateOp():
            return f"create {op.model}"
        case UpdateOp():
            return f"update {op.model} ids {list(op.ids)[:5]}"
        case DeleteOp():
            return f"delete {op.model} ids {list(op.ids)[:5]}"
        case _:
            assert_never(op)


def _check_ids(ids: Sequence[int], what: str) -> tuple[int, ...]:
    if isinstance(ids, (str, bytes)) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise TypeError(f"{what}: ids must be a list of integers, got {ids!r}")
    return tuple(ids)


class BatchContext:
    """Queues create/update/delete operations and executes them in chunked calls."""

    def __init__(
        self,
        client: ZenooClient,
        auto_execute: bool = False,
        batch_size: int = 100,
        parallel: bool = False,
        concurrency: int = 4,
        *,
        validators: Sequence[Validator] = (),
        context: Mapping[str, Any] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.client = client
        self.auto_execute = auto_execute
        self.batch_size = batch_size
        self.parallel = parallel
        self.concurrency = max(1, concurrency)
        self.context = dict(context) if context else None
        self._validators: list[Validator] = list(validators)
        self._pending: list[Operation] = []
        #: (model, id) of every record created, in creation order.
        self.created: list[tuple[str, int]] = []

    # ---------------------------------------------------------------- queueing

    async def __aenter__(self) -> BatchContext:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and self.auto_execute and self._pending:
            await self.execute()

    @property
    def pending(self) -> list[Operation]:
        """The operations the next ``execute()`` will run (a copy)."""
        return list(self._pending)

    def __len__(self) -> int:
        return len(self._pending)

    def add_validator(self, validator: Validator) -> None:
        """Run ``validator`` on every operation before anything is sent."""
        self._validators.append(validator)

    def _queue(self, op: Operation) -> int:
        self._pending.append(op)
        return len(self._pending) - 1

    def create(self, model: str, data: Mapping[str, Any]) -> int:
        """Queue the creation of one record; returns its index in the results."""
        # type() first: the ABC check costs more than the rest of a plain-dict create.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"create {model}: data must be a dict of field values")
        pending = self._pending
        pending.append(CreateOp(model, data))
        return len(pending) - 1

    def update(self, model: str, data: Mapping[str, Any], ids: Sequence[int]) -> int:
        """Queue a write of ``data`` on ``ids``; returns its index in the results."""
        if not isinstance(data, Mapping):
            raise TypeError(f"update {model}: data must be a dict of field values")
        return self._queue(UpdateOp(model, data, _check_ids(ids, f"update {model}")))

    def delete(self, model: str, ids: Sequence[int]) -> int:
        """Queue the deletion of ``ids``; returns its index in the results."""
        return self._queue(DeleteOp(model, _check_ids(ids, f"delete {model}")))

    def clear(self) -> None:
        """Drop the pending operations."""
        self._pending.clear()

    # ---------------------------------------------------------------- execution

    def _validate(self, ops: Sequence[Operation]) -> None:
        for index, op in enumerate(ops):
            if not op.model or not isinstance(op.model, str):
                raise BatchValidationError(
                    f"Batch operation #{index} has no model name.",
                    operation_index=index,
                    operation=op,
                )
            for validator in self._validators:
                try:
                    verdict = validator(op)
                except Exception as exc:  # a validator says no by raising anything
                    reason = str(exc) or type(exc).__name__
                else:
                    if verdict is False:
                        reason = "rejected by a validator"
                    elif isinstance(verdict, str) and verdict:
                        reason = verdict
                    else:
                        continue
                raise BatchValidationError(
                    f"Batch operation #{index} ({_describe(op)}) was rejected: {reason}. "
                    "Nothing was sent; fix or remove the operation and execute again.",
                    operation_index=index,
                    operation=op,
                )

    async def execute(self) -> list[BatchOperationResult]:
        """Run the pending operations; one result per operation, in queue order."""
        ops = self._pending
        self._validate(ops)
        self._pending = []
        results: list[BatchOperationResult | None] = [None] * len(ops)
        failures: list[tuple[Call, BaseException]] = []
        semaphore = asyncio.Semaphore(self.concurrency if self.parallel else 1)

        async def run(call: Call) -> None:
            async with semaphore:
                if failures:
                    return  # an earlier call failed: start nothing new
                try:
                    await self._run_call(call, results)
                except Exception as exc:
                    for index in call.indices:
                        results[index] = BatchOperationResult(False, None, exc)
                    failures.append((call, exc))

        for calls in plan_calls(ops, self.batch_size):
            if self.parallel and len(calls) > 1:
                await asyncio.gather(*(run(call) for call in calls))
            else:
                for call in calls:
                    await run(call)
            if failures:
                break
        final = [r if r is not None else BatchOperationResult(False) for r in results]
        if failures:
            call, exc = min(failures, key=lambda f: f[0].indices[0])
            index = call.indices[0]
            if isinstance(exc, OdooError):
                exc.operation_index = index
            done = sum(1 for r in final if r.success)
            # One call is one transaction: every operation in it failed together.
            which = (
                f"Batch operation #{index} ({_describe(ops[index])})"
                if len(call.indices) == 1
                else f"Batch operations #{index} to #{max(call.indices)} "
                f"({len(call.indices)} in one call: {_describe(ops[index])})"
            )
            raise BatchExecutionError(
                f"{which} failed: {exc} "
                f"{done} of {len(ops)} operations succeeded and were kept; call rollback() "
                "to delete the records this batch created.",
                partial_results=final,
                operation_index=index,
                failed_indices=call.indices,
                operation=ops[index],
                error=exc,
            ) from exc
        return final

    async def _run_call(self, call: Call, results: list[BatchOperationResult | None]) -> None:
        client, context = self.client, self.context
        match call:
            case CreateCall():
                ids = await client.create(call.model, call.values, context=context)
                if len(ids) != len(call.indices):
                    raise BadResponseError(
                        f"Odoo answered {call.model}.create with {len(ids)} ids for "
                        f"{len(call.indices)} records."
                    )
                # Record before anything else can fail, so rollback sees them.
                self.created.extend(zip(repeat(call.model, len(ids)), ids, strict=True))
                for index, new_id in zip(call.indices, ids, strict=True):
                    results[index] = BatchOperationResult(True, new_id)
            case WriteCall():
                if call.ids:
                    await client.write(call.model, call.ids, call.values, context=context)
                for index in call.indices:
                    results[index] = BatchOperationResult(True, True)
            case UnlinkCall():
                if call.ids:
                    await client.unlink(call.model, call.ids, context=context)
                for index in call.indices:
                    results[index] = BatchOperationResult(True, True)
            case _:
                assert_never(call)

    async def rollback(self) -> int:
        """Delete the records this context created, newest first; returns how many.

        Records already gone are skipped. Created ids are forgotten once deleted.
        """
        deleted = 0
        while self.created:
            model = self.created[-1][0]
            chunk: list[int] = []
            while self.created and self.created[-1][0] == model and len(chunk) < self.batch_size:
                chunk.append(self.created.pop()[1])
            try:
                deleted += await self._unlink_existing(model, chunk)
            except BaseException:
                self.created.extend((model, i) for i in reversed(chunk))  # still to delete
                raise
        return deleted

    async def _unlink_existing(self, model: str, ids: list[int]) -> int:
        try:
            await self.client.unlink(model, ids, context=self.context)
            return len(ids)
        except MissingRecordError:
            # Some are gone already (deleted by someone else): delete the rest.
            existing = await self.client.search(
                model, [["id", "in", ids]], context={**(self.context or {}), "active_test": False}
            )
            keep = set(existing)
            remaining = [i for i in ids if i in keep]
            if remaining:
                await self.client.unlink(model, remaining, context=self.context)
            return len(remaining)


__all__ = ["BatchContext", "Validator"]
