"""Generate the example project's CSV files under ``data/`` (deterministic).

The example project at the repository root imports these files (see
``migrations/``). They are committed; rerun this script only to change them:

    python scripts/make_example_data.py            # writes data/*.csv
    python scripts/make_example_data.py --check    # exit 1 if data/ differs

Output depends only on the seed, so the files (and the migrations' checksums)
stay byte-identical across machines and Python versions.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path

SEED = 20261127
N_COMPANIES = 300
N_CUSTOMERS = 3000
N_PRODUCTS = 400
N_PRICE_UPDATES = 60
N_DISCONTINUED = 12
N_SALE_ORDERS = 30

# Country codes whose Odoo xmlid is base.<lower-case ISO code> (not GB: Odoo's is base.uk).
COUNTRIES = ["us", "de", "fr", "es", "it", "nl", "be", "ch", "at", "ca", "se", "dk"]
COUNTRY_WEIGHTS = [30, 18, 14, 8, 7, 6, 4, 4, 3, 3, 2, 1]
TAGS = ["Retail", "Wholesale", "Distributor", "Key Account", "Prospect"]
TAG_WEIGHTS = [40, 25, 15, 8, 12]

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "François",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Luca",
    "Marta",
    "Nils",
    "Olivia",
    "Pablo",
    "Quentin",
    "Rosa",
    "Sven",
    "Tessa",
    "Ugo",
    "Vera",
    "Willem",
    "Xenia",
    "Yusuf",
    "Zoé",
    "Amélie",
    "Björn",
    "Chloé",
    "Dario",
    "Emma",
    "Felix",
    "Giulia",
    "Hannah",
    "Igor",
    "Julia",
    "Klaus",
    "Lena",
    "Mateo",
    "Noah",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Dubois",
    "Martin",
    "García",
    "Rossi",
    "de Vries",
    "Janssens",
    "Keller",
    "Gruber",
    "Tremblay",
    "Lindqvist",
    "Nielsen",
    "Smith",
    "Johnson",
    "Brown",
    "Lefèvre",
    "Moreau",
    "Fernández",
    "López",
    "Bianchi",
    "Romano",
    "Bakker",
    "Peeters",
    "Huber",
    "Wagner",
    "Roy",
    "Berg",
    "Hansen",
    "Miller",
    "Davis",
    "Wilson",
    "Fischer",
    "Weber",
    "Bernard",
    "Ricci",
    "Visser",
    "Jacobs",
    "Meier",
    "Andersen",
]
COMPANY_STEMS = [
    "Alpine",
    "Blue River",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tidewater",
    "Unity",
    "Vertex",
    "Willow",
    "Zenith",
    "Atlas",
    "Beacon",
    "Crescent",
    "Dynamo",
    "Ember",
    "Fjord",
]
COMPANY_KINDS = [
    "Trading",
    "Office Supply",
    "Systems",
    "Logistics",
    "Interiors",
    "Engineering",
    "Retail",
    "Consulting",
    "Distribution",
    "Works",
]
LEGAL_FORMS = {
    "us": "Inc.",
    "de": "GmbH",
    "fr": "SARL",
    "es": "S.L.",
    "it": "S.r.l.",
    "nl": "B.V.",
    "be": "BV",
    "ch": "AG",
    "at": "GmbH",
    "ca": "Ltd.",
    "se": "AB",
    "dk": "ApS",
}
PHONE_PREFIX = {
    "us": "+1",
    "de": "+49",
    "fr": "+33",
    "es": "+34",
    "it": "+39",
    "nl": "+31",
    "be": "+32",
    "ch": "+41",
    "at": "+43",
    "ca": "+1",
    "se": "+46",
    "dk": "+45",
}

# Leaf product categories (their parents are created in migration 0001).
PRODUCT_LINES: dict[str, list[str]] = {
    "Laptops": ["Notebook", "Ultrabook", "Workstation Laptop", "Convertible"],
    "Monitors": ["Monitor", "Curved Monitor", "Portable Display"],
    "Peripherals": ["Keyboard", "Mouse", "Webcam", "Headset", "Docking Station"],
    "Networking": ["Router", "Switch", "Access Point", "Patch Cable"],
    "Paper": ["Copy Paper", "Notebook Pad", "Sticky Notes", "Envelopes"],
    "Writing": ["Ballpoint Pen", "Fineliner", "Marker Set", "Highlighter"],
    "Filing": ["Ring Binder", "Archive Box", "Document Tray", "Hanging Folder"],
    "Desks": ["Standing Desk", "Office Desk", "Corner Desk"],
    "Chairs": ["Task Chair", "Conference Chair", "Ergonomic Stool"],
    "Storage": ["Filing Cabinet", "Shelving Unit", "Locker"],
    "Installation": ["On-site Installation", "Remote Setup"],
    "Support Plans": ["Support Plan", "Extended Warranty"],
}
SERVICE_LINES = {"Installation", "Support Plans"}
PRICE_RANGES: dict[str, tuple[float, float]] = {
    "Laptops": (599, 2899),
    "Monitors": (129, 1299),
    "Peripherals": (9, 249),
    "Networking": (5, 899),
    "Paper": (2, 39),
    "Writing": (1, 29),
    "Filing": (3, 79),
    "Desks": (199, 1499),
    "Chairs": (89, 999),
    "Storage": (79, 899),
    "Installation": (90, 950),
    "Support Plans": (49, 599),
}
MODEL_SUFFIXES = ["S", "Pro", "Plus", "Max", "Lite", "X", "2", "3", "Air", "One"]
BRANDS = ["Acme", "Nordlys", "Optima", "Vantage", "Orbis", "Kairo", "Stellar", "Brio"]


def _slug(text: str) -> str:
    table = str.maketrans("äöüéèêçñóáíåøæ", "aoueeecnoaiaoa")
    cleaned = "".join(c for c in text.lower().translate(table) if c.isalnum() or c == " ")
    return cleaned.replace(" ", "")


def _phone(rng: random.Random, country: str) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return f"{PHONE_PREFIX[country]} {digits[:3]} {digits[3:6]} {digits[6:]}"


def _messy(rng: random.Random, text: str) -> str:
    """Legacy exports are untidy: stray spaces the migration trims."""
    if rng.random() < 0.08:
        return f"  {text} "
    return text


def companies(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    while len(rows) < N_COMPANIES:
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        base = f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_KINDS)}"
        name = f"{base} {LEGAL_FORMS[country]}"
        if name in seen:
            continue
        seen.add(name)
        number = len(rows) + 1
        domain = f"{_slug(base)}.{'com' if country in ('us', 'ca') else country}"
        rows.append(
            {
                "company_id": f"C{number:04d}",
                "name": _messy(rng, name),
                "country": country.upper(),
                "email": f"info@{domain}",
                "phone": _phone(rng, country),
                "tag": rng.choices(TAGS, TAG_WEIGHTS)[0],
                "domain": domain,
            }
        )
    return rows


def customers(rng: random.Random, parents: list[dict[str, str]]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for number in range(1, N_CUSTOMERS + 1):
        parent = rng.choice(parents)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_slug(first)}.{_slug(last)}{number}@{parent['domain']}"
        if rng.random() < 0.15:
            email = email.upper() if rng.random() < 0.5 else email.capitalize()
        kind = rng.choices(["contact", "invoice", "delivery"], [85, 8, 7])[0]
        rows.append(
            {
                "legacy_id": f"{100000 + number}",
                "name": _messy(rng, f"{first} {last}"),
                "email": email,
                "phone": _phone(rng, parent["country"].lower()),
                "country": parent["country"],
                "tag": parent["tag"] if rng.random() < 0.7 else rng.choices(TAGS, TAG_WEIGHTS)[0],
                "company": parent["company_id"],
                "type": kind,
            }
        )
    return rows


def products(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    lines = list(PRODUCT_LINES)
    while len(rows) < N_PRODUCTS:
        category = rng.choice(lines)
        noun = rng.choice(PRODUCT_LINES[category])
        name = f"{rng.choice(BRANDS)} {noun} {rng.choice(MODEL_SUFFIXES)}"
        if category not in SERVICE_LINES:
            name = f"{name} {rng.randrange(10, 99)}"
        if name in seen:
            continue
        seen.add(name)
        low, high = PRICE_RANGES[category]
        price = (
            round(rng.uniform(low, high), 0) - 0.01
            if high > 50
            else round(rng.uniform(low, high), 2)
        )
        is_service = category in SERVICE_LINES
        rows.append(
            {
                "default_code": f"{'SRV' if is_service else 'PRD'}-{len(rows) + 1:05d}",
                "name": name,
                "category": category,
                "price": f"{price:.2f}",
                "type": "service" if is_service else "consu",
                "purchasable": "no" if is_service else "yes",
            }
        )
    return rows


def price_updates(rng: random.Random, items: list[dict[str, str]]) -> list[dict[str, str]]:
    chosen = sorted(rng.sample(items, N_PRICE_UPDATES), key=lambda r: r["default_code"])
    rows = []
    for item in chosen:
        factor = rng.choice([1.03, 1.05, 1.08, 0.9])
        rows.append(
            {
                "default_code": item["default_code"],
                "new_price": f"{float(item['price']) * factor:.2f}",
            }
        )
    return rows


def discontinued(rng: random.Random, items: list[dict[str, str]]) -> list[dict[str, str]]:
    goods = [r for r in items if r["type"] == "consu"]
    chosen = sorted(rng.sample(goods, N_DISCONTINUED), key=lambda r: r["default_code"])
    return [{"default_code": r["default_code"], "reason": "end of life"} for r in chosen]


def sale_orders(
    customer_rows: list[dict[str, str]],
    product_rows: list[dict[str, str]],
    gone: list[dict[str, str]],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Legacy sale orders (headers) and their lines, for migrations/0010_sale_orders.toml.j2.

    A generator of its own (seed + 1), so the files above stay byte-identical. Lines sell
    products still sold after 0005 and 0006: not discontinued, not a consumable under 5.00.
    """
    rng = random.Random(SEED + 1)
    archived = {r["default_code"] for r in gone}
    sellable = [
        r
        for r in product_rows
        if r["default_code"] not in archived
        and not (r["type"] == "consu" and float(r["price"]) < 5)
    ]
    orders: list[dict[str, str]] = []
    lines: list[dict[str, str]] = []
    for number in range(1, N_SALE_ORDERS + 1):
        ref = f"SO-LEG-{number:04d}"
        orders.append(
            {
                "order_ref": ref,
                "customer": rng.choice(customer_rows)["legacy_id"],
                "date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
                f"{rng.randrange(8, 18):02d}:{rng.choice(['00', '15', '30', '45'])}:00",
            }
        )
        for line_no, item in enumerate(rng.sample(sellable, rng.randrange(1, 6)), start=1):
            discount = rng.choice([1.0, 1.0, 1.0, 0.95, 0.9])
            lines.append(
                {
                    "order_ref": ref,
                    "line_no": str(line_no),
                    "product": item["default_code"],
                    "qty": str(rng.randrange(1, 25)),
                    "price": f"{float(item['price']) * discount:.2f}",
                }
            )
    return orders, lines


