"""Running the CLI on a throwaway project folder; what every fuzz test asserts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result

from zenoo_etl.cli import main

ZENOO_TOML = (
    '[project]\nname = "fuzz"\n\n[targets.local]\nurl = "sandbox:.zenoo/sandbox.db"\n'
    'database = "etl"\nusername = "admin"\n'
)

MIGRATION = """\
description = "fuzzed rows"

[[steps]]
id = "rows"
model = "res.partner"
action = "create"
key = "{{{{ row.id }}}}"
source = {source}

[steps.fields]
name = {name}
"""


@contextmanager
def project(files: dict[str, bytes | str], config: bytes | str = ZENOO_TOML) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="zenoo-fuzz-"))
    try:
        (root / "migrations").mkdir()
        data = config.encode() if isinstance(config, str) else config
        (root / "zenoo.toml").write_bytes(data)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def invoke(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--project", str(root)])


def assert_clean(result: Result, allowed: tuple[int, ...] = (0, 2)) -> None:
    """Exit 0 (valid input) or 2 with a one-paragraph ``Error:``; never a traceback."""
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{output[-3000:]}"
    )
    assert result.exit_code in allowed, (result.exit_code, output[-3000:])
    assert "Traceback" not in output, output[-3000:]
    assert "Unexpected internal error" not in output, output[-3000:]
    if result.exit_code == 2:
        assert "Error:" in output or "problem" in output, output[-3000:]
