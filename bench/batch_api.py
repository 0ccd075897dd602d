"""Batch API benchmark (issue 3): ``BatchContext`` vs a raw aiohttp loop vs one record per call.

    .venv/bin/python bench/batch_api.py              # 20,000 partners, best of 3 (~1-2 min)
    .venv/bin/python bench/batch_api.py --quick      # 2,000 partners, best of 1
    .venv/bin/python bench/batch_api.py --rows 300 --loop-rows 100 --repeat 1 --out r.json

Every measurement gets a fresh sandbox (``zenoo-etl sandbox`` in its own
process, so its CPU is not ours) on a new database file. The create values are
built before the clock starts, and the three contenders send the same rows:

* **BatchContext**: ``client.batch`` with ``parallel=True, concurrency=4,
  batch_size=500``; the timed part queues every create and runs ``execute()``;
* **raw loop**: the same rows pre-serialised as ``execute_kw create`` bodies
  (``bench/_raw.py``), same chunking, 4 workers over one aiohttp session;
* **one record per call**: ``client.create(model, values)`` in a loop
  (``--loop-rows``, 5,000 by default).

Client CPU is ``time.process_time()`` around the timed part in this process.
TCP connections are counted with an aiohttp ``TraceConfig``
(``on_connection_create_end``); the sandbox answers ``Connection: close`` like
threaded Odoo, so one connection per request is expected for both.
BatchContext and raw runs are interleaved and the best of ``--repeat`` kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _raw
import aiohttp
from _harness import SandboxProcess, machine

from zenoo_etl.client import ZenooClient
from zenoo_etl.client.transport import AiohttpTransport

CHUNK = 500
CONCURRENCY = 4
MODEL = "res.partner"


class ConnectionCounter:
    """An aiohttp ``TraceConfig`` counting the TCP connections a session opens."""

    def __init__(self) -> None:
        self.count = 0
        self.config = aiohttp.TraceConfig()
        self.config.on_connection_create_end.append(self._created)

    async def _created(
        self, _session: aiohttp.ClientSession, _ctx: SimpleNamespace, _params: object
    ) -> None:
        self.count += 1


@dataclass
class Run:
    """One timed contender run."""

    records: int
    wall: float
    cpu: float
    connections: int
    requests: int

    @property
    def rate(self) -> float:
        return self.records / self.wall

    @property
    def cpu_us_per_record(self) -> float:
        return self.cpu / self.records * 1e6


async def _client(sandbox: SandboxProcess, counter: ConnectionCounter) -> ZenooClient:
    transport = AiohttpTransport(concurrency=CONCURRENCY, trace_configs=[counter.config])
    client = ZenooClient(
        url=sandbox.url, protocol="jsonrpc", concurrency=CONCURRENCY, transport=transport
    )
    await client.__aenter__()
    await client.login("etl", "admin", sandbox.password)
    return client


async def _count(url: str, password: str) -> int:
    n = await _raw.call(url, password, MODEL, "search_count", [[["ref", "like", "LEG-"]]])
    return int(n)


async def batch_run(sandbox: SandboxProcess, rows: int) -> Run:
    refs = await _raw.prepare(sandbox.url, sandbox.password)
    values = [_raw._rendered(i, refs)[1] for i in range(rows)]
    counter = ConnectionCounter()
    client = await _client(sandbox, counter)
    try:
        before = counter.count
        batch = client.batch(
            auto_execute=False,
            parallel=True,
            concurrency=CONCURRENCY,
            batch_size=CHUNK,
            context=_raw.CTX,
        )
        cpu0, t0 = time.process_time(), time.perf_counter()
        for vals in values:
            batch.create(MODEL, vals)
        results = await batch.execute()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        connections = counter.count - before
    finally:
        await client.__aexit__(None, None, None)
    if not all(r.success for r in results) or await _count(sandbox.url, sandbox.password) != rows:
        raise RuntimeError("BatchContext did not create every record")
    return Run(rows, wall, cpu, connections, -(-rows // CHUNK))


async def raw_run(sandbox: SandboxProcess, rows: int) -> Run:
    refs = await _raw.prepare(sandbox.url, sandbox.password)
    bodies = _raw.create_bodies(sandbox.password, rows, CHUNK, refs)
    counter = ConnectionCounter()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(
        connector=connector, trace_configs=[counter.config]
    ) as session:
        pending = iter(bodies)

        async def worker() -> None:
            for body in pending:  # workers share one iterator: each body is sent once
                await _raw._post(session, sandbox.url, body)

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if await _count(sandbox.url, sandbox.password) != rows:
        raise RuntimeError("the raw loop did not create every record")
    return Run(rows, wall, cpu, counter.count, len(bodies))


async def loop_run(sandbox: SandboxProcess, rows: int) -> Run:
    refs = await _raw.prepare(sandbox.url, sandbox.password)
    values = [_raw._rendered(i, refs)[1] for i in range(rows)]
    counter = ConnectionCounter()
    client = await _client(sandbox, counter)
    try:
        before = counter.count
        cpu0, t0 = time.process_time(), time.perf_counter()
        for vals in values:
            await client.create(MODEL, vals, context=_raw.CTX)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        connections = counter.count - before
    finally:
        await client.__aexit__(None, None, None)
    return Run(rows, wall, cpu, connections, rows)


def measure(
    folder: Path,
    name: str,
    contender: Callable[[SandboxProcess, int], Coroutine[Any, Any, Run]],
    rows: int,
) -> Run:
    """One contender run against a fresh sandbox process."""
    db = folder / f"{name}.db"
    with SandboxProcess(db) as sandbox:
        run = asyncio.run(contender(sandbox, rows))
    db.unlink(missing_ok=True)
    return run


def best(runs: list[Run]) -> Run:
    return max(runs, key=lambda r: r.rate)


@dataclass
class Row:
    figure: str
    value: str
    baseline: str
    target: str
    verdict: str


def table(batch: Run, raw: Run, loop: Run) -> list[Row]:
    ratio = batch.rate / raw.rate
    return [
        Row(
            "BatchContext records/s (batch 500, concurrency 4)",
            f"{batch.rate:,.0f}",
            f"raw loop {raw.rate:,.0f}",
            "within 10% of raw (>= 0.90x)",
            f"{ratio:.2f}x " + ("pass" if ratio >= 0.9 else "miss"),
        ),
        Row(
            "BatchContext client CPU per 1,000 records",
            f"{batch.cpu * 1000 / batch.records * 1000:.1f} ms",
            f"raw loop {raw.cpu * 1000 / raw.records * 1000:.1f} ms",
            "< 10 ms (10 us/record)",
            "pass" if batch.cpu_us_per_record < 10 else "miss",
        ),
        Row(
            "BatchContext TCP connections opened",
            f"{batch.connections} for {batch.requests} requests",
            f"raw loop {raw.connections} for {raw.requests} requests",
            "report (sandbox answers Connection: close)",
            "-",
        ),
        Row(
            f"one record per call records/s ({loop.records:,} records)",
            f"{loop.rate:,.0f}",
            f"BatchContext {batch.rate:,.0f}",
            "report",
            f"batch {batch.rate / loop.rate:.1f}x faster",
        ),
        Row(
            "one record per call client CPU per 1,000 records",
            f"{loop.cpu * 1000 / loop.records * 1000:.1f} ms",
            "-",
            "report",
            "-",
        ),
    ]


def markdown(rows: list[Row]) -> str:
    lines = ["| figure | value | baseline | target | pass/miss |", "|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.value} | {r.baseline} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 rows, 500 in the loop, best of 1"
    )
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--loop-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    rows = args.rows or (2_000 if args.quick else 20_000)
    loop_rows = args.loop_rows or (500 if args.quick else 5_000)
    repeat = args.repeat or (1 if args.quick else 3)
    print(f"machine: {machine()}", flush=True)
    batches: list[Run] = []
    raws: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="zenoo-batch-bench-") as tmp:
        folder = Path(tmp)
        for i in range(repeat):
            # Interleaved, and who goes first alternates: load drift hits both alike.
            if i % 2 == 0:
                raws.append(measure(folder, f"raw{i}", raw_run, rows))
                batches.append(measure(folder, f"batch{i}", batch_run, rows))
            else:
                batches.append(measure(folder, f"batch{i}", batch_run, rows))
                raws.append(measure(folder, f"raw{i}", raw_run, rows))
            print(
                f"round {i + 1}: raw {raws[-1].rate:,.0f} rec/s, "
                f"BatchContext {batches[-1].rate:,.0f} rec/s "
                f"({batches[-1].rate / raws[-1].rate:.2f}x; "
                f"{batches[-1].cpu_us_per_record:.1f} us CPU/record)",
                flush=True,
            )
        loop = measure(folder, "loop", loop_run, loop_rows)
    result = table(best(batches), best(raws), loop)
    print(markdown(result))
    ratios = sorted(b.rate / r.rate for b, r in zip(batches, raws, strict=True))
    print(f"per-round ratios BatchContext/raw: {', '.join(f'{x:.2f}' for x in ratios)}")
    if args.out is not None:
        report = {
            "rows": rows,
            "loop_rows": loop_rows,
            "repeat": repeat,
            "machine": machine(),
            "batch": [asdict(r) for r in batches],
            "raw": [asdict(r) for r in raws],
            "loop": asdict(loop),
            "table": [asdict(r) for r in result],
            "round_ratios": ratios,
        }
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
