"""Migration file discovery: naming, numeric order, duplicates, stray files."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenoo_etl.compiler.discover import discover
from zenoo_etl.errors import MigrationFileError


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("", encoding="utf-8")


def test_numeric_order_not_text_order(tmp_path: Path) -> None:
    touch(tmp_path, "10_ten.toml", "2_two.toml.j2", "0001_one.toml", ".gitkeep")
    (tmp_path / "notes").mkdir()
    found = discover(tmp_path)
    assert [(m.version, m.slug, m.templated) for m in found] == [
        (1, "one", False),
        (2, "two", True),
        (10, "ten", False),
    ]


def test_duplicate_versions_name_both_files(tmp_path: Path) -> None:
    touch(tmp_path, "0003_prices.toml", "3_other.toml.j2")
    with pytest.raises(MigrationFileError) as info:
        discover(tmp_path)
    message = str(info.value)
    assert "0003_prices.toml" in message and "3_other.toml.j2" in message
    assert "version 3" in message


def test_stray_files_are_errors_naming_each(tmp_path: Path) -> None:
    touch(tmp_path, "0001_ok.toml", "0002-dash.toml", "README.md", "0003_Upper.toml")
    with pytest.raises(MigrationFileError) as info:
        discover(tmp_path)
    message = str(info.value)
    for name in ("0002-dash.toml", "README.md", "0003_Upper.toml"):
        assert name in message
    assert "0001_ok.toml" not in message


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError, match="does not exist"):
        discover(tmp_path / "nope")
