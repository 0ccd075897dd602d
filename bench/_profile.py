"""Reading a cProfile dump of an apply process: where its CPU time goes.

Two views, both over the runner process only (the sandbox is another
process): time spent inside each package (``tottime`` summed by where the
function lives), and the ledger's share (``cumtime`` of ledger functions as
called from outside the ledger, so nested ledger calls are not counted twice).
cProfile sees coroutines one resume at a time, so time a coroutine spends
suspended on the network is not counted anywhere: these are CPU shares.
"""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

# first match wins: (label, substring of the function's file name)
_BUCKETS = [
    ("zenoo_etl.ledger", "/zenoo_etl/ledger/"),
    ("zenoo_etl.runner", "/zenoo_etl/runner/"),
    ("zenoo_etl.compiler", "/zenoo_etl/compiler/"),
    ("zenoo_etl.client", "/zenoo_etl/client/"),
    ("zenoo_etl (other)", "/zenoo_etl/"),
    ("jinja2 (+ compiled templates)", "jinja2"),
    ("jinja2 (+ compiled templates)", "<template>"),
    ("aiohttp / yarl / multidict", "aiohttp"),
    ("aiohttp / yarl / multidict", "yarl"),
    ("aiohttp / yarl / multidict", "multidict"),
    ("asyncio event loop", "asyncio"),
    ("pydantic", "pydantic"),
    ("rich / click (CLI)", "/rich/"),
    ("rich / click (CLI)", "/click/"),
    ("import machinery", "<frozen importlib"),
]

Func = tuple[str, int, str]


def _bucket(func: Func) -> str:
    filename, _line, name = func
    for label, needle in _BUCKETS:
        if needle in filename:
            return label
    if filename == "~":  # builtins: name them by what they are
        if "sqlite3" in name:
            return "sqlite3 (C)"
        if "orjson" in name:
            return "orjson (C)"
        if "select" in name or "epoll" in name:
            return "asyncio event loop"
        if "socket" in name or "send" in name or "recv" in name:
            return "socket I/O (C)"
        return "other builtins"
    return "other Python"


def summarise(path: Path, top: int = 15) -> dict[str, Any]:
    """Package shares, the ledger share and the ``top`` functions by own time."""
    stats = pstats.Stats(str(path))
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    by_bucket: dict[str, float] = {}
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        label = _bucket(func)
        by_bucket[label] = by_bucket.get(label, 0.0) + tt
    ledger = 0.0
    for func, (_cc, _nc, _tt, _ct, callers) in raw.items():
        if "/zenoo_etl/ledger/" not in func[0]:
            continue
        for caller, caller_stats in callers.items():
            if "/zenoo_etl/ledger/" not in caller[0]:
                ledger += float(caller_stats[3])
    functions = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return {
        "total_seconds": total,
        "ledger_share": ledger / total if total else 0.0,
        "buckets": sorted(by_bucket.items(), key=lambda kv: kv[1], reverse=True),
        "top": [
            {
                "function": f"{Path(f[0]).name}:{f[1]}({f[2]})",
                "file": f[0],
                "calls": s[1],
                "tottime": s[2],
                "cumtime": s[3],
            }
            for f, s in functions
        ],
    }


def render(summary: dict[str, Any]) -> str:
    total = summary["total_seconds"] or 1.0
    lines = [f"profiled CPU time: {summary['total_seconds']:.2f} s"]
    lines.append(
        f"ledger share (cumulative, called from outside the ledger): "
        f"{100 * summary['ledger_share']:.1f}%"
    )
    lines.append("own time by package:")
    for label, seconds in summary["buckets"]:
        if seconds / total >= 0.005:
            lines.append(f"  {label:<34} {seconds:7.2f} s {100 * seconds / total:5.1f}%")
    lines.append("top functions by own time:")
    for entry in summary["top"]:
        lines.append(
            f"  {100 * entry['tottime'] / total:5.1f}%  {entry['tottime']:6.2f} s  "
            f"{entry['calls']:>9}  {entry['function']}"
        )
    return "\n".join(lines)
