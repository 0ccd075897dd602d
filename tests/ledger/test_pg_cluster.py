"""The throwaway-cluster helper refuses clearly when PostgreSQL is not installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def _helper() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "pg_cluster.py"
    spec = importlib.util.spec_from_file_location("pg_cluster_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_binaries_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    helper = _helper()
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(helper.ClusterError, match=r"initdb.*ZENOO_TEST_PG_URL"):
        helper.PgCluster()


@pytest.mark.postgres
def test_the_pg_url_fixture_gives_a_server_we_can_create_databases_on(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        (can_create,) = conn.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() or (False,)
    assert can_create
