"""`validate` against a real server: fields_get over HTTP (the sandbox), cached, refreshed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import load_project
from zenoo_etl.compiler.schema import cache_path, load_schema
from zenoo_etl.compiler.validate import validate_project
from zenoo_etl.sandbox import serve_sandbox

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py

MIGRATION = """\
[[steps]]
id = "partners"
model = "res.partner"
action = "create"
records = [{ name = "A", type = "contact" }, { name = "B", type = "bogus" }]

[steps.fields]
name = "{{ row.name }}"
type = "{{ row.type }}"
colour = "1"

[[steps]]
id = "ghost"
model = "x.no.such.model"
action = "delete"
domain = []
"""


def config_for(url: str) -> str:
    return (
        '[project]\nname = "t"\n\n[targets.remote]\n'
        f'url = "{url}"\ndatabase = "etl"\nusername = "admin"\npassword_env = "ZT_SANDBOX_PW"\n'
    )


async def test_refresh_fetches_caches_and_validates(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZT_SANDBOX_PW", "admin")
    async with serve_sandbox() as sb:
        root = make_project({"migrations/0001_p.toml": MIGRATION}, config=config_for(sb.url))
        project = load_project(root)
        schema = await load_schema(project, refresh=True)
    assert schema["x.no.such.model"] is None
    partner = schema["res.partner"]
    assert partner is not None and partner["type"]["type"] == "selection"
    cached = json.loads(cache_path(project).read_text())
    assert set(cached["models"]) == {"res.partner", "x.no.such.model"}
    messages = [str(p) for p in validate_project(project, schema)]
    assert any("has no field 'colour'" in m for m in messages)
    assert any("row 2, field 'type'" in m and "'bogus'" in m for m in messages)
    assert any("'x.no.such.model' does not exist" in m for m in messages)

    # The server is gone: the cache answers, through the CLI too.
    # (in a thread: the command runs its own event loop)
    args = ["validate", "--project", str(root), "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert result.exit_code == 2
    assert len(json.loads(result.stdout)["problems"]) == len(messages)
