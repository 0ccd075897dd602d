"""Shared pytest fixtures (each section is owned by the layer that needs it)."""

from __future__ import annotations

# --- PostgreSQL (ledger): pg_url, pg_ledger_url -----------------------------------
import importlib.util as _importlib_util
import os as _os
from collections.abc import Iterator as _Iterator
from pathlib import Path as _Path
from types import ModuleType as _ModuleType

import pytest as _pytest


def _load_pg_cluster() -> _ModuleType:
    # By path: works whether or not tests/ is a package or on sys.path.
    spec = _importlib_util.spec_from_file_location(
        "zenoo_tests_pg_cluster", _Path(__file__).with_name("pg_cluster.py")
    )
    assert spec is not None and spec.loader is not None
    module = _importlib_util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@_pytest.fixture(scope="session")
def pg_url() -> _Iterator[str]:
    """A PostgreSQL server URL (superuser, database ``postgres``) for postgres tests.

    ``ZENOO_TEST_PG_URL`` when set (``.ci/run`` starts a cluster and sets it),
    otherwise a throwaway cluster from ``tests/pg_cluster.py`` for the session.
    Tests create their own databases on it. No PostgreSQL is a failure, never a skip.
    """
    url = _os.environ.get("ZENOO_TEST_PG_URL")
    if url:
        yield url
        return
    pg_cluster = _load_pg_cluster()
    ClusterError, PgCluster = pg_cluster.ClusterError, pg_cluster.PgCluster
    try:
        cluster = PgCluster()
        started = cluster.start()
    except ClusterError as exc:
        _pytest.fail(
            f"PostgreSQL tests need a server and none could be started: {exc}. Set "
            "ZENOO_TEST_PG_URL=postgresql://user@host:port/postgres (a user allowed to "
            "CREATE DATABASE) or put PostgreSQL 15's initdb/pg_ctl on PATH.",
            pytrace=False,
        )
    try:
        yield started
    finally:
        cluster.stop()


@_pytest.fixture
def pg_ledger_url(pg_url: str) -> _Iterator[str]:
    """A fresh PostgreSQL database on the ``pg_url`` server, dropped after the test."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"zenoo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Sandbox: sandbox, sandbox19 --------------------------------------------------
# Fresh embedded Odoo-compatible servers on temporary databases, bound to
# 127.0.0.1 on an ephemeral port; starting one takes a few milliseconds.
from collections.abc import AsyncIterator as _AsyncIterator  # noqa: E402

from zenoo_etl.sandbox import SandboxServer as _SandboxServer  # noqa: E402
from zenoo_etl.sandbox import serve_sandbox as _serve_sandbox  # noqa: E402


@_pytest.fixture
async def sandbox() -> _AsyncIterator[_SandboxServer]:
    """A fresh Odoo-18-like sandbox (legacy JSON-RPC only); yields the started server."""
    async with _serve_sandbox() as server:
        yield server


@_pytest.fixture
async def sandbox19() -> _AsyncIterator[_SandboxServer]:
    """A fresh Odoo-19-like sandbox with the JSON-2 API on (``server.api_key`` is a key)."""
    async with _serve_sandbox(version="19.0") as server:
        yield server
