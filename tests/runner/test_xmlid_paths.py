"""What identity xmlid sends, by the step's fields (an administrator's run).

A flat step (no many2one, one2many or many2many among its fields) creates through one
``load()`` with an ``id`` column per chunk: the records and their external ids in one
transaction, no naming call. A step with a relational field creates through ``create``
and one ``ir.model.data`` create per chunk (``load()`` checks relational cells one by
one on a real Odoo and is slower there).
"""

from __future__ import annotations

from typing import Any

import pytest

from zenoo_etl.client.errors import OutcomeUnknownError
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.identity import XMLID_MODULE
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import ProjectFiles, Spy, looking_at, table

ROWS = 10

CONTACTS = """\
    description = "contacts"

    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    key = "{{ row.n }}"
    chunk_size = 4
    records = [ROWS]

    [steps.fields]
    name = "Contact {{ row.n }}"
    ref = "XP-{{ row.n }}"
    email = "c{{ row.n }}@example.com"
    phone = "+32 2 {{ row.n }}"
    is_company = true
"""
COUNTRY = '    country_id = { xmlid = "base.be" }\n'


def _project(project_files: ProjectFiles, *, relational: bool) -> None:
    records = ", ".join(f'{{ n = "{i}" }}' for i in range(1, ROWS + 1))
    text = CONTACTS.replace("ROWS", records) + (COUNTRY if relational else "")
    project_files.runner = "concurrency = 1"
    project_files.write({"0001_contacts.toml": text})


def _spying(spies: list[Spy], **lose: Any) -> Any:
    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(Spy(target, **lose))
        return spies[-1]

    return wrap


def _lost() -> BaseException:
    return OutcomeUnknownError("answer lost (test)", model="res.partner", method="load")


async def _made(project_files: ProjectFiles) -> tuple[list[str], dict[int, int]]:
    """The step's records (refs) and, per record id, how many of our external ids name it."""
    async with looking_at(project_files.sandbox_db) as client:
        made = await table(client, "res.partner", ["ref"], [["ref", "like", "XP-"]])
        names = await table(
            client,
            "ir.model.data",
            ["res_id"],
            [["module", "=", XMLID_MODULE], ["model", "=", "res.partner"]],
        )
    per_record: dict[int, int] = {}
    for n in names:
        per_record[n["res_id"]] = per_record.get(n["res_id"], 0) + 1
    return sorted(r["ref"] for r in made), per_record


EXPECTED = sorted(f"XP-{i}" for i in range(1, ROWS + 1))


@pytest.mark.parametrize("relational", [False, True], ids=["flat", "country"])
async def test_what_identity_xmlid_sends_depends_on_relational_fields(
    project_files: ProjectFiles, relational: bool
) -> None:
    _project(project_files, relational=relational)
    spies: list[Spy] = []
    result = await apply(project_files.load(), wrap_target=_spying(spies))
    assert result.ok, result.error
    spy = spies[0]
    chunks = -(-ROWS // 4)
    if relational:  # create + one naming call per chunk
        assert spy.log.count(("create", "res.partner")) == chunks
        assert spy.log.count(("create", "ir.model.data")) == chunks
        assert spy.calls["load"] == 0
        assert spy.log.count(("has_access", "ir.model.data")) == 1
    else:  # one load() per chunk, records and external ids at once
        assert spy.log.count(("load", "res.partner")) == chunks
        assert spy.calls["create"] == 0
        assert spy.log.count(("has_access", "ir.model.data")) == 0
    refs, per_record = await _made(project_files)
    assert refs == EXPECTED
    assert len(per_record) == ROWS and set(per_record.values()) == {1}


async def test_a_lost_load_answer_on_a_flat_step_is_settled_by_external_ids(
    project_files: ProjectFiles,
) -> None:
    """The second load() commits, its answer is lost: its four rows are found by their
    external ids and adopted, not sent again; a rerun sends nothing; rollback removes the
    records and their external ids, and only them."""
    _project(project_files, relational=False)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])
        names_before = await table(client, "ir.model.data", ["name"])
    spies: list[Spy] = []
    result = await apply(
        project_files.load(), wrap_target=_spying(spies, lose_after={("load", 2): _lost})
    )
    assert result.ok, result.error
    counts = result.migrations[0].steps[0].counts
    assert (counts.created, counts.adopted) == (ROWS, 4)
    assert spies[0].calls["load"] == 3  # the lost chunk was not sent again
    assert spies[0].calls["create"] == 0
    refs, per_record = await _made(project_files)
    assert refs == EXPECTED
    assert len(per_record) == ROWS and set(per_record.values()) == {1}

    again: list[Spy] = []
    second = await apply(project_files.load(), wrap_target=_spying(again))
    assert second.migrations == []
    assert again[0].write_calls() == 0

    undone = await rollback(project_files.load(), to_version=0)
    assert undone.ok and not undone.warnings
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before
        assert await table(client, "ir.model.data", ["name"]) == names_before
