"""Output and messages that tell the truth (issue 14), through the CLI over HTTP.

Every test runs ``zenoo-etl`` on a small project whose target is the embedded
sandbox (``sandbox:`` targets start it in-process and talk to it over HTTP),
or a sandbox server started for the test (for real-target behaviour: login
errors), and pins the exact output or message.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import load_project
from zenoo_etl.errors import ZenooError
from zenoo_etl.runner import RunFailed
from zenoo_etl.runner import apply as runner_apply
from zenoo_etl.sandbox import serve_sandbox

CONFIG = """\
[project]
name = "truth"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

PRODUCTS = """\
[[steps]]
id = "products"
model = "product.template"
action = "create"
source = { csv = "data/products.csv" }
key = "{{ row.code }}"
chunk_size = 10

[steps.fields]
name = "{{ row.name }}"
default_code = "{{ row.code }}"
list_price = "{{ row.price | float }}"
"""

CHANGES = """\
[[steps]]
id = "prices"
model = "product.template"
action = "update"
match = ["default_code"]
source = { csv = "data/products.csv" }
key = "{{ row.code }}"

[steps.values]
default_code = "{{ row.code }}"
list_price = "{{ (row.price | float) * 10 }}"

[[steps]]
id = "retire"
model = "product.template"
action = "delete"
archive = true
match = ["default_code"]
records = [{ code = "P001" }, { code = "P002" }]

[steps.fields]
default_code = "{{ row.code }}"
"""


def _csv(rows: int, bad: int | None = None) -> str:
    lines = ["code,name,price"]
    for i in range(1, rows + 1):
        lines.append(f"P{i:03d},{'' if i == bad else f'Product {i}'},{i}")
    return "\n".join(lines) + "\n"


def _project(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    (root / "zenoo.toml").write_text(config)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "migrations").mkdir(exist_ok=True)
    return root


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _progress(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(("migration ", "  step "))]


# -- run output ----------------------------------------------------------------------


def test_a_failed_step_says_failed_and_the_undo_is_told_once(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"migrations/0001_products.toml": PRODUCTS, "data/products.csv": _csv(60, bad=45)},
    )
    code, out, err = _invoke("apply", "--project", str(root), "--yes", "--no-progress")
    assert code == 1
    lines = _progress(out)
    assert lines[0] == "migration 0001_products: started (1 step(s))"
    assert lines[1] == "  step products: create product.template (60 record(s))"
    assert re.fullmatch(
        r"  step products: failed after \d+\.\ds \(created \d+ before the failure\)", lines[2]
    ), lines[2]
    assert lines[3:5] == [
        "migration 0001_products: rolling back what it did",
        "  step products: rollback product.template",
    ]
    assert re.fullmatch(r"  step products: done in \d+\.\ds \(deleted \d+\)", lines[5])
    assert lines[6:] == ["migration 0001_products: rolled_back"]  # once
    assert "done in" not in lines[2] and "started (1 step(s))" not in "".join(lines[1:])
    # the summary shows the failed step with what it had done, not '-'
    row = next(ln for ln in out.splitlines() if ln.startswith("│ 0001_products"))
    assert "│ products │ rolled_back │" in row
    assert "row 45 (data/products.csv:46), key 'P045', field 'name'" in err


