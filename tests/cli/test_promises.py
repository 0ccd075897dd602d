"""Issue 16: the promises hold off the happy path.

Each test is one numbered scenario of the issue, run through the CLI against
the sandbox over HTTP (``sandbox:`` targets start the embedded server).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client import ZenooClient
from zenoo_etl.sandbox import serve_sandbox

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


COMPANIES = """\
[[steps]]
id = "companies"
model = "res.partner"
action = "create"
key = "{{ row.code }}"
records = [
  { code = "A", name = "Acme Corp" },
  { code = "B", name = "Bolt Ltd" },
  { code = "C", name = "Cargo SA" },
]

[steps.fields]
name = "{{ row.name }}"
is_company = "{{ true }}"
ref = "{{ vars.prefix }}-{{ row.code }}"
"""


def _companies_project(root: Path, name: str = "crm", extra: str = "", db: str = "") -> Path:
    root.mkdir(exist_ok=True)
    config = PHONES_CONFIG.replace('name = "phones"', f'name = "{name}"{extra}')
    config = config.replace('regions = "north,south,east"', f'prefix = "{name}"')
    if db:
        config = config.replace("sandbox:.zenoo/sandbox.db", f"sandbox:{db}")
    (root / "zenoo.toml").write_text(config)
    (root / "migrations").mkdir()
    (root / "migrations" / "0001_companies.toml").write_text(COMPANIES)
    return root


def _odoo(db: Path, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with serve_sandbox(db_path=db) as sb, ZenooClient(url=sb.url) as client:
            await client.login(sb.database, sb.username, sb.password)
            return await client.execute_kw(model, method, list(args), kwargs)

    return asyncio.run(go())


def _companies(db: Path) -> dict[str, str]:
    rows = _odoo(db, "res.partner", "search_read", [["ref", "like", "-"]], fields=["ref", "name"])
    return {r["ref"]: r["name"] for r in rows}


def test_3_a_lost_ledger_never_overwrites_a_users_edit(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    db = root / ".zenoo" / "sandbox.db"
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    [acme] = _odoo(db, "res.partner", "search", [["ref", "=", "crm-A"]])
    _odoo(db, "res.partner", "write", [acme], {"name": "Acme Corp (edited by a user)"})
    (root / ".zenoo" / "ledger.db").unlink()  # the ledger is lost
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 4, out + err
    assert (
        "migrations/0001_companies.toml step 'companies': 3 res.partner record(s) carry its "
        "external ids (first keys: A, B, C)" in err
    )
    assert "zenoo-etl ledger adopt" in err and "--force" in err
    assert _companies(db)["crm-A"] == "Acme Corp (edited by a user)"
    # adopt: recorded as the migration's own, nothing written; apply then finishes it
    code, out, err = invoke("ledger", "adopt", "--project", str(root))
    assert code == 0, err
    assert "step 'companies': adopted 3 existing record(s)" in out
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    [step] = json.loads(out)["migrations"][0]["steps"]
    assert (step["created"], step["skipped"]) == (0, 3)
    assert _companies(db)["crm-A"] == "Acme Corp (edited by a user)"
    assert len(_companies(db)) == 3


def test_3_force_overwrites_as_updates_that_rollback_restores(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    db = root / ".zenoo" / "sandbox.db"
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    [acme] = _odoo(db, "res.partner", "search", [["ref", "=", "crm-A"]])
    _odoo(db, "res.partner", "write", [acme], {"name": "Acme Corp (edited by a user)"})
    (root / ".zenoo" / "ledger.db").unlink()
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--json", "--force")
    assert code == 0, err
    [step] = json.loads(out)["migrations"][0]["steps"]
    assert (step["created"], step["updated"]) == (0, 3)  # never "created 3"
    assert _companies(db)["crm-A"] == "Acme Corp"
    code, out, err = invoke("rollback", "--project", str(root), "--yes", "--force")
    assert code == 0, out + err
    # the records existed before: rollback restores the user's values, deletes nothing
    assert _companies(db) == {
        "crm-A": "Acme Corp (edited by a user)",
        "crm-B": "Bolt Ltd",
        "crm-C": "Cargo SA",
    }


def test_4_two_projects_on_one_database_keep_their_own_records(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    one = _companies_project(tmp_path / "one", "one", '\nid = "p-one"', db=str(shared))
    two = _companies_project(tmp_path / "two", "two", '\nid = "p-two"', db=str(shared))
    code, out, err = invoke("apply", "--project", str(one), "--yes", "--json")
    assert code == 0, err
    code, out, err = invoke("apply", "--project", str(two), "--yes", "--json")
    assert code == 0, err
    [step] = json.loads(out)["migrations"][0]["steps"]
    assert step["created"] == 3
    assert _companies(shared) == {
        "one-A": "Acme Corp",
        "one-B": "Bolt Ltd",
        "one-C": "Cargo SA",
        "two-A": "Acme Corp",
        "two-B": "Bolt Ltd",
        "two-C": "Cargo SA",
    }
    # each rollback undoes its own records only, without "changed since apply"
    code, out, err = invoke("rollback", "--project", str(one), "--yes")
    assert code == 0, out + err
    assert sorted(_companies(shared)) == ["two-A", "two-B", "two-C"]
    code, out, err = invoke("rollback", "--project", str(two), "--yes")
    assert code == 0, out + err
    assert _companies(shared) == {}


def test_4_projects_without_an_id_collide_loudly_not_silently(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    one = _companies_project(tmp_path / "one", "one", db=str(shared))
    two = _companies_project(tmp_path / "two", "two", db=str(shared))
    assert invoke("apply", "--project", str(one), "--yes")[0] == 0
    code, _out, err = invoke("apply", "--project", str(two), "--yes")
    assert code == 4
    assert "3 res.partner record(s) carry its external ids" in err
    assert sorted(_companies(shared)) == ["one-A", "one-B", "one-C"]


def test_4_init_writes_a_project_id(tmp_path: Path) -> None:
    code, _out, err = invoke("init", str(tmp_path / "a"))
    assert code == 0, err
    assert invoke("init", str(tmp_path / "b"))[0] == 0
    ids = [
        line
        for folder in ("a", "b")
        for line in (tmp_path / folder / "zenoo.toml").read_text().splitlines()
        if line.startswith("id = ")
    ]
    assert len(ids) == 2 and ids[0] != ids[1]
    shutil.rmtree(tmp_path / "a")


@contextmanager
def _served(db: Path) -> Iterator[int]:
    """A sandbox over HTTP on a real port for the whole block (its own loop and thread)."""
    ready = threading.Event()
    stop: dict[str, Any] = {}

    async def serve() -> None:
        async with serve_sandbox(db_path=db) as sb:
            stop["port"] = sb.port
            stop["event"] = asyncio.Event()
            stop["loop"] = asyncio.get_running_loop()
            ready.set()
            await stop["event"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(60)
    try:
        yield int(stop["port"])
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(30)


def _remote_project(root: Path, url: str) -> Path:
    _companies_project(root)
    config = root / "zenoo.toml"
    config.write_text(
        config.read_text()
        .replace('url = "sandbox:.zenoo/sandbox.db"', f'url = "{url}"\npassword_env = "I16_PW"')
        .replace('password = "admin"\n', "")
    )
    return root


def test_2_one_database_under_two_urls_has_one_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("I16_PW", "admin")
    db = tmp_path / "odoo.db"
    root = _remote_project(tmp_path / "crm", "http://127.0.0.1:1")
    config = root / "zenoo.toml"
    text = config.read_text()
    with _served(db) as port:
        config.write_text(text.replace("http://127.0.0.1:1", f"http://127.0.0.1:{port}"))
        code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
        assert code == 0, err
        # the same database through another spelling of its address
        config.write_text(text.replace("http://127.0.0.1:1", f"http://LOCALHOST:{port}/"))
        code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
        assert code == 0, err
        assert json.loads(out)["migrations"] == []  # nothing pending: one history
        code, out, err = invoke("status", "--project", str(root), "--json")
        assert code == 0, err
        assert [m["status"] for m in json.loads(out)["migrations"]] == ["applied"]
        code, out, err = invoke("rollback", "--project", str(root), "--yes")
        assert code == 0, out + err
    assert _companies(db) == {}


def test_2_a_recreated_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    (root / ".zenoo" / "sandbox.db").unlink()  # the database is recreated, the ledger stays
    code, _out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 4
    assert "the server now reports uuid" in err and "recreated" in err
    assert "start a new one for this target" in err
    assert (
        not (root / ".zenoo" / "sandbox.db").exists()
        or _companies(root / ".zenoo" / "sandbox.db") == {}
    )


def test_2_a_ledger_from_before_database_uuids_upgrades_in_place(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    ledger = root / ".zenoo" / "ledger.db"
    with sqlite3.connect(ledger) as conn:  # what an older zenoo-etl left: no uuid
        conn.execute("UPDATE zenoo_scopes SET db_uuid = NULL")
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["migrations"] == []
    with sqlite3.connect(ledger) as conn:
        [(recorded,)] = conn.execute("SELECT db_uuid FROM zenoo_scopes").fetchall()
    assert recorded


CONTACTS = """\
[[steps]]
id = "contacts"
model = "res.partner"
action = "create"
key = "{{ row.n }}"
records = [
  { n = 1, name = "Ann", type = "contact" },
  { n = 2, name = "Ben", type = "bogus" },
]

