"""Planning memory is flat in the number of rows: plan 100k and 1M-row CSVs, report peak RSS.

Usage: ``python bench/plan_memory.py [--rows 100000 1000000] [--keep DIR]``

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
import subprocess
import sys
import tempfile
import textwrap
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
source = {{ csv = "data/customers.csv" }}
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


def make_project(root: Path, rows: int) -> Path:
    folder = root / f"p{rows}"
    (folder / "migrations").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "zenoo.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "migrations" / "0001_customers.toml").write_text(
        MIGRATION.format(rows=rows), encoding="utf-8"
    )
    countries = ["US", "DE", "FR", "ES", "IT", "BE"]
    with (folder / "data" / "customers.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["legacy_id", "name", "email", "kind", "country"])
        for i in range(rows):
            writer.writerow(
                [
                    i + 1,
                    f"  Customer {i:07d} ",
                    f"C{i}@Example.COM",
                    "company" if i % 5 == 0 else "person",
                    countries[i % len(countries)],
                ]
            )
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
    parser.add_argument("--keep", type=Path, default=None, help="Generate into DIR and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        print(f"{'rows':>10} {'load-only MiB':>14} {'plan MiB':>9} {'plan s':>7} {'rows/s':>9}")
        for rows in args.rows:
            folder = make_project(root, rows)
            base = measure(folder, "load")
            plan = measure(folder, "plan")
            assert plan["records"] == rows, plan
            rate = rows / plan["seconds"] if plan["seconds"] else float("inf")
            print(
                f"{rows:>10} {base['peak_rss_mib']:>14.1f} {plan['peak_rss_mib']:>9.1f} "
                f"{plan['seconds']:>7.1f} {rate:>9.0f}"
            )


if __name__ == "__main__":
    main()
