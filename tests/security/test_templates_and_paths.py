"""Template payloads in migration files are refused; in data they arrive verbatim.

Also: source paths cannot leave the project (``../``, absolute, symlinks), and
the sandbox listens on loopback with its fault control off unless asked.
"""

from __future__ import annotations

import csv
import io
import os
import textwrap
from pathlib import Path

import aiohttp
import click
import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.runner import RunFailed, apply
from zenoo_etl.runner.preflight import PreflightError
from zenoo_etl.sandbox import serve_sandbox

PAYLOADS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ row.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ row.name.format.__globals__ }}",
]

DATA_PAYLOADS = [
    *PAYLOADS,
    "{{ 7*7 }}",
    "{% raw %}x{% endraw %}",
    "${jndi:ldap://example.com/a}",
    "'; DROP TABLE res_partner; --",
    "\u202eevil\u202c name",
]

ZENOO_TOML = """\
[project]
name = "safety"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
"""


def _project(root: Path, name_template: str, source: str = 'csv = "data/rows.csv"') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(ZENOO_TOML)
    (root / "migrations").mkdir(exist_ok=True)
    # a TOML literal string: the payload reaches the template engine byte for byte
    (root / "migrations" / "0001_rows.toml").write_text(
        textwrap.dedent(
            f"""\
            description = "rows"

            [[steps]]
            id = "rows"
            model = "res.partner"
            action = "create"
            key = "{{{{ row.id }}}}"
            source = {{ {source} }}

            [steps.fields]
            name = '''{name_template}'''
            ref = "SAFE-{{{{ row.id }}}}"
            """
        )
    )
    (root / "data").mkdir(exist_ok=True)
    if not (root / "data" / "rows.csv").exists():
        (root / "data" / "rows.csv").write_text("id,name\n1,Plain\n")
    return root


async def _names(root: Path) -> dict[str, str]:
    async with (
        serve_sandbox(db_path=root / ".zenoo" / "sandbox.db") as sb,
        ZenooClient(url=sb.url) as client,
    ):
        await client.login(sb.database, sb.username, sb.password)
        rows = await client.search_read("res.partner", [["ref", "like", "SAFE-"]], ["ref", "name"])
    return {r["ref"]: r["name"] for r in rows}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_template_payloads_in_migration_files_are_refused_offline(
    tmp_path: Path, payload: str
) -> None:
    root = _project(tmp_path, payload)
    runner = CliRunner()
    for verb in ("validate", "plan"):
        done = runner.invoke(main, [verb, "--project", str(root)])
        assert done.exit_code == 2, (verb, done.output)
        assert "unsafe" in done.output or "refused" in done.output, done.output
        assert "Traceback" not in done.output


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_template_payloads_in_migration_files_never_reach_odoo(
    tmp_path: Path, payload: str
) -> None:
    root = _project(tmp_path, payload)
    # the preflight refuses the template before anything is sent (issue 16) ...
    with pytest.raises(PreflightError, match=r"unsafe|refused"):
        await apply(load_project(root))
    assert await _names(root) == {}
    # ... and without it, rendering the row fails the run: nothing reaches Odoo either
    with pytest.raises(RunFailed, match=r"unsafe|refused"):
        await apply(load_project(root), preflight=False)
    assert await _names(root) == {}


async def test_template_payloads_in_data_arrive_verbatim(tmp_path: Path) -> None:
    root = tmp_path
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name"])
    for i, text in enumerate(DATA_PAYLOADS, start=1):
        writer.writerow([i, text])
    (root / "data").mkdir()
    (root / "data" / "rows.csv").write_text(buffer.getvalue())
    _project(root, "{{ row.name }}")
    result = await apply(load_project(root))
    assert result.ok
    names = await _names(root)
    assert names == {f"SAFE-{i}": text for i, text in enumerate(DATA_PAYLOADS, start=1)}


@pytest.mark.parametrize(
    "kind",
    ["dotdot", "absolute", "symlink_file", "symlink_dir", "json_dotdot", "jsonl_absolute"],
)
def test_source_paths_cannot_leave_the_project(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("id,name\n1,Leaked\n")
    (outside / "secret.json").write_text('[{"id": 1, "name": "Leaked"}]')
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    source = {
        "dotdot": 'csv = "../outside/secret.csv"',
        "absolute": f'csv = "{outside / "secret.csv"}"',
        "symlink_file": 'csv = "data/link.csv"',
        "symlink_dir": 'csv = "data/linked/secret.csv"',
        "json_dotdot": 'json = "data/../../outside/secret.json"',
        "jsonl_absolute": f'jsonl = "{outside / "secret.json"}"',
    }[kind]
    if kind == "symlink_file":
        os.symlink(outside / "secret.csv", root / "data" / "link.csv")
    if kind == "symlink_dir":
        os.symlink(outside, root / "data" / "linked")
    _project(root, "{{ row.name }}", source)
    runner = CliRunner()
    for verb in ("validate", "plan"):
        done = runner.invoke(main, [verb, "--project", str(root)])
        assert done.exit_code == 2, (verb, done.output)
        assert "project folder" in done.output, done.output
        assert "Leaked" not in done.output


async def test_sandbox_listens_on_loopback_with_fault_control_off_by_default() -> None:
    async with serve_sandbox() as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{sb.url}/__sandbox__/faults", json={"reset_rate": 1}) as r:
                assert r.status == 404
            async with http.get(f"{sb.url}/__sandbox__/faults") as r:
                assert r.status == 404
        assert not sb.faults.enabled
    async with serve_sandbox(fault_control=True) as sb, aiohttp.ClientSession() as http:
        async with http.post(f"{sb.url}/__sandbox__/faults", json={"latency_ms": 1}) as r:
            assert r.status == 200
        async with http.post(f"{sb.url}/__sandbox__/faults", json={"explode": 1}) as r:
            assert r.status == 400


def test_sandbox_cli_defaults_to_loopback() -> None:
    from zenoo_etl.cli.sandbox import sandbox

    params = {p.name: p for p in sandbox.params}
    assert params["host"].default == "127.0.0.1"
    flag = params["fault_control"]
    assert isinstance(flag, click.Option) and flag.is_flag
    # an unset flag is off: parse the command line without it
    context = sandbox.make_context("sandbox", [], resilient_parsing=True)
    assert context.params["fault_control"] is False
    assert context.params["host"] == "127.0.0.1"
