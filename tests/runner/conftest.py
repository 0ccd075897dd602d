"""Fixtures of the runner tests (helpers live in :mod:`.helpers`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ProjectFiles


@pytest.fixture
def project_files(tmp_path: Path) -> ProjectFiles:
    """An empty project folder with a sandbox target, filled by ``write``."""
    return ProjectFiles(tmp_path)
