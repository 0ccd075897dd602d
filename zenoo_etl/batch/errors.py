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
from zenoo_etl.errors import ValidationError, ZenooError


class BatchError(ZenooError):
    """Root of the batch layer's errors."""


class BatchValidationError(BatchError, ValidationError):
    """An operation was rejected (malformed, or by a validator); nothing was sent.

    Also a :class:`zenoo_etl.errors.ValidationError`: never an Odoo answer.
    """

    def __init__(self, message: str, *, operation_index: int, operation: Operation | None) -> None:
        super().__init__(message)
        self.operation_index = operation_index
        self.operation = operation


class BatchExecutionError(BatchError):
    """Some operations of an ``execute()`` failed.

    ``partial_results`` has one :class:`BatchOperationResult` per operation of
    the failed ``execute()``, in order: successes (with their record), failures
    (with their own ``error``), and operations never sent (``skipped``).
    ``successful_count`` counts successes; ``failed_indices`` lists the failed
    operations, ``operation_index`` the first of them, ``operation`` that
    operation and ``error`` its client error. Operations that shared one
    all-or-nothing call share its error object.
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
