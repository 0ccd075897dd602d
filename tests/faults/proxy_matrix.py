"""Exactly-once through the independent fault proxy, and SIGKILL at seeded points
(issue 11): one cell = (phase, fault, ledger backend, seed).

Phases:

* ``apply`` — the fault (or kill) strikes ``apply`` of the project;
* ``rollback`` — the project is applied cleanly, the fault strikes
  ``rollback --to 0``;
* ``auto`` — migration 2 ends with a step Odoo refuses, ``on_error =
  "rollback"``: the fault strikes apply and its automatic rollback; then the
  bad step is removed (the data "fixed").

Faults: every kind of :mod:`.proxy` (``drop``, ``delay``, ``hold``,
``502_before`` ... ``reset_mid``) at a seeded rate on every request through
the proxy, or ``kill``: a real ``zenoo-etl`` process (apply, or rollback)
SIGKILLed at a seeded moment, straight to the sandbox.

After the faulty run, held requests are let through (late commits land),
then the same command runs again on a healthy path until it succeeds (at most
:data:`RERUNS` times, else the cell is *stuck*); the whole ``res.partner``
table, read by a separate client, is compared with a fault-free control:

* duplicates — records present more often than in the control (or not at all
  in it: orphans);
* losses — control records missing;
* wrong — records present with other values than the control's;
* unrestored — after ``rollback --to 0``, records that differ from the table
  before anything was applied (the same three counts, summed);
* stuck — the healthy reruns of apply or rollback never succeeded.

Used by ``tests/faults/test_proxy_matrix.py`` (a CI-sized sample) and
``scripts/proxy_matrix.py`` (the large run).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import textwrap
from collections import Counter
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.errors import ZenooError
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import apply, rollback

from .matrix import PASSWORD_ENV, Server, pg_database
from .proxy import KINDS, FaultProxy, Rules

PHASES = ("apply", "rollback", "auto")
# requests the sandbox sees in one fault-free run of each phase (login included):
# kill points are drawn from 4 (after login) to these. The base contacts carry a
# country, so identity xmlid creates them with create + one naming call per chunk
# (a step without relational fields would go through load()).
REQUESTS = {"apply": 46, "rollback": 24, "auto": 65}
FAULTS = (*KINDS, "kill")
RERUNS = 4
FIELDS = ["name", "ref", "phone", "email", "is_company", "active"]
BASE_ROWS = 24
COMPANIES = 16

BASE = f"""\
description = "base contacts"

[[steps]]
id = "contacts"
model = "res.partner"
action = "create"
key = "{{{{ row.n }}}}"
chunk_size = 4
records = [{", ".join(f'{{ n = "{i}" }}' for i in range(1, BASE_ROWS + 1))}]

[steps.fields]
name = "Contact {{{{ row.n }}}}"
ref = "PM-C{{{{ row.n }}}}"
email = "c{{{{ row.n }}}}@example.com"
phone = "+32 0 {{{{ row.n }}}}"
country_id = {{ xmlid = "base.be" }}
"""

ACT = f"""\
description = "companies (identity fields), new phones, a few contacts deleted"

[[steps]]
id = "companies"
model = "res.partner"
action = "create"
identity = "fields"
match = ["ref"]
key = "{{{{ row.n }}}}"
chunk_size = 4
records = [{", ".join(f'{{ n = "{i}" }}' for i in range(1, COMPANIES + 1))}]

[steps.fields]
name = "Company {{{{ row.n }}}}"
ref = "PM-K{{{{ row.n }}}}"
is_company = true

[[steps]]
id = "phones"
model = "res.partner"
action = "update"
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 4
records = [{", ".join(f'{{ ref = "PM-C{i}" }}' for i in range(1, BASE_ROWS + 1, 2))}]

[steps.values]
ref = "{{{{ row.ref }}}}"
phone = "+49 30 {{{{ row.ref }}}}"

