"""No secret ever lands in an artefact, whatever the verbosity and whatever fails.

A sandbox process gets a distinctive admin password and API key; the
project reads them through ``password_env`` / ``api_key_env``. Every command
(validate, plan --out, apply, a failing apply, status, history, rollback,
a login refused) runs with ``--debug -vv --log-format json`` (and ``--json``
where it prints data). Then stdout, stderr, the plan file, every file under
the project (``.zenoo/`` with the ledger, its WAL, caches) and, for the
PostgreSQL backend, every row of every ledger table are searched for the
secrets, and for the web session's cookie name: zero hits.
"""

from __future__ import annotations

import secrets
import textwrap
from pathlib import Path

import pytest
from faults.procs import SandboxProcess, start_sandbox, zenoo

from zenoo_etl.client import ZenooClient

GOOD = """\
description = "partners"

[[steps]]
id = "partners"
model = "res.partner"
action = "create"
key = "{{ row.ref }}"
records = [{ ref = "S-1", name = "One" }, { ref = "S-2", name = "Two" }]

[steps.fields]
ref = "{{ row.ref }}"
name = "{{ row.name }}"
"""

BAD = """\
description = "a row Odoo refuses"

[[steps]]
id = "bad"
model = "res.partner"
action = "create"
key = "{{ row.ref }}"
records = [{ ref = "S-3", country = "qq" }]

[steps.fields]
ref = "{{ row.ref }}"
name = "Bad"
country_id = { xmlid = "base.{{ row.country }}" }
"""


def _write(root: Path, url: str, ledger_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "secrets"

            [targets.pw]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "ZENOO_SECRET_PW"

            [targets.key]
            url = "{url}"
            database = "etl"
            username = "admin"
            api_key_env = "ZENOO_SECRET_KEY"

            [targets.bad]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "ZENOO_SECRET_WRONG"

            [ledger]
            url = "{ledger_url}"
            """
        )
    )
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "0001_good.toml").write_text(GOOD)


async def _distinctive_credentials(sandbox: SandboxProcess) -> tuple[str, str]:
    password = f"Pw-{secrets.token_hex(12)}"
    async with ZenooClient(url=sandbox.url) as client:
        uid = await client.login("etl", "admin", "admin")
        # Odoo's route to a key without the web UI: description -> make_key -> run_check
        description = await client.execute_kw(
            "res.users.apikeys.description", "create", [{"name": "secrets-test"}], {}
        )
        check = await client.execute_kw(
            "res.users.apikeys.description", "make_key", [[description]], {}
        )
        shown = await client.execute_kw(
            "res.users.identitycheck",
            "run_check",
            [[check["res_id"]]],
            {"context": {"password": "admin"}},
        )
        api_key = str(shown["context"]["default_key"])
        await client.write("res.users", [uid], {"password": password})
    return password, api_key


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:///.zenoo/ledger.db"
    return str(request.getfixturevalue("pg_ledger_url"))


def _pg_dump(url: str) -> str:
    import psycopg

    out: list[str] = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            out.extend(r[0] for r in rows)
    assert out, "the ledger should hold something"
    return "\n".join(out)


async def test_no_secret_in_any_artefact(tmp_path: Path, ledger_url: str) -> None:
    sandbox = start_sandbox(tmp_path / "target.db")
    try:
        password, api_key = await _distinctive_credentials(sandbox)
        wrong = f"Wrong-{secrets.token_hex(12)}"
        env = {
            "ZENOO_SECRET_PW": password,
            "ZENOO_SECRET_KEY": api_key,
            "ZENOO_SECRET_WRONG": wrong,
        }
        root = tmp_path / "project"
        _write(root, sandbox.url, ledger_url)
        loud = ("--debug", "-vv", "--log-format", "json")
        plan_file = tmp_path / "plan.json"
        runs = [
            (("validate", *loud), {0}),
            (("plan", "--out", str(plan_file), *loud), {0}),
            (("apply", str(plan_file), "--yes", *loud), {0}),
            (("status", "--json", *loud), {0}),
        ]
        outputs: list[str] = []

        def go(args: tuple[str, ...], allowed: set[int]) -> None:
            done = zenoo(root, *args, env=env)
            outputs.extend([done.stdout, done.stderr])
            assert done.returncode in allowed, (args, done.returncode, done.stderr[-2000:])

        for args, allowed in runs:
            go(args, allowed)
        # error paths: Odoo refuses a row (traceback printed with --debug), a bad password
        (root / "migrations" / "0002_bad.toml").write_text(BAD)
        go(("apply", "--yes", "--json", *loud), {1})
        assert "Traceback" in outputs[-1]  # --debug really printed the traceback
        go(("apply", "--yes", "--target", "bad", *loud), {2})  # a refused login: config
        assert "Error:" in outputs[-1]
        (root / "migrations" / "0002_bad.toml").unlink()
        go(("history", "--json", *loud), {0})
        go(("rollback", "--to", "0", "--yes", "--json", *loud), {0})
        # the API key target: a whole apply/rollback cycle too
        go(("apply", "--yes", "--target", "key", "--json", *loud), {0})
        go(("status", "--target", "key", *loud), {0})
        go(("rollback", "--to", "0", "--yes", "--target", "key", *loud), {0})

        artefacts = {f"output {i}": text.encode() for i, text in enumerate(outputs)}
        artefacts["plan file"] = plan_file.read_bytes()
        for path in root.rglob("*"):
            if path.is_file():
                artefacts[str(path.relative_to(root))] = path.read_bytes()
        if ledger_url.startswith("postgresql"):
            artefacts["postgres ledger"] = _pg_dump(ledger_url).encode()
        else:
            assert (root / ".zenoo" / "ledger.db").exists()
        for secret in (password, api_key, wrong):
            hits = [name for name, data in artefacts.items() if secret.encode() in data]
            assert hits == [], f"secret found in {hits}"
        # the password targets ran through a web session: its cookie is a secret too
        # (its value is the sandbox's; the header or cookie name never shows either)
        hits = [name for name, data in artefacts.items() if b"session_id" in data]
        assert hits == [], f"session cookie found in {hits}"
        # the runs really happened (not a vacuous search)
        assert any("S-1" in text or "partners" in text for text in outputs)
    finally:
        sandbox.stop()
