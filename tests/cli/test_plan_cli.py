"""`zenoo-etl plan` and `zenoo-etl validate` from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import load_project
from zenoo_etl.compiler.schema import cache_path, write_cache
from zenoo_etl.ledger import open_ledger

CONFIG = """\
[project]
name = "cli"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"

[targets.prod]
url = "https://erp.invalid"
database = "prod"
username = "bot"
password_env = "ZT_NEVER_SET"
"""

M1 = """\
description = "Import customers"

[[steps]]
id = "customers"
model = "res.partner"
action = "create"
source = { csv = "data/c.csv" }
key = "{{ row.id }}"
chunk_size = 2

[steps.fields]
name = "{{ row.name }}"
is_company = "{{ row.kind == 'company' }}"
type = "{{ row.type }}"
color = "{{ row.color }}"
country_id = { xmlid = "base.{{ row.country | lower }}" }
"""

M2 = """\
description = "Tags"

[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
records = [{ name = "a" }]
fields = { name = "{{ row.name }}" }

[[steps]]
id = "post"
model = "account.move"
action = "call"
method = "action_post"
"""

CSV = (
    "id,name,kind,type,color,country\n"
    "1,A,company,contact,1,US\n2,B,person,invoice,2,DE\n3,C,person,other,3,FR\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "migrations").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "zenoo.toml").write_text(CONFIG)
    (root / "migrations" / "0001_customers.toml").write_text(M1)
    (root / "migrations" / "0002_tags.toml").write_text(M2)
    (root / "data" / "c.csv").write_text(CSV)
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_prints_exactly_one_object(project: Path) -> None:
    code, out, err = invoke("plan", "--project", str(project), "--json")
    assert code == 0, err
    data = json.loads(out)  # nothing else on stdout
    assert data["target"]["name"] == "local"
    assert [m["version"] for m in data["migrations"]] == [1, 2]
    step = data["migrations"][0]["steps"][0]
    assert (step["id"], step["records"], step["chunks"], step["reversible"]) == (
        "customers",
        3,
        2,
        True,
    )
    assert data["migrations"][1]["steps"][1]["reversible"] is False
    assert data["drift"] == []
    assert not (project / ".zenoo" / "ledger.db").exists()  # planning creates no ledger


def test_plan_out_saves_identical_json_twice(project: Path) -> None:
    out_file = project / "plan.json"
    assert invoke("plan", "--project", str(project), "--out", str(out_file))[0] == 0
    first = out_file.read_bytes()
    assert invoke("plan", "--project", str(project), "--out", str(out_file))[0] == 0
    assert out_file.read_bytes() == first
    assert json.loads(first)["migrations"][0]["checksum"]


def test_plan_table(project: Path) -> None:
    code, out, _ = invoke("plan", "--project", str(project), "-v")
    assert code == 0
    for text in ("version", "reversible", "0001", "Import customers", "pending", "NO", "customers"):
        assert text in out
    assert "2 pending migration(s), 4 record(s) in 4 chunk(s)." in out
    assert "Irreversible (a call step without undo): 0002_tags." in out


def test_plan_bad_migration_exits_2_without_traceback(project: Path) -> None:
    (project / "migrations" / "0003_bad.toml").write_text(
        '[[steps]]\nid = "x"\nmodel = "res.partner"\naction = "nuke"\n'
    )
    code, out, err = invoke("plan", "--project", str(project))
    assert code == 2
    assert "Traceback" not in out + err
    assert "migrations/0003_bad.toml:4" in err and "step 'x'" in err


def test_plan_bad_row_names_file_line_step_row(project: Path) -> None:
    (project / "data" / "c.csv").write_text("id,name\n1,A\n")
    code, _, err = invoke("plan", "--project", str(project))
    assert code == 2
    assert "data/c.csv:2, step 'customers', row 1" in err and "'kind'" in err


async def _mark_applied(root: Path, version: int, checksum: str) -> None:
    project = load_project(root, environ={})
    async with open_ledger(project.config.ledger.url, root) as ledger:
        scope = ledger.scope(project.target.url, project.target.database)
        await scope.begin_migration(version, "customers", checksum)
        await scope.set_status(version, "applied")


def test_plan_reads_applied_versions_from_the_ledger_and_refuses_drift(project: Path) -> None:
    checksum = load_project(project, environ={}).migrations[0].checksum
    asyncio.run(_mark_applied(project, 1, checksum))
    code, out, err = invoke("plan", "--project", str(project), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [m["status"] for m in data["migrations"]] == ["applied", "pending"]
    assert data["ledger_position"]

    (project / "data" / "c.csv").write_text(CSV + "4,D,person,contact,4,US\n")
    code, out, err = invoke("plan", "--project", str(project))
    assert code == 4
    assert "migrations/0001_customers.toml (the file or one of its sources) changed" in err
    assert "--allow-drift" in err
    code, out, err = invoke("plan", "--project", str(project), "--allow-drift", "--json")
    assert code == 0
    assert json.loads(out)["drift"][0]["file"] == "migrations/0001_customers.toml"


SCHEMA = {
    "res.partner": {
        "name": {"type": "char", "required": False},
        "is_company": {"type": "boolean"},
        "type": {
            "type": "selection",
            "selection": [["contact", "Contact"], ["invoice", "Invoice"], ["other", "Other"]],
        },
        "color": {"type": "integer"},
        "country_id": {"type": "many2one", "relation": "res.country"},
        "lang": {"type": "char", "required": True},
    },
    "res.partner.category": {"name": {"type": "char", "required": True}},
    "account.move": None,
}


def test_validate_reports_every_problem_at_once(project: Path) -> None:
    root = load_project(project, target="prod", environ={})
    write_cache(cache_path(root), SCHEMA)
    (project / "data" / "c.csv").write_text(
        "id,name,kind,type,color,country\n1,A,company,contact,1,US\n2,B,person,bogus,x,DE\n"
    )
    m1 = (project / "migrations" / "0001_customers.toml").read_text()
    (project / "migrations" / "0001_customers.toml").write_text(m1 + 'nmae = "typo"\n')
    code, out, err = invoke("validate", "--project", str(project), "--target", "prod")
    assert code == 2
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert any(
        "field 'nmae'" in line and "has no field 'nmae'" in line and "did you mean 'name'" in line
        for line in lines
    )
    assert any(
        "data/c.csv:3, step 'customers', row 2, field 'type'" in line and "'bogus'" in line
        for line in lines
    )
    assert any("row 2, field 'color'" in line and "not an integer" in line for line in lines)
    assert any("required field 'lang'" in line for line in lines)
    assert any("model 'account.move' does not exist" in line for line in lines)
    assert "5 problem(s)" in err

    code, out, _ = invoke("validate", "--project", str(project), "--target", "prod", "--json")
    assert code == 2
    data = json.loads(out)
    assert data["ok"] is False and len(data["problems"]) == 5
    assert {"file", "line", "step", "row", "field", "message"} == set(data["problems"][0])


def test_validate_clean_project(project: Path) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["res.partner"]["lang"]["required"] = False
    schema["account.move"] = {"name": {"type": "char"}}
    write_cache(cache_path(load_project(project, target="prod", environ={})), schema)
    code, out, err = invoke("validate", "--project", str(project), "--target", "prod")
    assert code == 0, out + err
    assert "valid" in out


def test_validate_refresh_needs_the_secret(project: Path) -> None:
    code, _, err = invoke("validate", "--project", str(project), "--target", "prod", "--refresh")
    assert code == 2
    assert "ZT_NEVER_SET" in err and "Traceback" not in err


def test_validate_sandbox_target_uses_the_sandbox_schema(project: Path) -> None:
    m2 = project / "migrations" / "0002_tags.toml"
    m2.write_text(m2.read_text().replace('"account.move"', '"x_unknown.model"'))
    code, out, err = invoke("validate", "--project", str(project))
    assert code == 2, out + err
    # the sandbox serves every model of its recorded Odoo (account.move too), not this one
    assert "model 'x_unknown.model' does not exist on the target" in out
    assert "account.move" not in out
    assert "res.partner" not in out  # every partner field of the migration exists there
    assert not (project / ".zenoo" / "schema").exists()  # no cache for sandboxes


DIFF_BASE = """\
[[steps]]
id = "people"
model = "res.partner"
action = "create"
key = "{{ row.r }}"
records = [{ r = "A", n = "Alpha", c = "us" }, { r = "B", n = "Beta", c = "us" }]

[steps.fields]
name = "{{ row.n }}"
ref = "{{ row.r }}"
country_id = { xmlid = "base.{{ row.c }}" }
"""

DIFF_UPSERT = """\
[[steps]]
id = "people-sync"
model = "res.partner"
action = "upsert"
match = ["ref"]
key = "{{ row.r }}"
records = [
  { r = "A", n = "Alpha", c = "us" },
  { r = "B", n = "Beta 2", c = "de" },
  { r = "D", n = "Delta", c = "us" },
  { r = "E", n = "Echo", c = "zz" },
]

[steps.fields]
name = "{{ row.n }}"
ref = "{{ row.r }}"
country_id = { xmlid = "base.{{ row.c }}" }
"""


def test_plan_diff_splits_upserts_by_reading_the_target(tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "migrations").mkdir(parents=True)
    (root / "zenoo.toml").write_text(CONFIG)
    (root / "migrations" / "0001_base.toml").write_text(DIFF_BASE)
    code, out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 0, out + err
    (root / "migrations" / "0002_sync.toml").write_text(DIFF_UPSERT)

    code, out, err = invoke("plan", "--project", str(root), "--diff", "--json")
    assert code == 0, err
    step = json.loads(out)["migrations"][1]["steps"][0]
    assert step["diff"] == {"create": 1, "update": 1, "unchanged": 1, "unresolved": 1}
    code, out, _ = invoke("plan", "--project", str(root), "--diff")
    assert "0002 people-sync: create 1, update 1, unchanged 1, unresolved 1" in out
    # Without --diff the target is not read and the plan says nothing about it.
    code, out, _ = invoke("plan", "--project", str(root), "--json")
    assert json.loads(out)["migrations"][1]["steps"][0]["diff"] is None
