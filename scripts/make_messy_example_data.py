"""Write the example project's "as received" data: an Excel workbook, a mapping table and a
small SQLite legacy database (used by migrations/0008_crm_and_legacy.toml).

The files are committed; this script documents how they were made and rebuilds them:

    python scripts/make_messy_example_data.py [--out data]

The data is deliberately untidy, as integrators receive it: a title line above the
header, multi-valued tag cells ("Key Account; Prospect"), contacts without a company,
inactive rows, legacy country names that need a mapping table, dates typed as dates.
Excel bytes carry timestamps, so a rebuild is equal in content, not byte for byte.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import sys
from pathlib import Path

import openpyxl

SEED = 15
COUNTRIES = {  # legacy CRM spelling -> ISO code
    "Belgique": "be",
    "België": "be",
    "Deutschland": "de",
    "France": "fr",
    "Nederland": "nl",
    "España": "es",
    "United States": "us",
}
TAGS = ["Retail", "Wholesale", "Distributor", "Key Account", "Prospect"]
COMPANY_WORDS = ["Atelier", "Brasserie", "Bureau", "Garage", "Handel", "Studio", "Verlag"]
PLACES = ["Namur", "Gent", "Köln", "Lyon", "Utrecht", "Sevilla", "Austin", "Liège"]
FIRST = ["Anne", "Bram", "Chloé", "Dirk", "Elena", "Femke", "Gustav", "Hugo", "Inès", "Jonas"]
LAST = ["Peeters", "Maes", "Schmidt", "Dubois", "de Vries", "García", "Smith", "Lambert"]
ARTICLES = ["Desk lamp", "Filing cabinet", "Whiteboard", "Stapler", "Monitor arm", "Footrest"]


def customers(rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    names = list(COUNTRIES)
    for i in range(1, 13):
        tags = rng.sample(TAGS, rng.choice([0, 1, 1, 2]))
        rows.append(
            [
                f"C{i:03d}",
                f"{rng.choice(COMPANY_WORDS)} {rng.choice(PLACES)} {i}",
                None,
                rng.choice(names),
                "; ".join(tags) if tags else None,
                "inactive" if i % 6 == 0 else "active",
                dt.datetime(2015 + i % 9, 1 + i % 12, 1 + (i * 7) % 28),
            ]
        )
    for i in range(1, 29):
        # every 4th has no company; inactive companies (C006, C012) are not imported
        parent = f"C{rng.choice([1, 2, 3, 4, 5, 7, 8, 9, 10, 11]):03d}" if i % 4 else None
        tags = rng.sample(TAGS, rng.choice([0, 1, 2, 3]))
        rows.append(
            [
                f"P{i:03d}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                parent,
                rng.choice(names),
                ";".join(tags) if tags else None,
                "inactive" if i % 9 == 0 else "active",
                dt.datetime(2018 + i % 6, 1 + i % 12, 1 + (i * 3) % 28),
            ]
        )
    return rows


def write_workbook(path: Path, rng: random.Random) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    sheet.append(["CRM export, all customers, as received"])
    sheet.append(["code", "name", "company", "country", "tags", "status", "customer_since"])
    for row in customers(rng):
        sheet.append(row)
    notes = book.create_sheet("Notes")
    notes.append(["Tags are separated by ';'. Contacts without a company are private persons."])
    fixed = dt.datetime(2026, 11, 30, 12, 0)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.save(path)


def write_country_map(path: Path) -> None:
    lines = ["legacy_name,iso"] + [f"{name},{code}" for name, code in COUNTRIES.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_legacy_db(path: Path, rng: random.Random) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "CREATE TABLE article (code TEXT PRIMARY KEY, label TEXT NOT NULL, "
            "price NUMERIC, obsolete INTEGER NOT NULL DEFAULT 0)"
        )
        db.executemany(
            "INSERT INTO article VALUES (?, ?, ?, ?)",
            [
                (
                    f"ART-{i:04d}",
                    f"{rng.choice(ARTICLES)} {rng.choice(['S', 'M', 'L', 'XL'])}-{i}",
                    round(rng.uniform(3, 400), 2),
                    1 if i % 7 == 0 else 0,
                )
                for i in range(1, 31)
            ],
        )
    db.execute("VACUUM")
    db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "data")
    args = parser.parse_args(argv)
    out: Path = args.out
    (out / "crm").mkdir(parents=True, exist_ok=True)
    (out / "legacy").mkdir(parents=True, exist_ok=True)
    write_workbook(out / "crm" / "customers.xlsx", random.Random(SEED))
    write_country_map(out / "crm" / "country_map.csv")
    write_legacy_db(out / "legacy" / "erp.sqlite", random.Random(SEED + 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
