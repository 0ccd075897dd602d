"""Every marked code example in docs/ runs as written against a real sandbox server.

The marker is an HTML comment on the line before the fence (invisible on the site):

* ``<!-- example -->``: a Python program, run in a fresh interpreter with
  ``http://localhost:8069`` (or ``"localhost", port=8069``) pointing at a
  sandbox started for it and ``YOUR-API-KEY`` replaced by its admin API key;
  ``<!-- example: odoo 19 -->`` the same against a sandbox emulating Odoo 19.
* ``<!-- example: shell -->``: ``zenoo-etl`` commands (plus ``cd DIR`` and
  ``> FILE``), run in order in-process through click on a copy of the example
  project after the README's first command (``zenoo-etl apply --yes``, run
  once per module as a real subprocess). Each must exit 0; ``--json`` ones must
  print valid JSON. The copy has two more sandbox targets, ``staging`` and
  ``prod``, so that examples written for real servers run unchanged.
* ``<!-- example: migration -->`` / ``migration.j2``: a migration file, added
  to the example project cut to 0001, 0002 and 0004; it must validate, change
  at least one record, and roll back.
* ``<!-- example: zenoo.toml -->``: a configuration (or a target to add to
  the example's), loaded as it is.
* ``<!-- example: file PATH -->`` then ``<!-- example: error N of zenoo-etl
  ARGS -->``: the files are written into a copy of the applied example
  project, the command must exit N and print the error block (whitespace
  aside).
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import load_config
from zenoo_etl.errors import ConfigError
from zenoo_etl.sandbox import serve_sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PLACEHOLDER_URL = "http://localhost:8069"
PLACEHOLDER_API_KEY = "YOUR-API-KEY"
CLI = [sys.executable, "-m", "zenoo_etl"]


MARKERS = {
    "<!-- example -->": "python",
    "<!-- example: odoo 19 -->": "python19",
    "<!-- example: shell -->": "shell",
    "<!-- example: migration -->": "migration",
    "<!-- example: migration.j2 -->": "migration.j2",
    "<!-- example: zenoo.toml -->": "config",
}
# Markers with an argument: a file an error example needs, and the error itself.
PREFIXED = {
    "<!-- example: file ": "file",  # ... PATH -->: write the block to PATH in the project
    "<!-- example: error ": "error",  # ... N of zenoo-etl ARGS -->: exit code N, this error
}


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    kind: str  # "python" | "shell" | "migration" | "migration.j2" | "config" | "file" | "error"
    code: str
    argument: str = ""  # the PATH of a file example, the ARGS of an error example

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def collect_examples() -> list[Example]:
    found: list[Example] = []
    for page in sorted(DOCS.rglob("*.md")):
        lines = page.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            marker = line.strip()
            kind, argument = MARKERS.get(marker), ""
            for prefix, name in PREFIXED.items():
                if marker.startswith(prefix) and marker.endswith(" -->"):
                    kind, argument = name, marker[len(prefix) : -len(" -->")].strip()
            if kind is None:
                continue
            fence = lines[number + 1].strip()
            assert fence.startswith("```"), f"{page}:{number + 1}: a marker must precede a fence"
            body: list[str] = []
            for inner in lines[number + 2 :]:
                if inner.strip().startswith("```"):
                    break
                body.append(inner)
            rel = page.relative_to(DOCS).as_posix()
            code = textwrap.dedent("\n".join(body)) + "\n"
            found.append(Example(rel, number + 3, kind, code, argument))
    return found


EXAMPLES = collect_examples()
PYTHON = [e for e in EXAMPLES if e.kind in ("python", "python19")]
SHELL = [e for e in EXAMPLES if e.kind == "shell"]
MIGRATIONS = [e for e in EXAMPLES if e.kind.startswith("migration")]
CONFIGS = [e for e in EXAMPLES if e.kind == "config"]
ERRORS = [e for e in EXAMPLES if e.kind == "error"]


def test_the_docs_carry_runnable_examples() -> None:
    """Guards against markers being dropped: then nothing below would run."""
    assert len(PYTHON) >= 4
    assert len(SHELL) >= 5
    assert len(MIGRATIONS) >= 5
    assert len(CONFIGS) >= 1
    assert len(ERRORS) >= 1
    assert any(e.page == "reference/library.md" for e in PYTHON)
    assert any(e.kind == "python19" for e in PYTHON)


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
    version = "19.0" if example.kind == "python19" else "18.0"
    async with serve_sandbox(db_path=None, version=version) as sb:
        code = example.code.replace(PLACEHOLDER_URL, sb.url)
        code = code.replace('"localhost", port=8069', f'"127.0.0.1", port={sb.port}')
        assert "8069" not in code, f"{example.id}: an address the test cannot redirect"
        code = code.replace(PLACEHOLDER_API_KEY, sb.api_key)
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


def _project_for_migration_examples(dest: Path) -> Path:
    """The example project cut to 0001 (categories), 0002 (tags) and 0004 (products).

    That is what migration examples in the docs refer to and work on; their
    step ids must not clash with these migrations' ones.
    """
    project = _copy_example_project(dest)
    for path in (project / "migrations").iterdir():
        if not path.name.startswith(("0001_", "0002_", "0004_")):
            path.unlink()
    return project


def _invoke(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, f"zenoo-etl {shlex.join(args)}: {result.output}"
    return result.stdout


@pytest.mark.parametrize("example", MIGRATIONS, ids=[e.id for e in MIGRATIONS])
def test_migration_example_applies_and_rolls_back(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration shown in the docs is valid, applies to the sandbox and rolls back."""
    project = _project_for_migration_examples(tmp_path / "project")
    suffix = ".toml.j2" if example.kind == "migration.j2" else ".toml"
    (project / "migrations" / f"0005_docs_example{suffix}").write_text(example.code, "utf-8")
    monkeypatch.chdir(project)
    assert json.loads(_invoke(["validate", "--json"]))["ok"]
    applied = json.loads(_invoke(["apply", "--yes", "--json"]))
    versions = [m["version"] for m in applied["migrations"] if m["status"] == "applied"]
    assert versions == [1, 2, 4, 5], applied
    counts = applied["migrations"][-1]["counts"]
    changed = sum(counts[k] for k in ("created", "updated", "deleted", "archived", "called"))
    assert changed > 0, f"{example.id} changed nothing: {counts}"
    undone = json.loads(_invoke(["rollback", "--yes", "--json"]))
    assert [m["version"] for m in undone["migrations"]] == [5], undone