[[steps]]
id = "drop"
model = "res.partner"
action = "delete"
match = ["ref"]
key = "{{{{ row.ref }}}}"
chunk_size = 2
records = [{{ ref = "PM-C2" }}, {{ ref = "PM-C4" }}, {{ ref = "PM-C6" }}, {{ ref = "PM-C8" }}]

[steps.fields]
ref = "{{{{ row.ref }}}}"
"""

BAD_STEP = """
[[steps]]
id = "bad"
model = "res.partner"
action = "create"
key = "{{ row.n }}"
records = [{ n = "1" }]

[steps.fields]
name = "Bad"
ref = "PM-BAD"
country_id = { xmlid = "base.no_such_country" }
"""


def write_project(root: Path, url: str, ledger_url: str, phase: str, *, bad: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    on_error = "rollback" if phase == "auto" else "stop"
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "proxy-matrix"

            [targets.local]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "{PASSWORD_ENV}"

            [ledger]
            url = "{ledger_url}"

            [runner]
            chunk_size = 4
            concurrency = 2
            timeout = 0.8
            retries = 3
            on_error = "{on_error}"
            """
        )
    )
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "0001_base.toml").write_text(BASE)
    (folder / "0002_act.toml").write_text(ACT + (BAD_STEP if bad else ""))


async def read_table(url: str) -> list[tuple[Any, ...]]:
    async with ZenooClient(url=url, retries=8) as client:
        await client.login("etl", "admin", "admin")
        rows = await client.execute_kw(
            "res.partner",
            "search_read",
            [[]],
            {"fields": FIELDS, "context": {"active_test": False}, "order": "id"},
        )
    return [tuple(r[k] for k in FIELDS) for r in rows]


LAST_DIFF: list[str] = []


def compare(expected: list[tuple[Any, ...]], actual: list[tuple[Any, ...]]) -> dict[str, int]:
    """duplicates / losses / wrong between two tables (multisets of records)."""
    missing = Counter(expected) - Counter(actual)
    extra = Counter(actual) - Counter(expected)
    LAST_DIFF[:] = [f"missing {r}" for r in missing] + [f"extra {r}" for r in extra]

    def refs(c: Counter[tuple[Any, ...]]) -> Counter[Any]:
        return Counter({row[1] or row[0]: n for row, n in c.items()})

    wrong = sum((refs(missing) & refs(extra)).values())
    return {
        "duplicates": sum(extra.values()) - wrong,
        "losses": sum(missing.values()) - wrong,
        "wrong": wrong,
    }


@dataclass
class Outcome:
    phase: str
    fault: str
    backend: str
    seed: int
    duplicates: int = 0
    losses: int = 0
    wrong: int = 0
    unrestored: int = 0
    stuck: int = 0
    first: str = ""  # how the faulty run ended
    struck: list[str] = field(default_factory=list)  # faults the proxy injected / kill point
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.losses or self.wrong or self.unrestored or self.stuck)


_CONTROL: dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {}


