"""Rollback reports records someone deleted or changed since apply, over real HTTP.

A created step (``create``, loaded by xmlid) and an update step on records
that existed before; between apply and rollback "someone" deletes or edits
records through the sandbox's own RPC. SQLite ledger, and PostgreSQL for the
key cases.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RunFailed, apply, rollback
from zenoo_etl.runner.drift import (
    first_difference,
    modified_after_create,
    pack_previous,
    split_previous,
)
from zenoo_etl.runner.odoo import ClientTarget, OdooTarget
from zenoo_etl.runner.rollback import _dates

from .helpers import (
    CSV,
    MORE,
    PARTNERS,
    TAGS,
    ProjectFiles,
    Spy,
    looking_at,
    seed_old,
    table,
)

CREATE = """\
    [[steps]]
    id = "newcomers"
    model = "res.partner"
    action = "create"
    key = "{{ row.ref }}"
    records = [
      { ref = "P-1" }, { ref = "P-2" }, { ref = "P-3" }, { ref = "P-4" }, { ref = "P-5" },
    ]

    [steps.fields]
    name = "New {{ row.ref }}"
    ref = "{{ row.ref }}"
"""

UPDATE = """\
    [[steps]]
    id = "phones"
    model = "res.partner"
    action = "update"
    match = ["ref"]
    key = "{{ row.ref }}"
    records = [
      { ref = "S-1", phone = "+32 1" },
      { ref = "S-2", phone = "+32 2" },
      { ref = "S-3", phone = "+32 3" },
    ]

    [steps.values]
    ref = "{{ row.ref }}"
    phone = "{{ row.phone }}"
