"""Run the zenoo-etl CLI with wall-clock timers on rollback's calls (``bench/rollback_trace.py``).

Prints to stderr, at exit, ``PHASES`` (ledger writes, login, database uuid:
count x seconds) and ``SENDS`` (every RPC: ``model.method:seconds@start``, the
start relative to the process). ``ZENOO_TRACE_NO_SESSION=1`` makes the client
send the password with every call (``web_session=False``) for an A/B.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import zenoo_etl.ledger.sql as sql
from zenoo_etl.client import client as cl

START = time.perf_counter()
PHASES: dict[str, list[float]] = {}
SENDS: list[str] = []


def _timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(inner)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await inner(*args, **kwargs)
        finally:
            PHASES.setdefault(label, []).append(time.perf_counter() - began)

    setattr(owner, name, timed)


for method in ("mark_undoing", "mark_compensated", "set_status"):
    _timed(sql.SqlScope, method, f"ledger.{method}")
_timed(cl.ZenooClient, "login", "client.login")
_timed(cl.ZenooClient, "database_uuid", "client.database_uuid")

_send = cl.ZenooClient._send


async def _traced_send(self: Any, url: str, body: bytes, headers: Any, model: Any, method: str,
                       *rest: Any) -> Any:  # fmt: skip
    began = time.perf_counter()
    try:
        return await _send(self, url, body, headers, model, method, *rest)
    finally:
        SENDS.append(f"{model}.{method}:{time.perf_counter() - began:.3f}@{began - START:.2f}")


cl.ZenooClient._send = _traced_send  # type: ignore[method-assign]

if os.environ.get("ZENOO_TRACE_NO_SESSION"):
    _init = cl.ZenooClient.__init__

    def _no_session(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["web_session"] = False
        _init(self, *args, **kwargs)

    cl.ZenooClient.__init__ = _no_session  # type: ignore[method-assign]


def _report() -> None:
    phases = " ".join(f"{k}={len(v)}x{sum(v):.3f}" for k, v in PHASES.items())
    print(f"PHASES {phases} process={time.perf_counter() - START:.3f}", file=sys.stderr)
    print("SENDS " + " ".join(SENDS), file=sys.stderr)


atexit.register(_report)

if __name__ == "__main__":
    from zenoo_etl.cli import main

    sys.argv = ["zenoo-etl", *sys.argv[1:]]
    main()
