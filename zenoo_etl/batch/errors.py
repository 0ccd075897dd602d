"""Errors of the batch layer: a rejected operation, a failed execution.

::

    ZenooError
    └── BatchError
        ├── BatchValidationError   an operation was rejected before anything was sent
        └── BatchExecutionError    a call failed; carries the partial results
"""

from __future__ import annotations

from collections.abc import Sequence

from zenoo_etl.batch.operations import BatchOperationResult, Operation
from zenoo_etl.errors import ZenooError


class BatchError(ZenooError):
    """Root of the batch layer's errors."""


class BatchValidationError(BatchError):
    """An operation was rejected (malformed, or by a validator); nothing was sent."""

    def __init__(self, message: str, *, operation_index: int, operation: Operation | None) -> None:
        super().__init__(message)
        self.operation_index = operation_index
        self.operation = operation


class BatchExecutionError(BatchError):
    """A call of the batch failed.

    ``partial_results`` has one :class:`BatchOperationResult` per operation of
    the failed ``execute()``, in order: successes, the failed call's operations
    (with ``error``), and skipped ones. ``successful_count`` counts successes;
    ``operation_index`` is the first operation of the failed call and
    ``failed_indices`` all of them (one Odoo call is one transaction, so they
    failed together). ``error`` is the underlying client error.
    """

    def __init__(
        self,
        message: str,
        *,
        partial_results: Sequence[BatchOperationResult],
        operation_index: int,
        failed_indices: Sequence[int],
        operation: Operation,
        error: BaseException,
    ) -> None:
        super().__init__(message)
        self.partial_results = list(partial_results)
        self.successful_count = sum(1 for r in self.partial_results if r.success)
        self.operation_index = operation_index
        self.failed_indices = list(failed_indices)
        self.operation = operation
        self.error = error


__all__ = ["BatchError", "BatchExecutionError", "BatchValidationError"]