[steps.fields]
name = "{{ row.name }}"
type = "{{ row.type }}"
"""


def test_6_apply_finds_what_validate_knows_before_the_first_write(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    (root / "migrations" / "0002_contacts.toml").write_text(CONTACTS)
    db = root / ".zenoo" / "sandbox.db"
    code, out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 2, out + err
    assert "Preflight found 1 problem(s) in the pending migrations; nothing was written" in err
    assert "migrations/0002_contacts.toml" in err and "row 2, field 'type'" in err
    assert _companies(db) == {}  # not created then rolled back: never sent
    code, out, err = invoke("status", "--project", str(root), "--json")
    assert [m["status"] for m in json.loads(out)["migrations"]] == ["pending", "pending"]
    # --no-preflight: the old way, the error comes from Odoo after the first write
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--no-preflight")
    assert code == 1, out + err
    assert "rolled back" in err


@pytest.mark.postgres
def test_3_a_ledger_moves_to_postgresql_with_its_history(
    tmp_path: Path, pg_ledger_url: str
) -> None:
    root = _companies_project(tmp_path / "crm")
    db = root / ".zenoo" / "sandbox.db"
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    code, out, err = invoke("ledger", "copy", "--project", str(root), "--to", pg_ledger_url)
    assert code == 0, err
    assert "Copied 1 migration(s), 2 event(s) and 3 record(s) of target 'local'" in out
    config = root / "zenoo.toml"
    config.write_text(config.read_text() + f'\n[ledger]\nurl = "{pg_ledger_url}"\n')
    code, out, err = invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["migrations"] == []  # the history came along: nothing pending
    code, out, err = invoke("history", "--project", str(root), "--json")
    assert code == 0, err
    assert [e["event"] for e in json.loads(out)["events"]] == ["applied", "begin"]
    # copying again into a ledger that has the history is refused, nothing merged
    code, _out, err = invoke(
        "ledger", "copy", "--project", str(root), "--to", "sqlite:///.zenoo/other.db"
    )
    assert code == 0, err
    code, _out, err = invoke(
        "ledger", "copy", "--project", str(root), "--to", "sqlite:///.zenoo/other.db"
    )
    assert code == 1 and "already has a history" in err
    # the records came along too: rollback from the PostgreSQL ledger deletes them
    code, out, err = invoke("rollback", "--project", str(root), "--yes")
    assert code == 0, out + err
    assert _companies(db) == {}


UPSERT = COMPANIES.replace('action = "create"', 'action = "upsert"\nmatch = ["ref"]')


def test_3_an_upsert_never_overwrites_a_record_whose_match_changed(tmp_path: Path) -> None:
    root = _companies_project(tmp_path / "crm")
    (root / "migrations" / "0001_companies.toml").write_text(UPSERT)
    db = root / ".zenoo" / "sandbox.db"
    assert invoke("apply", "--project", str(root), "--yes")[0] == 0
    [acme] = _odoo(db, "res.partner", "search", [["ref", "=", "crm-A"]])
    # a user renamed the record's ref: the upsert's match finds nothing for row A
    _odoo(db, "res.partner", "write", [acme], {"ref": "crm-A-renamed", "name": "Acme (user)"})
    (root / ".zenoo" / "ledger.db").unlink()
    code, out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 1, out + err
    assert "an external id that exists already" in err and "--force" in err
    assert _companies(db)["crm-A-renamed"] == "Acme (user)"  # untouched
