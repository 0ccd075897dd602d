"""identity xmlid for a user who is not an administrator, over HTTP to the sandbox.

On a real Odoo 18/19 such a user (Internal User + Contact Creation) may neither
create nor read ``ir.model.data`` (``has_access`` False, AccessError), while its
``load()`` with an ``id`` column names records and ``check_object_reference``
resolves names; the sandbox refuses and serves the same
(tests/sandbox/odoo_wire_access). The runner creates by ``load()`` and looks
names up one by one, so apply, rerun, a lost answer, a lost ledger and rollback
work for that user as for admin.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client.errors import OutcomeUnknownError
from zenoo_etl.runner import RunFailed, apply, identity
from zenoo_etl.runner.identity import XMLID_MODULE
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import (
    CSV,
    PARTNERS,
    PLAIN_LOGIN,
    TAGS,
    ProjectFiles,
    Spy,
    add_plain_user,
    exactly_once,
    looking_at,
    table,
)


def _plain_user_project(project_files: ProjectFiles) -> None:
    """The partners project, run as a plain user made beforehand by admin."""
    asyncio.run(add_plain_user(project_files))
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )


def _landed(project_files: ProjectFiles) -> dict[str, Any]:
    """What is on the target, read by admin: partners, tags, and the __zenoo__ names."""

    async def look() -> dict[str, Any]:
        async with looking_at(project_files.sandbox_db) as client:
            partners = await table(
                client, "res.partner", ["ref", "create_uid"], [["ref", "like", "LEG-"]]
            )
            tags = await table(client, "res.partner.category", ["name"])
            mine = [["module", "=", XMLID_MODULE]]
            names = await table(client, "ir.model.data", ["name", "model", "res_id"], mine)
        return {"partners": partners, "tags": tags, "names": names}

    return asyncio.run(look())


def _invoke(project_files: ProjectFiles, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--project", str(project_files.root)])
    return result.exit_code, result.stdout + result.stderr


def test_a_plain_user_applies_reruns_meets_a_lost_ledger_and_rolls_back(
    project_files: ProjectFiles,
) -> None:
    _plain_user_project(project_files)
    code, out = _invoke(project_files, "apply", "--yes")
    assert code == 0, out
    landed = _landed(project_files)
    assert sorted(p["ref"] for p in landed["partners"]) == [f"LEG-{i}" for i in range(1, 9)]
    # every record is named __zenoo__.*: load() named them (create + ir.model.data.create
    # is refused to this user, as the sandbox's AccessError would have stopped the run)
    named = {(n["model"], n["res_id"]) for n in landed["names"]}
    assert named == {("res.partner", p["id"]) for p in landed["partners"]} | {
        ("res.partner.category", t["id"]) for t in landed["tags"]
    }
    assert len(landed["names"]) == 8 + 3
    # ... by the plain user, not by admin (uid 2)
    assert {p["create_uid"][1] for p in landed["partners"]} == {PLAIN_LOGIN}

    code, out = _invoke(project_files, "plan")
    assert code == 0, out
    assert "Nothing to apply" in out
    code, out = _invoke(project_files, "apply", "--yes")
    assert code == 0, out
    assert _landed(project_files) == landed

    # a lost ledger: the records are found again by their names (one
    # check_object_reference each), nothing is written twice
    ledger = project_files.root / ".zenoo" / "ledger.db"
    kept = ledger.with_name("ledger.kept")
    shutil.move(ledger, kept)
    code, out = _invoke(project_files, "apply", "--yes")
    assert code == 4, out
    assert "3 res.partner.category record(s) carry its external ids" in out, out
    assert "8 res.partner record(s) carry its external ids" in out, out
    assert _landed(project_files) == landed
    shutil.move(kept, ledger)

    code, out = _invoke(project_files, "rollback", "--to", "0", "--yes")
    assert code == 0, out
    after = _landed(project_files)
    assert after["partners"] == []
    assert after["names"] == []
    assert {t["name"] for t in after["tags"]}.isdisjoint({"Retail", "Wholesale", "VIP"})


@pytest.mark.parametrize("sweep", [True, False], ids=["metadata", "one-by-one"])
async def test_a_plain_users_lost_load_answer_is_settled_by_name(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch, sweep: bool
) -> None:
    """The 2nd chunk's load() commits but its answer is lost: its names are looked up
    (the user may not read ir.model.data: one check_object_reference each) and adopted.
    Before the first write, the check for records the ledger does not know reads the
    records' metadata (a few calls), or, on a model too large for that, looks each
    row's name up."""
    if not sweep:
        monkeypatch.setattr(identity, "_SWEEP_MAX", 0)
    # the spy counts calls: one chunk at a time; a lost answer settles for 1 s
    project_files.runner = "concurrency = 1\ntimeout = 1"
    await asyncio.to_thread(_plain_user_project, project_files)
    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        lost = OutcomeUnknownError("answer lost (test)", model="res.partner", method="load")
        spies.append(Spy(target, lose_after={("load", 3): lambda: lost}))
        return spies[-1]

    result = await apply(project_files.load(), wrap_target=wrap)
    assert result.ok
    spy = spies[0]
    assert spy.calls["load"] == 1 + 3  # tags, then 3 chunks of partners; none sent again
    assert spy.log.count(("create", "ir.model.data")) == 0
    countries = 4  # BE, DE, US, FR: the xmlid references, once each
    lost_chunk = 3
    if sweep:
        # one page of partners; no tag exists yet, so no tag can carry a name: no call
        assert spy.calls["get_metadata"] == 1
        assert spy.calls["check_object_reference"] == countries + lost_chunk
    else:
        assert spy.calls["get_metadata"] == 0
        rows = 8  # the partners; the tags' model is empty (nothing to look up)
        assert spy.calls["check_object_reference"] == countries + rows + lost_chunk
    async with looking_at(project_files.sandbox_db) as client:
        await exactly_once(client)


UPSERT = """\
    description = "people"

    [[steps]]
    id = "people"
    model = "res.partner"
    action = "upsert"
    match = ["ref"]
    key = "{{ row.key }}"
    records = [{ key = "1", ref = "%(ref)s-1" }, { key = "2", ref = "%(ref)s-2" }]

    [steps.fields]
    name = "Person {{ row.key }}"
    ref = "{{ row.ref }}"
"""


@pytest.mark.parametrize("user", ["admin", "plain"])
async def test_an_upsert_refuses_to_overwrite_a_named_record_it_does_not_match(
    project_files: ProjectFiles, user: str
) -> None:
    """The rows' external ids exist (a lost ledger) but their match values changed: the
    upsert stops before sending anything. A user who may not read ir.model.data finds
    the names with get_metadata, once for the step, not with a call per row."""
    if user == "plain":
        await add_plain_user(project_files)
    project_files.write({"0001_people.toml": UPSERT % {"ref": "OLD"}})
    first = await apply(project_files.load())
    assert first.ok, first.error
    (project_files.root / ".zenoo" / "ledger.db").unlink()
    project_files.write({"0001_people.toml": UPSERT % {"ref": "NEW"}})
    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(Spy(target))
        return spies[-1]

    with pytest.raises(RunFailed, match="have an external id that exists already"):
        await apply(project_files.load(), wrap_target=wrap)
    assert spies[0].write_calls() == 0
    async with looking_at(project_files.sandbox_db) as client:
        people = await table(client, "res.partner", ["ref"], [["name", "like", "Person "]])
    assert sorted(p["ref"] for p in people) == ["OLD-1", "OLD-2"]
    if user == "plain":
        assert spies[0].calls["get_metadata"] == 1
        assert spies[0].calls["check_object_reference"] == 0
