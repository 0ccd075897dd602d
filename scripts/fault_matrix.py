"""The large, randomized fault matrix (the pytest suite runs a reduced one).

For every action x fault x ledger backend it runs ``--seeds`` scenarios
(tests/faults/matrix.py: inject the fault during apply, rerun until it
converges, compare with a fault-free control, roll back to 0 and compare
with the original table), then ``--kill-seeds`` SIGKILL and SIGTERM runs of
a real ``zenoo-etl apply`` process (tests/faults/test_kill.py). It prints one
table: fault, action, backend, runs, failed, duplicates, losses, not
restored — every column after ``runs`` must be 0. Exit 1 otherwise.

    .venv/bin/python scripts/fault_matrix.py                  # SQLite + PostgreSQL
    .venv/bin/python scripts/fault_matrix.py --seeds 20 --kill-seeds 25
    .venv/bin/python scripts/fault_matrix.py --backends sqlite --faults reset,drop

PostgreSQL: ``--pg-url`` or ``ZENOO_TEST_PG_URL``, else a throwaway cluster
from tests/pg_cluster.py (initdb/pg_ctl on PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from faults import matrix  # noqa: E402
from faults.procs import start_sandbox  # noqa: E402
from faults.test_kill import kill_and_converge  # noqa: E402

SQLITE_ONLY = {"disk_full"}


class Row:
    def __init__(self) -> None:
        self.runs = self.failed = self.duplicates = self.losses = self.unrestored = 0
        self.errors: list[str] = []


async def run_matrix(args: argparse.Namespace, pg_url: str | None) -> dict[tuple[str, ...], Row]:
    table: dict[tuple[str, ...], Row] = defaultdict(Row)
    for backend in args.backends:
        for fault in args.faults:
            if backend == "postgres" and fault in SQLITE_ONLY:
                continue
            for action in args.actions:
                row = table[(fault, action, backend)]
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    row.runs += 1
                    with tempfile.TemporaryDirectory() as tmp:
                        try:
                            outcome = await matrix.run_scenario(
                                action, fault, backend, seed, Path(tmp), pg_url=pg_url
                            )
                        except Exception as exc:
                            row.failed += 1
                            row.errors.append(f"seed {seed}: {type(exc).__name__}: {exc}"[:300])
                            if args.verbose:
                                traceback.print_exc()
                            continue
                    row.duplicates += outcome.duplicates
                    row.losses += outcome.losses
                    row.unrestored += 0 if outcome.restored else 1
                print(
                    f"  {fault:17} {action:7} {backend:8} runs {row.runs}  failed {row.failed}",
                    file=sys.stderr,
                )
    return table


async def run_kills(args: argparse.Namespace) -> dict[tuple[str, ...], Row]:
    table: dict[tuple[str, ...], Row] = defaultdict(Row)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(Path(tmp) / "target.db", "--fault-control")
        try:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                row = table[(sig.name, "all", "sqlite")]
                for seed in range(args.first_seed, args.first_seed + args.kill_seeds):
                    row.runs += 1
                    try:
                        seen: dict[str, Any] = await kill_and_converge(
                            Path(tmp), sig, seed, sandbox, rows=args.kill_rows
                        )
                    except Exception as exc:
                        row.failed += 1
                        where = traceback.extract_tb(exc.__traceback__)[-1]
                        row.errors.append(
                            f"seed {seed}: line {where.lineno} `{where.line}`: "
                            f"{type(exc).__name__}: {exc}"[:400]
                        )
                        continue
                    row.duplicates += int(seen["duplicates"])
                    row.losses += int(seen["losses"])
                print(f"  {sig.name:17} runs {row.runs}  failed {row.failed}", file=sys.stderr)
        finally:
            sandbox.stop()
    return table


def print_table(table: dict[tuple[str, ...], Row]) -> bool:
    header = ("fault", "action", "backend", "runs", "failed", "duplicates", "losses", "unrestored")
    print(" | ".join(f"{h:>10}" if i > 2 else f"{h:17}" for i, h in enumerate(header)))
    print("-" * 110)
    ok = True
    for (fault, action, backend), row in table.items():
        bad = row.failed + row.duplicates + row.losses + row.unrestored
        ok = ok and bad == 0
        values = (row.runs, row.failed, row.duplicates, row.losses, row.unrestored)
        print(
            f"{fault:17} | {action:17} | {backend:17} | " + " | ".join(f"{v:>10}" for v in values)
        )
    total = sum(r.runs for r in table.values())
    print(f"\n{total} runs, {'all converged exactly once' if ok else 'FAILURES'}")
    for key, row in table.items():
        for error in row.errors:
            print(f"  {'/'.join(key)}: {error}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="scenarios per matrix cell")
    parser.add_argument("--kill-seeds", type=int, default=10, help="kills per signal")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--actions", default=",".join(matrix.ACTIONS))
    parser.add_argument("--faults", default=",".join(matrix.FAULTS))
    parser.add_argument("--kill-rows", type=int, default=240, help="rows of the killed apply")
    parser.add_argument("--pg-url", default=os.environ.get("ZENOO_TEST_PG_URL"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    args.actions = [a for a in args.actions.split(",") if a]
    args.faults = [f for f in args.faults.split(",") if f]
    started = time.monotonic()
    cluster = None
    pg_url = args.pg_url
    if "postgres" in args.backends and not pg_url:
        import pg_cluster  # from TESTS, put on sys.path at the top

        cluster = pg_cluster.PgCluster()
        pg_url = cluster.start()
    try:
        table = asyncio.run(run_matrix(args, pg_url))
        if args.kill_seeds:
            table.update(asyncio.run(run_kills(args)))
    finally:
        if cluster is not None:
            cluster.stop()
    ok = print_table(table)
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
