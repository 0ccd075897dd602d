"""Issue 11 scenarios 3 and 6 through the independent fault proxy (``proxy.py``).

zenoo-etl talks to the sandbox through :class:`FaultProxy`; the result is read
back with a separate client talking to the sandbox directly.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.runner import apply, rollback

from .matrix import PASSWORD_ENV, Server
from .proxy import GARBAGE, FaultProxy, Rule, Rules

ROWS = 12

COMPANIES = """\
description = "companies"

[[steps]]
id = "companies"
model = "res.partner"
action = "create"
identity = "{identity}"
{match}
source = {{ csv = "data/companies.csv" }}
key = "{{{{ row.id }}}}"

[steps.fields]
name = "Company {{{{ row.id }}}}"
ref = "PX-{{{{ row.id }}}}"
is_company = true
"""


# In the body of a create of companies (over /jsonrpc or a web session's call_kw) and
# of no other call: not the ir.model.data create naming them, not a search.
PARTNER_VALUES = b'"is_company":true'


def write(root: Path, url: str, identity: str, *, timeout: float = 30) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "proxy"

            [targets.local]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "{PASSWORD_ENV}"

            [runner]
            chunk_size = 4
            concurrency = 1
            timeout = {timeout}
            retries = 2
            on_error = "rollback"
            """
        )
    )
    (root / "migrations").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    lines = ["id", *(str(i) for i in range(1, ROWS + 1))]
    (root / "data" / "companies.csv").write_text("\n".join(lines) + "\n")
    match = 'match = ["ref"]' if identity == "fields" else ""
    (root / "migrations" / "0001_companies.toml").write_text(
        COMPANIES.format(identity=identity, match=match)
    )


async def refs(url: str) -> list[str]:
    async with ZenooClient(url=url) as client:
        await client.login("etl", "admin", "admin")
        rows = await client.execute_kw(
            "res.partner",
            "search_read",
            [[["ref", "like", "PX-"]]],
            {"fields": ["ref"], "context": {"active_test": False}},
        )
    return sorted(r["ref"] for r in rows)


EXPECTED = sorted(f"PX-{i}" for i in range(1, ROWS + 1))


@pytest.fixture
async def sandbox_server(tmp_path: Path) -> Any:
    srv = Server(tmp_path / "target.db")
    sb = await srv.start()
    os.environ[PASSWORD_ENV] = sb.password
    yield sb
    await srv.stop()


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("identity", ["fields", "xmlid"])
async def test_3_a_garbled_answer_to_a_committed_create_is_reconciled(
    sandbox_server: Any, tmp_path: Path, identity: str, garbage: str
) -> None:
    """Scenario 3: HTML, random bytes, half JSON or an empty 200 after the server committed."""
    # identity xmlid: the partners' create (its values), not the call naming them
    method = b'"create"' if identity == "fields" else PARTNER_VALUES
    rules = Rules(scripted=[Rule("garbled", match=method, nth=2)], garbled=garbage)
    async with FaultProxy(sandbox_server.port, rules) as proxy:
        root = tmp_path / "p"
        write(root, proxy.url, identity)
        result = await apply(load_project(root))
        assert result.ok, result.error
        assert proxy.kinds_seen() == {"garbled": 1}
        assert await refs(sandbox_server.url) == EXPECTED  # none twice, none missing
        undone = await rollback(load_project(root), to_version=0)  # the proxy is healthy now
        assert undone.ok and not undone.warnings
        assert await refs(sandbox_server.url) == []  # no orphans


@pytest.mark.parametrize("kind", ["truncate", "reset_mid", "drop", "502_after", "504_after"])
async def test_3_other_answers_lost_after_commit_are_reconciled(
    sandbox_server: Any, tmp_path: Path, kind: str
) -> None:
    rules = Rules(scripted=[Rule(kind, match=b'"create"', nth=1)])
    async with FaultProxy(sandbox_server.port, rules) as proxy:
        root = tmp_path / "p"
        write(root, proxy.url, "fields")
        result = await apply(load_project(root))
        assert result.ok, result.error
    assert await refs(sandbox_server.url) == EXPECTED


async def test_6_a_late_commit_does_not_trip_the_change_check(
    sandbox_server: Any, tmp_path: Path
) -> None:
    """Scenario 6: a create held past the timeout (1 s) reaches the server 2.5 s after it
    was sent: apply looks for its records for twice the timeout before sending the chunk
    again, finds and names them; nothing is made twice and rollback needs no --force."""
    rules = Rules(scripted=[Rule("hold", match=PARTNER_VALUES, nth=2)])
    async with FaultProxy(sandbox_server.port, rules, late=2.5) as proxy:
        root = tmp_path / "p"
        write(root, proxy.url, "xmlid", timeout=1)
        result = await apply(load_project(root))
        assert result.ok, result.error
        await proxy.settle()  # nothing is held any more
        assert proxy.kinds_seen() == {"hold": 1}
        assert [e.forwarded for e in proxy.log if e.kind == "hold"] == [True]
        assert await refs(sandbox_server.url) == EXPECTED
        undone = await rollback(load_project(root), to_version=0)  # no --force
        assert undone.ok, undone.error
        assert await refs(sandbox_server.url) == []
