"""The ledger's own error, raised at the one boundary where sqlite3/psycopg errors are caught."""

from __future__ import annotations

from zenoo_etl.errors import DriftError, ZenooError


class LedgerError(ZenooError):
    """The ledger store failed or refused an operation (exit 1).

    Messages name the ledger (password masked) and what to do; they never
    carry target credentials (scopes are url + database only).
    """


class TargetMismatchError(DriftError):
    """The ledger's history is of another database than the one the URL leads to (exit 4)."""


__all__ = ["LedgerError", "TargetMismatchError"]
