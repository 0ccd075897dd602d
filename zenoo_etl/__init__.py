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

# The layers that define the public names, searched in this order: a name of
# ``__all__`` is taken from the first layer that exports it (its own ``__all__``;
# ``zenoo_etl.errors`` has none, so its module names). Errors come first, so
# ``ValidationError`` is the root one, not the client's subclass; the client
# before the batch layer, so that its names do not load the batch.
_LAYERS = ("zenoo_etl.errors", "zenoo_etl.client", "zenoo_etl.batch")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module_name in _LAYERS:
            module = import_module(module_name)
            if name in getattr(module, "__all__", vars(module)):
                value = getattr(module, name)
                globals()[name] = value  # later look-ups skip this function
                return value
    raise AttributeError(f"module 'zenoo_etl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
