"""``zenoo-etl rollback`` exit codes and output when records changed or vanished since apply."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client import ZenooClient
from zenoo_etl.sandbox import serve_sandbox

CONFIG = """\
[project]
name = "cli-rollback"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

PARTNERS = """\
[[steps]]
id = "partners"
model = "res.partner"
action = "create"
key = "{{ row.n }}"
records = [{ n = 1, name = "Alice" }, { n = 2, name = "Bob" }, { n = 5, name = "Eve" }]

[steps.fields]
name = "{{ row.name }}"
ref = "LEG-{{ row.n }}"
"""

ANNA = """\
[[steps]]
id = "rename-alice"
model = "res.partner"
action = "update"
domain = [["ref", "=", "LEG-1"]]

[steps.values]
name = "Alice Renamed"
"""


def _project(root: Path) -> Path:
    (root / "zenoo.toml").write_text(CONFIG)
    (root / "migrations").mkdir()
    (root / "migrations" / "0001_partners.toml").write_text(PARTNERS)
    return root


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _odoo(root: Path, method: str, *args: Any) -> Any:
    async def go() -> Any:
        db = root / ".zenoo" / "sandbox.db"
        async with serve_sandbox(db_path=db) as sb, ZenooClient(url=sb.url) as client:
            await client.login(sb.database, sb.username, sb.password)
            return await client.execute_kw("res.partner", method, list(args), {})

    return asyncio.run(go())


def test_rollback_exits_1_on_a_record_changed_since_apply_and_force_overwrites(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    (root / "migrations" / "0002_rename.toml").write_text(ANNA)
    assert _invoke("apply", "--project", str(root), "--yes")[0] == 0
    alice = _odoo(root, "search", [["ref", "=", "LEG-1"]])
    _odoo(root, "write", alice, {"name": "Alice By Hand"})

    code, out, err = _invoke("rollback", "--project", str(root), "--yes", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["error"]["exit_code"] == 1
    [migration] = data["migrations"]
    assert migration["status"] == "changed_since_apply"
    assert migration["steps"][0]["changed_since_apply"] == [
        {
            "key": str(alice[0]),
            "odoo_id": alice[0],
            "field": "name",
            "written": "Alice Renamed",
            "current": "Alice By Hand",
        }
    ]
    message = err.removeprefix("Error: ").strip()
    assert "migrations/0002_rename.toml" in message and "step 'rename-alice'" in message
    assert f"record id {alice[0]} field 'name'" in message and "--force" in message

    code, out, _err = _invoke("rollback", "--project", str(root), "--yes", "--force")
    assert code == 0, out
    assert _odoo(root, "read", alice, ["name"])[0]["name"] == "Alice"


def test_rollback_reports_deleted_records_and_exits_0(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _invoke("apply", "--project", str(root), "--yes")[0] == 0
    gone = _odoo(root, "search", [["ref", "in", ["LEG-2", "LEG-5"]]])
    _odoo(root, "unlink", gone)

    code, out, err = _invoke("rollback", "--project", str(root), "--yes", "--last", "1")
    assert code == 0
    # told once, as a warning on stderr (not again in the log or under the table)
    warnings = [line for line in (out + err).splitlines() if "already deleted" in line]
    assert warnings == [
        "Warning: migrations/0001_partners.toml step 'partners': 2 res.partner record(s) were "
        "already deleted by someone else and were skipped "
        f"(ids {', '.join(str(i) for i in sorted(gone))})"
    ]
    assert _odoo(root, "search", [["ref", "like", "LEG-"]]) == []
