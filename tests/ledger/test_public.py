"""The ledger package's public names."""

from __future__ import annotations

import zenoo_etl.ledger as ledger_pkg
from zenoo_etl.errors import ZenooError
from zenoo_etl.ledger import Counts, LedgerError


def test_every_public_name_is_importable() -> None:
    for name in ledger_pkg.__all__:
        assert getattr(ledger_pkg, name) is not None, name
    assert {"open_ledger", "Ledger", "LedgerScope", "DoneEntry", "LockHolder"} <= set(
        ledger_pkg.__all__
    )


def test_ledger_errors_are_zenoo_errors_exiting_1() -> None:
    assert issubclass(LedgerError, ZenooError) and LedgerError("x").exit_code == 1


def test_counts_add_and_round_trip() -> None:
    total = Counts(created=2, called=1) + Counts(created=1, deleted=4)
    assert total == Counts(created=3, updated=0, deleted=4, called=1)
    assert Counts.from_dict(total.to_dict()) == total
    assert Counts.from_dict(None) == Counts()
