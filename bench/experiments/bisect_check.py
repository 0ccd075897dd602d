"""What a server answers to one create of 8 rows with one bad row, and the batch's per-row results.

    python bench/experiments/bisect_check.py http://127.0.0.1:8069 etl admin            # JSON-RPC
    python bench/experiments/bisect_check.py http://127.0.0.1:28069 etl19 KEY --api-key # JSON-2

Row #5 has no name ("Contacts require a name"). First the 8 rows go as one
``create`` (what the server answers, what it kept), then through a
``BatchContext`` with ``batch_size=8``: calls sent, each row's result, the
names read back; the batch is rolled back and the script checks nothing is
left. Records are named after this process, so shared servers are safe.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from zenoo_etl import BatchContext, BatchExecutionError, OdooError, ZenooClient
from zenoo_etl.client import AiohttpTransport, CountingTransport


async def main(url: str, db: str, secret: str, api_key: bool) -> None:
    tag = f"BISECT-{os.getpid()}-{int(time.time())}"
    rows = [{"name": f"{tag} {i}"} if i != 5 else {"email": f"{tag}@bad.example"} for i in range(8)]
    transport = CountingTransport(AiohttpTransport(concurrency=4, timeout=60))
    async with ZenooClient(url=url, transport=transport) as client:
        if api_key:
            await client.login(db, api_key=secret)
        else:
            await client.login(db, "admin", secret)
        print("server", client.server_version, client.protocol)
        try:
            await client.create("res.partner", rows)
            print("one create of 8 rows: accepted")
        except OdooError as exc:
            print(f"one create of 8 rows: {type(exc).__name__} ({exc.odoo_name}): {exc.message}")
        mine = [["name", "=like", f"{tag} %"]]
        print("kept after it:", await client.search_count("res.partner", mine))
        transport.requests.clear()
        batch = BatchContext(client, auto_execute=False, batch_size=8)
        for row in rows:
            batch.create("res.partner", row)
        try:
            await batch.execute()
        except BatchExecutionError as exc:
            print(
                f"batch: {len(transport.requests)} calls, successful_count "
                f"{exc.successful_count}, failed {exc.failed_indices}"
            )
            for i, result in enumerate(exc.partial_results):
                error = result.error
                detail = error.message if isinstance(error, OdooError) else error
                print(f"  {i}", f"ok {result.data!r}" if result.success else f"FAILED {detail}")
            ids = [r.data.id for r in exc.partial_results if r.success]
            names = [r["name"] for r in await client.read("res.partner", ids, ["name"])]
            print(
                "names read back match the rows:",
                names == [f"{tag} {i}" for i in range(8) if i != 5],
            )
            print("rolled back:", await batch.rollback())
        left = await client.search_count("res.partner", mine, context={"active_test": False})
        print("left:", left)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], "--api-key" in sys.argv[4:]))
