"""One timed bulk create, by zenoo-etl or by zenoo-rpc 0.2.4; prints one JSON line.

Run by ``bench/seed_compare.py`` as a child process, with the Python of the
library it measures (zenoo-rpc lives in its own venv)::

    python bench/_seed_workers.py etl  '{"url": ..., "rows": 1050, ...}'
    /tmp/zrpc-venv/bin/python bench/_seed_workers.py zrpc '{...}'

Both send the same rows (``name`` = tag + index; the row at ``bad``, if any,
has no name and is refused by the server) as ``create`` calls of ``chunk``
records, ``concurrency`` at once. The clock covers the bulk call only (login
and the building of the rows are outside it). ``calls`` counts the
``execute_kw`` calls sent. ``ids`` is what the library answered: for
zenoo-etl one entry per row (None for a failed row), for zenoo-rpc its flat
list. Imports only the library being measured.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def rows(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    tag, bad = cfg["tag"], cfg.get("bad")
    return [
        {"email": f"{tag}-bad@example.com"} if i == bad else {"name": f"{tag} {i:05d}"}
        for i in range(cfg["rows"])
    ]


async def run_etl(cfg: dict[str, Any]) -> dict[str, Any]:
    from zenoo_etl import BatchContext, BatchExecutionError, ZenooClient
    from zenoo_etl.client import AiohttpTransport, CountingTransport

    transport = CountingTransport(AiohttpTransport(concurrency=cfg["concurrency"], timeout=120))
    async with ZenooClient(url=cfg["url"], transport=transport) as client:
        await client.login(cfg["db"], "admin", cfg["password"])
        values = rows(cfg)
        transport.requests.clear()
        batch = BatchContext(
            client,
            auto_execute=False,
            batch_size=cfg["chunk"],
            parallel=True,
            concurrency=cfg["concurrency"],
        )
        started = time.perf_counter()
        for vals in values:
            batch.create("res.partner", vals)
        error = None
        try:
            results = await batch.execute()
        except BatchExecutionError as exc:
            results, error = exc.partial_results, str(exc)
        wall = time.perf_counter() - started
    return {
        "wall": wall,
        "calls": len(transport.requests),
        "raised": error is not None,
        "error": error,
        "ids": [r.data.id if r.success else None for r in results],
        "failed": [i for i, r in enumerate(results) if not r.success],
    }


async def run_zrpc(cfg: dict[str, Any]) -> dict[str, Any]:
    from zenoo_rpc import ZenooClient
    from zenoo_rpc.batch.manager import BatchManager

    async with ZenooClient(cfg["url"]) as client:
        await client.login(cfg["db"], "admin", cfg["password"])
        values = rows(cfg)
        calls = 0
        execute_kw = client.execute_kw

        async def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return await execute_kw(*args, **kwargs)

        client.execute_kw = counting  # type: ignore[method-assign]
        manager = BatchManager(
            client, max_chunk_size=cfg["chunk"], max_concurrency=cfg["concurrency"]
        )
        started = time.perf_counter()
        error, ids = None, None
        try:
            ids = await manager.bulk_create("res.partner", values)
        except Exception as exc:  # the library's own report of a failure
            error = f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
    return {
        "wall": wall,
        "calls": calls,
        "raised": error is not None,
        "error": error,
        "ids": ids,
        "failed": None,  # it has no per-row report
    }


def main() -> None:
    library, cfg = sys.argv[1], json.loads(sys.argv[2])
    runner = {"etl": run_etl, "zrpc": run_zrpc}[library]
    print(json.dumps(asyncio.run(runner(cfg))))


if __name__ == "__main__":
    main()
