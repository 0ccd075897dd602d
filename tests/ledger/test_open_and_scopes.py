"""Ledger urls, scoping by target, and keeping credentials out of the ledger."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.errors import ConfigError
from zenoo_etl.ledger import DoneEntry, mask_url, open_ledger, scope_key
from zenoo_etl.ledger.open import sqlite_path
from zenoo_etl.ledger.sql import SqlLedger

from .conftest import TARGET


async def test_two_scopes_never_see_each_other(ledger: SqlLedger) -> None:
    prod = ledger.scope(TARGET, "prod")
    staging = ledger.scope(TARGET, "staging")
    other_server = ledger.scope("http://other:8069", "prod")
    await prod.begin_migration(1, "m", "c")
    await prod.record_done(1, "s", "res.partner", [DoneEntry("k", 1, "created")])
    await prod.acquire_lock("apply")
    for scope in (staging, other_server):
        assert await scope.migrations() == []
        assert await scope.history() == []
        assert await scope.done_ids("s", ["k"]) == {}
        assert await scope.step_state(1, "s") == {}
        assert await scope.lock_info() is None
    await staging.record_done(1, "s", "res.partner", [DoneEntry("k", 2, "created")])
    assert await prod.done_ids("s", ["k"]) == {"k": 1}
    assert await staging.done_ids("s", ["k"]) == {"k": 2}
    assert await prod.position() != await staging.position()


async def test_credentials_are_not_part_of_the_scope(ledger: SqlLedger) -> None:
    """The same server reached with other credentials is the same target; no secret is stored."""
    with_secret = ledger.scope("https://etl-bot:s3cr3t-pw@ERP.example.com/?token=tok123", "prod")
    plain = ledger.scope("https://erp.example.com", "prod")
    assert (with_secret.target_url, with_secret.database) == ("https://erp.example.com", "prod")
    await with_secret.begin_migration(1, "m", "c")
    assert [m.version for m in await plain.migrations()] == [1]
    async with ledger.driver.session(write=False) as conn:
        stored = await conn.fetchall("SELECT target_url, database FROM zenoo_scopes")
    assert stored == [("https://erp.example.com", "prod")]
    assert "s3cr3t" not in repr(stored) and "tok123" not in repr(stored)


def test_scope_key_normalises_only_what_cannot_matter() -> None:
    assert scope_key("http://u:p@Host:8069/", " db ") == ("http://host:8069", "db")
    assert scope_key("sandbox:.zenoo/sandbox.db", "etl") == ("sandbox:.zenoo/sandbox.db", "etl")
    assert scope_key("http://host/odoo", "a") != scope_key("http://host/", "a")


def test_mask_url_hides_passwords() -> None:
    assert mask_url("postgresql://me:pw@db:5432/ledger") == "postgresql://me:***@db:5432/ledger"
    assert "pw" not in mask_url("postgresql://db/ledger?password=pw&sslmode=require")
    assert "sslmode=require" in mask_url("postgresql://db/ledger?password=pw&sslmode=require")
    assert mask_url("sqlite:///.zenoo/ledger.db") == "sqlite:///.zenoo/ledger.db"


def test_sqlite_paths_are_relative_to_the_project(tmp_path: Path) -> None:
    assert sqlite_path("sqlite:///.zenoo/ledger.db", tmp_path) == tmp_path / ".zenoo/ledger.db"
    assert sqlite_path("sqlite:////var/lib/l.db", tmp_path) == Path("/var/lib/l.db")
    assert sqlite_path("sqlite:///:memory:", tmp_path) == ":memory:"
    for bad in ("sqlite://", "sqlite:relative.db", "sqlite:///"):
        with pytest.raises(ConfigError, match="sqlite:///"):
            sqlite_path(bad, tmp_path)


async def test_default_url_creates_the_zenoo_folder(tmp_path: Path) -> None:
    async with open_ledger("sqlite:///.zenoo/ledger.db", tmp_path) as ledger:
        await ledger.scope(TARGET, "prod").begin_migration(1, "m", "c")
    assert (tmp_path / ".zenoo" / "ledger.db").is_file()
    async with open_ledger(f"sqlite:///{tmp_path}/.zenoo/ledger.db", Path("/")) as same:
        assert len(await same.scope(TARGET, "prod").migrations()) == 1


async def test_unknown_schemes_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="postgresql://") as caught:
        async with open_ledger("mysql://root:hunter2@db/ledger", tmp_path):
            pass
    assert "hunter2" not in str(caught.value)
    assert caught.value.exit_code == 2


async def test_missing_psycopg_is_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "psycopg", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(ConfigError, match=r"zenoo-etl\[postgres\]"):
        async with open_ledger("postgresql://u:pw@127.0.0.1:1/x", tmp_path):
            pass


async def test_an_unreachable_postgres_names_the_ledger_without_password(tmp_path: Path) -> None:
    from zenoo_etl.ledger import LedgerError

    with pytest.raises(LedgerError, match="Cannot connect") as caught:
        async with open_ledger("postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2", tmp_path):
            pass
    assert "hunter2" not in str(caught.value) and "u:***@127.0.0.1:1" in str(caught.value)


async def test_a_closed_ledger_refuses_new_scopes(tmp_path: Path) -> None:
    from zenoo_etl.ledger import LedgerError

    async with open_ledger("sqlite:///l.db", tmp_path) as ledger:
        pass
    with pytest.raises(LedgerError, match="closed"):
        ledger.scope(TARGET, "prod")
