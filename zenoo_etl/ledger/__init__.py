"""The state ledger: migration history, every touched record, and the apply lock.

See :mod:`zenoo_etl.ledger.protocol` for the contract; ``open_ledger(url,
project_root)`` opens a SQLite or PostgreSQL store behind it.
"""

from __future__ import annotations

from zenoo_etl.ledger.errors import LedgerError
from zenoo_etl.ledger.keys import mask_url, scope_key
from zenoo_etl.ledger.open import DEFAULT_LEDGER_URL, open_ledger
from zenoo_etl.ledger.protocol import (
    DEFAULT_STALE_AFTER_SECONDS,
    Counts,
    DoneEntry,
    Ledger,
    LedgerEvent,
    LedgerReader,
    LedgerRecord,
    LedgerScope,
    LedgerWriter,
    LockHolder,
    LockInfo,
    MigrationRecord,
    MigrationStatus,
    Operation,
    RecordState,
    RunBy,
    StepRow,
)

__all__ = [
    "DEFAULT_LEDGER_URL",
    "DEFAULT_STALE_AFTER_SECONDS",
    "Counts",
    "DoneEntry",
    "Ledger",
    "LedgerError",
    "LedgerEvent",
    "LedgerReader",
    "LedgerRecord",
    "LedgerScope",
    "LedgerWriter",
    "LockHolder",
    "LockInfo",
    "MigrationRecord",
    "MigrationStatus",
    "Operation",
    "RecordState",
    "RunBy",
    "StepRow",
    "mask_url",
    "open_ledger",
    "scope_key",
]
