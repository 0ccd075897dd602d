"""The large run of the proxy matrix (issue 11; tests/faults/proxy_matrix.py).

Every proxy fault kind x phase (apply, rollback, automatic rollback) x ledger
backend, ``--seeds`` seeds each, plus ``--kills`` seeded SIGKILL points per
phase and backend (a real ``zenoo-etl`` process killed at the n-th request the
sandbox receives). Prints one table — phase | fault | backend | runs |
duplicates | losses | wrong | unrestored | stuck — and the totals; every
column after ``runs`` must be 0 (exit 1 otherwise).

    .venv/bin/python scripts/proxy_matrix.py                   # 2 seeds, 20 kills
    .venv/bin/python scripts/proxy_matrix.py --seeds 1 --kills 5 --backends sqlite
    .venv/bin/python scripts/proxy_matrix.py --faults hold,garbled --phases auto

PostgreSQL: ``--pg-url`` or ``ZENOO_TEST_PG_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from faults import proxy_matrix  # noqa: E402
from faults.proxy import KINDS  # noqa: E402

COLUMNS = ("duplicates", "losses", "wrong", "unrestored", "stuck")


async def main(args: argparse.Namespace) -> int:
    table: dict[tuple[str, str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("runs", *COLUMNS), 0)
    )
    failures: list[str] = []
    started = time.monotonic()
    cells: list[tuple[str, str, str, int]] = []
    for backend in args.backends:
        for phase in args.phases:
            for fault in args.faults:
                cells += [(phase, fault, backend, s) for s in range(1, args.seeds + 1)]
            cells += [(phase, "kill", backend, s) for s in range(1, args.kills + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        for n, (phase, fault, backend, seed) in enumerate(cells, start=1):
            cell_dir = Path(tmp) / f"c{n}"
            cell_dir.mkdir()
            try:
                outcome = await proxy_matrix.run_cell(
                    phase, fault, backend, seed, cell_dir, args.pg_url
                )
            except Exception as exc:  # the harness itself failed: count it as stuck
                outcome = proxy_matrix.Outcome(phase, fault, backend, seed, stuck=1)
                outcome.errors.append(f"harness: {type(exc).__name__}: {exc}")
            row = table[(phase, fault, backend)]
            row["runs"] += 1
            for column in COLUMNS:
                row[column] += getattr(outcome, column)
            if not outcome.ok:
                failures.append(
                    f"{phase} {fault} {backend} seed {seed}: {outcome} {proxy_matrix.LAST_DIFF}"
                )
            if args.verbose:
                print(
                    f"[{n}/{len(cells)} {time.monotonic() - started:.0f}s] {phase} {fault} "
                    f"{backend} {seed}: {'ok' if outcome.ok else 'FAIL'} ({outcome.first[:80]}; "
                    f"{' '.join(outcome.struck)[:60]})",
                    flush=True,
                )
    print()
    header = f"{'phase':9} {'fault':11} {'backend':9} {'runs':>5} " + " ".join(
        f"{c:>10}" for c in COLUMNS
    )
    print(header)
    print("-" * len(header))
    totals = dict.fromkeys(("runs", *COLUMNS), 0)
    for (phase, fault, backend), row in sorted(table.items()):
        print(
            f"{phase:9} {fault:11} {backend:9} {row['runs']:>5} "
            + " ".join(f"{row[c]:>10}" for c in COLUMNS)
        )
        for key in totals:
            totals[key] += row[key]
    print("-" * len(header))
    print(f"{'total':31} {totals['runs']:>5} " + " ".join(f"{totals[c]:>10}" for c in COLUMNS))
    kills = sum(r["runs"] for (_p, f, _b), r in table.items() if f == "kill")
    print(f"\n{totals['runs']} cells ({kills} kill points) in {time.monotonic() - started:.0f}s")
    for failure in failures:
        print("FAILED", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20, help="kill points per phase+backend")
    parser.add_argument("--phases", type=lambda s: s.split(","), default=list(proxy_matrix.PHASES))
    parser.add_argument("--faults", type=lambda s: s.split(","), default=list(KINDS))
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["sqlite", "postgres"])
    parser.add_argument("--pg-url", default=os.environ.get("ZENOO_TEST_PG_URL"))
    parser.add_argument("-v", "--verbose", action="store_true")
    arguments = parser.parse_args()
    if "postgres" in arguments.backends and not arguments.pg_url:
        parser.error("postgres needs --pg-url or ZENOO_TEST_PG_URL")
    logging.disable(logging.WARNING)
    sys.exit(asyncio.run(main(arguments)))
