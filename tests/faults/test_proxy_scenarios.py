"""Issue 11 scenarios 3 and 6 through the independent fault proxy (``proxy.py``).

zenoo-etl talks to the sandbox through :class:`FaultProxy`; the result is read
back with a separate client talking to the sandbox directly.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.identity import XMLID_MODULE

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
{country}"""

# A many2one: with it identity xmlid creates by ``create`` + naming; without it
# (a flat step) by one ``load()`` with an id column per chunk.
COUNTRY = 'country_id = { xmlid = "base.be" }\n'


# In the body of a create of companies (over /jsonrpc or a web session's call_kw) and
# of no other call: not the ir.model.data create naming them, not a search.
PARTNER_VALUES = b'"is_company":true'


def write(root: Path, url: str, identity: str, *, timeout: float = 30, flat: bool = False) -> None:
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
        COMPANIES.format(identity=identity, match=match, country="" if flat else COUNTRY)
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


async def named(url: str) -> int:
    """How many res.partner external ids zenoo-etl's module holds."""
    async with ZenooClient(url=url) as client:
        await client.login("etl", "admin", "admin")
        domain = [["module", "=", XMLID_MODULE], ["model", "=", "res.partner"]]
        return int(await client.execute_kw("ir.model.data", "search_count", [domain]))


def sent(proxy: FaultProxy, model: str, method: str) -> int:
    """How many ``model.method`` calls went through the proxy (resends included)."""
    count = 0
    for entry in proxy.log:
        try:
            params = json.loads(entry.body)["params"]
        except (ValueError, KeyError, TypeError):
            continue  # /web/version and the like
        if "model" in params:  # a web session's call_kw
            called = (params["model"], params["method"])
        elif params.get("method") == "execute_kw":  # /jsonrpc
            called = (params["args"][3], params["args"][4])
        else:
            continue
        count += called == (model, method)
    return count


def write_calls(proxy: FaultProxy) -> int:
    return sum(
        sent(proxy, model, method)
        for model in ("res.partner", "ir.model.data")
        for method in ("create", "write", "unlink", "load")
    )


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
        if identity == "xmlid":  # the step has a country: create + naming, no load()
            assert sent(proxy, "res.partner", "load") == 0
            assert sent(proxy, "ir.model.data", "create") == ROWS // 4
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
        assert sent(proxy, "res.partner", "load") == 0  # create + naming
        assert await refs(sandbox_server.url) == EXPECTED
        undone = await rollback(load_project(root), to_version=0)  # no --force
        assert undone.ok, undone.error
        assert await refs(sandbox_server.url) == []


# Identity xmlid on a flat step (no relational field): one load() with an id column
# per chunk, the records and their external ids in one transaction.


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_3_a_garbled_answer_to_a_committed_load_is_reconciled_by_external_ids(
    sandbox_server: Any, tmp_path: Path, garbage: str
) -> None:
    """Scenario 3 on a flat step: the second load()'s answer is garbage after the server
    committed. Its four rows are found by their external ids (not sent again); a rerun
    writes nothing; rollback leaves neither a record nor an external id."""
    rules = Rules(scripted=[Rule("garbled", match=b'"load"', nth=2)], garbled=garbage)
    async with FaultProxy(sandbox_server.port, rules) as proxy:
        root = tmp_path / "p"
        write(root, proxy.url, "xmlid", flat=True)
        result = await apply(load_project(root))
        assert result.ok, result.error
        assert proxy.kinds_seen() == {"garbled": 1}
        # 12 rows in chunks of 4: three load() calls, the lost one not sent again,
        # and no create, no naming call
        assert sent(proxy, "res.partner", "load") == ROWS // 4
        assert sent(proxy, "res.partner", "create") == 0
        assert sent(proxy, "ir.model.data", "create") == 0
        counts = result.migrations[0].steps[0].counts
        assert (counts.created, counts.adopted) == (ROWS, 4)
        assert await refs(sandbox_server.url) == EXPECTED  # none twice, none missing
        assert await named(sandbox_server.url) == ROWS

        before = write_calls(proxy)
        again = await apply(load_project(root))
        assert again.ok and again.migrations == []
        assert write_calls(proxy) == before  # the rerun wrote nothing
        assert await refs(sandbox_server.url) == EXPECTED

        undone = await rollback(load_project(root), to_version=0)  # the proxy is healthy now
        assert undone.ok and not undone.warnings
    assert await refs(sandbox_server.url) == []  # no orphans
    assert await named(sandbox_server.url) == 0


async def test_6_a_late_load_on_a_flat_step_finds_its_records_named(
    sandbox_server: Any, tmp_path: Path
) -> None:
    """Scenario 6 on a flat step: a load() held past the timeout (1 s) reaches the server
    2.5 s after it was sent. apply waits the timeout, finds none of its external ids yet
    and sends the chunk again: whichever load() lands first creates the records with
    their external ids in one transaction, the other finds those ids and writes the same
    values. Nothing is made twice, no record is left unnamed (no late-commit hole), and
    rollback needs no --force."""
    rules = Rules(scripted=[Rule("hold", match=b'"load"', nth=2)])
    async with FaultProxy(sandbox_server.port, rules, late=2.5) as proxy:
        root = tmp_path / "p"
        write(root, proxy.url, "xmlid", timeout=1, flat=True)
        result = await apply(load_project(root))
        assert result.ok, result.error
        await proxy.settle()  # nothing is held any more: the late load() has landed
        assert proxy.kinds_seen() == {"hold": 1}
        assert [e.forwarded for e in proxy.log if e.kind == "hold"] == [True]
        assert sent(proxy, "ir.model.data", "create") == 0
        assert await refs(sandbox_server.url) == EXPECTED
        assert await named(sandbox_server.url) == ROWS
        undone = await rollback(load_project(root), to_version=0)  # no --force
        assert undone.ok, undone.error
    assert await refs(sandbox_server.url) == []
    assert await named(sandbox_server.url) == 0
