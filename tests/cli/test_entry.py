"""The ``zenoo-etl`` program (``python -m zenoo_etl``): the CLI with the collector tuned."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

import zenoo_etl
from zenoo_etl import cli


def test_the_program_freezes_what_is_imported_and_collects_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the program tunes the collector; the library (and this test process after
    the test) keeps Python's settings."""
    ran: list[tuple[int, int, int]] = []
    monkeypatch.setattr(cli, "main", lambda: ran.append(gc.get_threshold()))
    before = gc.get_threshold()
    try:
        cli.entry()
        assert ran == [(cli.GC_THRESHOLD, 10, 10)]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_python_m_runs_the_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zenoo_etl", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert zenoo_etl.__version__ in done.stdout
