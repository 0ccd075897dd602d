"""Fixtures running every ledger test against both backends.

``ledger_url`` is parametrised: a SQLite file in ``tmp_path``, and a fresh
PostgreSQL database per test (created on the ``pg_url`` server, dropped
after) marked ``postgres``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from zenoo_etl.ledger import open_ledger
from zenoo_etl.ledger.sql import SqlLedger, SqlScope

TARGET = "http://odoo.example.com:8069"


def _fresh_pg_database(server_url: str) -> Iterator[str]:
    name = f"zenoo_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"  # absolute path: sqlite:////tmp/...
        return
    server: str = request.getfixturevalue("pg_url")
    yield from _fresh_pg_database(server)


@pytest.fixture
async def ledger(ledger_url: str, tmp_path: Path) -> AsyncIterator[SqlLedger]:
    async with open_ledger(ledger_url, tmp_path) as opened:
        yield opened


@pytest.fixture
def scope(ledger: SqlLedger) -> SqlScope:
    return ledger.scope(TARGET, "prod")
