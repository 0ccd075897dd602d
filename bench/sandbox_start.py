"""How long a sandbox takes to start: per process, per Odoo version, per database.

The first start in a process builds the model registry from the recorded
schema (~285 models); the first start on a machine also builds the seeded
template database of that version (cached in the temporary folder); every
later database is a copy of the template. Prints each figure and the ratio
of a later start to the first one.

    .venv/bin/python bench/sandbox_start.py [--starts 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from zenoo_etl.sandbox import serve_sandbox
from zenoo_etl.sandbox.service import registry_for, template_path


async def main(starts: int) -> None:
    for version in ("18.0", "19.0"):
        t0 = time.perf_counter()
        registry_for(version)
        registry_s = time.perf_counter() - t0
        path = template_path(version)
        path.unlink()
        t0 = time.perf_counter()
        template_path(version)
        template_s = time.perf_counter() - t0
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(starts):
                t0 = time.perf_counter()
                async with serve_sandbox(db_path=Path(tmp) / f"{i}.db", version=version):
                    times.append(time.perf_counter() - t0)
        later = statistics.median(times)
        print(
            f"{version}: registry {registry_s * 1000:.0f} ms (once per process), template "
            f"{template_s * 1000:.0f} ms (once per machine), new database + start "
            f"{later * 1000:.1f} ms median of {starts} (ratio to the first build "
            f"{later / (registry_s + template_s):.3f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    asyncio.run(main(parser.parse_args().starts))
