"""Real-world data applied as it comes: an Excel customer list with multi-valued tags, empty
parents, inactive rows and a country mapping table, and products from an SQLite legacy
database; applied to the sandbox over HTTP, rerun as a no-op and rolled back to nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl

from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import apply, rollback

from .helpers import ProjectFiles, looking_at, table

TAGS = """\
    description = "tags"

    [[steps]]
    id = "tags"
    model = "res.partner.category"
    action = "create"
    key = "{{ row.name }}"
    records = [{ name = "VIP" }, { name = "Prospect" }, { name = "Reseller" }]

    [steps.fields]
    name = "{{ row.name }}"
"""

CUSTOMERS = """\
    description = "customers from Excel, products from the legacy database"

    [[steps]]
    id = "companies"
    model = "res.partner"
    action = "create"
    source = { xlsx = "data/customers.xlsx", sheet = "Customers", header_row = 2 }
    key = "{{ row.code }}"
    when = "{{ row.status != 'inactive' and not row.parent }}"

    [steps.fields]
    name = "{{ row.name }}"
    is_company = true
    ref = "XL-{{ row.code }}"
    country_id = { xmlid = "base.{{ lookup('data/country_map.csv', row.country, 'iso') }}" }
    category_id = { ref = "tags", keys = "{{ row.tags }}", split = ";" }

    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    source = { xlsx = "data/customers.xlsx", sheet = "Customers", header_row = 2 }
    key = "{{ row.code }}"
    when = "{{ row.status != 'inactive' and row.parent }}"

    [steps.fields]
    name = "{{ row.name }}"
    ref = "XL-{{ row.code }}"
    parent_id = { ref = "companies", key = "{{ row.parent }}", missing = "null" }
    country_id = { xmlid = "base.{{ lookup('data/country_map.csv', row.country, 'iso') }}" }
    category_id = { ref = "tags", keys = "{{ row.tags }}", split = ";" }

    [[steps]]
    id = "legacy-products"
    model = "product.template"
    action = "create"
    key = "{{ row.code }}"

    [steps.source]
    sql = "SELECT code, label, price FROM article WHERE obsolete = 0 ORDER BY code"
    sqlite = "data/legacy.sqlite"

    [steps.fields]
    name = "{{ row.label }}"
    default_code = "OLD-{{ row.code }}"
    list_price = "{{ row.price }}"
"""

COUNTRY_MAP = """\
    name,iso
    Belgique,be
    Deutschland,de
    France,fr
"""


def _data(root: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    for row in [
        ["Customer export", None, None, None, None, None],
        ["code", "name", "parent", "country", "tags", "status"],
        ["C1", "Brasserie Dupont", None, "Belgique", "VIP; Prospect", "active"],
        ["C2", "Müller GmbH", None, "Deutschland", None, "active"],
        ["C3", "Old Shop", None, "France", "Reseller", "inactive"],
        ["P1", "Jean Dupont", "C1", "Belgique", "VIP", "active"],
        ["P2", "Eva Müller", "C2", "Deutschland", "Prospect;Reseller;Prospect", "active"],
        ["P3", "Gone Person", "C3", "France", None, "inactive"],
    ]:
        sheet.append(row)
    (root / "data").mkdir(parents=True, exist_ok=True)
    book.save(root / "data/customers.xlsx")
    with sqlite3.connect(root / "data/legacy.sqlite") as db:
        db.execute("CREATE TABLE article (code TEXT, label TEXT, price NUMERIC, obsolete INT)")
        db.executemany(
            "INSERT INTO article VALUES (?, ?, ?, ?)",
            [("A1", "Desk", 120.5, 0), ("A2", "Chair", 45, 0), ("A3", "Typewriter", 10, 1)],
        )
    db.close()


async def test_excel_sql_and_messy_cells_apply_rerun_and_roll_back(
    project_files: ProjectFiles,
) -> None:
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_customers.toml": CUSTOMERS},
        {"data/country_map.csv": COUNTRY_MAP},
    )
    _data(project_files.root)
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])
        before_products = await table(client, "product.template", ["name"])

    result = await apply(project_files.load())
    assert result.ok, result.error
    counts = {s.step: s.counts for s in result.migrations[1].steps}
    assert (counts["companies"].created, counts["companies"].filtered) == (2, 4)
    assert (counts["contacts"].created, counts["contacts"].filtered) == (2, 4)
    assert (counts["legacy-products"].created, counts["legacy-products"].filtered) == (2, 0)

    async with looking_at(project_files.sandbox_db) as client:
        partners = await table(
            client,
            "res.partner",
            ["name", "ref", "parent_id", "country_id", "category_id"],
            [["ref", "like", "XL-"]],
        )
        tags = {t["id"]: t["name"] for t in await table(client, "res.partner.category", ["name"])}
        countries = {c["id"]: c["code"] for c in await table(client, "res.country", ["code"])}
        products = await table(
            client,
            "product.template",
            ["name", "default_code", "list_price"],
            [["default_code", "like", "OLD-"]],
        )
    by_ref = {p["ref"]: p for p in partners}
    assert sorted(by_ref) == ["XL-C1", "XL-C2", "XL-P1", "XL-P2"]
    assert sorted(tags[i] for i in by_ref["XL-C1"]["category_id"]) == ["Prospect", "VIP"]
    assert by_ref["XL-C2"]["category_id"] == []
    assert sorted(tags[i] for i in by_ref["XL-P2"]["category_id"]) == ["Prospect", "Reseller"]
    assert by_ref["XL-P1"]["parent_id"][0] == next(p["id"] for p in partners if p["ref"] == "XL-C1")
    assert by_ref["XL-C1"]["parent_id"] is False
    assert countries[by_ref["XL-P2"]["country_id"][0]] == "DE"
    assert {p["default_code"]: p["list_price"] for p in products} == {
        "OLD-A1": 120.5,
        "OLD-A2": 45.0,
    }

    async with open_ledger(project_files.load().config.ledger.url, project_files.root) as ledger:
        scope = ledger.scope("sandbox:.zenoo/sandbox.db", "etl")
        record = await scope.migration(2)
    assert record is not None and record.counts.filtered == 8
    assert record.counts.created == 6

    again = await apply(project_files.load())
    assert again.ok and again.migrations == []

    await rollback(project_files.load(), to_version=0)
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before
        assert await table(client, "product.template", ["name"]) == before_products
