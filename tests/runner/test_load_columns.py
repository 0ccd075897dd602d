"""identity xmlid where the user may not create external ids itself (``load()``):
relations go as ``field/.id`` cells, each id once. The user is a plain sandbox user
(``has_access`` False on ir.model.data, as on a real Odoo 18/19)."""

from __future__ import annotations

from dataclasses import dataclass, field

from zenoo_etl.runner import apply
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget

from .helpers import TAGS, ProjectFiles, Spy, add_plain_user, looking_at, table

CONTACTS = """\
    description = "contacts"

    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    source = { csv = "data/contacts.csv" }
    key = "{{ row.id }}"

    [steps.fields]
    name = "Contact {{ row.id }}"
    ref = "LC-{{ row.id }}"
    country_id = { xmlid = "base.{{ row.country }}" }
    category_id = [{ ref = "tags", key = "{{ row.tag }}" }, { ref = "tags", key = "VIP" }]
"""
CSV = "id,country,tag\n1,be,Retail\n2,de,VIP\n3,fr,Wholesale\n"


@dataclass
class Columns(Spy):
    """Keeps the columns and cells of every load() call."""

    loads: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer:
        self.loads.append((list(fields), [list(r) for r in rows]))
        return await super().load(model, fields, rows, context)


def _spying(spies: list[Columns]):  # type: ignore[no-untyped-def]
    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(Columns(target))
        return spies[-1]

    return wrap


async def _check(project_files: ProjectFiles) -> None:
    async with looking_at(project_files.sandbox_db) as client:
        made = await table(
            client, "res.partner", ["ref", "country_id", "category_id"], [["ref", "like", "LC-"]]
        )
        countries = {c["id"]: c["code"] for c in await table(client, "res.country", ["code"])}
        tags = {t["id"]: t["name"] for t in await table(client, "res.partner.category", ["name"])}
    got = {
        r["ref"]: (countries[r["country_id"][0]], sorted(tags[t] for t in r["category_id"]))
        for r in made
    }
    assert got == {
        "LC-1": ("BE", ["Retail", "VIP"]),
        "LC-2": ("DE", ["VIP"]),  # the repeated tag once
        "LC-3": ("FR", ["VIP", "Wholesale"]),
    }


async def test_relations_are_database_id_cells_with_repeated_ids_sent_once(
    project_files: ProjectFiles,
) -> None:
    """Measured on Odoo 18: field/.id beats field/id for load(); a repeated tag costs a query.
    Run as a user who may not create external ids (load() makes them)."""
    await add_plain_user(project_files)
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_contacts.toml": CONTACTS}, {"data/contacts.csv": CSV}
    )
    spies: list[Columns] = []
    await apply(project_files.load(), wrap_target=_spying(spies))
    columns, rows = spies[0].loads[-1]
    assert "country_id/.id" in columns
    assert "category_id/.id" in columns
    tags = [row[columns.index("category_id/.id")] for row in rows]
    assert len(tags[1].split(",")) == 1  # row 2: VIP and VIP
    assert all(len(set(t.split(","))) == len(t.split(",")) for t in tags)
    await _check(project_files)
