"""Client CPU per record of ``apply``, several code trees and flags, interleaved.

Each variant is ``LABEL=TREE[:FLAGS]``: the client runs with ``PYTHONPATH=TREE``
(a git worktree of the commit to measure, e.g. ``git worktree add --detach
/tmp/old 1974e3d``) and the extra apply ``FLAGS`` (comma-separated, e.g.
``--no-preflight``). Every round applies the benchmark's customers migration
(``bench/_harness.py``) once per variant, each to a fresh sandbox served by
THIS tree in its own process, in turn (so load on the machine hits all
variants alike). Prints the medians of the client's CPU per record (all
included, the child's own rusage; and the least of the rounds, which is what
``bench/run.py`` reports), the CPU of a 1,000-row apply (fixed cost),
the marginal CPU per record beyond it, the checks' seconds as ``apply --json``
reports them, and each variant's ratio to the first one.

    cd bench && python client_cpu_ab.py --rows 20000 --rounds 3 \\
        old=/tmp/old base=/tmp/base base-nopf=/tmp/base:--no-preflight new=..

Run it from a directory without a ``zenoo_etl`` package (``bench/``):
``python -m`` puts the working directory before ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _harness import SandboxProcess, machine, make_project, run_cli, step_of, write_csv

SMALL = 1_000


def apply_once(
    work: Path, csv_file: Path, rows: int, tree: str, flags: list[str], identity: str = "xmlid"
) -> dict[str, float]:
    with SandboxProcess(work / "sandbox.db") as sandbox:
        project = make_project(
            work / "project", sandbox.url, rows, identity=identity, csv_file=csv_file
        )
        run = run_cli(
            ["apply", "--project", str(project), "--yes", "--json", *flags],
            env_extra={"PYTHONPATH": str(Path(tree).resolve())},
        )
    created = step_of(run, "customers")["created"]
    if created != rows:
        raise RuntimeError(f"{tree}: created {created} of {rows} rows")
    checks = run.output.get("checks", {})
    return {
        "cpu": run.cpu,
        "wall": run.wall,
        "apply_seconds": float(run.output.get("seconds", run.wall)),
        "checks_seconds": float(checks.get("preflight_seconds", 0.0))
        + float(checks.get("existing_records_seconds", 0.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--identity",
        default="xmlid",
        help="the customers step's identity (bench/run.py: e2e measures xmlid, none measures none)",
    )
    parser.add_argument("variants", nargs="+", metavar="LABEL=TREE[:FLAGS]")
    args = parser.parse_args()
    if (Path.cwd() / "zenoo_etl").is_dir():
        parser.error("run from bench/: python -m would import ./zenoo_etl for every variant")
    variants: list[tuple[str, str, list[str]]] = []
    for spec in args.variants:
        label, _, rest = spec.partition("=")
        tree, _, flags = rest.partition(":")
        variants.append((label, tree, [f for f in flags.split(",") if f]))
    big: dict[str, list[dict[str, float]]] = {v[0]: [] for v in variants}
    small: dict[str, list[float]] = {v[0]: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="zenoo-cpu-ab-") as tmp:
        root = Path(tmp)
        csv_big, csv_small = root / "big.csv", root / "small.csv"
        write_csv(csv_big, args.rows)
        write_csv(csv_small, SMALL)
        n = 0
        for r in range(args.rounds):
            order = variants if r % 2 == 0 else variants[::-1]
            for label, tree, flags in order:
                n += 1
                res = apply_once(root / f"run{n}", csv_big, args.rows, tree, flags, args.identity)
                big[label].append(res)
                n += 1
                small[label].append(
                    apply_once(root / f"run{n}", csv_small, SMALL, tree, flags, args.identity)[
                        "cpu"
                    ]
                )
                print(
                    f"round {r + 1} {label}: {1e6 * res['cpu'] / args.rows:.1f} µs/rec, "
                    f"checks {res['checks_seconds']:.2f} s of {res['apply_seconds']:.2f} s",
                    flush=True,
                )
    report: dict[str, Any] = {
        "rows": args.rows,
        "rounds": args.rounds,
        "identity": args.identity,
        "machine": machine(),
    }
    first = ""
    print(f"\nmedians of {args.rounds} rounds, {args.rows:,} rows, identity {args.identity}:")
    print(
        f"{'variant':<14}{'µs/rec':>8}{'best':>8}{'marginal':>10}{'checks s':>10}{'share':>8}"
        f"{'ratio':>8}"
    )
    for label, _tree, flags in variants:
        cpu = statistics.median(x["cpu"] for x in big[label])
        fixed = statistics.median(small[label])
        checks = statistics.median(x["checks_seconds"] for x in big[label])
        share = statistics.median(x["checks_seconds"] / x["apply_seconds"] for x in big[label])
        per = 1e6 * cpu / args.rows
        best = 1e6 * min(x["cpu"] for x in big[label]) / args.rows  # bench/run.py's figure
        marginal = 1e6 * (cpu - fixed) / (args.rows - SMALL)
        first = first or label
        base = 1e6 * statistics.median(x["cpu"] for x in big[first]) / args.rows
        print(
            f"{label:<14}{per:>8.1f}{best:>8.1f}{marginal:>10.1f}{checks:>10.2f}"
            f"{100 * share:>7.1f}%{per / base:>7.2f}x"
        )
        report[label] = {
            "flags": flags,
            "cpu_us_per_record": per,
            "best_cpu_us_per_record": best,
            "marginal_us_per_record": marginal,
            "fixed_cpu_seconds": fixed,
            "checks_seconds": checks,
            "checks_share_of_apply": share,
            "ratio": per / base,
            "runs_us": [1e6 * x["cpu"] / args.rows for x in big[label]],
        }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
