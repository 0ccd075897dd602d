"""The key apply/rollback promises hold with the PostgreSQL ledger too."""

from __future__ import annotations

import contextlib

import pytest

from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RunFailed, apply, rollback
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import (
    CSV,
    MORE,
    PARTNER_FIELDS,
    PARTNERS,
    TAGS,
    Killed,
    ProjectFiles,
    Spy,
    comparable,
    looking_at,
    seed_old,
    table,
)

pytestmark = pytest.mark.postgres


async def test_apply_rerun_rollback_with_a_postgres_ledger(
    project_files: ProjectFiles, pg_ledger_url: str
) -> None:
    project_files.ledger_url = pg_ledger_url
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_more.toml": MORE},
        {"data/partners.csv": CSV},
    )
    await seed_old(project_files)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", PARTNER_FIELDS)
    result = await apply(project_files.load())
    assert [m.status for m in result.migrations] == ["applied"] * 3
    again = await apply(project_files.load())
    assert again.migrations == []
    await rollback(project_files.load(), to_version=0)
    async with looking_at(project_files.sandbox_db) as client:
        after = await table(client, "res.partner", PARTNER_FIELDS)
    assert comparable(after) == comparable(before)
    async with open_ledger(pg_ledger_url, project_files.root) as ledger:
        scope = ledger.scope("sandbox:.zenoo/sandbox.db", "etl")
        assert {m.status for m in await scope.migrations()} == {"rolled_back"}


async def test_failure_rolls_back_and_a_kill_converges_with_a_postgres_ledger(
    project_files: ProjectFiles, pg_ledger_url: str
) -> None:
    project_files.ledger_url = pg_ledger_url
    project_files.runner = "chunk_size = 2\nconcurrency = 1"
    bad = CSV.replace("7,Grace,grace@example.com,US", "7,Grace,grace@example.com,QQ")
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": bad}
    )
    with pytest.raises(RunFailed, match="row 7"):
        await apply(project_files.load())
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []

    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )

    def wrap(target: OdooTarget) -> OdooTarget:
        # (tags are applied) creates: partners chunk 1, its names, partners chunk 2:
        # committed, answer never seen, records not named yet
        return Spy(target, lose_after={("create", 3): Killed})

    with contextlib.suppress(Killed):
        await apply(project_files.load(), wrap_target=wrap)
    result = await apply(project_files.load())
    # chunks of 3 (the step's chunk_size): chunk 1 was done, chunk 2 committed but killed
    # is found again by its values and named (not re-sent), chunk 3 was never dispatched
    counts = result.migrations[0].steps[0].counts
    assert (counts.skipped, counts.adopted, counts.created) == (3, 3, 5)
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]