"""


async def _ids(client: ZenooClient, prefix: str) -> dict[str, int]:
    rows = await table(client, "res.partner", ["ref"], [["ref", "like", prefix]])
    return {r["ref"]: int(r["id"]) for r in rows}


async def _setup(project_files: ProjectFiles) -> dict[str, int]:
    """Seed S-1..S-3 (phone 'old'), apply both migrations; ids of P-* and S-*."""
    project_files.write({"0001_create.toml": CREATE, "0002_update.toml": UPDATE})
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        await client.create(
            "res.partner",
            [{"name": f"Seed {i}", "ref": f"S-{i}", "phone": "old"} for i in (1, 2, 3)],
        )
    result = await apply(project_files.load())
    assert [m.status for m in result.migrations] == ["applied", "applied"]
    async with looking_at(project_files.sandbox_db) as client:
        return {**await _ids(client, "P-"), **await _ids(client, "S-")}


async def _phones(project_files: ProjectFiles) -> dict[str, Any]:
    async with looking_at(project_files.sandbox_db) as client:
        rows = await table(client, "res.partner", ["ref", "phone"], [["ref", "like", "S-"]])
    return {r["ref"]: r["phone"] for r in rows}


async def _statuses(project_files: ProjectFiles) -> dict[int, str]:
    async with open_ledger(project_files.ledger_url, project_files.root) as ledger:
        scope = ledger.scope(project_files.url, "etl")
        return {m.version: m.status for m in await scope.migrations()}


async def _deleted_records_are_reported_and_skipped(project_files: ProjectFiles) -> None:
    ids = await _setup(project_files)
    async with looking_at(project_files.sandbox_db) as client:
        await client.execute_kw("res.partner", "unlink", [[ids["P-2"], ids["P-4"], ids["S-2"]]])

    result = await rollback(project_files.load(), to_version=0)

    assert result.ok and [m.status for m in result.migrations] == ["rolled_back"] * 2
    update, create = (m.steps[0] for m in result.migrations)
    assert update.drift.missing == [ids["S-2"]] and update.counts.updated == 2
    assert sorted(create.drift.missing) == sorted([ids["P-2"], ids["P-4"]])
    assert create.counts.deleted == 3
    out = json.loads(json.dumps(result.to_dict()))
    steps = [m["steps"][0] for m in out["migrations"]]
    assert steps[0]["skipped_missing"] == {"count": 1, "ids": [ids["S-2"]]}
    assert steps[1]["skipped_missing"] == {
        "count": 2,
        "ids": sorted([ids["P-2"], ids["P-4"]]),
    }
    assert any(
        "'phones': 1 res.partner record(s) were already deleted" in w for w in result.warnings
    )
    assert any("'newcomers': 2 res.partner record(s)" in w for w in result.warnings)
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "P-") == {}
    assert await _phones(project_files) == {"S-1": "old", "S-3": "old"}
    assert await _statuses(project_files) == {1: "rolled_back", 2: "rolled_back"}


async def _edited_update_is_left_until_forced(project_files: ProjectFiles) -> None:
    ids = await _setup(project_files)
    async with looking_at(project_files.sandbox_db) as client:
        await client.execute_kw("res.partner", "write", [[ids["S-1"]], {"phone": "by hand"}])

    with pytest.raises(RunFailed) as caught:
        await rollback(project_files.load(), to_version=0)
    message = str(caught.value)
    # an update step's ledger key is the record's id; the message names its match values
    s1 = ids["S-1"]
    for part in ("0002_update.toml", "step 'phones'", f"ref 'S-1' (id {s1})", "'phone'"):
        assert part in message, (part, message)
    assert "'+32 1'" in message and "'by hand'" in message and "--force" in message
    assert "\n" not in message
    result = caught.value.result
    assert [m.status for m in result.migrations] == ["changed_since_apply"]
    # told once, by the error (no warning repeating it)
    assert not any("changed by someone else" in w for w in result.warnings)
    changed = result.to_dict()["migrations"][0]["steps"][0]["changed_since_apply"]
    assert changed == [
        {
            "key": str(ids["S-1"]),
            "odoo_id": ids["S-1"],
            "field": "phone",
            "written": "+32 1",
            "current": "by hand",
            "match": {"ref": "S-1"},
        }
    ]
    # the edit stays, the rest of the migration is undone, the older one is untouched
    assert await _phones(project_files) == {"S-1": "by hand", "S-2": "old", "S-3": "old"}
    async with looking_at(project_files.sandbox_db) as client:
        assert len(await _ids(client, "P-")) == 5
    # partly undone: never "applied" again, not "rolled_back" either
    assert await _statuses(project_files) == {1: "applied", 2: "rolling_back"}
    # the same rollback again still refuses (nothing else to do), --force overwrites
    with pytest.raises(RunFailed, match="ref 'S-1'"):
        await rollback(project_files.load(), to_version=0)
    forced = await rollback(project_files.load(), to_version=0, force=True)
    assert forced.ok and forced.migrations[0].steps[0].counts.updated == 1
    assert await _phones(project_files) == {"S-1": "old", "S-2": "old", "S-3": "old"}
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "P-") == {}
    assert await _statuses(project_files) == {1: "rolled_back", 2: "rolled_back"}


async def test_deleted_records_are_reported_and_skipped(project_files: ProjectFiles) -> None:
    await _deleted_records_are_reported_and_skipped(project_files)


async def test_an_edited_update_is_reported_and_left_until_forced(
    project_files: ProjectFiles,
) -> None:
    await _edited_update_is_left_until_forced(project_files)


@pytest.mark.postgres
async def test_deleted_records_are_reported_with_a_postgres_ledger(
    project_files: ProjectFiles, pg_ledger_url: str
) -> None:
    project_files.ledger_url = pg_ledger_url
    await _deleted_records_are_reported_and_skipped(project_files)


@pytest.mark.postgres
async def test_an_edited_update_is_left_with_a_postgres_ledger(
    project_files: ProjectFiles, pg_ledger_url: str
) -> None:
    project_files.ledger_url = pg_ledger_url
    await _edited_update_is_left_until_forced(project_files)


async def test_an_edited_created_record_is_kept_until_forced(project_files: ProjectFiles) -> None:
    ids = await _setup(project_files)
    # Odoo's write_date has whole seconds: edit in a later second than the create
    await asyncio.sleep(1.1)
    async with looking_at(project_files.sandbox_db) as client:
        await client.execute_kw("res.partner", "write", [[ids["P-3"]], {"name": "Mine now"}])

    with pytest.raises(RunFailed) as caught:
        await rollback(project_files.load(), to_version=0)
    message = str(caught.value)
    assert "0001_create.toml" in message and "step 'newcomers'" in message
    assert f"key 'P-3' (id {ids['P-3']})" in message and "--force" in message
    result = caught.value.result
    assert [m.status for m in result.migrations] == ["rolled_back", "changed_since_apply"]
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "P-") == {"P-3": ids["P-3"]}
    assert await _statuses(project_files) == {1: "rolling_back", 2: "rolled_back"}

    forced = await rollback(project_files.load(), to_version=0, force=True)
    assert forced.ok and forced.migrations[0].steps[0].counts.deleted == 1
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "P-") == {}


async def test_records_only_apply_touched_are_not_reported(project_files: ProjectFiles) -> None:
    """load() creates, then upserts/updates/calls of a LATER run on those records."""
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )
    await seed_old(project_files)
    await apply(project_files.load())
    async with looking_at(project_files.sandbox_db) as client:
        rows = await table(
            client, "res.partner", ["create_date", "write_date"], [["ref", "like", "LEG-"]]
        )
    assert len(rows) == 8 and all(r["create_date"] == r["write_date"] for r in rows)
    await asyncio.sleep(1.1)  # apply's own later writes land in a later second
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_more.toml": MORE},
        {"data/partners.csv": CSV},
    )
    await apply(project_files.load())
    # in two runs, so the second learns from the ledger which records apply wrote to
    first = await rollback(project_files.load())
    result = await rollback(project_files.load(), to_version=0)
    assert (
        result.ok
        and [m.status for m in first.migrations + result.migrations] == ["rolled_back"] * 3
    )
    assert all(not s.drift.changed for m in result.migrations for s in m.steps)
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []


async def test_a_ledger_in_the_old_previous_format_still_rolls_back(
    project_files: ProjectFiles,
) -> None:
    ids = await _setup(project_files)
    ledger = project_files.root / ".zenoo" / "ledger.db"
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute(
            "SELECT seq, previous FROM zenoo_records WHERE operation = 'updated'"
        ).fetchall()
        assert len(rows) == 3 and all('"written"' in p for _s, p in rows)
        for seq, packed in rows:  # the flat format ledgers had before "written" was stored
            flat = json.loads(packed)["previous"]
            conn.execute(
                "UPDATE zenoo_records SET previous = ? WHERE seq = ?", (json.dumps(flat), seq)
            )
    async with looking_at(project_files.sandbox_db) as client:
        await client.execute_kw("res.partner", "write", [[ids["S-1"]], {"phone": "by hand"}])
    result = await rollback(project_files.load(), to_version=0)
    # no record of what apply wrote: nothing to compare, restored as before
    assert result.ok and result.migrations[0].steps[0].counts.updated == 3
    assert await _phones(project_files) == {"S-1": "old", "S-2": "old", "S-3": "old"}


def test_the_change_check_compares_like_apply_and_reads_both_ledger_formats() -> None:
    types = {"name": "char", "category_id": "many2many", "partner_id": "many2one"}
    now = {"name": False, "category_id": [3, 1], "partner_id": [7, "Seven"]}
    same = {"name": "", "category_id": [[6, 0, [1, 3]]], "partner_id": 7}
    assert first_difference(types, same, now) is None
    assert first_difference(types, {"category_id": [[6, 0, [1]]]}, now) == ("category_id", [3, 1])
    # an add command says nothing of the whole value: not compared
    assert first_difference(types, {"category_id": [[4, 9, 0]]}, now) is None
    packed = pack_previous({"name": "Old"}, {"name": "New"})
    assert split_previous(json.loads(json.dumps(packed))) == ({"name": "Old"}, {"name": "New"})
    assert split_previous({"name": "Old"}) == ({"name": "Old"}, None)
    assert pack_previous({}, {}) == {} and split_previous(None) == ({}, None)


TWO_STEPS = """\
    [[steps]]
    id = "companies"
    model = "res.partner"
    action = "create"
    key = "{{ row.ref }}"
    records = [{ ref = "C-1" }, { ref = "C-2" }]

    [steps.fields]
    name = "Company {{ row.ref }}"
    ref = "{{ row.ref }}"
    is_company = true

    [[steps]]
    id = "people"
    model = "res.partner"
    action = "create"
    key = "{{ row.ref }}"
    records = [
      { ref = "Q-1", at = "C-1" }, { ref = "Q-2", at = "C-2" }, { ref = "Q-3", at = "C-2" },
    ]

    [steps.fields]
    name = "Person {{ row.ref }}"
    ref = "{{ row.ref }}"
    parent_id = { ref = "companies", key = "{{ row.at }}" }
