"""A plan saved before the ledger existed is applied as is, until something is applied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MIGRATION = """\
description = "one partner"

[[steps]]
id = "p"
model = "res.partner"
action = "create"
key = "{{ row.name }}"
records = [{ name = "Planned" }]

[steps.fields]
name = "{{ row.name }}"
"""


def _zenoo(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zenoo_etl", *args, "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plan_out_then_apply_on_a_brand_new_project(tmp_path: Path) -> None:
    (tmp_path / "zenoo.toml").write_text(
        '[project]\nname = "p"\n\n[targets.local]\nurl = "sandbox:.zenoo/sandbox.db"\n'
        'database = "etl"\nusername = "admin"\n'
    )
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_one.toml").write_text(MIGRATION)
    plan = tmp_path / "plan.json"
    made = _zenoo(tmp_path, "plan", "--out", str(plan))
    assert made.returncode == 0, made.stderr
    done = _zenoo(tmp_path, "apply", str(plan), "--yes")
    assert done.returncode == 0, done.stderr
    # the same plan is stale once it was applied: a second apply refuses it (exit 2)
    again = _zenoo(tmp_path, "apply", str(plan), "--yes")
    assert again.returncode == 2
    assert "another ledger state" in again.stderr
