"""What one call costs a server on top of its records: the case for the chunk sizes.

One call at a time (no concurrency, so the answer time is the server's time),
interleaved rounds, on any Odoo (a sandbox in its own process by default):

* ``create`` of N plain contacts (name, email, city), for each N of ``--sizes``;
* ``name`` — one ``ir.model.data`` ``create`` naming N of those records (what
  identity ``xmlid`` sends after each chunk's ``create``);
* ``noop`` — a ``search_count`` that finds nothing: the price of a call alone.

Prints the medians per size, the per-record cost of each shape and its fixed
cost per call (a least-squares line through the sizes), and what the fixed
costs come to per record at chunks of 200 and 500::

    set -a; source /tmp/odoo18-run/odoo.env; set +a
    python bench/call_cost.py --url "$ODOO_URL" --db "$ODOO_DB" --password-env ODOO_PW

Everything it creates is deleted at the end.
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

from _harness import SandboxProcess, machine

from zenoo_etl.client import ZenooClient

CTX = {"tracking_disable": True}


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares ``seconds = fixed + per_record * n``: (fixed, per_record)."""
    xs = [float(n) for n, _ in points]
    ys = [s for _, s in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return my - slope * mx, slope


async def measure(url: str, db: str, user: str, password: str, args: argparse.Namespace) -> None:
    print(f"target {url} db {db}; sizes {args.sizes}; rounds {args.rounds}; {machine()}")
    timings: dict[tuple[str, int], list[float]] = {}
    created: list[int] = []
    names: list[int] = []
    tag = uuid.uuid4().hex[:6]
    async with ZenooClient(url=url, timeout=300) as client:
        await client.login(db, user, password)

        async def timed(shape: str, n: int, model: str, method: str, arg: list) -> object:
            start = time.perf_counter()
            result = await client.execute_kw(model, method, [arg], {"context": CTX})
            timings.setdefault((shape, n), []).append(time.perf_counter() - start)
            return result

        count = [["name", "=like", f"cc{tag} %"]]
        try:
            for rnd in range(args.rounds):
                for n in args.sizes:
                    rows = [
                        {"name": f"cc{tag} {rnd} {n} {i}", "email": f"c{i}@x.test", "city": "Lyon"}
                        for i in range(n)
                    ]
                    ids = await timed("create", n, "res.partner", "create", rows)
                    assert isinstance(ids, list)
                    created += ids
                    xmlids = [
                        {"module": "__zenoo__", "name": f"cc{tag}_{rnd}_{n}_{i}",
                         "model": "res.partner", "res_id": rid}
                        for i, rid in enumerate(ids)
                    ]  # fmt: skip
                    made = await timed("name", n, "ir.model.data", "create", xmlids)
                    assert isinstance(made, list)
                    names += made
                    await timed("noop", 0, "res.partner", "search_count", [["id", "=", 0]])
        finally:
            if names:
                await client.execute_kw("ir.model.data", "unlink", [names])
            for start in range(0, len(created), 5_000):
                await client.execute_kw("res.partner", "unlink", [created[start : start + 5_000]])
        left = await client.execute_kw("res.partner", "search_count", [count])
        print(f"made {len(created)} contacts and {len(names)} external ids; left behind: {left}")

    print(f"\n{'shape':8s} {'records':>8s} {'median ms':>10s} {'µs/record':>10s}")
    for (shape, n), seconds in sorted(timings.items()):
        med = statistics.median(seconds)
        per = f"{med / n * 1e6:10.0f}" if n else f"{'':10s}"
        print(f"{shape:8s} {n:8d} {med * 1e3:10.1f} {per}")
    print()
    for shape in ("create", "name"):
        fixed, per_record = fit(
            [(n, statistics.median(s)) for (sh, n), s in timings.items() if sh == shape]
        )
        print(
            f"{shape:8s} fixed {fixed * 1e3:6.1f} ms per call + {per_record * 1e6:5.0f} µs per "
            f"record; fixed per record at 200: {fixed / 200 * 1e6:4.0f} µs, "
            f"at 500: {fixed / 500 * 1e6:4.0f} µs"
        )
    print(f"noop     {statistics.median(timings[('noop', 0)]) * 1e3:6.1f} ms per call")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an Odoo (default: a sandbox in its own process)")
    parser.add_argument("--db", default="etl")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-env", default="ODOO_PW")
    parser.add_argument(
        "--sizes", type=lambda text: [int(s) for s in text.split(",")], default=[50, 200, 500, 1000]
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.url:
        password = os.environ.get(args.password_env)
        if password is None:
            parser.error(f"${args.password_env} is not set")
        await measure(args.url.rstrip("/"), args.db, args.user, password, args)
        return
    with (
        tempfile.TemporaryDirectory(prefix="zenoo-callcost-") as tmp,
        SandboxProcess(Path(tmp) / "sandbox.db") as sandbox,
    ):
        await measure(sandbox.url, "etl", "admin", sandbox.password, args)


if __name__ == "__main__":
    asyncio.run(main())
