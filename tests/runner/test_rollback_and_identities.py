"""Rollback resumes and refuses irreversible calls; identities fields/none after lost answers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from zenoo_etl.client.errors import OutcomeUnknownError
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

STAMP = """\
    [[steps]]
    id = "stamp-all"
    model = "res.partner"
    action = "call"
    method = "write"
    args = [{ function = "stamped" }]
    domain = [["ref", "like", "LEG-"]]
"""


async def test_rollback_refuses_a_call_without_undo_unless_forced(
    project_files: ProjectFiles,
) -> None:
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_stamp.toml": STAMP},
        {"data/partners.csv": CSV},
    )
    await apply(project_files.load())
    with pytest.raises(RunFailed) as caught:
        await rollback(project_files.load(), to_version=0)
    message = str(caught.value)
    assert "step 'stamp-all'" in message and "without an undo" in message and "--force" in message
    async with looking_at(project_files.sandbox_db) as client:
        assert len(await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])) == 8

    forced = await rollback(project_files.load(), to_version=0, force=True)
    assert [m.version for m in forced.migrations] == [3, 2, 1]
    assert any("left as they are" in w for w in forced.warnings)
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []


async def test_an_interrupted_rollback_resumes_and_restores_exactly(
    project_files: ProjectFiles,
) -> None:
    project_files.runner = "chunk_size = 2"
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_more.toml": MORE},
        {"data/partners.csv": CSV},
    )
    await seed_old(project_files)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", PARTNER_FIELDS)
    await apply(project_files.load())

    for kill_at in (2, 4, 5):

        def wrap(target: OdooTarget, n: int = kill_at) -> OdooTarget:
            return Spy(target, fail_before_write={n: Killed})

        with contextlib.suppress(Killed):
            await rollback(project_files.load(), to_version=0, wrap_target=wrap)
    await rollback(project_files.load(), to_version=0)
    async with looking_at(project_files.sandbox_db) as client:
        after = await table(client, "res.partner", PARTNER_FIELDS)
    assert comparable(after) == comparable(before)


IDENTITY = """\
    [[steps]]
    id = "partners"
    model = "res.partner"
    action = "create"
    identity = "IDENTITY"
    match = ["ref"]
    source = { csv = "data/partners.csv" }
    key = "{{ row.legacy_id }}"
    chunk_size = 4

    [steps.fields]
    name = "{{ row.name }}"
    ref = "LEG-{{ row.legacy_id }}"
"""


def _lose_second_create(spies: list[Spy]) -> Callable[[OdooTarget], OdooTarget]:
    def wrap(target: OdooTarget) -> OdooTarget:
        spy = Spy(
            target,
            lose_after={
                ("create", 2): lambda: OutcomeUnknownError(
                    "lost", model="res.partner", method="create"
                )
            },
        )
        spies.append(spy)
        return spy

    return wrap


async def test_identity_fields_adopts_by_match_after_a_lost_answer(
    project_files: ProjectFiles,
) -> None:
    project_files.runner = "concurrency = 1"
    project_files.write(
        {"0001_p.toml": IDENTITY.replace("IDENTITY", "fields")}, {"data/partners.csv": CSV}
    )
    spies: list[Spy] = []
    result = await apply(project_files.load(), wrap_target=_lose_second_create(spies))
    assert result.migrations[0].steps[0].counts.adopted == 4
    assert spies[0].calls["create"] == 2  # the lost chunk was found, not re-sent
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]


async def test_identity_none_stops_with_outcome_unknown(project_files: ProjectFiles) -> None:
    project_files.runner = 'concurrency = 1\non_error = "stop"'
    project_files.write(
        {"0001_p.toml": IDENTITY.replace("IDENTITY", "none")}, {"data/partners.csv": CSV}
    )
    spies: list[Spy] = []
    with pytest.raises(RunFailed) as caught:
        await apply(project_files.load(), wrap_target=_lose_second_create(spies))
    assert "cannot verify" in str(caught.value) and "rows 5-8" in str(caught.value)
    # a rerun refuses to guess too, and says how to get out
    with pytest.raises(RunFailed) as again:
        await apply(project_files.load())
    assert "cannot be verified" in str(again.value) and "rollback --force" in str(again.value)
