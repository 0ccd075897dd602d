"""How fast the sandbox absorbs bulk writes, so benchmarks measure the client, not it.

Creates N res.partner records in chunks over ``/jsonrpc`` (one ``create`` call
per chunk, a plain aiohttp session, one connection per call like Odoo), then
the same rows through ``load()`` with new xmlids, then ``load()`` again
(the update path), and prints records/s for each.

    .venv/bin/python bench/sandbox_create.py [--rows 10000] [--chunk 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp

from zenoo_etl.sandbox import serve_sandbox


async def _call(session: aiohttp.ClientSession, url: str, args: list[Any]) -> Any:
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1}
    payload["params"] = {"service": "object", "method": "execute_kw", "args": args}
    async with session.post(f"{url}/jsonrpc", json=payload) as resp:
        body = await resp.json()
    if "error" in body:
        raise RuntimeError(body["error"]["data"]["message"])
    return body["result"]


async def main(rows: int, chunk: int) -> None:
    async with serve_sandbox() as sb, aiohttp.ClientSession() as session:
        base = [sb.database, 2, sb.password, "res.partner"]
        ctx = {"context": {"tracking_disable": True}}

        start = time.perf_counter()
        for offset in range(0, rows, chunk):
            vals = [
                {
                    "name": f"Partner {i}",
                    "email": f"p{i}@example.com",
                    "ref": f"R{i}",
                    "is_company": i % 7 == 0,
                }
                for i in range(offset, min(offset + chunk, rows))
            ]
            await _call(session, sb.url, [*base, "create", [vals], ctx])
        create_s = time.perf_counter() - start

        fields = ["id", "name", "email", "ref", "country_id/id"]
        data = [
            [f"bench_{i}", f"Loaded {i}", f"l{i}@example.com", f"L{i}", "base.be"]
            for i in range(rows)
        ]
        timings = []
        for _ in range(2):  # first pass creates, second pass updates the same xmlids
            start = time.perf_counter()
            for offset in range(0, rows, chunk):
                result = await _call(
                    session, sb.url, [*base, "load", [fields, data[offset : offset + chunk]], ctx]
                )
                assert result["ids"], result["messages"]
            timings.append(time.perf_counter() - start)

        total = await _call(session, sb.url, [*base, "search_count", [[]]])
        assert total == 2 * rows + 2  # created + loaded rows, plus the 2 active seeded partners

    print(f"sandbox, {rows} res.partner rows in chunks of {chunk} over /jsonrpc:")
    print(f"  create          {create_s:6.2f} s  {rows / create_s:9.0f} rec/s")
    print(f"  load (new ids)  {timings[0]:6.2f} s  {rows / timings[0]:9.0f} rec/s")
    print(f"  load (update)   {timings[1]:6.2f} s  {rows / timings[1]:9.0f} rec/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    ns = parser.parse_args()
    asyncio.run(main(ns.rows, ns.chunk))
