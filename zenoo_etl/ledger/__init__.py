"""The state ledger: migration history, every touched record, and the apply lock.

See :mod:`zenoo_etl.ledger.protocol` for the contract.
"""

from __future__ import annotations

from zenoo_etl.ledger.protocol import (
    DEFAULT_STALE_AFTER_SECONDS,
    Counts,
    DoneEntry,
    Ledger,
    LedgerEvent,
    LedgerRecord,
    LedgerScope,
    LockHolder,
    LockInfo,
    MigrationRecord,
    MigrationStatus,
    Operation,
    RecordState,
    StepRow,
)

__all__ = [
    "DEFAULT_STALE_AFTER_SECONDS",
    "Counts",
    "DoneEntry",
    "Ledger",
    "LedgerEvent",
    "LedgerRecord",
    "LedgerScope",
    "LockHolder",
    "LockInfo",
    "MigrationRecord",
    "MigrationStatus",
    "Operation",
    "RecordState",
    "StepRow",
]