async def control(tmp: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(table before anything, table after the project applied), fault-free (cached)."""
    if "tables" not in _CONTROL:
        server = Server(tmp / "control.db")
        sb = await server.start()
        try:
            os.environ[PASSWORD_ENV] = sb.password
            root = tmp / "control"
            write_project(root, sb.url, "sqlite:///.zenoo/ledger.db", "apply", bad=False)
            before = await read_table(sb.url)
            await apply(load_project(root))
            _CONTROL["tables"] = (before, await read_table(sb.url))
        finally:
            await server.stop()
    return _CONTROL["tables"]


async def _until_ok(command: str, root: Path, outcome: Outcome) -> bool:
    for _ in range(RERUNS):
        try:
            if command == "apply":
                result = await apply(load_project(root))
            else:
                result = await rollback(load_project(root), to_version=0)
        except ZenooError as exc:
            outcome.errors.append(f"{command} rerun: {str(exc)[:300]}")
            continue
        if result.ok:
            return True
    outcome.stuck += 1
    return False


async def _zenoo(root: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zenoo_etl",
        *args,
        "--project",
        str(root),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ},
    )


async def _status_of(root: Path, ledger_url: str, url: str) -> str:
    async with open_ledger(ledger_url, root) as ledger:
        statuses = {m.version: m.status for m in await ledger.scope(url, "etl").migrations()}
    return ",".join(f"{v}:{s}" for v, s in sorted(statuses.items())) or "empty"


async def run_cell(
    phase: str,
    fault: str,
    backend: str,
    seed: int,
    tmp: Path,
    pg_url: str | None = None,
    *,
    rate: float = 0.25,
) -> Outcome:
    """One cell; see the module docstring. Never raises for what it measures."""
    outcome = Outcome(phase, fault, backend, seed)
    rng = random.Random(f"{phase}:{fault}:{backend}:{seed}")
    before, after = await control(tmp)
    async with AsyncExitStack() as stack:
        if backend == "postgres":
            assert pg_url is not None
            ledger_url = await stack.enter_async_context(pg_database(pg_url))
        else:
            ledger_url = "sqlite:///.zenoo/ledger.db"
        server = Server(tmp / f"target-{phase}-{fault}-{backend}-{seed}.db")
        sb = await server.start()
        stack.push_async_callback(server.stop)
        os.environ[PASSWORD_ENV] = sb.password
        root = tmp / f"project-{phase}-{fault}-{backend}-{seed}"
        if fault == "kill":
            url = sb.url
            proxy = None
        else:
            rules = Rules(rate=0.0, kinds=[fault], seed=seed)
            proxy = await stack.enter_async_context(FaultProxy(sb.port, rules, late=1.2))
            url = proxy.url
        write_project(root, url, ledger_url, phase, bad=phase == "auto")
        if phase == "rollback":
            await apply(load_project(root))  # cleanly: the fault strikes the rollback
        command = "rollback" if phase == "rollback" else "apply"
        if proxy is not None:
            proxy.rules.rate = rate
            try:
                if command == "apply":
                    result = await apply(load_project(root))
                else:
                    result = await rollback(load_project(root), to_version=0)
                outcome.first = "ok" if result.ok else "failed"
            except ZenooError as exc:
                outcome.first = f"{type(exc).__name__}: {str(exc)[:400]}"
            except Exception as exc:  # a bug: record it, the cell is then not ok
                outcome.first = f"CRASH {type(exc).__name__}: {exc}"
                outcome.stuck += 1
            proxy.rules.rate = 0.0
            await proxy.settle()  # held and delayed requests land now
            outcome.struck = sorted(proxy.kinds_seen().elements())
        else:
            # the kill point: the n-th request the sandbox receives (seeded), while
            # it is being processed (20 ms each): it may commit or not
            sb.faults.configure(latency_ms=20, seed=seed)
            point = rng.randint(4, REQUESTS[phase])
            args = ["apply", "--yes"] if command == "apply" else ["rollback", "--to", "0", "--yes"]
            proc = await _zenoo(root, *args)
            while proc.returncode is None and len(sb.faults.history) < point:
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(proc.wait(), 0.003)
            killed = proc.returncode is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            await proc.wait()
            sb.faults.clear()
            outcome.first = f"killed at request {point}" if killed else f"exit {proc.returncode}"
            outcome.struck = [await _status_of(root, ledger_url, url)]
        if phase == "auto":
            write_project(root, url, ledger_url, phase, bad=False)  # the data fixed
        if command == "apply":
            if await _until_ok("apply", root, outcome):
                outcome.__dict__.update(compare(after, await read_table(sb.url)))
        elif await _until_ok("rollback", root, outcome):
            outcome.unrestored += sum(compare(before, await read_table(sb.url)).values())
            # and the project applies again from there
            if await _until_ok("apply", root, outcome):
                outcome.__dict__.update(compare(after, await read_table(sb.url)))
        if command == "apply" and not outcome.stuck and await _until_ok("rollback", root, outcome):
            outcome.unrestored += sum(compare(before, await read_table(sb.url)).values())
    return outcome


__all__ = ["FAULTS", "PHASES", "Outcome", "compare", "control", "read_table", "run_cell"]
