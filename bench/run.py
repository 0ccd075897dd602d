"""zenoo-etl benchmark suite (issue 8): every figure beside a baseline measured in the same run.

    .venv/bin/python bench/run.py            # full run (100k rows, 1M for memory; ~10-15 min)
    .venv/bin/python bench/run.py --quick    # small sizes (~1-2 min)
    .venv/bin/python bench/run.py --quick --only e2e --rows 2000 --out r.json

The sandbox always runs as a separate process (``zenoo-etl sandbox``) on a
fresh database file per measurement, and zenoo-etl runs as ``zenoo-etl
apply``/``rollback``/``plan`` child processes, so each process's CPU time and
peak RSS are its own (``os.wait4``). Scenarios (``--only`` takes a
comma-separated list): ``e2e`` (apply, no-op rerun, rollback vs raw
aiohttp loops), ``none`` (identity none vs raw ``create``), ``loop`` (one
``create`` per record), ``latency`` (20 ms per call, concurrency 1/4/8/16),
``memory`` (plan and apply peak RSS at two sizes), ``ledger`` (SQLite vs
PostgreSQL ledger), ``profile`` (cProfile of the apply process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import _raw
from _harness import (
    SandboxProcess,
    machine,
    make_project,
    run_cli,
    step_of,
    write_csv,
)
from _profile import render, render_samples, summarise, summarise_samples

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["e2e", "none", "loop", "latency", "memory", "ledger", "profile"]


@dataclass
class Sizes:
    rows: int
    loop_rows: int
    latency_chunks_per_run: int
    latency_chunks: list[int]
    memory_rows: list[int]
    repeat: int = 1
    chunk: int = 500
    concurrency: int = 4


# repeat: e2e and identity-none pairs (raw, zenoo-etl) are measured this many times,
# interleaved, and the best of each kept: other processes share these 2 cores.
FULL = Sizes(100_000, 5_000, 300, [10, 500], [100_000, 1_000_000], repeat=3)
QUICK = Sizes(20_000, 1_000, 40, [10], [20_000, 100_000])


@dataclass
class Figure:
    """One line of the results table."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    ok: bool | None = None
    note: str = ""