def test_rollback_says_rolling_back_and_an_archive_is_an_archive(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "migrations/0001_products.toml": PRODUCTS,
            "migrations/0002_changes.toml": CHANGES,
            "data/products.csv": _csv(5),
        },
    )
    code, out, _err = _invoke("apply", "--project", str(root), "--yes", "--no-progress")
    assert code == 0
    assert "  step retire: archive product.template (2 record(s))" in out
    assert re.search(r"  step retire: done in \d+\.\ds \(archived 2\)", out)
    header = next(ln for ln in out.splitlines() if ln.startswith("┃ migration"))
    assert "┃ deleted ┃ archived ┃" in header
    row = next(ln for ln in out.splitlines() if "│ retire " in ln)
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[3:8] == ["0", "0", "0", "2", "0"]  # created updated deleted archived skipped

    code, out, _err = _invoke("status", "--project", str(root), "--json")
    counts = json.loads(out)["migrations"][1]["counts"]
    assert counts == {
        "created": 0,
        "updated": 5,
        "deleted": 0,
        "called": 0,
        "filtered": 0,
        "archived": 2,
    }
    code, out, _err = _invoke("status", "--project", str(root))
    assert "5 updated, 2 archived" in out and "deleted" not in out

    code, out, _err = _invoke("rollback", "--project", str(root), "--yes", "--no-progress")
    assert code == 0
    lines = _progress(out)
    assert lines[0] == "migration 0002_changes: rolling back"
    assert lines[-1] == "migration 0002_changes: rolled_back"
    assert "step(s))" not in "".join(lines)


def test_a_rollback_conflict_names_the_row_and_is_told_once(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "migrations/0001_products.toml": PRODUCTS,
            "migrations/0002_changes.toml": CHANGES,
            "data/products.csv": _csv(5),
        },
    )
    assert _invoke("apply", "--project", str(root), "--yes")[0] == 0

    async def edit() -> int:
        db = root / ".zenoo" / "sandbox.db"
        async with serve_sandbox(db_path=db) as sb:
            from zenoo_etl.client import ZenooClient

            async with ZenooClient(url=sb.url) as client:
                await client.login(sb.database, sb.username, sb.password)
                [pid] = await client.search("product.template", [["default_code", "=", "P003"]])
                await client.write("product.template", [pid], {"list_price": 99.0})
                return pid

    pid = asyncio.run(edit())
    code, out, err = _invoke("rollback", "--project", str(root), "--yes", "--no-progress")
    assert code == 1
    text = out + err
    assert text.count("changed by someone else") == 1  # the error alone; no warning, no note
    assert "WARNING" not in err
    assert (
        f"step 'prices' default_code 'P003' (id {pid}) field 'list_price': apply wrote 30.0, "
        "now 99.0."
    ) in err
    assert f"key '{pid}'" not in err


