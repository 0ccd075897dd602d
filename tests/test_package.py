"""The package's public surface and command-line entry points."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import zenoo_etl
from zenoo_etl.cli import main
from zenoo_etl.errors import DriftError, LockHeldError, MigrationFileError, UsageError, ZenooError


def test_version_option_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert zenoo_etl.__version__ in result.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "zenoo_etl", "--help"], capture_output=True, text=True, check=True
    )
    assert "zenoo-etl" in out.stdout or "Usage" in out.stdout


def test_exit_codes_follow_the_design() -> None:
    assert UsageError("x").exit_code == 2
    assert LockHeldError("x").exit_code == 3
    assert DriftError("x").exit_code == 4
    assert ZenooError("x").exit_code == 1


def test_migration_file_error_names_file_line_step_and_row() -> None:
    err = MigrationFileError("unknown field 'nme'", path="m/0001_a.toml", line=7, step="s", row=3)
    assert str(err) == "m/0001_a.toml:7, step 's', row 3: unknown field 'nme'"
    assert err.exit_code == 2
