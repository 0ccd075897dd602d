"""Fixtures of the runner tests (helpers live in :mod:`.helpers`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from .helpers import ProjectFiles


@pytest.fixture
def project_files(tmp_path: Path) -> ProjectFiles:
    """An empty project folder with a sandbox target, filled by ``write``."""
    return ProjectFiles(tmp_path)


@pytest.fixture
def pg_ledger_url(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the ``pg_url`` server, dropped after the test."""
    name = f"zenoo_runner_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