def test_ctrl_c_stops_the_bar_where_it_was_and_the_summary_has_the_counts(
    tmp_path: Path,
) -> None:
    """A real process and a real SIGINT: the step says stopped, the summary is whole."""
    root = _project(
        tmp_path,
        {
            "migrations/0001_products.toml": PRODUCTS.replace("chunk_size = 10", "chunk_size = 50"),
            "data/products.csv": _csv(999),
        },
    )
    (root / "migrations" / "0001_products.toml").write_text(
        PRODUCTS.replace("chunk_size = 10", "chunk_size = 50").replace(
            'source = { csv = "data/products.csv" }', 'source = { csv = "data/big.csv" }'
        )
    )
    (root / "data" / "big.csv").write_text(
        "code,name,price\n" + "".join(f"B{i:06d},Big {i},1\n" for i in range(60_000))
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zenoo_etl",
            "apply",
            "--project",
            str(root),
            "--yes",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    # wait until records are flowing, then press Ctrl-C
    first = proc.stdout.readline()
    assert first.startswith("migration 0001_products: started"), first
    assert proc.stdout.readline().startswith("  step products: create")
    progress = proc.stdout.readline()
    assert re.match(r"  step products: \d+/60000", progress), progress
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    lines = _progress(rest)
    stopped = next(ln for ln in lines if "stopped after" in ln)
    match = re.fullmatch(
        r"  step products: stopped after (\d+\.\d)s \(created (\d+)\); apply again to resume",
        stopped,
    )
    assert match, stopped
    created = int(match.group(2))
    assert 0 < created < 60_000
    assert lines[-1] == "migration 0001_products: failed"
    title = next(ln for ln in rest.splitlines() if "apply on local" in ln)
    assert "(0.0s)" not in title
    row = next(ln for ln in rest.splitlines() if ln.startswith("│ 0001_products"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[1:4] == ["products", "failed", str(created)]
    assert not any("done in" in ln for ln in lines)


def test_rich_progress_leaves_a_stopped_bar_where_it_was() -> None:
    import io

    from rich.console import Console

    from zenoo_etl.cli.apply import RichProgress
    from zenoo_etl.runner.progress import StepCounts

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with RichProgress(console) as progress:
        progress.migration_started(3, "customers", 1)
        progress.step_started("customers", "res.partner", "create", 10_000)
        progress.step_advanced("customers", 1_200)
        progress.step_failed("customers", StepCounts(created=1_200), 2.5, "stopped")
        progress.migration_finished(3, "customers", "failed")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())
    assert "1200/10000" in text and "10000/10000" not in text
    assert "customers: stopped after 2.5s (created 1200); apply again to resume" in text


# -- messages ------------------------------------------------------------------------


def test_toml_errors_name_file_and_line_in_text_and_json(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"migrations/0001_bad.toml": '[[steps]]\nid = "x"\nrecords = [{ name = "A" ]\n'},
    )
    code, out, _err = _invoke("validate", "--project", str(root))
    assert code == 2
    assert out.strip() == (
        "migrations/0001_bad.toml:3: invalid TOML at column 25: Unclosed inline table; "
        "fix the syntax."
    )
    code, out, _err = _invoke("validate", "--project", str(root), "--json")
    [problem] = json.loads(out)["problems"]
    assert (problem["file"], problem["line"]) == ("migrations/0001_bad.toml", 3)
    assert problem["message"].startswith("invalid TOML at column 25")


def test_status_shows_the_other_migrations_beside_a_broken_file(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "migrations/0001_products.toml": PRODUCTS,
            "migrations/0002_bad.toml": "[[steps]\n",
            "data/products.csv": _csv(3),
        },
    )
    code, out, _err = _invoke("status", "--project", str(root), "--json")
    assert code == 0
    rows = json.loads(out)["migrations"]
    assert [(r["version"], r["status"]) for r in rows] == [(1, "pending"), (2, "invalid")]
    assert rows[1]["error"].startswith("migrations/0002_bad.toml:1: invalid TOML")
    code, out, _err = _invoke("status", "--project", str(root))
    assert code == 0
    assert "0002 bad: migrations/0002_bad.toml:1: invalid TOML" in out


TYPO = """\
[[steps]]
id = "typo"
model = "res.partner"
action = "create"
records = [{ name = "A" }]

[steps.fields]
name = "{{ row.name }}"
emial = "a@example.com"
"""


def test_a_field_typo_at_apply_names_the_line_and_suggests(tmp_path: Path) -> None:
    root = _project(tmp_path, {"migrations/0001_typo.toml": TYPO})
    # the preflight (validate's checks before the first write) says it with a suggestion
    code, _out, err = _invoke("apply", "--project", str(root), "--yes", "--no-progress")
    assert code == 2
    assert (
        "  migrations/0001_typo.toml:9, step 'typo', field 'emial': model 'res.partner' has "
        "no field 'emial' (did you mean 'email'?)\n"
    ) in err
    # and so does the runner itself when the preflight is skipped
    args = ("apply", "--project", str(root), "--yes", "--no-progress", "--no-preflight")
    code, _out, err = _invoke(*args)
    assert code == 1
    assert err.strip() == (
        "Error: Migration migrations/0001_typo.toml failed at step 'typo' (create res.partner), "
        "field 'emial' (migrations/0001_typo.toml:9): model 'res.partner' has no field 'emial' "
        "(did you mean 'email'?). Everything this migration did was rolled back (0 record(s) "
        "undone). Fix the data or the migration, then run 'zenoo-etl apply' again."
    )


