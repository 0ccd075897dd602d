"""What apply's checks before the first write cost, as a fraction of the apply.

Applies the benchmark's customers migration (``bench/_harness.py``: 20 tags,
then N customers with six templated fields, a country xmlid and a tag ref)
twice, each time to a fresh sandbox in its own process: once as is (the
preflight runs ``validate``'s checks over every row, then every create
step's external ids are looked up), once with ``--no-preflight``. Prints the
two wall times, the preflight and the existing-records lookup as ``apply
--json`` reports them (``checks``), and each as a fraction of the apply.

    .venv/bin/python bench/preflight_cost.py [--rows 100000] [--chunk 500]

``--url URL --database DB`` runs against a real Odoo instead (password in
``ZENOO_BENCH_PASSWORD``, user admin); each run is rolled back afterwards.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _harness import SandboxProcess, machine, make_project, run_cli, step_of, write_csv


def measure(project: Path, rows: int, extra: tuple[str, ...]) -> dict[str, float]:
    run = run_cli(["apply", "--project", str(project), "--yes", "--json", *extra])
    created = step_of(run, "customers")["created"]
    if created != rows:
        raise RuntimeError(f"created {created} of {rows} rows")
    checks = run.output.get("checks", {})
    return {
        "wall": run.wall,
        "apply_seconds": float(run.output["seconds"]),
        "preflight_seconds": float(checks.get("preflight_seconds", 0.0)),
        "existing_records_seconds": float(checks.get("existing_records_seconds", 0.0)),
    }


def apply_once(
    work: Path, csv_file: Path, args: argparse.Namespace, *extra: str
) -> dict[str, float]:
    if args.url:
        project = make_project(
            work / "project", args.url, args.rows, chunk=args.chunk, csv_file=csv_file
        )
        config = project / "zenoo.toml"
        config.write_text(
            config.read_text().replace('database = "etl"', f'database = "{args.database}"')
        )
        try:
            return measure(project, args.rows, extra)
        finally:  # a shared server: leave nothing behind
            run_cli(["rollback", "--project", str(project), "--to", "0", "--yes", "--force"])
    with SandboxProcess(work / "sandbox.db") as sandbox:
        project = make_project(
            work / "project", sandbox.url, args.rows, chunk=args.chunk, csv_file=csv_file
        )
        return measure(project, args.rows, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--url", default="", help="a real Odoo instead of the sandbox")
    parser.add_argument("--database", default="etl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zenoo-preflight-") as tmp:
        root = Path(tmp)
        csv_file = root / "customers.csv"
        write_csv(csv_file, args.rows)
        checked = apply_once(root / "checked", csv_file, args)
        skipped = apply_once(root / "skipped", csv_file, args, "--no-preflight")
    apply_s = checked["apply_seconds"]
    report = {
        "rows": args.rows,
        "target": args.url or "sandbox (own process)",
        "machine": machine(),
        "apply_seconds": round(apply_s, 2),
        "apply_no_preflight_seconds": round(skipped["apply_seconds"], 2),
        "preflight_seconds": round(checked["preflight_seconds"], 2),
        "preflight_fraction_of_apply": round(checked["preflight_seconds"] / apply_s, 3),
        "existing_records_seconds": round(checked["existing_records_seconds"], 2),
        "existing_records_fraction_of_apply": round(
            checked["existing_records_seconds"] / apply_s, 3
        ),
        "wall_ratio_checked_vs_no_preflight": round(checked["wall"] / skipped["wall"], 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
