"""Measure a prototype patch against the unpatched CLI, interleaved, on fresh sandboxes.

    python bench/experiments/compare.py fast-render [--rows 100000] [--chunk 500]
        [--concurrency 4] [--latency-ms 0] [--repeat 2] [--identity xmlid|none]

Prints records/s and the apply process's CPU µs per record (all included)
for each run; see ``patched_cli.py`` for the patches.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _harness import SandboxProcess, make_project, run_cli, step_of, write_csv  # noqa: E402
from run import _set_latency  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patch", choices=["fast-render", "ledger-normal"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--identity", choices=["xmlid", "none"], default="xmlid")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zenoo-exp-") as tmp:
        work = Path(tmp)
        csv = work / "customers.csv"
        write_csv(csv, ns.rows)
        n = 0
        for _ in range(ns.repeat):
            for variant in ("unpatched", ns.patch):
                n += 1
                folder = work / f"{n:02d}-{variant}"
                folder.mkdir()
                with SandboxProcess(folder / "s.db", fault_control=bool(ns.latency_ms)) as sb:
                    if ns.latency_ms:
                        asyncio.run(_set_latency(sb, ns.latency_ms))
                    project = make_project(
                        folder / "p",
                        sb.url,
                        ns.rows,
                        chunk=ns.chunk,
                        concurrency=ns.concurrency,
                        identity=ns.identity,
                        csv_file=csv,
                    )
                    args = ["apply", "--project", str(project), "--yes", "--json"]
                    python_args = None
                    if variant != "unpatched":
                        python_args = [str(HERE / "patched_cli.py"), variant]
                        run = run_cli(args, python_args=python_args, module=False)
                    else:
                        run = run_cli(args)
                    step = step_of(run, "customers")
                    assert step["created"] == ns.rows, step
                rate = ns.rows / step["seconds"]
                cpu = 1e6 * run.cpu / ns.rows
                print(f"{variant:<14} {rate:>9,.0f} rec/s {cpu:6.1f} µs/rec CPU", flush=True)


if __name__ == "__main__":
    main()
