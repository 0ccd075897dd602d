"""Benchmark plumbing: generated projects, a sandbox in its own process, measured CLI runs.

Everything the scenarios of ``bench/run.py`` share:

* :func:`make_project` writes a temp zenoo-etl project (tags + customers
  migrations, a generated CSV) targeting a sandbox served over HTTP;
* :class:`SandboxProcess` runs ``zenoo-etl sandbox`` as a SEPARATE process
  (so the client's CPU time is its own) on a fresh database file;
* :func:`run_cli` runs one ``zenoo-etl`` command as a child process and reads
  its wall time, CPU time and peak RSS from ``os.wait4`` (the child's own
  rusage, nothing of ours mixed in).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD_ENV = "ZENOO_BENCH_PASSWORD"
COUNTRIES = ["US", "DE", "FR", "ES", "IT", "BE", "NL", "AT"]  # xmlid base.<code>; the UK is base.uk
TAGS = [f"Tag {i:02d}" for i in range(20)]

CONFIG = """\
[project]
name = "bench"

[targets.bench]
url = "{url}"
database = "etl"
username = "admin"
password_env = "{password_env}"
protocol = "jsonrpc"

[ledger]
url = "sqlite:///.zenoo/ledger.db"

[runner]
chunk_size = {chunk}
concurrency = {concurrency}
"""

TAGS_MIGRATION = """\
description = "Partner tags the customers refer to"