@dataclass
class Bench:
    sizes: Sizes
    work: Path
    figures: list[Figure] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _csvs: dict[int, Path] = field(default_factory=dict)
    _n: int = 0

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        base = (
            f"  (baseline {figure.baseline:,.1f} {figure.baseline_name})"
            if (figure.baseline is not None)
            else ""
        )
        verdict = {True: " PASS", False: " MISS", None: ""}[figure.ok]
        print(f"  {figure.name}: {figure.value:,.1f} {figure.unit}{base}{verdict}", flush=True)

    def csv(self, rows: int) -> Path:
        if rows not in self._csvs:
            path = self.work / f"customers-{rows}.csv"
            write_csv(path, rows)
            self._csvs[rows] = path
        return self._csvs[rows]

    def fresh(self, label: str) -> Path:
        self._n += 1
        folder = self.work / f"{self._n:02d}-{label}"
        folder.mkdir()
        return folder

    def project(self, label: str, url: str, rows: int, **kw: Any) -> tuple[Path, Path]:
        folder = self.fresh(label)
        project = make_project(folder / "project", url, rows, csv_file=self.csv(rows), **kw)
        return folder, project

    def apply(
        self,
        label: str,
        rows: int,
        *,
        env: dict[str, str] | None = None,
        python_args: list[str] | None = None,
        prefix: list[str] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """A fresh sandbox, then ``zenoo-etl apply`` of ``rows`` customers; its figures."""
        folder = self.fresh(label + "-sb")
        with SandboxProcess(folder / "sandbox.db") as sb:
            _f, project = self.project(label, sb.url, rows, **kw)
            cpu0 = sb.cpu_seconds()
            run = run_cli(
                ["apply", "--project", str(project), "--yes", "--json"],
                env_extra=env,
                python_args=python_args,
                prefix=prefix,
            )
            step = step_of(run, "customers")
            assert step["created"] == rows, step
            return {
                "project": project,
                "rate": rows / step["seconds"],
                "wall": run.wall,
                "step_seconds": step["seconds"],
                "cpu_us": 1e6 * run.cpu / rows,
                "cpu": run.cpu,
                "rss": run.peak_rss_mib,
                "sandbox_cpu_us": 1e6 * (sb.cpu_seconds() - cpu0) / rows,
                "sandbox": sb,
            }

    def raw(
        self,
        label: str,
        rows: int,
        build: Callable[..., list[bytes]],
        chunk: int,
        concurrency: int,
        latency_ms: float = 0.0,
    ) -> float:
        """A fresh sandbox, then a bare aiohttp loop posting pre-built bodies: records/s."""
        folder = self.fresh(label)
        with SandboxProcess(folder / "sandbox.db", fault_control=bool(latency_ms)) as sb:
            return asyncio.run(_raw_run(sb, rows, build, chunk, concurrency, latency_ms))


async def _set_latency(sb: SandboxProcess, latency_ms: float) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        payload = {"latency_ms": latency_ms}
        async with session.post(f"{sb.url}/__sandbox__/faults", json=payload) as resp:
            resp.raise_for_status()


async def _raw_run(
    sb: SandboxProcess,
    rows: int,
    build: Callable[..., list[bytes]],
    chunk: int,
    concurrency: int,
    latency_ms: float,
) -> float:
    refs = await _raw.prepare(sb.url, sb.password)
    bodies = build(sb.password, rows, chunk, refs)
    if latency_ms:
        await _set_latency(sb, latency_ms)
    seconds = await _raw.post_all(sb.url, bodies, concurrency)
    return rows / seconds


# -- scenarios -----------------------------------------------------------------------------


def scenario_e2e(b: Bench) -> None:
    """Apply (identity xmlid → load()), no-op rerun, rollback; raw load/unlink loops."""
    s = b.sizes
    print(f"e2e: apply {s.rows:,} customers (chunk {s.chunk}, concurrency {s.concurrency})")
    raw_rate, res = _best_pair(b, "load", _raw.load_bodies, "xmlid")
    b.extra["e2e"] = {k: v for k, v in res.items() if k not in ("project", "sandbox")}
    small = min(1_000, s.rows)
    fixed = b.apply("fixed-cost", small, chunk=s.chunk, concurrency=s.concurrency)["cpu"]
    marginal = 1e6 * (res["cpu"] - fixed) / max(s.rows - small, 1)
    b.add(
        Figure(
            "apply records/s (identity xmlid, load)",
            res["rate"],
            "rec/s",
            raw_rate,
            "raw aiohttp load() loop",
            ">= 85% of raw",
            res["rate"] >= 0.85 * raw_rate,
            f"{100 * res['rate'] / raw_rate:.0f}% of raw; runs {res['runs']} vs raw "
            f"{res['raw_runs']} rec/s",
        )
    )
    b.add(
        Figure(
            "apply client CPU per record (all included)",
            res["cpu_us"],
            "µs/rec",
            res["sandbox_cpu_us"],
            "µs/rec sandbox CPU",
            "<= 30 µs",
            res["cpu_us"] <= 30,
            f"marginal {marginal:.1f} µs/rec beyond a {small:,}-row apply ({fixed:.2f} s CPU)",
        )
    )
    b.add(Figure("apply peak RSS", res["rss"], "MiB", target="< 200 MiB", ok=res["rss"] < 200))
    # no-op rerun and rollback need the applied state: a sandbox that lives through all three
    folder = b.fresh("rerun-sb")
    with SandboxProcess(folder / "sandbox.db") as sb:
        _f, project = b.project("rerun", sb.url, s.rows, chunk=s.chunk, concurrency=s.concurrency)
        args = ["--project", str(project), "--yes", "--json"]
        first = run_cli(["apply", *args])
        step_of(first, "customers")
        status = run_cli(["status", "--project", str(project), "--json"])
        rerun = run_cli(["apply", *args])
        assert step_of(rerun, "customers")["created"] == 0 if _has_step(rerun) else True
        b.add(
            Figure(
                "no-op rerun of the applied migrations",
                rerun.wall,
                "s",
                status.wall,
                "s `zenoo-etl status` (startup + ledger)",
                "< 2 s",
                rerun.wall < 2.0,
            )
        )
        back = run_cli(["rollback", "--to", "0", *args])
        step = step_of(back, "customers")
        rb_rate = s.rows / step["seconds"]
        ids = asyncio.run(_raw.partner_ids(sb.url, sb.password, [["ref", "=like", "LEG-%"]]))
        assert not ids, f"{len(ids)} customers left after rollback"
    raw_unlink = _raw_unlink(b, s.rows, s.chunk)
    b.add(
        Figure(
            "rollback records/s",
            rb_rate,
            "rec/s",
            raw_unlink,
            f"raw unlink loop, chunks of {s.chunk}, sequential",
            "",
            None,
            f"{100 * rb_rate / raw_unlink:.0f}% of raw",
        )
    )


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Fastest run, least CPU, highest peak RSS: each the honest extreme of noisy repeats."""
    best = dict(max(runs, key=lambda r: r["rate"]))
    best.update(
        cpu_us=min(r["cpu_us"] for r in runs),
        cpu=min(r["cpu"] for r in runs),
        rss=max(r["rss"] for r in runs),
        runs=" / ".join(f"{r['rate']:,.0f}" for r in runs),
    )
    return best


def _best_pair(
    b: Bench, method: str, build: Callable[..., list[bytes]], identity: str
) -> tuple[float, dict[str, Any]]:
    """Raw loop and zenoo-etl apply, interleaved ``repeat`` times: best rate of each."""
    s = b.sizes
    raws: list[float] = []
    runs: list[dict[str, Any]] = []
    for _ in range(s.repeat):
        raws.append(b.raw(f"raw-{method}", s.rows, build, s.chunk, s.concurrency))
        runs.append(
            b.apply(identity, s.rows, identity=identity, chunk=s.chunk, concurrency=s.concurrency)
        )
    best = _best(runs)
    best["raw_runs"] = " / ".join(f"{r:,.0f}" for r in raws)
    return max(raws), best


def _has_step(run: Any) -> bool:
    try:
        step_of(run, "customers")
    except RuntimeError:
        return False
    return True


def _raw_unlink(b: Bench, rows: int, chunk: int) -> float:
    folder = b.fresh("raw-unlink")
    with SandboxProcess(folder / "sandbox.db") as sb:

        async def go() -> float:
            refs = await _raw.prepare(sb.url, sb.password)
            await _raw.post_all(sb.url, _raw.load_bodies(sb.password, rows, chunk, refs), 4)
            ids = await _raw.partner_ids(sb.url, sb.password, [["ref", "=like", "LEG-%"]])
            assert len(ids) == rows
            bodies = _raw.unlink_bodies(sb.password, ids[::-1], chunk)
            return rows / await _raw.post_all(sb.url, bodies, 1)

        return asyncio.run(go())


def scenario_none(b: Bench) -> None:
    """identity none (plain create) against a raw create loop: like for like."""
    s = b.sizes
    print(f"none: apply {s.rows:,} customers with identity none (create)")
    raw_rate, res = _best_pair(b, "create", _raw.create_bodies, "none")
    b.add(
        Figure(
            "apply records/s (identity none, create)",
            res["rate"],
            "rec/s",
            raw_rate,
            "raw aiohttp create loop",
            ">= 85% of raw",
            res["rate"] >= 0.85 * raw_rate,
            f"{100 * res['rate'] / raw_rate:.0f}% of raw; runs {res['runs']} vs raw "
            f"{res['raw_runs']} rec/s",
        )
    )
    b.add(
        Figure(
            "apply client CPU per record (identity none)",
            res["cpu_us"],
            "µs/rec",
            res["sandbox_cpu_us"],
            "µs/rec sandbox CPU",
            "<= 30 µs",
            res["cpu_us"] <= 30,
        )
    )


def scenario_loop(b: Bench) -> None:
    """One create call per record, sequential (what most scripts do)."""
    s = b.sizes
    print(f"loop: {s.loop_rows:,} records, one create per record vs zenoo-etl apply")
    loops: list[float] = []
    runs: list[dict[str, Any]] = []
    for _ in range(s.repeat):
        loops.append(b.raw("raw-per-record", s.loop_rows, _raw.create_bodies, 1, 1))
        runs.append(b.apply("loop", s.loop_rows, chunk=s.chunk, concurrency=s.concurrency))
    loop_rate, res = max(loops), _best(runs)
    factor = res["rate"] / loop_rate
    steady = b.extra.get("e2e")
    at_e2e = f"; {steady['rate'] / loop_rate:.0f}x at the e2e rate" if steady else ""
    b.add(
        Figure(
            f"speed-up vs one create per record ({s.loop_rows:,} rows)",
            factor,
            "x",
            loop_rate,
            "rec/s per-record loop",
            ">= 20x",
            factor >= 20,
            f"zenoo-etl runs {res['runs']} rec/s{at_e2e}",
        )
    )


def scenario_latency(b: Bench) -> None:
    """20 ms added per call: does concurrency hide it?"""
    s = b.sizes
    rates: dict[str, float] = {}
    for chunk in s.latency_chunks:
        # enough chunks that 16 in flight is a steady state, not a ramp
        rows = min(max(1_000, chunk * s.latency_chunks_per_run), 50_000, s.rows)
        print(f"latency: 20 ms per call, {rows:,} rows, chunk {chunk}")
        base: dict[int, float] = {}
        raw_base: dict[int, float] = {}
        for conc in (1, 4, 8, 16):
            rate = raw_rate = 0.0
            for _ in range(s.repeat):
                rate = max(rate, _latency_apply(b, rows, chunk, conc))
                raw_rate = max(
                    raw_rate, b.raw(f"lat-raw-c{conc}", rows, _raw.load_bodies, chunk, conc, 20)
                )
            base[conc] = rate
            raw_base[conc] = raw_rate
            rates[f"chunk{chunk}-c{conc}"] = rate
            b.add(
                Figure(
                    f"20 ms latency, chunk {chunk}, concurrency {conc}",
                    rate,
                    "rec/s",
                    raw_rate,
                    "raw load() loop, same concurrency",
                )
            )
        ratio = base[8] / base[1]
        b.add(
            Figure(
                f"20 ms latency, chunk {chunk}: concurrency 8 / concurrency 1",
                ratio,
                "x",
                raw_base[8] / raw_base[1],
                "x raw loop",
                target=">= 6x",
                ok=ratio >= 6,
            )
        )
    b.extra["latency"] = rates


def _latency_apply(b: Bench, rows: int, chunk: int, conc: int) -> float:
    folder = b.fresh(f"lat-c{conc}-sb")
    with SandboxProcess(folder / "sandbox.db", fault_control=True) as sb:
        asyncio.run(_set_latency(sb, 20))
        _f, project = b.project(f"lat-c{conc}", sb.url, rows, chunk=chunk, concurrency=conc)
        run = run_cli(["apply", "--project", str(project), "--yes", "--json"])
        return rows / float(step_of(run, "customers")["seconds"])


def scenario_memory(b: Bench) -> None:
    """Peak RSS of plan and apply at two sizes: flat in the number of rows."""
    s = b.sizes
    small, large = s.memory_rows
    plan_rss: dict[int, float] = {}
    apply_rss: dict[int, float] = {}
    for rows in (small, large):
        print(f"memory: plan and apply {rows:,} rows")
        _f, project = b.project(f"plan-{rows}", "http://127.0.0.1:9", rows)
        run = run_cli(["plan", "--project", str(project), "--json"])
        if run.returncode != 0:
            raise RuntimeError(f"plan failed: {run.stderr[-2000:]}")
        plan_rss[rows] = run.peak_rss_mib
        b.add(
            Figure(
                f"plan peak RSS, {rows:,} rows",
                run.peak_rss_mib,
                "MiB",
                note=f"{run.wall:.1f} s, {rows / run.wall:,.0f} rows/s",
            )
        )
        prior = b.extra.get("e2e")
        if prior and rows == s.rows:
            apply_rss[rows] = prior["rss"]
            note = "from the e2e run"
        else:
            res = b.apply(f"mem-{rows}", rows, chunk=s.chunk, concurrency=s.concurrency)
            apply_rss[rows] = res["rss"]
            note = f"{res['rate']:,.0f} rec/s, {res['cpu_us']:.1f} µs/rec"
        b.add(
            Figure(
                f"apply peak RSS, {rows:,} rows",
                apply_rss[rows],
                "MiB",
                target="< 200",
                ok=apply_rss[rows] < 200,
                note=note,
            )
        )
    for what, rss in (("plan", plan_rss), ("apply", apply_rss)):
        growth = rss[large] / rss[small]
        b.add(
            Figure(
                f"{what} RSS growth {small:,} → {large:,} rows",
                growth,
                "x",
                target="<= 1.2x",
                ok=growth <= 1.2,
            )
        )


def scenario_ledger(b: Bench) -> None:
    """The same apply with the SQLite ledger and with a PostgreSQL ledger."""
    s = b.sizes
    print(f"ledger: apply {s.rows:,} rows with SQLite vs PostgreSQL ledgers")
    url = os.environ.get("ZENOO_TEST_PG_URL")
    cluster = None
    if not url:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_cluster import PgCluster

        cluster = PgCluster()
        url = cluster.start()
    try:
        sqlite_runs, pg_runs = [], []
        for _ in range(s.repeat):  # interleaved, both while the cluster runs
            sqlite_runs.append(b.apply("ledger-sqlite", s.rows))
            pg_runs.append(b.apply("ledger-pg", s.rows, env={"ZENOO_LEDGER_URL": url}))
        sqlite, pg = _best(sqlite_runs), _best(pg_runs)
    finally:
        if cluster is not None:
            cluster.stop()
    b.add(
        Figure(
            "apply records/s, PostgreSQL ledger",
            pg["rate"],
            "rec/s",
            sqlite["rate"],
            "rec/s SQLite ledger",
            note=f"{pg['cpu_us']:.1f} µs/rec client CPU "
            f"(SQLite {sqlite['cpu_us']:.1f}); throwaway cluster runs fsync=off"
            if cluster
            else f"{pg['cpu_us']:.1f} µs/rec client CPU",
        )
    )


def scenario_profile(b: Bench) -> None:
    """cProfile of the apply process on the e2e size."""
    s = b.sizes
    print(f"profile: apply {s.rows:,} rows under cProfile")
    prof = b.work / "apply.prof"
    res = b.apply("profile", s.rows, python_args=["-m", "cProfile", "-o", str(prof)])
    summary = summarise(prof)
    text = render(summary)
    print(text)
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if Path(pyspy).exists():
        # a sampling profile too: cProfile inflates Python-heavy code (rendering)
        # relative to C calls (an SQLite COMMIT waiting for fsync)
        samples = b.work / "apply.pyspy"
        spy = [pyspy, "record", "--idle", "-r", "250", "-f", "raw", "-o", str(samples), "--"]
        b.apply("pyspy", s.rows, prefix=spy)
        shares = summarise_samples(samples)
        text += "\n" + render_samples(shares)
        print(render_samples(shares))
        ledger = dict(shares).get("ledger", 0.0)
        b.add(Figure("ledger share of apply wall time (py-spy)", 100 * ledger, "%"))
    else:
        print("(pip install py-spy into the venv for a sampling profile too)")
    b.extra["profile"] = {
        "text": text,
        "ledger_share": summary["ledger_share"],
        "rate_under_profiler": res["rate"],
    }
    b.add(Figure("ledger share of apply time (cProfile)", 100 * summary["ledger_share"], "%"))


RUNNERS: dict[str, Callable[[Bench], None]] = {
    "e2e": scenario_e2e,
    "none": scenario_none,
    "loop": scenario_loop,
    "latency": scenario_latency,
    "memory": scenario_memory,
    "ledger": scenario_ledger,
    "profile": scenario_profile,
}


def table(figures: list[Figure]) -> str:
    head = "| figure | zenoo-etl | baseline | target | result | note |"
    lines = [head, "|---|---:|---:|---|---|---|"]
    for f in figures:
        value = f"{f.value:,.1f} {f.unit}"
        base = f"{f.baseline:,.1f} ({f.baseline_name})" if f.baseline is not None else ""
        verdict = {True: "pass", False: "**MISS**", None: ""}[f.ok]
        lines.append(f"| {f.name} | {value} | {base} | {f.target} | {verdict} | {f.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes (a minute or two).")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"Comma-separated scenarios: {', '.join(SCENARIOS)}.",
    )
    parser.add_argument("--rows", type=int, help="Override the e2e/none/ledger/profile size.")
    parser.add_argument("--repeat", type=int, help="Best of N for the e2e/none pairs.")
    parser.add_argument("--out", type=Path, help="Also write the figures as JSON here.")
    parser.add_argument("--keep", type=Path, help="Work in DIR and keep it (projects, dbs).")
    ns = parser.parse_args(argv)
    sizes = QUICK if ns.quick else FULL
    if ns.rows:
        sizes = replace(
            sizes,
            rows=ns.rows,
            loop_rows=min(sizes.loop_rows, ns.rows),
            memory_rows=[ns.rows, max(sizes.memory_rows[0], ns.rows)],
        )
    if ns.repeat:
        sizes = replace(sizes, repeat=ns.repeat)
    chosen = [name.strip() for name in ns.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}: choose from {SCENARIOS}")
    info = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zenoo-bench-") as tmp:
        work = ns.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        bench = Bench(sizes, work)
        for name in SCENARIOS:
            if name in chosen:
                RUNNERS[name](bench)
    elapsed = time.perf_counter() - started
    print()
    print(table(bench.figures))
    print(f"\n{len(bench.figures)} figures in {elapsed:.0f} s", flush=True)
    if ns.out:
        ns.out.write_text(
            json.dumps(
                {
                    "machine": info,
                    "sizes": asdict(sizes),
                    "seconds": elapsed,
                    "figures": [asdict(f) for f in bench.figures],
                    "extra": bench.extra,
                },
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
