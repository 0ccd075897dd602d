"""zenoo-etl's batch API vs the seed library, zenoo-rpc 0.2.4, on the same sandbox (issue 13).

    python bench/seed_compare.py                              # 10 rounds of 1,050 rows
    python bench/seed_compare.py --rounds 3 --rows 300        # quicker
    python bench/seed_compare.py --zrpc-python /tmp/zrpc-venv/bin/python

zenoo-rpc must be installed in its own venv (``python -m venv /tmp/zrpc-venv
&& /tmp/zrpc-venv/bin/pip install zenoo-rpc==0.2.4``): it needs httpx and its
own pydantic pins, which do not belong in zenoo-etl's environment.

One sandbox (``zenoo-etl sandbox`` in its own process) serves every run. Each
run is a fresh child process (``bench/_seed_workers.py``) creating ``--rows``
partners as ``create`` calls of ``--chunk`` records, ``--concurrency`` at
once: zenoo-etl with ``BatchContext(parallel=True)``, zenoo-rpc with
``BatchManager.bulk_create``. The two alternate, starting with the other one
each round. After each run, unmeasured, the returned ids are read back:

* **order**: are the ids returned in the order of the rows sent?
* **partial**: ``--bad-rounds`` more runs where one row (``--bad``) has no
  name and the server refuses it: what each library reports, what was kept,
  and whether each returned id can still be matched to its row;
* **speed**: median wall time of the bulk call over the clean rounds, and the
  ratio zenoo-rpc / zenoo-etl (above 1: zenoo-etl is faster).

The records of a run are deleted before the next one. ``--url`` runs the
same against an existing Odoo (user admin) instead of a sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _harness import SandboxProcess, machine

from zenoo_etl import ZenooClient

HERE = Path(__file__).resolve().parent
LIBRARIES = {"etl": "zenoo-etl", "zrpc": "zenoo-rpc 0.2.4"}


def run_worker(python: str, library: str, cfg: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [python, str(HERE / "_seed_workers.py"), library, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{library} worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def check(url: str, db: str, password: str, cfg: dict[str, Any], run: dict[str, Any]) -> None:
    """Read back what was created and what the returned ids point at; then clean up."""
    expected = [f"{cfg['tag']} {i:05d}" for i in range(cfg["rows"])]
    async with ZenooClient(url=url) as client:
        await client.login(db, "admin", password)
        kept = await client.search_read(
            "res.partner", [["name", "=like", f"{cfg['tag']} %"]], ["name"], order="id"
        )
        ids = run["ids"] or []
        sent = [i for i in ids if i is not None]
        names = {r["id"]: r["name"] for r in await client.read("res.partner", sent, ["name"])}
        returned = [names.get(i) if i is not None else None for i in ids]
        good = [n for i, n in enumerate(expected) if i != cfg.get("bad")]
        run["kept"] = len(kept)
        run["in_order"] = [n for n in returned if n is not None] == good
        # Does position i of the answer name row i (what a caller zipping rows and ids assumes)?
        run["matched"] = sum(
            1 for i, n in enumerate(returned) if i < len(expected) and n == expected[i]
        )
        run["bad_kept"] = await client.search_count(
            "res.partner", [["email", "=", f"{cfg['tag']}-bad@example.com"]]
        )
        cleanup = [r["id"] for r in kept]
        if cleanup:
            await client.unlink("res.partner", cleanup)


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1050)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--bad-rounds", type=int, default=3)
    parser.add_argument("--bad", type=int, default=537, help="index of the refused row")
    parser.add_argument("--zrpc-python", default="/tmp/zrpc-venv/bin/python")
    parser.add_argument("--out", type=Path, help="also write the raw runs as JSON")
    parser.add_argument("--url", help="an Odoo to use instead of a sandbox (user admin)")
    parser.add_argument("--db", default="etl", help="its database (with --url)")
    parser.add_argument("--password", default="admin", help="admin's password (with --url)")
    args = parser.parse_args()
    if not 0 <= args.bad < args.rows:
        parser.error(f"--bad must be a row index below --rows ({args.rows})")
    pythons = {"etl": sys.executable, "zrpc": args.zrpc_python}
    runs: dict[str, list[dict[str, Any]]] = {"etl": [], "zrpc": []}
    bad_runs: dict[str, list[dict[str, Any]]] = {"etl": [], "zrpc": []}
    with contextlib.ExitStack() as stack:
        if args.url:
            url, db, password, server = args.url, args.db, args.password, args.url
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            sandbox = stack.enter_context(SandboxProcess(Path(tmp) / "sb.db"))
            url, db, password, server = sandbox.url, "etl", sandbox.password, "a sandbox"
        base = {
            "url": url,
            "db": db,
            "password": password,
            "rows": args.rows,
            "chunk": args.chunk,
            "concurrency": args.concurrency,
        }
        plan = [(r, False) for r in range(args.rounds)]
        plan += [(r, True) for r in range(args.bad_rounds)]
        for round_no, with_bad in plan:
            order = ["etl", "zrpc"] if round_no % 2 == 0 else ["zrpc", "etl"]
            for library in order:
                cfg = {
                    **base,
                    "tag": f"SC{library}{round_no}{'b' if with_bad else ''}{os.getpid()}",
                }
                if with_bad:
                    cfg["bad"] = args.bad
                run = run_worker(pythons[library], library, cfg)
                asyncio.run(check(url, db, password, cfg, run))
                (bad_runs if with_bad else runs)[library].append(run)
                print(
                    f"round {round_no}{' (bad row)' if with_bad else ''} {LIBRARIES[library]}: "
                    f"{run['wall']:.3f}s, {run['calls']} calls, in order {run['in_order']}, "
                    f"kept {run['kept']}, raised {run['raised']}",
                    file=sys.stderr,
                )
    etl, zrpc = runs["etl"], runs["zrpc"]
    speed = median(zrpc, "wall") / median(etl, "wall")
    print(f"# zenoo-etl vs zenoo-rpc 0.2.4 on {server} — {machine()}")
    print(
        f"{args.rows:,} partners, create chunks of {args.chunk}, {args.concurrency} in parallel, "
        f"{args.rounds} interleaved rounds (+{args.bad_rounds} with row #{args.bad} refused)\n"
    )
    print("| | zenoo-etl | zenoo-rpc 0.2.4 |")
    print("|---|---|---|")
    print(
        f"| median wall time of the bulk create (s) | {median(etl, 'wall'):.3f} | "
        f"{median(zrpc, 'wall'):.3f} |"
    )
    print(
        f"| records/s (median run) | {args.rows / median(etl, 'wall'):,.0f} | "
        f"{args.rows / median(zrpc, 'wall'):,.0f} |"
    )
    print(f"| ratio zenoo-rpc time / zenoo-etl time | {speed:.2f} | 1 |")
    print(f"| calls per run | {etl[0]['calls']} | {zrpc[0]['calls']} |")
    for name, group in (("clean", runs), ("bad-row", bad_runs)):
        print(
            f"| ids in row order ({name} runs) | "
            f"{sum(r['in_order'] for r in group['etl'])} of {len(group['etl'])} | "
            f"{sum(r['in_order'] for r in group['zrpc'])} of {len(group['zrpc'])} |"
        )
    if bad_runs["etl"]:
        be, bz = bad_runs["etl"][0], bad_runs["zrpc"][0]
        print(f"| bad row: raised an error | {be['raised']} | {bz['raised']} |")
        print(
            f"| bad row: records kept | {be['kept']} of {args.rows} | {bz['kept']} of {args.rows} |"
        )
        print(f"| bad row: calls | {be['calls']} | {bz['calls']} |")
        print(
            f"| bad row: ids returned | {sum(i is not None for i in be['ids'])} "
            f"(+ {len(be['failed'])} failure at #{be['failed']}) | {len(bz['ids'] or [])} |"
        )
        print(
            f"| bad row: answer position i names row i | {be['matched']} of {args.rows} | "
            f"{bz['matched']} of {args.rows} |"
        )
    print(
        f"\nper-round wall (s): zenoo-etl {[round(r['wall'], 3) for r in etl]}, "
        f"zenoo-rpc {[round(r['wall'], 3) for r in zrpc]}"
    )
    if args.out:
        args.out.write_text(json.dumps({"clean": runs, "bad": bad_runs}), "utf-8")


if __name__ == "__main__":
    main()
