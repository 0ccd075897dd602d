"""A plan saved before the ledger existed is applied as is, until something is applied."""

from __future__ import annotations

from pathlib import Path

from .procs import zenoo

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


def test_plan_out_then_apply_on_a_brand_new_project(tmp_path: Path) -> None:
    (tmp_path / "zenoo.toml").write_text(
        '[project]\nname = "p"\n\n[targets.local]\nurl = "sandbox:.zenoo/sandbox.db"\n'
        'database = "etl"\nusername = "admin"\n'
    )
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_one.toml").write_text(MIGRATION)
    plan = tmp_path / "plan.json"
    made = zenoo(tmp_path, "plan", "--out", str(plan))
    assert made.returncode == 0, made.stderr
    done = zenoo(tmp_path, "apply", str(plan), "--yes")
    assert done.returncode == 0, done.stderr
    # the same plan is stale once it was applied: a second apply refuses it (exit 4)
    again = zenoo(tmp_path, "apply", str(plan), "--yes")
    assert again.returncode == 4
    assert "another ledger state" in again.stderr
