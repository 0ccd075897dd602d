"""Ledger tests (both backends)."""
