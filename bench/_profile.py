"""Reading a cProfile dump of an apply process: where its CPU time goes.

Two views, both over the runner process only (the sandbox is another
process): time spent inside each package (``tottime`` summed by where the
function lives), and the ledger's share (``cumtime`` of ledger functions as
called from outside the ledger, so nested ledger calls are not counted twice).
cProfile's clock is the wall clock, and it sees coroutines one resume at a
time: time a coroutine spends suspended on the network is counted nowhere
(it shows as the event loop's ``epoll.poll``), while time blocked in a
synchronous call (an SQLite ``COMMIT`` waiting for fsync) counts, rightly,
since the event loop can do nothing else meanwhile.
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

# phases of an apply, by the function that owns them: (label, file suffix, function)
PHASES = [
    ("read + render rows (compiler iter_rows)", "zenoo_etl/compiler/project.py", "iter_rows"),
    ("resolve references (runner _resolved)", "zenoo_etl/runner/actions.py", "_resolved"),
    ("build load() cells (runner load_cells)", "zenoo_etl/runner/actions.py", "load_cells"),
    ("count source rows (runner count_rows)", "zenoo_etl/runner/apply.py", "count_rows"),
    ("client calls (client execute_kw)", "zenoo_etl/client/client.py", "execute_kw"),
    ("event loop idle (epoll.poll)", "~", "<method 'poll' of 'select.epoll' objects>"),
]


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
            # contextlib drives the ledger's ``async with session()`` from inside a
            # ledger method, whose cumtime already holds it: not an outside caller
            if "/zenoo_etl/ledger/" not in caller[0] and not caller[0].endswith("contextlib.py"):
                ledger += float(caller_stats[3])
    phases = {"ledger (calls from outside it)": ledger}
    for label, suffix, name in PHASES:
        phases[label] = sum(
            float(st[3]) for f, st in raw.items() if f[0].endswith(suffix) and f[2] == name
        )
    functions = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return {
        "total_seconds": total,
        "ledger_share": ledger / total if total else 0.0,
        "phases": sorted(phases.items(), key=lambda kv: kv[1], reverse=True),
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
    lines = [f"profiled time of the apply process: {summary['total_seconds']:.2f} s"]
    lines.append(
        f"ledger share (cumulative, called from outside the ledger): "
        f"{100 * summary['ledger_share']:.1f}%"
    )
    lines.append("cumulative time by phase:")
    for label, seconds in summary["phases"]:
        lines.append(f"  {label:<40} {seconds:7.2f} s {100 * seconds / total:5.1f}%")
    lines.append("own time by package:")
    for label, seconds in summary["buckets"]:
        if seconds / total >= 0.005:
            lines.append(f"  {label:<40} {seconds:7.2f} s {100 * seconds / total:5.1f}%")
    lines.append("top functions by own time:")
    for entry in summary["top"]:
        lines.append(
            f"  {100 * entry['tottime'] / total:5.1f}%  {entry['tottime']:6.2f} s  "
            f"{entry['calls']:>9}  {entry['function']}"
        )
    return "\n".join(lines)


# py-spy --idle samples: the first matching needle names a sample's phase
_SAMPLE_PHASES = [
    ("ledger", "zenoo_etl/ledger/"),
    ("read + render rows (compiler iter_rows)", "iter_rows ("),
    ("count source rows (runner count_rows)", "count_rows ("),
    ("resolve references (runner _resolved)", "_resolved ("),
    ("build load() cells (runner load_cells)", "load_cells ("),
    ("event loop idle (waiting for Odoo)", "select (selectors.py"),
    ("imports (startup)", "<frozen importlib"),
    ("client + aiohttp (requests, JSON)", "zenoo_etl/client/"),
    ("client + aiohttp (requests, JSON)", "aiohttp/"),
    ("other runner", "zenoo_etl/runner/"),
]


def summarise_samples(path: Path) -> list[tuple[str, float]]:
    """Wall-clock shares by phase from a ``py-spy record --idle -f raw`` file."""
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        label = next((lb for lb, needle in _SAMPLE_PHASES if needle in stack), "other")
        counts[label] = counts.get(label, 0) + int(n)
    return sorted(((k, v / total) for k, v in counts.items()), key=lambda kv: -kv[1])


def render_samples(shares: list[tuple[str, float]]) -> str:
    lines = ["wall-clock share by phase (py-spy --idle samples, unbiased by profiling):"]
    lines += [f"  {label:<40} {100 * share:5.1f}%" for label, share in shares]
    return "\n".join(lines)
