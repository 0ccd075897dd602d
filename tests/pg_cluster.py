"""A throwaway PostgreSQL cluster for the ``@pytest.mark.postgres`` tests.

``initdb`` + ``pg_ctl`` (on PATH) in a temp dir, listening on a free
127.0.0.1 port with trust auth, stopped and removed by :meth:`stop`.
``initdb`` refuses to run as root, so as root the cluster runs as the
unprivileged system user ``zenoo_pg`` (created with ``useradd`` if missing)
through ``runuser``. Usable as a script for manual runs:
``python tests/pg_cluster.py`` prints a URL and waits for Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_USER = "zenoo_pg"
SUPERUSER = "zenoo"


class ClusterError(RuntimeError):
    """PostgreSQL could not be started; the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClusterError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        raise ClusterError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


class PgCluster:
    """One running cluster; :attr:`url` reaches its ``postgres`` database as superuser."""

    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            if shutil.which(tool) is None:
                raise ClusterError(
                    f"`{tool}` is not on PATH: install PostgreSQL 15 server binaries, or set "
                    "ZENOO_TEST_PG_URL to a server the tests may create databases on."
                )
        self.dir = Path(tempfile.mkdtemp(prefix="zenoo-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._prefix: list[str] = []
        self._started = False
        if os.geteuid() == 0:
            self._prefix = ["runuser", "-u", PG_USER, "--"]
            if subprocess.run(["id", PG_USER], capture_output=True, check=False).returncode:
                _run(["useradd", "--system", "--no-create-home", PG_USER], "useradd zenoo_pg")
            shutil.chown(self.dir, user=PG_USER)
            self.dir.chmod(0o755)

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        try:
            _run(
                [
                    *self._prefix,
                    "initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                "initdb",
            )
            # fsync off: a test cluster is thrown away; it makes CREATE DATABASE fast.
            options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F -c max_connections=200"
            _run(
                [
                    *self._prefix,
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.dir / "pg.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                "pg_ctl start",
            )
        except ClusterError as exc:
            log = self.dir / "pg.log"
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            self.stop()
            raise ClusterError(f"{exc}\n{tail}".strip()) from None
        self._started = True
        return self.url

    def stop(self) -> None:
        if self._started or (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._prefix, "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    cluster = PgCluster()
    print(cluster.start(), flush=True)
    try:
        input("PostgreSQL is running; press Enter to stop. ")
    finally:
        cluster.stop()
