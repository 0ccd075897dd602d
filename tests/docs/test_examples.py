"""Every marked code example in docs/ runs as written against a real sandbox server.

A fenced block directly preceded by ``<!-- example -->`` is a Python program:
it is run in a fresh interpreter with ``http://localhost:8069`` (or
``"localhost", port=8069``) pointing at a sandbox started for it. A block preceded by
``<!-- example: shell -->`` holds ``zenoo-etl`` commands (plus ``cd DIR`` and
``> FILE`` redirections): they run in order, in-process through click, on a
temporary copy of the repository's example project after the README's first
command (``zenoo-etl apply --yes``, run once per module as a real
subprocess); each must exit 0, and ``--json`` ones must print valid JSON. The copy gets two more
sandbox targets, ``staging`` and ``prod``, so that examples written for real
servers run unchanged.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.sandbox import serve_sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PLACEHOLDER_URL = "http://localhost:8069"
CLI = [sys.executable, "-m", "zenoo_etl"]


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    kind: str  # "python" | "shell"
    code: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def collect_examples() -> list[Example]:
    found: list[Example] = []
    for page in sorted(DOCS.rglob("*.md")):
        lines = page.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            marker = line.strip()
            if marker not in ("<!-- example -->", "<!-- example: shell -->"):
                continue
            fence = lines[number + 1].strip()
            assert fence.startswith("```"), f"{page}:{number + 1}: a marker must precede a fence"
            body: list[str] = []
            for inner in lines[number + 2 :]:
                if inner.strip().startswith("```"):
                    break
                body.append(inner)
            kind = "shell" if marker.endswith("shell -->") else "python"
            rel = page.relative_to(DOCS).as_posix()
            found.append(Example(rel, number + 3, kind, "\n".join(body) + "\n"))
    return found


EXAMPLES = collect_examples()
PYTHON = [e for e in EXAMPLES if e.kind == "python"]
SHELL = [e for e in EXAMPLES if e.kind == "shell"]


def test_the_docs_carry_runnable_examples() -> None:
    """Guards against markers being dropped: then nothing below would run."""
    assert len(PYTHON) >= 4
    assert len(SHELL) >= 1
    assert any(e.page == "reference/library.md" for e in PYTHON)


async def _run(
    args: list[str], cwd: Path, timeout: float = 120, merge: bool = True
) -> tuple[int, str]:
    """Exit code and output (stdout alone when ``merge`` is False, for redirections)."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge else asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace")


@pytest.mark.parametrize("example", PYTHON, ids=[e.id for e in PYTHON])
async def test_python_example_runs_against_the_sandbox(example: Example, tmp_path: Path) -> None:
    async with serve_sandbox(db_path=None) as sb:
        code = example.code.replace(PLACEHOLDER_URL, sb.url)
        code = code.replace('"localhost", port=8069', f'"127.0.0.1", port={sb.port}')
        assert "8069" not in code, f"{example.id}: an address the test cannot redirect"
        script = tmp_path / "example.py"
        script.write_text(code, "utf-8")
        rc, out = await _run([sys.executable, str(script)], tmp_path)
    assert rc == 0, f"{example.id} failed:\n{out}"


EXTRA_TARGETS = """
[targets.staging]
url = "sandbox:.zenoo/staging.db"
database = "staging"
username = "admin"

[targets.prod]
url = "sandbox:.zenoo/prod.db"
database = "prod"
username = "admin"
"""


def _commands(example: Example) -> list[tuple[str, list[str], str | None]]:
    """(``cd`` or ``zenoo-etl``, arguments, file stdout goes to) for each line."""
    commands: list[tuple[str, list[str], str | None]] = []
    for raw in example.code.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        args = shlex.split(line)
        out = None
        if ">" in args:
            at = args.index(">")
            args, out = args[:at], args[at + 1]
        assert args[0] in ("zenoo-etl", "cd"), f"{example.id}: cannot test {line!r}"
        commands.append((args[0], args[1:], out))
    return commands


def _copy_example_project(dest: Path) -> Path:
    dest.mkdir()
    config = (ROOT / "zenoo.toml").read_text("utf-8")
    # Appended inside [targets]: the TOML tables after it ([ledger], ...) are unaffected.
    config = config.replace("\n[ledger]", EXTRA_TARGETS + "\n[ledger]", 1)
    assert "[targets.prod]" in config
    (dest / "zenoo.toml").write_text(config, "utf-8")
    shutil.copytree(ROOT / "migrations", dest / "migrations")
    shutil.copytree(ROOT / "data", dest / "data")
    return dest


@pytest.fixture(scope="module")
def applied_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project after the README's first command, made once per module."""
    project = _copy_example_project(tmp_path_factory.mktemp("applied") / "project")
    result = subprocess.run(
        [*CLI, "apply", "--yes", "--no-progress"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.mark.parametrize("example", SHELL, ids=[e.id for e in SHELL])
def test_shell_example_runs_on_the_example_project(
    example: Example, applied_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private copy (project files, sandbox and ledger databases): examples never see each other.
    project = tmp_path / "project"
    shutil.copytree(applied_project, project)
    monkeypatch.chdir(project)
    for program, args, redirect in _commands(example):
        if program == "cd":
            monkeypatch.chdir(Path.cwd() / args[0])
            continue
        # In-process, as the installed `zenoo-etl` script would run it (one import, fast).
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (
            f"{example.id}: zenoo-etl {shlex.join(args)} exited {result.exit_code}:\n"
            f"{result.output}"
        )
        if "--json" in args:
            json.loads(result.stdout)  # the one machine-readable object promised
        if redirect is not None:
            Path(redirect).write_text(result.stdout, "utf-8")
