"""What identity xmlid's two ways cost on rows with and without a relational field.

Interleaved rounds of N contacts with five text fields (name, e-mail, city,
phone, street), sent raw in calls of ``--chunk``, ``--concurrency`` in flight
(default one at a time):

* ``create``              — ``create`` (identity none's call; the baseline);
* ``load``                — ``load()`` with an ``id`` column: what identity xmlid
                            sends for a step without relational fields;
* ``create+name``         — ``create``, then one ``ir.model.data`` ``create``
                            naming the call's records;
* ``load+country``,
  ``create+name+country`` — the same two with one many2one (``country_id``,
                            a ``/.id`` cell for load): what a step with a
                            relational field would cost each way.

Prints rec/s per round and, with ``--server-pids`` (Odoo and PostgreSQL's
postmaster on this machine), the server's CPU per record, which other load on
the machine does not move; then medians and ratios to ``create`` of the same
run. Everything made is unlinked after each round (its external ids with it)::

    set -a; source /tmp/odoo18-run/odoo.env; set +a
    flock /work/bench.lock python bench/identity_flat.py --url "$ODOO_URL" \\
        --db "$ODOO_DB" --password-env ODOO_PW --server-pids "$PIDS" --rows 10000

Without ``--url`` it starts a sandbox (a smoke run, not a measurement).
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

from _harness import SandboxProcess, machine
from realistic import server_cpu

from zenoo_etl.client import ZenooClient

SHAPES = ("create", "load", "create+name", "load+country", "create+name+country")
CONTEXT = {"tracking_disable": True}


def _rows(tag: str, start: int, stop: int, country: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "name": f"fl{tag} {i}",
            "email": f"p{i}@example.test",
            "city": "Lyon",
            "phone": "+33 1 23 45 67",
            "street": "1 rue de la Paix",
        }
        for i in range(start, stop)
    ]
    if country is not None:
        for row in rows:
            row["country_id"] = country
    return rows


async def one(client: ZenooClient, shape: str, args: Any, country: int) -> tuple[float, float]:
    """rec/s and server CPU µs per record of one shape; removes what it made."""
    rows, chunk = args.rows, args.chunk
    tag = uuid.uuid4().hex[:6]
    made: list[int] = []
    starts = iter(range(0, rows, chunk))

    async def send(start: int) -> None:
        part = _rows(tag, start, min(rows, start + chunk), country if "country" in shape else None)
        if shape.startswith("load"):
            columns = ["id", *(("country_id/.id" if k == "country_id" else k) for k in part[0])]
            cells = [
                [f"__bench__.fl{tag}_{i}", *(str(v) for v in row.values())]
                for i, row in enumerate(part, start=start)
            ]
            answer = await client.execute_kw(
                "res.partner", "load", [columns, cells], {"context": CONTEXT}
            )
            if answer["messages"] or not answer["ids"]:
                raise SystemExit(f"load() refused rows: {answer['messages'][:2]}")
            made.extend(answer["ids"])
            return
        ids = await client.execute_kw("res.partner", "create", [part], {"context": CONTEXT})
        made.extend(ids)
        if "name" in shape:
            names = [
                {"module": "__bench__", "name": f"fl{tag}_{i}", "model": "res.partner", "res_id": r}
                for i, r in enumerate(ids, start=start)
            ]
            await client.execute_kw("ir.model.data", "create", [names])

    async def worker() -> None:
        for start in starts:  # the workers share one iterator: each chunk once
            await send(start)

    used = server_cpu(args.server_pids)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    rate = rows / (time.perf_counter() - started)
    cpu = (server_cpu(args.server_pids) - used) * 1e6 / rows
    for page in range(0, len(made), 5_000):
        await client.execute_kw("res.partner", "unlink", [made[page : page + 5_000]])
    if len(made) != rows:
        raise SystemExit(f"{shape}: made {len(made)} records for {rows} rows")
    return rate, cpu


async def measure(url: str, db: str, user: str, password: str, args: Any) -> None:
    async with ZenooClient(url=url, timeout=600) as client:
        await client.login(db, user, password)
        [country] = await client.execute_kw("res.country", "search", [[["code", "=", "FR"]]])
        rates: dict[str, list[float]] = {s: [] for s in SHAPES}
        cpus: dict[str, list[float]] = {s: [] for s in SHAPES}
        print(
            f"{args.rows} rows, calls of {args.chunk}, {args.concurrency} in flight; "
            f"machine {machine()}"
        )
        for n in range(args.rounds):
            turn = n % len(SHAPES)
            for shape in SHAPES[turn:] + SHAPES[:turn]:
                rate, cpu = await one(client, shape, args, country)
                rates[shape].append(rate)
                cpus[shape].append(cpu)
                print(
                    f"round {n + 1} {shape:20s} {rate:7.0f} rec/s  server CPU {cpu:6.0f} µs/rec "
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        left = await client.execute_kw(
            "ir.model.data", "search_count", [[["module", "=", "__bench__"]]]
        )
    base, base_cpu = statistics.median(rates["create"]), statistics.median(cpus["create"])
    print("\nshape                   rec/s  ratio  server µs/rec  ratio")
    for shape in SHAPES:
        rate, cpu = statistics.median(rates[shape]), statistics.median(cpus[shape])
        cpu_ratio = cpu / base_cpu if base_cpu else float("nan")  # too few ticks: unknown
        print(f"{shape:20s} {rate:8.0f}  {rate / base:5.2f}  {cpu:13.0f}  {cpu_ratio:5.2f}")
    print(f"external ids left behind: {left}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--url", help="a running Odoo (default: start a sandbox)")
    parser.add_argument("--db", default="etl")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-env", default="ODOO_PW")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1, help="calls in flight")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--server-pids", type=lambda t: [int(p) for p in t.replace(",", " ").split()], default=[]
    )
    args = parser.parse_args()
    if args.url:
        password = os.environ[args.password_env]
        await measure(args.url.rstrip("/"), args.db, args.user, password, args)
        return
    with (
        tempfile.TemporaryDirectory(prefix="zenoo-identity-flat-") as tmp,
        SandboxProcess(Path(tmp) / "sandbox.db") as sandbox,
    ):
        args.server_pids = args.server_pids or [sandbox.pid]
        await measure(sandbox.url, "etl", "admin", sandbox.password, args)


if __name__ == "__main__":
    asyncio.run(main())
