"""Write the example project's "as received" data: an Excel workbook, a mapping table and a
small SQLite legacy database (migrations/0008_crm_and_legacy.toml); distributors with their
contacts in two CSVs and showroom products with pictures (migrations/0009_distributors.toml).

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


def write_documents(out: Path, rng: random.Random) -> None:
    """Headers and lines in two CSVs (a header's lines are spread through the file)."""
    distributors = [
        (f"D{i:02d}", f"{rng.choice(COMPANY_WORDS)} Distribution {i}") for i in range(1, 9)
    ]
    lines = ["code,name,country"] + [
        f"{code},{name},{rng.choice(list(COUNTRIES))}" for code, name in distributors
    ]
    (out / "distributors.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    contacts = ["distributor,email,name,function"]
    for i in range(1, 21):
        code = distributors[rng.randrange(len(distributors))][0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{code.lower()}.example"
        contacts.append(
            f"{code},{email},{first} {last},{rng.choice(['Sales', 'Buyer', 'CEO', ''])}"
        )
    (out / "distributor_contacts.csv").write_text("\n".join(contacts) + "\n", encoding="utf-8")


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A tiny 8x8 PNG of one colour (no imaging library needed)."""
    import struct
    import zlib

    raw = b"".join(b"\x00" + bytes(rgb) * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write_showroom(out: Path) -> None:
    """Showroom products; four of six have a picture in data/images/<sku>.png."""
    colours = {
        "SHW-01": (200, 40, 40),
        "SHW-02": (40, 160, 60),
        "SHW-03": (40, 80, 200),
        "SHW-05": (230, 190, 30),
    }
    names = [
        "Red lounge chair",
        "Green desk",
        "Blue shelf",
        "Oak bench",
        "Yellow lamp",
        "Walnut stool",
    ]
    rows = ["sku,name,price"] + [
        f"SHW-{i:02d},{name},{(i * 37) % 300 + 49}.00" for i, name in enumerate(names, start=1)
    ]
    (out / "showroom.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (out / "images").mkdir(exist_ok=True)
    for sku, rgb in colours.items():
        (out / "images" / f"{sku}.png").write_bytes(_png(rgb))


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
    write_documents(out, random.Random(SEED + 2))
    write_showroom(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