@pytest.mark.parametrize("example", CONFIGS, ids=[e.id for e in CONFIGS])
def test_config_example_loads(example: Example, tmp_path: Path) -> None:
    """A zenoo.toml (or a part of one) shown in the docs is accepted as it is.

    Secrets are read only when used: a real server's target names the variable.
    """
    text = example.code
    if "[project]" not in text:  # a fragment: it goes into the example project's file
        text = (ROOT / "zenoo.toml").read_text("utf-8") + "\n" + text
    (tmp_path / "zenoo.toml").write_text(text, "utf-8")
    (tmp_path / "migrations").mkdir()
    config, target_name, _ = load_config(tmp_path, environ={})
    assert target_name == next(iter(config.targets))  # the first target is the default
    for target in config.targets.values():
        if target.is_sandbox:
            assert target.credentials()[0] is not None
        else:
            variable = target.api_key_env or target.password_env
            assert variable, f"{example.id}: target {target.name} has no secret variable"
            with pytest.raises(ConfigError, match=variable):
                target.credentials()


@pytest.mark.parametrize("example", ERRORS, ids=[e.id for e in ERRORS])
def test_error_example_is_what_the_command_prints(
    example: Example, applied_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error message quoted in the docs is the real one, for the files the page shows."""
    project = tmp_path / "project"
    shutil.copytree(applied_project, project)
    # The files shown on the same page between the previous error example and this one.
    earlier = [e for e in ERRORS if e.page == example.page and e.line < example.line]
    since = max((e.line for e in earlier), default=0)
    files = [
        e
        for e in EXAMPLES
        if e.kind == "file" and e.page == example.page and since < e.line < example.line
    ]
    assert files, f"{example.id}: no file examples before it to reproduce the error"
    for file in files:
        (project / file.argument).write_text(file.code, "utf-8")
    monkeypatch.chdir(project)
    code, of, command = example.argument.partition(" of zenoo-etl ")
    assert of and code.isdigit(), f"{example.id}: write 'error EXIT of zenoo-etl ARGS'"
    result = CliRunner().invoke(main, shlex.split(command), catch_exceptions=False)
    assert result.exit_code == int(code), result.output
    printed = " ".join(result.stderr.split())
    assert " ".join(example.code.split()) in printed