[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
key = "{{{{ row.name }}}}"
records = [{records}]

[steps.fields]
name = "{{{{ row.name }}}}"
"""

# Six templated fields, a country xmlid and a tag ref per row (the shape).
CUSTOMERS_MIGRATION = """\
description = "Import {rows} customers"

[[steps]]
id = "customers"
model = "res.partner"
action = "create"
identity = "{identity}"
source = {{ csv = "data/customers.csv" }}
key = "{{{{ row.legacy_id }}}}"
chunk_size = {chunk}

[steps.fields]
name = "{{{{ row.name | trim }}}}"
email = "{{{{ row.email | lower }}}}"
is_company = "{{{{ row.kind == 'company' }}}}"
ref = "LEG-{{{{ row.legacy_id }}}}"
phone = "+1 555 {{{{ row.phone }}}}"
city = "{{{{ row.city | title }}}}"
country_id = {{ xmlid = "base.{{{{ row.country | lower }}}}" }}
category_id = [{{ ref = "tags", key = "{{{{ row.tag }}}}" }}]
"""


def customer_row(i: int) -> list[str]:
    """CSV cells of customer ``i`` (0-based), in the order of :data:`CSV_HEADER`."""
    return [
        str(i + 1),
        f"  Customer {i:07d} ",
        f"C{i}@Example.COM",
        "company" if i % 5 == 0 else "person",
        f"{i % 10_000:04d}",
        f"city {i % 97}",
        COUNTRIES[i % len(COUNTRIES)],
        TAGS[i % len(TAGS)],
    ]


CSV_HEADER = ["legacy_id", "name", "email", "kind", "phone", "city", "country", "tag"]


def write_csv(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for i in range(rows):
            writer.writerow(customer_row(i))


def make_project(
    folder: Path,
    url: str,
    rows: int,
    *,
    identity: str = "xmlid",
    chunk: int = 500,
    concurrency: int = 4,
    csv_file: Path | None = None,
) -> Path:
    """A project applying ``rows`` customers to ``url``; ``csv_file`` is hard-linked, not copied."""
    (folder / "migrations").mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "zenoo.toml").write_text(
        CONFIG.format(url=url, password_env=PASSWORD_ENV, chunk=chunk, concurrency=concurrency),
        encoding="utf-8",
    )
    records = ", ".join(f'{{ name = "{t}" }}' for t in TAGS)
    (folder / "migrations" / "0001_tags.toml").write_text(
        TAGS_MIGRATION.format(records=records), encoding="utf-8"
    )
    (folder / "migrations" / "0002_customers.toml").write_text(
        CUSTOMERS_MIGRATION.format(rows=rows, identity=identity, chunk=chunk), encoding="utf-8"
    )
    target = folder / "data" / "customers.csv"
    if csv_file is not None:
        target.unlink(missing_ok=True)
        os.link(csv_file, target)  # a hard link: sources must lie inside the project
    else:
        write_csv(target, rows)
    return folder


class SandboxProcess:
    """``zenoo-etl sandbox`` on a fresh database file, in its own process."""

    def __init__(self, db_path: Path, *, fault_control: bool = False) -> None:
        self.db_path = db_path
        self.fault_control = fault_control
        self.url = ""
        self.password = "admin"
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> SandboxProcess:
        cmd = [sys.executable, "-m", "zenoo_etl", "sandbox", "--port", "0"]
        cmd += ["--db", str(self.db_path), "--json"]
        if self.fault_control:
            cmd.append("--fault-control")
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self._proc.stdout is not None
        text = ""
        while True:  # --json prints one (indented) object once the server listens
            line = self._proc.stdout.readline()
            if not line:
                self.__exit__()
                raise RuntimeError("the sandbox process exited before printing its URL")
            text += line
            if line.startswith("}"):
                break
        try:
            info = json.loads(text)
            self.url = str(info["url"])
            self.password = str(info["password"])
        except (ValueError, KeyError):
            self.__exit__()  # never leave a server behind
            raise
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU the sandbox has used so far (from /proc, Linux)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None


@dataclass
class CliRun:
    """One measured ``zenoo-etl`` child process."""

    returncode: int
    wall: float
    cpu: float  # user + system seconds of the child itself
    peak_rss_mib: float
    output: Any  # parsed --json output (None when not JSON)
    stderr: str


def run_cli(
    args: list[str],
    *,
    env_extra: dict[str, str] | None = None,
    python_args: list[str] | None = None,
    prefix: list[str] | None = None,
    module: bool = True,
    cwd: Path | None = None,
) -> CliRun:
    """Run ``[prefix] python [python_args] -m zenoo_etl ARGS`` and measure the child alone.

    With a ``prefix`` (a profiler), CPU and RSS include the prefix's own process.
    ``module=False`` leaves out ``-m zenoo_etl`` (``python_args`` names a script).
    ``cwd``: where the child runs; ``python -m`` puts that directory first on
    ``sys.path``, so a run meant to import zenoo-etl from a ``PYTHONPATH`` must not
    start inside another checkout.
    """
    env = dict(os.environ)
    env.update(env_extra or {})
    env.setdefault(PASSWORD_ENV, "admin")
    env["NO_COLOR"] = "1"
    # Bytecode cached as in an installed package, outside the source tree: with
    # PYTHONDONTWRITEBYTECODE set (some dev shells set it), every run would compile
    # zenoo_etl's modules again, ~0.09 s of CPU counted as the client's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "zenoo-bench-pyc"))
    entry = ["-m", "zenoo_etl"] if module else []
    cmd = [*(prefix or []), sys.executable, *(python_args or []), *entry, *args]
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"zenoo-bench-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text()
    stderr = err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    parsed: Any = None
    if "{" in text:  # a profiler prefix may print lines of its own around the object
        try:
            parsed = json.loads(text[text.index("{") : text.rindex("}") + 1])
        except ValueError:
            parsed = None
    return CliRun(
        returncode=proc.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        output=parsed,
        stderr=stderr,
    )


def step_of(run: CliRun, step: str) -> dict[str, Any]:
    """The ``--json`` entry of one step of an apply/rollback run."""
    if run.returncode != 0 or not isinstance(run.output, dict):
        raise RuntimeError(f"zenoo-etl exited {run.returncode}: {run.stderr.strip()[-2000:]}")
    for migration in run.output["migrations"]:
        for entry in migration["steps"]:
            if entry["id"] == step:
                return dict(entry)
    raise RuntimeError(f"no step {step!r} in the output: {run.output}")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    total = next((line.split()[1] for line in mem.splitlines() if line.startswith("Mem:")), "?")
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": total,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        # other processes share the machine: the load at the start puts figures in context
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
