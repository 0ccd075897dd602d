"""Rolling back one migration per run restores the table as well as one big rollback.

Migration 2 deletes records migration 1 created; undoing 2 recreates them
under new ids; undoing 1 in a LATER run must still remove them (it used to
leave the recreated copies behind, because its ledger rows name the old ids).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zenoo_etl.compiler import load_project
from zenoo_etl.runner import apply, rollback

from .matrix import PASSWORD_ENV, Server, as_counter, read_table, write_project


@pytest.mark.parametrize("action", ["delete", "update", "call"])
async def test_rollback_one_migration_per_run_restores_the_original(
    tmp_path: Path, action: str
) -> None:
    server = Server(tmp_path / "target.db")
    sb = await server.start()
    try:
        os.environ[PASSWORD_ENV] = sb.password
        root = tmp_path / "project"
        write_project(root, sb.url, "sqlite:///.zenoo/ledger.db", action, "chunk_size = 3")
        original = as_counter(await read_table(sb.url))
        await apply(load_project(root))
        undone_2 = await rollback(load_project(root), last=1)
        assert [m.version for m in undone_2.migrations] == [2]
        undone_1 = await rollback(load_project(root), last=1)
        assert [m.version for m in undone_1.migrations] == [1]
        assert as_counter(await read_table(sb.url)) == original
        # and applying again after that converges to the full result once more
        again = await apply(load_project(root))
        assert [m.version for m in again.migrations] == [1, 2]
    finally:
        await server.stop()
