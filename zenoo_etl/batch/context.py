"""``BatchContext``: queue operations, execute them in few calls, undo the creates.

::

    async with client.batch() as batch:               # executes on exit unless the block raised
        batch.create("res.partner", {"name": "P1"})
        batch.update("res.partner", {"active": False}, ids=[7, 8])
        batch.delete("res.partner", ids=[9])

    async with BatchContext(client, auto_execute=False, batch_size=100, parallel=True) as b:
        ...
        results = await b.execute()                   # one BatchOperationResult per operation

Every ``execute()`` validates all pending operations first (nothing is sent
if one is rejected), plans the calls (:mod:`zenoo_etl.batch.planner`), runs
the groups in order, and the calls of a group one by one or up to
``concurrency`` at once.

One Odoo call is one transaction, so a failed call of many operations says
nothing about which of them is bad. With ``isolate_failures`` (the default)
such a call is split in halves, each sent again as its own call and
transaction, down to the bad operations: every operation ends with its own
result (its record, or its own Odoo error) and good ones are kept. This costs
extra calls only on failure: one bad operation in a call of ``n`` costs about
``2·log2(n)`` more calls, ``k`` bad ones about ``2k·log2(n/k)``, and at most
``2(n-1)`` when every operation is bad. The other calls of the failing group
still run (they are independent); later groups do not start, since they may
depend on this one. Errors that say nothing about the data (transport
faults, authentication, concurrency after retries) are not split: no new
call starts, the calls in flight finish.

With ``isolate_failures=False`` a failed call fails all its operations
together (all-or-nothing chunks) and no further call starts.
:class:`BatchExecutionError` carries the per-operation results either way;
:meth:`BatchContext.rollback` deletes the records the context created,
newest first.
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
    RecordRef,
    UpdateOp,
)
from zenoo_etl.batch.planner import Call, CreateCall, UnlinkCall, WriteCall, plan_calls
from zenoo_etl.client import ZenooClient
from zenoo_etl.client.errors import (
    AuthenticationError,
    BadResponseError,
    ConcurrencyError,
    MissingRecordError,
    OdooError,
)

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


def _isolatable(exc: BaseException) -> bool:
    """Whether ``exc`` may be about some operations of the call only (worth splitting)."""
    return isinstance(exc, OdooError) and not isinstance(
        exc, (AuthenticationError, ConcurrencyError)
    )


def _unique_ids(indices: Sequence[int], ops: Sequence[Operation]) -> list[int]:
    ids: dict[int, None] = {}
    for index in indices:
        op = ops[index]
        assert isinstance(op, (UpdateOp, DeleteOp))
        ids.update(dict.fromkeys(op.ids))
    return list(ids)


def _halves(call: Call, ops: Sequence[Operation]) -> tuple[Call, Call]:
    """``call`` split into two calls of about half its operations each (at least 2 ops)."""
    mid = len(call.indices) // 2
    first, second = call.indices[:mid], call.indices[mid:]
    match call:
        case CreateCall():
            return (
                CreateCall(call.model, call.values[:mid], first),
                CreateCall(call.model, call.values[mid:], second),
            )
        case WriteCall():
            return (
                WriteCall(call.model, _unique_ids(first, ops), call.values, first),
                WriteCall(call.model, _unique_ids(second, ops), call.values, second),
            )
        case UnlinkCall():
            return (
                UnlinkCall(call.model, _unique_ids(first, ops), first),
                UnlinkCall(call.model, _unique_ids(second, ops), second),
            )
        case _:
            assert_never(call)


class BatchContext:
    """Queues create/update/delete operations and executes them in chunked calls.

    ``operations`` lists what is queued and not yet executed (each with
    ``result`` None until sent); ``results`` every result this context
    produced, in execution order; ``created`` the (model, id) of every record
    it created, for :meth:`rollback`.
    """

    def __init__(
        self,
        client: ZenooClient,
        auto_execute: bool = True,
        batch_size: int = 100,
        parallel: bool = False,
        concurrency: int = 4,
        *,
        isolate_failures: bool = True,
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
        self.isolate_failures = isolate_failures
        self.context = dict(context) if context else None
        self._validators: list[Validator] = list(validators)
        #: The queued operations; ``execute()`` runs those not sent yet and empties it.
        self.operations: list[Operation] = []
        #: Every result of this context, in the order the operations were executed.
        self.results: list[BatchOperationResult] = []
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
        if exc_type is None and self.auto_execute and len(self):
            await self.execute()

    @property
    def pending(self) -> list[Operation]:
        """The operations the next ``execute()`` will run (a copy)."""
        return [op for op in self.operations if op.result is None]

    def __len__(self) -> int:
        return sum(1 for op in self.operations if op.result is None)

    def add_validator(self, validator: Validator) -> None:
        """Run ``validator`` on every operation before anything is sent."""
        self._validators.append(validator)

    def _queue(self, op: Operation) -> int:
        self.operations.append(op)
        return len(self.operations) - 1

    def create(self, model: str, data: Mapping[str, Any]) -> int:
        """Queue the creation of one record; returns its index in ``operations``."""
        # type() first: the ABC check costs more than the rest of a plain-dict create.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"create {model}: data must be a dict of field values")
        operations = self.operations
        operations.append(CreateOp(model, data))
        return len(operations) - 1

    def update(self, model: str, data: Mapping[str, Any], ids: Sequence[int]) -> int:
        """Queue a write of ``data`` on ``ids``; returns its index in ``operations``."""
        if not isinstance(data, Mapping):
            raise TypeError(f"update {model}: data must be a dict of field values")
        return self._queue(UpdateOp(model, data, _check_ids(ids, f"update {model}")))

    def delete(self, model: str, ids: Sequence[int]) -> int:
        """Queue the deletion of ``ids``; returns its index in ``operations``."""
        return self._queue(DeleteOp(model, _check_ids(ids, f"delete {model}")))

    def clear(self) -> None:
        """Drop the queued operations."""
        self.operations.clear()

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
        """Run the operations not sent yet; one result per operation, in queue order.

        Raises :class:`BatchValidationError` (nothing sent, queue kept) or
        :class:`BatchExecutionError` (per-operation results in
        ``partial_results``; the queue is emptied either way).
        """
        ops = self.pending
        self._validate(ops)
        self.operations.clear()
        results = await self._run(ops)
        failed = [i for i, r in enumerate(results) if r.error is not None]
        if failed:
            raise self._failure(ops, results, failed)
        return results

    # The seed's subclassing hooks (its AdvancedBatchContext calls them): run
    # the given operations now. They never raise for a failed call: each
    # result says how its operation ended. Operations already sent are not
    # sent again (their earlier result is returned).

    async def _execute_create_operations(
        self, operations: Sequence[Operation]
    ) -> list[BatchOperationResult]:
        return await self._execute_operations(operations)

    async def _execute_update_operations(
        self, operations: Sequence[Operation]
    ) -> list[BatchOperationResult]:
        return await self._execute_operations(operations)

    async def _execute_delete_operations(
        self, operations: Sequence[Operation]
    ) -> list[BatchOperationResult]:
        return await self._execute_operations(operations)

    async def _execute_operations(
        self, operations: Sequence[Operation]
    ) -> list[BatchOperationResult]:
        todo = [op for op in operations if op.result is None]
        self._validate(todo)
        await self._run(todo)
        return [
            op.result if op.result is not None else BatchOperationResult(False) for op in operations
        ]

    async def _run(self, ops: Sequence[Operation]) -> list[BatchOperationResult]:
        """Send ``ops``; never raises for a failed call (see the module docstring)."""
        results: list[BatchOperationResult | None] = [None] * len(ops)
        state = {"stop": False, "failed": False}
        semaphore = asyncio.Semaphore(self.concurrency if self.parallel else 1)

        async def run(call: Call) -> None:
            async with semaphore:
                if not state["stop"]:
                    await self._settle(call, ops, results, state)

        for calls in plan_calls(ops, self.batch_size):
            if self.parallel and len(calls) > 1:
                await asyncio.gather(*(run(call) for call in calls))
            else:
                for call in calls:
                    await run(call)
            if state["failed"]:
                break  # later groups may depend on what failed
        final = [r if r is not None else BatchOperationResult(False) for r in results]
        for op, result in zip(ops, final, strict=True):
            op.result = result
        self.results.extend(final)
        return final

    async def _settle(
        self,
        call: Call,
        ops: Sequence[Operation],
        results: list[BatchOperationResult | None],
        state: dict[str, bool],
    ) -> None:
        """Run ``call``; on failure split it (isolate mode) or fail its operations."""
        try:
            await self._run_call(call, results)
            return
        except Exception as exc:
            error: Exception = exc
        state["failed"] = True
        isolate = self.isolate_failures and _isolatable(error)
        if isolate and len(call.indices) > 1:
            for half in _halves(call, ops):
                if state["stop"]:
                    return  # the rest stays unsent
                await self._settle(half, ops, results, state)
            return
        for index in call.indices:
            results[index] = BatchOperationResult(False, None, error)
        if isinstance(error, OdooError) and error.operation_index is None:
            error.operation_index = call.indices[0]
        if not isolate:
            state["stop"] = True  # start no new call

    def _failure(
        self,
        ops: Sequence[Operation],
        results: Sequence[BatchOperationResult],
        failed: list[int],
    ) -> BatchExecutionError:
        index = failed[0]
        error = results[index].error
        assert isinstance(error, BaseException)
        together = [i for i in failed if results[i].error is error]
        if len(together) == 1:
            which = f"Batch operation #{index} ({_describe(ops[index])}) failed"
        else:
            # One call is one transaction: these operations failed together.
            which = (
                f"Batch operations #{index} to #{max(together)} "
                f"({len(together)} in one call: {_describe(ops[index])}) failed"
            )
        others = len(failed) - len(together)
        also = f" {others} other operation(s) failed too (see partial_results)." if others else ""
        done = sum(1 for r in results if r.success)
        unsent = sum(1 for r in results if r.skipped)
        not_sent = f", {unsent} were not sent" if unsent else ""
        return BatchExecutionError(
            f"{which}: {error}{also} {done} of {len(ops)} operations succeeded and were "
            f"kept{not_sent}; call rollback() to delete the records this batch created.",
            partial_results=results,
            operation_index=index,
            failed_indices=failed,
            operation=ops[index],
            error=error,
        )

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
                model = call.model
                for index, new_id in zip(call.indices, ids, strict=True):
                    results[index] = BatchOperationResult(True, RecordRef(model, new_id))
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
