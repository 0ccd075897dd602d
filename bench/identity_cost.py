"""What identity xmlid costs the server, per Odoo call shape, on the realistic rows.

Interleaved rounds of the same 10,000 realistic partners (``realistic.py``'s
seeded generator, rows sorted by company, each tag id once), sent raw:

* ``create``      — ``create`` of each chunk (identity none's call);
* ``load``        — ``load()`` with an ``id`` column and ``field/.id`` cells
                    (records and external ids in one transaction);
* ``create+name`` — ``create``, then one ``ir.model.data`` ``create`` naming
                    the chunk's records (identity xmlid's calls since issue 17).

Prints rec/s and, with ``--server-pids`` (Odoo and PostgreSQL's postmaster on
this machine), the server's CPU per record, which other load on the machine
does not move. Medians; ratios to ``create`` of the same run::

    set -a; source /tmp/odoo18-run/odoo.env; set +a
    python bench/identity_cost.py --url "$ODOO_URL" --db "$ODOO_DB" --password-env ODOO_PW \\
        --server-pids "$PIDS" --chunk 200 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import realistic as R

SHAPES = ("create", "load", "create+name")


def _jobs(shape: str, target: R.Target, data: R.Data, refs: R.Refs, tag: str, chunk: int) -> list:
    jobs = []
    for step, rows in R._ordered(data, True):
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            if shape == "load":
                cells = []
                columns: list[str] = []
                for r in part:
                    columns, row_cells = R._cells(step, r, refs, tag, dedup=True)
                    cells.append(row_cells)
                body = target.body("res.partner", "load", [columns, cells], {"context": R.CTX})
            else:
                vals = [R._values(step, r, refs, tag) for r in part]
                for v in vals:
                    v["category_id"] = [[6, 0, list(dict.fromkeys(v["category_id"][0][2]))]]
                body = target.body("res.partner", "create", [vals], {"context": R.CTX})
            jobs.append((part, body))
    return jobs


async def one(shape: str, target: R.Target, data: R.Data, refs: R.Refs, args: Any) -> tuple:
    tag = f"ic{uuid.uuid4().hex[:6]}"
    jobs = _jobs(shape, target, data, refs, tag, args.chunk)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=900)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        pending = iter(jobs)

        async def worker() -> None:
            for part, body in pending:
                ids = await R._post(session, target.url, body)
                if shape == "create+name":
                    names = [
                        {"module": "__bench__", "name": f"{tag}_{r['key']}", "model": "res.partner",
                         "res_id": i}
                        for r, i in zip(part, ids, strict=True)
                    ]  # fmt: skip
                    await R._post(
                        session, target.url, target.body("ir.model.data", "create", [names], {})
                    )

        used = R.server_cpu(args.server_pids)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        seconds = time.perf_counter() - start
        used = R.server_cpu(args.server_pids) - used
    ids = await R.call(
        target,
        "res.partner",
        "search",
        [["ref", "=like", f"%-{tag}"]],
        context={"active_test": False},
    )
    await R.unlink_timed(target, sorted(int(i) for i in ids), 5_000, "password")
    return len(ids) / seconds, used * 1e6 / max(1, len(ids)), len(ids)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running Odoo (default: start a sandbox)")
    parser.add_argument("--db", default="etl")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-env", default="ODOO_PW")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--server-pids", type=lambda t: [int(p) for p in t.replace(",", " ").split()], default=[]
    )
    args = parser.parse_args()
    if args.url:
        password = os.environ[args.password_env]
        await measure(R.Target(args.url.rstrip("/"), args.db, args.user, password), args)
        return
    with (
        tempfile.TemporaryDirectory(prefix="zenoo-identity-") as tmp,
        R.SandboxProcess(Path(tmp) / "sandbox.db") as sandbox,
    ):
        await measure(R.Target(sandbox.url, "etl", "admin", sandbox.password), args)


async def measure(target: R.Target, args: Any) -> None:
    await R.login(target)
    refs = await R.discover(target)
    data = R.generate(
        17, args.rows, "IC" + uuid.uuid4().hex[:4], list(refs.countries), sorted(refs.states)
    )
    await R.create_fixtures(target, data, refs)
    rates: dict[str, list[float]] = {s: [] for s in SHAPES}
    cpus: dict[str, list[float]] = {s: [] for s in SHAPES}
    print(f"{args.rows} rows, chunks of {args.chunk} x {args.concurrency}; machine {R.machine()}")
    try:
        for n in range(args.rounds):
            for shape in SHAPES[n % 3 :] + SHAPES[: n % 3]:
                rate, cpu, made = await one(shape, target, data, refs, args)
                rates[shape].append(rate)
                cpus[shape].append(cpu)
                print(
                    f"round {n + 1} {shape:12s} {rate:7.0f} rec/s  server CPU {cpu:6.0f} µs/rec  "
                    f"({made} made, load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    finally:
        await R.delete_fixtures(target, refs)
    base_rate = statistics.median(rates["create"])
    base_cpu = statistics.median(cpus["create"])
    print("\nshape         rec/s  ratio  server µs/rec  ratio")
    for shape in SHAPES:
        rate, cpu = statistics.median(rates[shape]), statistics.median(cpus[shape])
        print(
            f"{shape:12s} {rate:6.0f}  {rate / base_rate:5.2f}  {cpu:13.0f}  {cpu / base_cpu:5.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
