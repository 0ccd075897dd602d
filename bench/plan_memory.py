"""Planning memory is flat in the number of rows: plan 100k and 1M-row sources, report peak RSS.

Usage: ``python bench/plan_memory.py [--rows 100000 1000000] [--sources csv xlsx sql] [--keep DIR]``

The same rows are planned from a CSV file, an Excel workbook (openpyxl read-only
streaming) and an SQLite database through the SQL source (SQLAlchemy, streamed
``yield_per``); ``apply`` reads rows through the same ``iter_rows`` stream.

Each size is planned in a fresh subprocess (so peak RSS is that plan's own),
after a baseline subprocess that only loads the project (imports, parsing):
the difference is what streaming the rows costs. Every row is rendered
(five templates including an xmlid reference and a filter) and its key
checked for uniqueness, exactly as ``zenoo-etl plan`` does.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

CONFIG = """\
[project]
name = "bench"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

MIGRATION = """\
description = "Import {rows} customers"

[[steps]]
id = "customers"
model = "res.partner"
action = "create"
source = {source}
key = "{{{{ row.legacy_id }}}}"
chunk_size = 500

[steps.fields]
name = "{{{{ row.name | trim }}}}"
email = "{{{{ row.email | lower }}}}"
is_company = "{{{{ row.kind == 'company' }}}}"
ref = "LEG-{{{{ row.legacy_id }}}}"
country_id = {{ xmlid = "base.{{{{ row.country | lower }}}}" }}
"""

CHILD = textwrap.dedent(
    """\
    import json, resource, sys, time
    from zenoo_etl.compiler import compile_plan, load_project
    start = time.perf_counter()
    project = load_project(sys.argv[1], environ={})
    records = None
    if sys.argv[2] == "plan":
        plan = compile_plan(project)
        records = plan.migrations[0].records
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"records": records, "seconds": elapsed, "peak_rss_mib": peak_kib / 1024}))
    """
)


SOURCES = {
    "csv": '{ csv = "data/customers.csv" }',
    "xlsx": '{ xlsx = "data/customers.xlsx" }',
    "sql": '{ sql = "SELECT * FROM customer ORDER BY legacy_id", sqlite = "data/customers.db" }',
}
HEADER = ["legacy_id", "name", "email", "kind", "country"]


def _rows(rows: int) -> Iterator[list[object]]:
    countries = ["US", "DE", "FR", "ES", "IT", "BE"]
    for i in range(rows):
        yield [
            i + 1,
            f"  Customer {i:07d} ",
            f"C{i}@Example.COM",
            "company" if i % 5 == 0 else "person",
            countries[i % len(countries)],
        ]


def _write_data(data: Path, kind: str, rows: int) -> None:
    if kind == "csv":
        with (data / "customers.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(_rows(rows))
    elif kind == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Customers")
        sheet.append(HEADER)
        for row in _rows(rows):
            sheet.append(row)
        book.save(data / "customers.xlsx")
    else:
        db = sqlite3.connect(data / "customers.db")
        with db:
            db.execute(
                "CREATE TABLE customer (legacy_id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
                "kind TEXT, country TEXT)"
            )
            db.executemany("INSERT INTO customer VALUES (?, ?, ?, ?, ?)", _rows(rows))
        db.close()


def make_project(root: Path, rows: int, kind: str = "csv") -> Path:
    folder = root / f"p{rows}-{kind}"
    (folder / "migrations").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "zenoo.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "migrations" / "0001_customers.toml").write_text(
        MIGRATION.format(rows=rows, source=SOURCES[kind]), encoding="utf-8"
    )
    _write_data(folder / "data", kind, rows)
    return folder


def measure(folder: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sources", nargs="+", choices=list(SOURCES), default=list(SOURCES))
    parser.add_argument("--keep", type=Path, default=None, help="Generate into DIR and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        print(
            f"{'source':>6} {'rows':>10} {'load-only MiB':>14} {'plan MiB':>9} "
            f"{'plan-load MiB':>14} {'plan s':>7} {'rows/s':>9}"
        )
        for kind in args.sources:
            for rows in args.rows:
                folder = make_project(root, rows, kind)
                base = measure(folder, "load")
                plan = measure(folder, "plan")
                assert plan["records"] == rows, plan
                rate = rows / plan["seconds"] if plan["seconds"] else float("inf")
                print(
                    f"{kind:>6} {rows:>10} {base['peak_rss_mib']:>14.1f} "
                    f"{plan['peak_rss_mib']:>9.1f} "
                    f"{plan['peak_rss_mib'] - base['peak_rss_mib']:>14.1f} "
                    f"{plan['seconds']:>7.1f} {rate:>9.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
