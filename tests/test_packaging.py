"""The built wheel: its contents, its metadata, and the ``zenoo-etl`` it installs.

Builds the wheel once per session with ``pip wheel . --no-deps`` (hatchling
comes through pip's build isolation), installs it into a fresh venv whose
dependencies are borrowed from this environment's site-packages (no index
access, no copy of zenoo_etl), and runs the installed ``zenoo-etl``.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import zenoo_etl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=240,
    )
    [built] = out.glob("zenoo_etl-*.whl")
    return built


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _read(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name).decode("utf-8")


def test_the_wheel_holds_the_package_typed_and_no_tests(wheel: Path) -> None:
    names = _names(wheel)
    for module in (
        "zenoo_etl/py.typed",
        "zenoo_etl/__main__.py",
        "zenoo_etl/cli/__init__.py",
        "zenoo_etl/cli/completion.py",
        "zenoo_etl/sandbox/server.py",
        "zenoo_etl/ledger/schema.py",
        "zenoo_etl/runner/apply.py",
    ):
        assert module in names, module
    source = {p.relative_to(ROOT).as_posix() for p in (ROOT / "zenoo_etl").rglob("*.py")}
    assert source <= names, source - names  # every module ships
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n or "conftest" in n]
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_wheel_metadata_and_entry_point(wheel: Path) -> None:
    info = f"zenoo_etl-{zenoo_etl.__version__}.dist-info"
    entry_points = _read(wheel, f"{info}/entry_points.txt")
    assert "[console_scripts]" in entry_points
    assert "zenoo-etl = zenoo_etl.cli:entry" in entry_points
    meta = Parser().parsestr(_read(wheel, f"{info}/METADATA"))
    assert meta["Name"] == "zenoo-etl" and meta["Version"] == zenoo_etl.__version__
    assert meta["License-Expression"] == "MIT"
    assert f"{info}/licenses/LICENSE" in _names(wheel)
    assert "MIT License" in _read(wheel, f"{info}/licenses/LICENSE")
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"postgres", "dev"} <= extras
    requires = meta.get_all("Requires-Dist") or []
    postgres = [r for r in requires if "extra ==" in r and "postgres" in r.split("extra ==")[1]]
    assert [r.split(">=")[0] for r in postgres] == ["psycopg[binary]"]
    # The bundled example reads an Excel workbook and an SQLite database, and the
    # Quickstart installs no extra: their libraries are plain requirements.
    plain = {r.split(">=")[0].lower() for r in requires if "extra ==" not in r}
    assert {"openpyxl", "sqlalchemy"} <= plain, plain
    assert "odoo" in (meta["Keywords"] or "")


def test_the_installed_wheel_runs_zenoo_etl(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Dependencies from this environment, as a plain path: its .pth files (the
    # editable zenoo_etl among them) are not processed, so only the wheel's copy exists.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    version = subprocess.run(
        [str(venv / "bin" / "zenoo-etl"), "--version"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert version.stdout.strip() == f"zenoo-etl, version {zenoo_etl.__version__}"
    where = subprocess.run(
        [str(python), "-c", "import zenoo_etl.cli; print(zenoo_etl.cli.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the checkout
    listing = subprocess.run(
        [str(venv / "bin" / "zenoo-etl"), "--help"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    ).stdout
    for command in ("apply", "rollback", "status", "completion", "sandbox"):
        assert command in listing, command
