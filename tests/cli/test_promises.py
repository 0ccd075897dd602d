"""Issue 16: the promises hold off the happy path.

Each test is one numbered scenario of the issue, run through the CLI against
the sandbox over HTTP (``sandbox:`` targets start the embedded server).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zenoo_etl.cli import main

REGIONS_CONFIG = """\
[project]
name = "regions"

[vars]
regions = "north,south,east"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

REGIONS = """\
{% for region in vars.regions.split(",") %}
[[steps]]
id = "region-{{ region }}"
model = "res.partner.category"
action = "create"
key = "{{ row.name }}"
records = [{ name = "{{ region }}" }]

[steps.fields]
name = "Region {{ '{{' }} row.name {{ '}}' }}"
{% endfor %}
"""

PHONES_CONFIG = REGIONS_CONFIG.replace('name = "regions"', 'name = "phones"')

PARTNERS = """\
[[steps]]
id = "partners"
model = "res.partner"
action = "create"
source = { csv = "data/partners.csv" }
key = "{{ row.id }}"

[steps.fields]
name = "{{ row.name }}"
"""

PHONES = """\
[[steps]]
id = "phones"
model = "res.partner"
action = "update"
source = { csv = "data/phones.csv" }
match = ["name"]

[steps.values]
name = "{{ row.name }}"
phone = "{{ row.phone }}"
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _regions_project(root: Path) -> Path:
    (root / "zenoo.toml").write_text(REGIONS_CONFIG)
    (root / "migrations").mkdir()
    (root / "migrations" / "0001_regions.toml.j2").write_text(REGIONS)
    return root


def _applied_steps(out: str) -> list[str]:
    return [s["id"] for m in json.loads(out)["migrations"] for s in m["steps"]]


def test_1_a_saved_plan_runs_with_the_vars_it_was_made_with(tmp_path: Path) -> None:
    root = _regions_project(tmp_path)
    plan = tmp_path / "plan.json"
    code, out, err = invoke(
        "plan", "--project", str(root), "--var", "regions=north", "--out", str(plan), "--json"
    )
    assert code == 0, err
    assert [s["id"] for s in json.loads(out)["migrations"][0]["steps"]] == ["region-north"]
    code, out, err = invoke("apply", str(plan), "--project", str(root), "--yes", "--json")
    assert code == 0, err
    assert _applied_steps(out) == ["region-north"]


def test_1_a_saved_plan_refuses_an_edited_var_naming_it(tmp_path: Path) -> None:
    root = _regions_project(tmp_path)
    plan = tmp_path / "plan.json"
    assert invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    config = root / "zenoo.toml"
    config.write_text(config.read_text().replace("north,south,east", "north"))
    code, _out, err = invoke("apply", str(plan), "--project", str(root), "--yes")
    assert code == 4
    assert "var 'regions' is 'north' now, the plan used 'north,south,east'" in err
    assert "nothing was applied" in err
    # and nothing was: the target is untouched, a fresh plan applies
    assert invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    code, out, err = invoke("apply", str(plan), "--project", str(root), "--yes", "--json")
    assert code == 0, err
    assert _applied_steps(out) == ["region-north"]


def test_1_a_saved_plan_refuses_a_changed_setting_or_file(tmp_path: Path) -> None:
    root = _regions_project(tmp_path)
    plan = tmp_path / "plan.json"
    assert invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    config = root / "zenoo.toml"
    original = config.read_text()
    config.write_text(original + '\n[runner]\non_error = "stop"\n')
    code, _out, err = invoke("apply", str(plan), "--project", str(root), "--yes")
    assert code == 4
    assert "setting [runner] on_error is 'stop' now, the plan used 'rollback'" in err
    config.write_text(original)
    migration = root / "migrations" / "0001_regions.toml.j2"
    migration.write_text(migration.read_text().replace("Region ", "Area "))
    code, _out, err = invoke("apply", str(plan), "--project", str(root), "--yes")
    assert code == 4
    assert "migrations/0001_regions.toml.j2 changed" in err


def test_1_plans_of_an_older_format_or_another_target_are_refused(tmp_path: Path) -> None:
    root = _regions_project(tmp_path)
    plan = tmp_path / "plan.json"
    assert invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    data = json.loads(plan.read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**data, "format": 1}))
    code, _out, err = invoke("apply", str(old), "--project", str(root), "--yes")
    assert code == 4
    assert "older zenoo-etl (plan format 1" in err and "zenoo-etl plan --out" in err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "target": {**data["target"], "name": "prod"}}))
    code, _out, err = invoke("apply", str(other), "--project", str(root), "--yes")
    assert code == 4
    assert "for target 'prod'" in err and "--target prod" in err


def _phones_project(root: Path) -> Path:
    (root / "zenoo.toml").write_text(PHONES_CONFIG)
    (root / "migrations").mkdir()
    (root / "migrations" / "0001_partners.toml").write_text(PARTNERS)
    (root / "migrations" / "0002_phones.toml").write_text(PHONES)
    (root / "data").mkdir()
    (root / "data" / "partners.csv").write_text("id,name\n1,Ann\n2,Ben\n")
    (root / "data" / "phones.csv").write_text("name,phone\nAnn,111\nBen,222\n")
    return root


def test_5_drift_and_stale_plans_name_the_source_file_that_changed(tmp_path: Path) -> None:
    root = _phones_project(tmp_path)
    plan = tmp_path / "plan.json"
    assert invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    (root / "data" / "phones.csv").write_text("name,phone\nAnn,111\nBen,333\n")
    code, _out, err = invoke("apply", str(plan), "--project", str(root), "--yes")
    assert code == 4
    assert "migrations/0002_phones.toml: its source data/phones.csv changed" in err
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    (root / "data" / "phones.csv").write_text("name,phone\nAnn,999\nBen,333\n")
    expected = "migrations/0002_phones.toml: its source data/phones.csv changed"
    code, _out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 4 and expected in err
    code, _out, err = invoke("plan", "--project", str(root))
    assert code == 4 and expected in err
    # the migration file itself: named alone
    (root / "data" / "phones.csv").write_text("name,phone\nAnn,111\nBen,333\n")
    migration = root / "migrations" / "0002_phones.toml"
    migration.write_text(migration.read_text() + "\n# a comment\n")
    code, _out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 4
    assert "migrations/0002_phones.toml changed" in err and "data/phones.csv" not in err
