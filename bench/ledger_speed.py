"""Micro-benchmark of the ledger's batched write path, on SQLite and PostgreSQL.

For each backend: N rows in chunks of 500, each chunk one ``record_intents``
transaction then one ``record_done`` transaction (what the runner does per
chunk), then a bulk ``done_ids`` lookup of every key and a full
``records_for_rollback`` walk. Prints rows/s and milliseconds per 100 rows.

PostgreSQL: ``ZENOO_TEST_PG_URL`` (a server where a database may be created),
otherwise a throwaway cluster from ``tests/pg_cluster.py``.

    .venv/bin/python bench/ledger_speed.py [--rows 50000] [--chunk 500] [--only sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from zenoo_etl.ledger import DoneEntry, open_ledger

ROOT = Path(__file__).resolve().parent.parent


async def bench(url: str, rows: int, chunk: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_ledger(url, Path(tmp)) as ledger:
            scope = ledger.scope("http://bench:8069", "bench")
            await scope.begin_migration(1, "bench", "x")
            intent_s = done_s = cpu_s = 0.0
            keys_all: list[str] = []
            for start in range(0, rows, chunk):
                keys = [f"row-{i}" for i in range(start, min(start + chunk, rows))]
                keys_all += keys
                entries = [DoneEntry(k, i + 1, "created") for i, k in enumerate(keys, start)]
                c0 = time.process_time()
                t0 = time.perf_counter()
                await scope.record_intents(1, "partners", "res.partner", "created", keys)
                t1 = time.perf_counter()
                await scope.record_done(1, "partners", "res.partner", entries)
                t2 = time.perf_counter()
                cpu_s += time.process_time() - c0
                intent_s += t1 - t0
                done_s += t2 - t1
            t0 = time.perf_counter()
            found = await scope.done_ids("partners", keys_all)
            lookup_s = time.perf_counter() - t0
            assert len(found) == rows
            t0 = time.perf_counter()
            walked = 0
            async for _ in scope.records_for_rollback(1):
                walked += 1
            walk_s = time.perf_counter() - t0
            assert walked == rows
    write_s = intent_s + done_s
    return {
        "write rows/s": rows / write_s,
        "ms per 100 rows (intent+done)": write_s / rows * 100 * 1000,
        # CPU of this process only: stable on a busy machine; for PostgreSQL
        # the server's share is not in it.
        "client CPU ms per 100 rows": cpu_s / rows * 100 * 1000,
        f"ms per chunk of {chunk} (intent+done)": write_s / (rows / chunk) * 1000,
        "intent rows/s": rows / intent_s,
        "done rows/s": rows / done_s,
        "ref lookup keys/s": rows / lookup_s,
        "rollback walk rows/s": walked / walk_s,
    }


def _load_pg_cluster() -> object:
    spec = importlib.util.spec_from_file_location("pg_cluster", ROOT / "tests" / "pg_cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/ledger.db"
            results["sqlite (WAL, synchronous=FULL)"] = asyncio.run(
                bench(url, args.rows, args.chunk)
            )
    if args.only in (None, "postgresql"):
        import psycopg

        cluster = None
        server = os.environ.get("ZENOO_TEST_PG_URL")
        if not server:
            cluster = _load_pg_cluster().PgCluster()  # type: ignore[attr-defined]
            server = cluster.start()
        name = f"zenoo_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                results["postgresql"] = asyncio.run(
                    bench(_with_database(server, name), args.rows, args.chunk)
                )
            finally:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"{args.rows} rows, chunks of {args.chunk}")
    for backend, figures in results.items():
        print(f"\n{backend}")
        for label, value in figures.items():
            print(f"  {label:<36} {value:>12,.2f}")


if __name__ == "__main__":
    main()
