"""apply and rollback against the embedded sandbox over real HTTP, SQLite ledger."""

from __future__ import annotations

from typing import Any

import pytest

from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RecordingProgress, RunFailed, apply, rollback
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import (
    CSV,
    MORE,
    PARTNER_FIELDS,
    PARTNERS,
    TAGS,
    ProjectFiles,
    Spy,
    add_plain_user,
    comparable,
    looking_at,
    seed_old,
    table,
)


def _files(project_files: ProjectFiles, *, more: bool = True) -> None:
    migrations = {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}
    if more:
        migrations["0003_more.toml"] = MORE
    project_files.write(migrations, {"data/partners.csv": CSV})


def _spying(spies: list[Spy]) -> Any:
    def wrap(target: OdooTarget) -> OdooTarget:
        spy = Spy(target)
        spies.append(spy)
        return spy

    return wrap


async def test_apply_creates_resolves_and_a_second_apply_writes_nothing(
    project_files: ProjectFiles,
) -> None:
    """Creates with external ids (create + ir.model.data where rows carry relations, one
    load() where they do not), resolves xmlid/ref in bulk, reruns are no-ops."""
    _files(project_files, more=False)
    spies: list[Spy] = []
    progress = RecordingProgress()
    result = await apply(project_files.load(), progress=progress, wrap_target=_spying(spies))
    assert result.ok
    assert [m.status for m in result.migrations] == ["applied", "applied"]
    partners_step = result.migrations[1].steps[0]
    assert partners_step.counts.created == 8
    # the progress total: the preflight's row pass counted the source's rows
    assert ("step_started", ("partners", "res.partner", "create", 8)) in progress.events
    spy = spies[0]
    # partners (a country, tags: relational fields): 8 rows in chunks of 3 = 3 create
    # calls, each followed by one that names its records (ir.model.data), no load()
    assert spy.log.count(("create", "res.partner")) == 3
    assert spy.log.count(("load", "res.partner")) == 0
    assert spy.log.count(("create", "ir.model.data")) == 3
    # tags (a name only): one load() with an id column, records and names at once
    assert spy.log.count(("load", "res.partner.category")) == 1
    assert spy.log.count(("create", "res.partner.category")) == 0
    assert spy.calls["load"] == 1
    # the partners step asks once: may this user create external ids (and the id floor)
    assert spy.log.count(("has_access", "ir.model.data")) == 1
    # once per model per run, and once more by the preflight (validate's attributes)
    assert spy.calls["fields_get"] == 2 + 2
    imd = [m for m in spy.log if m == ("search_read", "ir.model.data")]
    # + one look-up of the external ids per create step before the first write
    assert len(imd) <= 3 + 2

    async with looking_at(project_files.sandbox_db) as client:
        rows = await table(client, "res.partner", PARTNER_FIELDS, [["ref", "like", "LEG-"]])
        tags = await table(client, "res.partner.category", ["name"])
        countries = await table(client, "res.country", ["code"])
    assert len(rows) == 8
    by_ref = {r["ref"]: r for r in rows}
    code = {c["id"]: c["code"] for c in countries}
    tag = {t["id"]: t["name"] for t in tags}
    assert by_ref["LEG-1"]["name"] == "Alice"
    assert by_ref["LEG-1"]["email"] == "alice@example.com"
    assert by_ref["LEG-2"]["is_company"] is True
    assert code[by_ref["LEG-2"]["country_id"][0]] == "DE"
    assert [tag[i] for i in by_ref["LEG-3"]["category_id"]] == ["VIP"]
    assert by_ref["LEG-8"]["name"] == "{{ 7*7 }}"  # data is never evaluated

    again: list[Spy] = []
    second = await apply(project_files.load(), wrap_target=_spying(again))
    assert second.migrations == []
    assert again[0].write_calls() == 0
    assert sum(again[0].calls.values()) == 0  # the ledger answers alone


async def test_without_the_preflight_the_progress_total_is_counted_all_the_same(
    project_files: ProjectFiles,
) -> None:
    _files(project_files, more=False)
    progress = RecordingProgress()
    result = await apply(project_files.load(), progress=progress, preflight=False)
    assert result.ok
    assert ("step_started", ("partners", "res.partner", "create", 8)) in progress.events


