"""Fixtures for compiler tests: small projects written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

BASE_CONFIG = """\
[project]
name = "t"

[vars]
company = "Acme"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write ``files`` (path → text, dedented) plus a zenoo.toml; return the root."""

    def make(files: dict[str, str] | None = None, config: str = BASE_CONFIG) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        (root / "zenoo.toml").write_text(textwrap.dedent(config), encoding="utf-8")
        (root / "migrations").mkdir(exist_ok=True)
        for rel, text in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return make