"""


def _spying(spies: list[Spy]) -> Any:
    def wrap(target: OdooTarget) -> OdooTarget:
        spy = Spy(target)
        spies.append(spy)
        return spy

    return wrap


async def test_created_records_are_checked_up_front_and_unlinked_in_one_call(
    project_files: ProjectFiles,
) -> None:
    """Two create steps of one model: one read before any unlink, one unlink for both.

    Unlinking the people moves their companies' write_date on a real Odoo
    (recomputed fields); read up front, that is not mistaken for an edit.
    The edited person is still reported and left, and the rest is undone.
    """
    project_files.write({"0001_two.toml": TWO_STEPS})
    assert (await apply(project_files.load())).ok
    async with looking_at(project_files.sandbox_db) as client:
        before = await _ids(client, "Q-")
        await asyncio.sleep(1.1)  # write_date has whole seconds
        await client.execute_kw("res.partner", "write", [[before["Q-2"]], {"name": "Edited"}])

    spies: list[Spy] = []
    with pytest.raises(RunFailed) as caught:
        await rollback(project_files.load(), to_version=0, wrap_target=_spying(spies))
    assert f"key 'Q-2' (id {before['Q-2']})" in str(caught.value)
    calls = [c for c in spies[0].log if c[1] == "res.partner"]
    first_unlink = calls.index(("unlink", "res.partner"))
    # the dates of all 4 records in one read_group (three arrays), before any unlink
    assert calls[:first_unlink].count(("read_group", "res.partner")) == 1
    assert not {("read_group", "res.partner"), ("search_read", "res.partner")} & set(
        calls[first_unlink:]
    )
    assert spies[0].calls["unlink"] == 1
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "Q-") == {"Q-2": before["Q-2"]}
        assert await _ids(client, "C-") == {}
    assert await _statuses(project_files) == {1: "rolling_back"}

    forced = await rollback(project_files.load(), to_version=0, force=True)
    assert forced.ok
    async with looking_at(project_files.sandbox_db) as client:
        assert await _ids(client, "Q-") == {}
    assert await _statuses(project_files) == {1: "rolled_back"}


async def test_the_change_check_reads_what_search_read_reads(project_files: ProjectFiles) -> None:
    """The up-front check's one read_group gives the records search_read gives.

    Created records as apply left them, one edited a second later, one
    archived, one deleted, and an id that never existed: same ids, same
    create_date and write_date strings, so the same records are found edited.
    """
    ids = await _setup(project_files)
    await asyncio.sleep(1.1)  # write_date has whole seconds
    async with looking_at(project_files.sandbox_db) as client:
        await client.write("res.partner", [ids["P-2"]], {"name": "Edited"})
        await client.write("res.partner", [ids["P-3"]], {"active": False})
        await client.unlink("res.partner", [ids["P-4"]])
        target = ClientTarget(client)
        wanted = [*sorted(ids[f"P-{n}"] for n in range(1, 6)), ids["S-1"], 999_999]
        dates = await _dates(target, "res.partner", wanted)
        read = await client.search_read(
            "res.partner",
            [["id", "in", wanted]],
            ["id", "create_date", "write_date"],
            context={"active_test": False},
        )
        assert target.calls == {"read_group": 1}
        assert await _dates(target, "res.partner", [999_999]) == {}
    assert dates == {r["id"]: r for r in read}
    assert sorted(dates) == sorted(i for i in wanted if i not in (ids["P-4"], 999_999))
    edited = {i for i, r in dates.items() if modified_after_create(r)}
    assert ids["P-2"] in edited and ids["P-1"] not in edited and ids["P-5"] not in edited
