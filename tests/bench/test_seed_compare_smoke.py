"""The zenoo-etl side of ``bench/seed_compare.py`` keeps working (``bench/_seed_workers.py etl``).

Not a performance test. The zenoo-rpc side needs that library in its own
venv, which the test environment does not have; this pins down the worker
protocol and the figures the comparison reads from zenoo-etl: one id per row
in row order, the refused row reported on its own, the calls counted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from zenoo_etl.client import ZenooClient

ROOT = Path(__file__).resolve().parents[2]


async def test_the_etl_worker_reports_one_result_per_row(sandbox: Any) -> None:
    cfg = {
        "url": sandbox.url,
        "db": sandbox.database,
        "password": sandbox.password,
        "rows": 30,
        "chunk": 10,
        "concurrency": 2,
        "tag": "SMOKE",
        "bad": 13,
    }
    # The sandbox is served by this event loop: wait for the child without blocking it.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "_seed_workers.py"),
        "etl",
        json.dumps(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    run = json.loads(out)
    assert run["raised"] is True and run["failed"] == [13] and run["wall"] > 0
    # 3 chunks; [10..19] split: [10-14] [15-19], [10, 11] [12-14], [12] [13, 14], [13] [14]
    assert run["calls"] == 3 + 2 * 4
    ids = run["ids"]
    assert len(ids) == 30 and ids[13] is None
    async with ZenooClient(url=sandbox.url) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        rows = await client.read("res.partner", [i for i in ids if i is not None], ["name"])
    assert [r["name"] for r in rows] == [f"SMOKE {i:05d}" for i in range(30) if i != 13]