def test_an_unknown_model_at_apply_gives_one_hint(tmp_path: Path) -> None:
    ghost = TYPO.replace('model = "res.partner"', 'model = "x.ghost"').replace(
        'emial = "a@example.com"\n', ""
    )
    root = _project(tmp_path, {"migrations/0001_ghost.toml": ghost})
    args = ("apply", "--project", str(root), "--yes", "--no-progress", "--no-preflight")
    code, _out, err = _invoke(*args)
    assert code == 1
    assert err.strip() == (
        "Error: Migration migrations/0001_ghost.toml failed at step 'typo' (create x.ghost), "
        "migrations/0001_ghost.toml:1: model 'x.ghost' does not exist on the target (Odoo "
        "said: Object x.ghost doesn't exist); check the model name and that the module "
        "defining it is installed. Everything this migration did was rolled back (0 record(s) "
        "undone). Fix the data or the migration, then run 'zenoo-etl apply' again."
    )
    assert "Fix the data or the call" not in err


class _LightsOut:
    """An Odoo target whose ``search`` fails with a message that has no full stop."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def search(self, *args: Any, **kwargs: Any) -> Any:
        raise ZenooError("the server went away")


async def test_a_message_ending_without_a_full_stop_gets_one(tmp_path: Path) -> None:
    domain = (
        '[[steps]]\nid = "all"\nmodel = "res.partner"\naction = "update"\n'
        'domain = [["id", ">", 0]]\nvalues = { comment = "x" }\n'
    )
    root = _project(tmp_path, {"migrations/0001_all.toml": domain})
    with pytest.raises(RunFailed) as info:
        await runner_apply(load_project(root), wrap_target=_LightsOut)
    assert str(info.value) == (
        "Migration migrations/0001_all.toml failed: the server went away. Everything this "
        "migration did was rolled back (0 record(s) undone). Fix the data or the migration, "
        "then run 'zenoo-etl apply' again."
    )


def _remote_config(url: str, database: str = "etl", secret: str = "password_env") -> str:
    return (
        '[project]\nname = "remote"\n\n[targets.remote]\n'
        f'url = "{url}"\ndatabase = "{database}"\nusername = "admin"\n'
        f'{secret} = "ZT_REMOTE_SECRET"\n'
    )


async def test_a_wrong_password_exits_2_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZT_REMOTE_SECRET", "not-the-password")
    async with serve_sandbox() as sb:
        root = _project(tmp_path, {"migrations/0001_typo.toml": TYPO}, _remote_config(sb.url))
        args = ("apply", "--project", str(root), "--yes")
        code, _out, err = await asyncio.to_thread(_invoke, *args)
    assert code == 2
    assert err.strip() == (
        "Error: zenoo.toml: target 'remote': login of user 'admin' on database 'etl' was "
        "rejected. Check the password in $ZT_REMOTE_SECRET (password_env), the login "
        "username = 'admin' and database = 'etl'."
    )
    assert "not-the-password" not in err


async def test_a_wrong_database_on_19_exits_2_listing_the_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve_sandbox(version="19.0") as sb:
        monkeypatch.setenv("ZT_REMOTE_SECRET", sb.api_key)
        config = _remote_config(sb.url, "prod", "api_key_env")
        root = _project(tmp_path, {"migrations/0001_typo.toml": TYPO}, config)
        args = ("validate", "--project", str(root), "--refresh")
        code, _out, err = await asyncio.to_thread(_invoke, *args)
    assert code == 2
    assert err.strip() == (
        f"Error: zenoo.toml: target 'remote': database 'prod' does not exist on the server at "
        f'{sb.url} (the server lists: etl); fix database = "prod" in [targets.remote].'
    )
    assert "HTTP 404" not in err and sb.api_key not in err


def test_init_says_to_cd_into_the_new_project(tmp_path: Path) -> None:
    code, out, _err = _invoke("init", str(tmp_path / "my proj"))
    assert code == 0
    assert out.splitlines()[-1] == (
        f"Next: `cd '{tmp_path / 'my proj'}' && zenoo-etl plan` to see what the example "
        "migration would do."
    )


def test_the_confirmation_prompt_shows_y_n_on_a_terminal(tmp_path: Path) -> None:
    """In a real pseudo-terminal: rich must not eat '[y/N]' as markup."""
    root = _project(
        tmp_path, {"migrations/0001_products.toml": PRODUCTS, "data/products.csv": _csv(3)}
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zenoo_etl", "apply", "--project", str(root)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while b"Proceed?" not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 4096)
        while not seen.rstrip().endswith(b":") and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 4096)
        os.write(leader, b"n\n")
        assert proc.wait(timeout=60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode()
    assert "Proceed? [y/N]:" in text, text


# -- plan ----------------------------------------------------------------------------

PLAN_CHANGES = """\
[[steps]]
id = "prices"
model = "product.template"
action = "update"
match = ["default_code"]
source = { csv = "data/products.csv" }
key = "{{ row.code }}"

