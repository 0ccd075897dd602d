"""Subprocess helpers: a ``zenoo-etl sandbox`` server and ``zenoo-etl`` commands.

Used by the kill tests and ``scripts/fault_matrix.py``: the runner is a real
process (so SIGKILL really loses its memory and SIGTERM goes through the
signal handler), the sandbox another one with ``--fault-control``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD_ENV = "ZENOO_KILL_TARGET_PASSWORD"


@dataclass
class SandboxProcess:
    """``zenoo-etl sandbox --port 0 --db FILE --fault-control --json`` in a child process."""

    proc: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def faults(self, **settings: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/__sandbox__/faults",
            data=json.dumps(settings).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_sandbox(db: Path, *extra: str) -> SandboxProcess:
    # stderr to a file: a pipe nobody drains would block the server once full
    with (db.parent / f"{db.name}.stderr").open("w") as errors:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zenoo_etl",
                "sandbox",
                "--port",
                "0",
                "--db",
                str(db),
                "--json",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert proc.stdout is not None
    text = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        text += line
        try:
            info = json.loads(text)
        except json.JSONDecodeError:
            continue
        return SandboxProcess(proc, info)
    proc.kill()
    raise RuntimeError(f"sandbox did not start: {text}")


def zenoo(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zenoo_etl", *args, "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def spawn(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "zenoo_etl", *args, "--project", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


PARTNERS_MIGRATION = """\
description = "partners from a CSV"

[[steps]]
id = "partners"
model = "res.partner"
action = "create"
source = { csv = "data/partners.csv" }
key = "{{ row.id }}"

[steps.fields]
name = "{{ row.name }}"
ref = "KILL-{{ row.id }}"
"""

UPDATE_MIGRATION = """\
description = "comment every partner, then delete a few, then call write"

[[steps]]
id = "comment"
model = "res.partner"
action = "update"
domain = [["ref", "like", "KILL-"]]

[steps.values]
comment = "seen"

[[steps]]
id = "drop"
model = "res.partner"
action = "delete"
domain = [["ref", "in", ["KILL-1", "KILL-2", "KILL-3"]]]

[[steps]]
id = "stamp"
model = "res.partner"
action = "call"
method = "write"
args = [{ function = "stamped" }]
domain = [["ref", "like", "KILL-1"]]
undo = { method = "write", args = [{ function = false }] }
"""


def write_kill_project(root: Path, url: str, ledger_url: str, rows: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "kill"

            [targets.local]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "{PASSWORD_ENV}"

            [ledger]
            url = "{ledger_url}"

            [runner]
            chunk_size = 10
            concurrency = 2
            on_error = "stop"
            """
        )
    )
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "0001_partners.toml").write_text(PARTNERS_MIGRATION)
    (root / "migrations" / "0002_update.toml").write_text(UPDATE_MIGRATION)
    (root / "data").mkdir(exist_ok=True)
    lines = ["id,name"] + [f"{i},Partner {i}" for i in range(1, rows + 1)]
    (root / "data" / "partners.csv").write_text("\n".join(lines) + "\n")


__all__ = [
    "PASSWORD_ENV",
    "SandboxProcess",
    "spawn",
    "start_sandbox",
    "write_kill_project",
    "zenoo",
]
