"""zenoo-etl: declarative, versioned, fast and reversible data migrations for Odoo.

The library underneath the CLI is importable from the package root, as the
seed's examples do::

    from zenoo_etl import ZenooClient, BatchContext, BatchExecutionError, ValidationError

The names are loaded on first use (PEP 562), so ``import zenoo_etl.sandbox``
or the CLI do not pay for the client and batch layers they do not need.
``ValidationError`` is the root of refused values (:mod:`zenoo_etl.errors`):
Odoo's constraint errors and the batch layer's rejections both derive from it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from zenoo_etl.batch import (
        BatchContext,
        BatchError,
        BatchExecutionError,
        BatchOperation,
        BatchOperationResult,
        BatchValidationError,
        CreateOp,
        CreateOperation,
        DeleteOp,
        DeleteOperation,
        Operation,
        RecordRef,
        UpdateOp,
        UpdateOperation,
    )
    from zenoo_etl.client import (
        AccessError,
        AuthenticationError,
        BadResponseError,
        ClientClosedError,
        ClientError,
        ConcurrencyError,
        ConnectError,
        ConnectionLostError,
        LoadResult,
        MissingRecordError,
        ModelQuery,
        OdooError,
        OdooUserError,
        OutcomeUnknownError,
        RequestTimeout,
        ServerError,
        TransportError,
        ZenooClient,
    )
    from zenoo_etl.errors import ConfigError, ValidationError, ZenooError

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        [
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
        ],
        "zenoo_etl.batch",
    ),
    **dict.fromkeys(
        [
            "AccessError",
            "AuthenticationError",
            "BadResponseError",
            "ClientClosedError",
            "ClientError",
            "ConcurrencyError",
            "ConnectError",
            "ConnectionLostError",
            "LoadResult",
            "MissingRecordError",
            "ModelQuery",
            "OdooError",
            "OdooUserError",
            "OutcomeUnknownError",
            "RequestTimeout",
            "ServerError",
            "TransportError",
            "ZenooClient",
        ],
        "zenoo_etl.client",
    ),
    **dict.fromkeys(["ConfigError", "ValidationError", "ZenooError"], "zenoo_etl.errors"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zenoo_etl' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "AccessError",
    "AuthenticationError",
    "BadResponseError",
    "BatchContext",
    "BatchError",
    "BatchExecutionError",
    "BatchOperation",
    "BatchOperationResult",
    "BatchValidationError",
    "ClientClosedError",
    "ClientError",
    "ConcurrencyError",
    "ConfigError",
    "ConnectError",
    "ConnectionLostError",
    "CreateOp",
    "CreateOperation",
    "DeleteOp",
    "DeleteOperation",
    "LoadResult",
    "MissingRecordError",
    "ModelQuery",
    "OdooError",
    "OdooUserError",
    "Operation",
    "OutcomeUnknownError",
    "RecordRef",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "UpdateOp",
    "UpdateOperation",
    "ValidationError",
    "ZenooClient",
    "ZenooError",
    "__version__",
]
