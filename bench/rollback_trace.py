"""Apply the realistic customers (``bench/realistic.py``) to an Odoo, then trace one rollback.

    set -a; source /tmp/odoo18-run/odoo.env; set +a
    flock /work/bench.lock python bench/rollback_trace.py xmlid 10000
    ZENOO_TRACE_NO_SESSION=1 flock /work/bench.lock python bench/rollback_trace.py xmlid 10000

Reads ``ODOO_URL``, ``ODOO_DB``, ``ODOO_PW`` (user admin). Prints the
rollback's ``seconds`` and its migration's, then every RPC the rollback sent
with its duration (``bench/_trace_hooks.py``); cleans up after itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic as R
from _harness import PASSWORD_ENV, run_cli

HOOKS = str(Path(__file__).resolve().parent / "_trace_hooks.py")


class _Options:
    chunk_zen = None
    concurrency_zen = None


async def main(identity: str, rows: int) -> None:
    target = R.Target(os.environ["ODOO_URL"], os.environ["ODOO_DB"], "admin", os.environ["ODOO_PW"])
    await R.login(target)
    refs = await R.discover(target)
    run = "RZ" + uuid.uuid4().hex[:6].upper()
    data = R.generate(17, rows, run, list(refs.countries), sorted(refs.states))
    await R.create_fixtures(target, data, refs)
    folder = Path(tempfile.mkdtemp(prefix="zenoo-trace-"))
    try:
        R.make_project(folder, target, data, identity, None, _Options)
        env = {PASSWORD_ENV: target.password}
        common = ["--project", str(folder), "--target", "bench", "--json", "--no-progress"]
        applied = run_cli(["apply", "--yes", *common], env_extra=env)
        print("apply exit", applied.returncode)
        back = run_cli(
            ["rollback", "--to", "1", "--yes", *common],
            env_extra=env,
            python_args=[HOOKS],
            module=False,
        )
        out = back.output or {}
        migration = [m["seconds"] for m in out.get("migrations", [])]
        print(f"rollback exit {back.returncode} seconds {out.get('seconds')} migration {migration}")
        print("\n".join(x for x in back.stderr.splitlines() if x.startswith(("PHASES", "SENDS"))))
        run_cli(["rollback", "--to", "0", "--yes", *common], env_extra=env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        await R.delete_fixtures(target, refs)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
