"""The batch layer (DESIGN.md section 6): queue operations, run them in few calls.

``BatchContext`` (``context``), the operation union, results and record
handles (``operations``), the pure call planner (``planner``) and the errors
(``errors``). The batch layer imports the client; the client reaches it only
through a local import in ``ZenooClient.batch()``.
"""

from zenoo_etl.batch.context import BatchContext, Validator
from zenoo_etl.batch.errors import BatchError, BatchExecutionError, BatchValidationError
from zenoo_etl.batch.operations import (
    BatchOperation,
    BatchOperationResult,
    CreateOp,
    CreateOperation,
    DeleteOp,
    DeleteOperation,
    Operation,
    RecordRef,
    UpdateOp,
    UpdateOperation,
)

__all__ = [
    "BatchContext",
    "BatchError",
    "BatchExecutionError",
    "BatchOperation",
    "BatchOperationResult",
    "BatchValidationError",
    "CreateOp",
    "CreateOperation",
    "DeleteOp",
    "DeleteOperation",
    "Operation",
    "RecordRef",
    "UpdateOp",
    "UpdateOperation",
    "Validator",
]