[steps.values]
default_code = "{{ row.code }}"
list_price = "{{ (row.price | float) * (2 if row.code < 'P013' else 1) }}"

[[steps]]
id = "cheap"
model = "product.template"
action = "update"
domain = [["list_price", "<", 5]]
values = { sale_ok = false }
"""


def test_plan_says_a_domain_step_is_counted_at_apply_and_diff_counts_it(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"migrations/0001_products.toml": PRODUCTS, "data/products.csv": _csv(30)},
    )
    assert _invoke("apply", "--project", str(root), "--yes", "--quiet")[0] == 0
    (root / "migrations" / "0002_changes.toml").write_text(PLAN_CHANGES)

    code, out, _err = _invoke("plan", "--project", str(root), "-v")
    assert code == 0
    row = next(ln for ln in out.splitlines() if "cheap: update" in ln)
    assert "at apply" in row
    assert "30 + domain" in out
    assert out.splitlines()[-1] == (
        "1 pending migration(s), 30 record(s) in 2 chunk(s); 1 domain step(s) select their "
        "records at apply ('plan --diff' counts them now)."
    )

    code, out, _err = _invoke("plan", "--project", str(root), "--diff")
    assert code == 0
    lines = out.splitlines()
    at = lines.index("0002 prices: update 12, unchanged 18")
    assert lines[at + 1 : at + 3] == [
        "  P001 (id 1): list_price 1.0 → 2.0",
        "  P002 (id 2): list_price 2.0 → 4.0",
    ]
    assert lines[at + 11] == "  ... and 2 more record(s) ('plan --diff --json' lists them all)"
    at = lines.index("0002 cheap: found 4 by the domain, update 4, unchanged 0")
    assert lines[at + 1] == "  id 1: sale_ok True → False"
    assert lines[-1] == "1 pending migration(s), 34 record(s) in 2 chunk(s)."

    code, out, _err = _invoke("plan", "--project", str(root), "--diff", "--json")
    steps = {s["id"]: s for s in json.loads(out)["migrations"][1]["steps"]}
    assert len(steps["prices"]["changes"]) == 12  # all of them, not the first ten
    assert steps["prices"]["changes"][11] == {
        "key": "P012",
        "id": 12,
        "fields": {"list_price": {"from": 12.0, "to": 24.0}},
    }
    assert steps["cheap"]["diff"] == {"found": 4, "update": 4, "unchanged": 0, "unresolved": 0}


def test_log_lines_follow_stderr_and_skip_warnings_already_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While rich draws bars it replaces sys.stderr with a proxy that prints above them;
    the log handler must write to that proxy, not to the stderr it was created with."""
    import io
    import logging

    from zenoo_etl.cli.common import _not_shown_already, _StderrHandler

    handler = _StderrHandler()
    handler.addFilter(_not_shown_already)
    logger = logging.getLogger("zenoo_etl.test_truth")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        proxy = io.StringIO()
        monkeypatch.setattr(sys, "stderr", proxy)
        logger.warning("SIGINT received")
        logger.warning("already printed as 'Warning: ...'", extra={"zenoo_shown": True})
    finally:
        logger.removeHandler(handler)
    assert proxy.getvalue() == "SIGINT received\n"