@pytest.mark.parametrize("user", ["admin", "plain"])
async def test_every_action_then_rollback_restores_the_target_exactly(
    project_files: ProjectFiles, user: str
) -> None:
    """upsert/update/delete/archive/call land as written; rollback --to 0 undoes all.
    The same for a user who may neither create nor read external ids (``load()``, names
    looked up one by one), as on a real Odoo 18/19."""
    if user == "plain":
        await add_plain_user(project_files)
    _files(project_files)
    await seed_old(project_files)
    async with looking_at(project_files.sandbox_db) as client:
        before_partners = await table(client, "res.partner", PARTNER_FIELDS)
        before_tags = await table(client, "res.partner.category", ["name"])

    result = await apply(project_files.load())
    assert result.ok, result.error
    more = {s.step: s.counts for s in result.migrations[2].steps}
    assert (more["vip-upsert"].updated, more["vip-upsert"].unchanged) == (1, 1)
    assert more["vip-upsert"].created == 1
    assert more["phones"].updated == 2
    assert any("'phones': 1 source row(s) matched no res.partner" in w for w in result.warnings)
    assert more["germans"].updated == 2
    assert more["drop-old"].deleted == 1
    assert more["archive-old"].archived == 1 and more["archive-old"].deleted == 0
    assert more["stamp"].called == 1

    async with looking_at(project_files.sandbox_db) as client:
        rows = {r["ref"]: r for r in await table(client, "res.partner", PARTNER_FIELDS)}
    assert rows["LEG-1"]["name"] == "Alice Renamed"
    assert rows["NEW-1"]["name"] == "Newcomer"
    assert rows["LEG-3"]["phone"] == "+32 1"
    assert rows["LEG-2"]["comment"] == "Guten Tag"
    assert rows["LEG-6"]["comment"] == "Guten Tag"
    assert "OLD-1" not in rows
    assert rows["OLD-2"]["active"] is False
    assert rows["LEG-5"]["function"] == "stamped"

    undone = await rollback(project_files.load(), to_version=0)
    assert [m.version for m in undone.migrations] == [3, 2, 1]
    async with looking_at(project_files.sandbox_db) as client:
        after_partners = await table(client, "res.partner", PARTNER_FIELDS)
        after_tags = await table(client, "res.partner.category", ["name"])
    assert comparable(after_partners) == comparable(before_partners)
    assert after_tags == before_tags

    async with open_ledger(project_files.load().config.ledger.url, project_files.root) as ledger:
        scope = ledger.scope("sandbox:.zenoo/sandbox.db", "etl")
        statuses = {m.version: m.status for m in await scope.migrations()}
    assert statuses == {1: "rolled_back", 2: "rolled_back", 3: "rolled_back"}

    # a later apply re-applies from scratch
    again = await apply(project_files.load())
    assert [m.status for m in again.migrations] == ["applied"] * 3
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert len(legs) == 8


async def test_failing_chunk_with_on_error_rollback_leaves_nothing(
    project_files: ProjectFiles,
) -> None:
    """A row Odoo refuses: the message names file, step, row and Odoo's words; all undone."""
    project_files.runner = "chunk_size = 2"
    bad = CSV.replace("6,Frank,frank@example.com,DE,VIP,no", "6,Frank,frank@example.com,XX,VIP,no")
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": bad}
    )
    with pytest.raises(RunFailed) as caught:
        await apply(project_files.load())
    message = str(caught.value)
    assert "migrations/0002_partners.toml" in message
    assert "step 'partners'" in message
    assert "row 6" in message and "data/partners.csv:7" in message
    assert "base.xx" in message
    assert "rolled back" in message
    assert caught.value.exit_code == 1
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
        tags = await table(client, "res.partner.category", ["name"])
    assert legs == []
    assert {t["name"] for t in tags} == {"Retail", "Wholesale", "VIP"}  # 0001 stays applied


async def test_odoo_refusal_maps_to_the_row_with_on_error_stop_then_resume(
    project_files: ProjectFiles,
) -> None:
    """on_error = stop keeps what was done; after fixing the data a rerun finishes, no dups."""
    project_files.runner = 'chunk_size = 2\non_error = "stop"'
    bad = CSV.replace("5,Eve,eve@example.com", "5,,eve@example.com")  # no name: Odoo refuses
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": bad}
    )
    with pytest.raises(RunFailed) as caught:
        await apply(project_files.load())
    message = str(caught.value)
    assert "step 'partners'" in message and "row 5" in message
    assert "marked failed" in message
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert 0 < len(legs) < 8

    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )
    spies: list[Spy] = []
    result = await apply(project_files.load(), wrap_target=_spying(spies))
    assert result.ok
    step = result.migrations[0].steps[0]
    assert step.counts.skipped == len(legs)
    assert step.counts.created == 8 - len(legs)
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]


async def test_the_lock_is_held_with_heartbeats_during_a_run_and_released_after(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While apply runs its lock row is refreshed; at the end (even on failure) it is gone."""
    import asyncio

    from zenoo_etl.runner import session as session_module

    monkeypatch.setattr(session_module, "HEARTBEAT_SECONDS", 0.02)
    _files(project_files, more=False)
    seen: list[Any] = []

    class Slow(Spy):
        async def create(self, *args: Any, **kwargs: Any) -> Any:
            async with open_ledger("sqlite:///.zenoo/ledger.db", project_files.root) as ledger:
                info = await ledger.scope("sandbox:.zenoo/sandbox.db", "etl").lock_info()
                seen.append(info)
            await asyncio.sleep(0.05)
            return await super().create(*args, **kwargs)

    await apply(project_files.load(), wrap_target=lambda t: Slow(t))
    assert seen and all(info is not None and info.command == "apply" for info in seen)
    assert seen[-1].heartbeat_at > seen[0].heartbeat_at
    async with open_ledger("sqlite:///.zenoo/ledger.db", project_files.root) as ledger:
        assert await ledger.scope("sandbox:.zenoo/sandbox.db", "etl").lock_info() is None
