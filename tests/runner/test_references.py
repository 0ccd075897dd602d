"""ref / xmlid / search references resolve in bulk, once per run, or fail naming the row."""

from __future__ import annotations

import pytest

from zenoo_etl.runner import RunFailed, apply
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import TAGS, ProjectFiles, Spy, looking_at, table

CONTACTS = """\
    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    source = { csv = "data/contacts.csv" }
    key = "{{ row.id }}"
    chunk_size = 10

    [steps.fields]
    name = "{{ row.name }}"
    ref = "C-{{ row.id }}"
    country_id = { search = [["code", "=", "{{ row.country }}"]], model = "res.country" }
    parent_id = { xmlid = "base.main_partner" }
    category_id = [{ ref = "tags", key = "{{ row.tag }}" }, { ref = "tags", key = "VIP" }]
"""


def _csv(rows: int, country: str = "BE") -> str:
    countries = ["BE", "DE", "FR", "US"]
    lines = ["id,name,country,tag"]
    for i in range(rows):
        code = country if i == rows - 1 else countries[i % 4]
        lines.append(f"{i + 1},Contact {i + 1},{code},{['Retail', 'Wholesale'][i % 2]}")
    return "\n".join(lines) + "\n"


async def test_references_are_looked_up_in_bulk_and_cached(project_files: ProjectFiles) -> None:
    """45 rows in 5 chunks: one search per (model, field) and one ir.model.data read in all."""
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_contacts.toml": CONTACTS}, {"data/contacts.csv": _csv(45)}
    )
    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(Spy(target))
        return spies[-1]

    result = await apply(project_files.load(), wrap_target=wrap)
    assert result.migrations[1].steps[0].counts.created == 45
    log = spies[0].log
    # every country and the xmlid are known after the first chunk: cached for the run
    assert log.count(("search_read", "res.country")) == 1
    assert log.count(("search", "res.country")) == 0
    # one read for the references; each create step checks its external ids are new
    # with one search for their name prefix (none exists: no lookup row by row)
    assert log.count(("search_read", "ir.model.data")) == 1
    assert log.count(("search", "ir.model.data")) == 2
    # contacts (relations): create + naming per chunk; tags (a name only): one load()
    assert spies[0].log.count(("create", "res.partner")) == 5
    assert spies[0].log.count(("create", "ir.model.data")) == 5
    assert spies[0].log.count(("load", "res.partner.category")) == 1
    assert spies[0].calls["load"] == 1

    async with looking_at(project_files.sandbox_db) as client:
        rows = await table(
            client,
            "res.partner",
            ["ref", "country_id", "parent_id", "category_id"],
            [["ref", "like", "C-"]],
        )
        countries = {c["id"]: c["code"] for c in await table(client, "res.country", ["code"])}
        tags = {t["name"]: t["id"] for t in await table(client, "res.partner.category", ["name"])}
    by_ref = {r["ref"]: r for r in rows}
    assert countries[by_ref["C-2"]["country_id"][0]] == "DE"
    assert by_ref["C-1"]["parent_id"][0] == 1  # base.main_partner
    assert sorted(by_ref["C-2"]["category_id"]) == sorted([tags["Wholesale"], tags["VIP"]])


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        (_csv(12, country="XX"), "matches no record"),
        (_csv(12).replace("12,Contact 12,BE,Wholesale", "12,Contact 12,BE,Gold"), "'Gold'"),
    ],
)
async def test_a_reference_to_nothing_names_the_row_and_value(
    project_files: ProjectFiles, csv: str, expected: str
) -> None:
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_contacts.toml": CONTACTS}, {"data/contacts.csv": csv}
    )
    with pytest.raises(RunFailed) as caught:
        await apply(project_files.load())
    message = str(caught.value)
    assert "step 'contacts'" in message
    assert "row 12 (data/contacts.csv:13)" in message
    assert expected in message
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "C-"]]) == []


STATES = """\
    description = "US contacts with a state"

    [[steps]]
    id = "us"
    model = "res.partner"
    action = "create"
    source = { csv = "data/us.csv" }
    key = "{{ row.id }}"
    chunk_size = 6

    [steps.fields]
    name = "US {{ row.id }}"
    ref = "US-{{ row.id }}"
    state_id = { search = [DOMAIN], model = "res.country.state" }
""".replace("DOMAIN", '["country_id.code", "=", "US"], ["code", "=", "{{ row.state }}"]')


async def test_searches_differing_in_one_value_are_one_search_read(
    project_files: ProjectFiles,
) -> None:
    """Three states over two chunks: one ``in`` search per chunk, none one by one."""
    states = ["CA", "NY", "TX", "CA", "NY", "TX", "TX", "CA", "CA", "NY"]
    rows = "\n".join(f"{i + 1},{s}" for i, s in enumerate(states))
    project_files.write({"0001_us.toml": STATES}, {"data/us.csv": f"id,state\n{rows}\n"})
    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(Spy(target))
        return spies[-1]

    await apply(project_files.load(), wrap_target=wrap)
    log = spies[0].log
    assert log.count(("search", "res.country.state")) == 0
    assert log.count(("search_read", "res.country.state")) == 1  # the second chunk: cached
    async with looking_at(project_files.sandbox_db) as client:
        made = await table(client, "res.partner", ["ref", "state_id"], [["ref", "like", "US-"]])
        codes = {
            s["id"]: s["code"]
            for s in await table(
                client, "res.country.state", ["code"], [["country_id.code", "=", "US"]]
            )
        }
    got = {r["ref"]: codes[r["state_id"][0]] for r in made}
    assert got == {f"US-{i + 1}": s for i, s in enumerate(states)}