def render(rows: list[dict[str, str]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build() -> dict[str, str]:
    """Return ``{file name: CSV text}`` for every generated file."""
    rng = random.Random(SEED)
    parent_rows = companies(rng)
    customer_rows = customers(rng, parent_rows)
    product_rows = products(rng)
    updates = price_updates(rng, product_rows)
    gone = discontinued(rng, product_rows)
    orders, order_lines = sale_orders(customer_rows, product_rows, gone)
    return {
        "companies.csv": render(
            parent_rows, ["company_id", "name", "country", "email", "phone", "tag"]
        ),
        "customers.csv": render(
            customer_rows,
            ["legacy_id", "name", "email", "phone", "country", "tag", "company", "type"],
        ),
        "products.csv": render(
            product_rows, ["default_code", "name", "category", "price", "type", "purchasable"]
        ),
        "price_update_2027.csv": render(updates, ["default_code", "new_price"]),
        "discontinued.csv": render(gone, ["default_code", "reason"]),
        "sale_orders.csv": render(orders, ["order_ref", "customer", "date"]),
        "sale_order_lines.csv": render(
            order_lines, ["order_ref", "line_no", "product", "qty", "price"]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    parser.add_argument("--check", action="store_true", help="Only compare; exit 1 on difference.")
    args = parser.parse_args(argv)
    files = build()
    differing = [
        name
        for name, text in files.items()
        if not (args.out / name).is_file() or (args.out / name).read_text("utf-8") != text
    ]
    if args.check:
        for name in differing:
            print(f"{args.out / name} is not what the generator produces", file=sys.stderr)
        return 1 if differing else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, "utf-8")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
