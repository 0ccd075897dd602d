"""The package's public surface and command-line entry points."""

from __future__ import annotations

import subprocess
import sys

import pytest
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


def test_the_package_root_re_exports_the_library_through_a_sorted_all() -> None:
    """The seed's import line works; every name in __all__ resolves to the layer's own object."""
    import zenoo_etl.batch
    import zenoo_etl.client
    import zenoo_etl.errors

    names = zenoo_etl.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    for name in names:
        value = getattr(zenoo_etl, name)
        if name == "__version__":
            continue
        layers = (zenoo_etl.batch, zenoo_etl.client, zenoo_etl.errors)
        assert any(getattr(m, name, None) is value for m in layers), name
    # The seed's examples import these.
    from zenoo_etl import BatchContext, BatchExecutionError, ValidationError, ZenooClient

    assert (
        BatchContext is zenoo_etl.batch.BatchContext and ZenooClient is zenoo_etl.client.ZenooClient
    )
    assert issubclass(BatchExecutionError, ZenooError)
    # ValidationError is the root of refused values: Odoo's and the batch layer's.
    assert ValidationError is zenoo_etl.errors.ValidationError
    assert issubclass(zenoo_etl.client.ValidationError, ValidationError)
    assert issubclass(zenoo_etl.batch.BatchValidationError, ValidationError)
    assert str(ValidationError("Validation failed: name")) == "Validation failed: name"
    for public in ("ZenooClient", "BatchContext", "RecordRef", "ValidationError"):
        assert public in dir(zenoo_etl)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        zenoo_etl.Nope  # noqa: B018


def test_importing_the_package_root_loads_no_layer() -> None:
    """Names load on first use: the CLI and the sandbox do not pay for the client."""
    code = (
        "import sys, zenoo_etl; "
        "print(any(m.startswith(('zenoo_etl.client', 'zenoo_etl.batch', 'aiohttp')) "
        "for m in sys.modules)); "
        "from zenoo_etl import BatchContext; print('zenoo_etl.batch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
