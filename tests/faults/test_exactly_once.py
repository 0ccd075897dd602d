"""The scenarios of issue 11 ("exactly-once on every path"), one test each.

A run "dies" here by a :class:`Killed` raised right AFTER an Odoo call took
effect and before the runner could record it (what SIGKILL between the call
and the ledger write does; ``test_kill.py`` and ``scripts/fault_matrix.py``
kill real processes). Everything else is real: the sandbox over HTTP, the
ledger on disk, and the final state read back with a separate client.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import load_project
from zenoo_etl.errors import LockLostError
from zenoo_etl.ledger import LockHolder
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.runner.results import RunFailed

from .matrix import PASSWORD_ENV, Server
from .procs import zenoo

ROWS = 30


class Killed(BaseException):
    """The process died (nothing after this line of the runner ran)."""


class DieAfter:
    """Let the ``n``-th call of ``method`` reach Odoo, then die before its answer is used."""

    def __init__(self, inner: OdooTarget, method: str, n: int, *, before: bool = False) -> None:
        self._inner = inner
        self._method = method
        self._n = n
        self._before = before
        self.seen = 0
        self.calls = inner.calls

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._inner, name)
        if name != self._method:
            return real

        async def dying(*args: Any, **kwargs: Any) -> Any:
            if self._before and self.seen + 1 == self._n:
                raise Killed(f"killed before {name} #{self.seen + 1}")
            answer = await real(*args, **kwargs)
            self.seen += 1
            if self.seen == self._n:
                raise Killed(f"killed after {name} #{self.seen}")
            return answer

        return dying


def die_after(method: str, n: int) -> Callable[[OdooTarget], OdooTarget]:
    return lambda inner: DieAfter(inner, method, n)  # type: ignore[return-value]


def die_before(method: str, n: int) -> Callable[[OdooTarget], OdooTarget]:
    """Die after the compensation intent was written, before the call itself."""
    return lambda inner: DieAfter(inner, method, n, before=True)  # type: ignore[return-value]


CREATE = """\
description = "contacts"

[[steps]]
id = "contacts"
model = "res.partner"
action = "create"
source = { csv = "data/contacts.csv" }
key = "{{ row.id }}"
chunk_size = 5

[steps.fields]
name = "{{ row.name }}"
ref = "EO-{{ row.id }}"
phone = "+49 111 {{ row.id }}"
country_id = { xmlid = "base.{{ row.country }}" }
"""

PHONES = """\
description = "phones"

[[steps]]
id = "phones"
model = "res.partner"
action = "update"
match = ["ref"]
key = "EO-{{ row.id }}"
chunk_size = 5
source = { csv = "data/contacts.csv" }

[steps.values]
ref = "EO-{{ row.id }}"
phone = "+49 30 {{ row.id }}"
"""


def write(root: Path, url: str, *, on_error: str = "stop", bad_row: int | None = None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "exactly-once"

            [targets.local]
            url = "{url}"
            database = "etl"
            username = "admin"
            password_env = "{PASSWORD_ENV}"

            [runner]
            chunk_size = 5
            concurrency = 1
            on_error = "{on_error}"
            """
        )
    )
    (root / "migrations").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    lines = ["id,name,country"]
    for i in range(1, ROWS + 1):
        lines.append(f"{i},Contact {i},{'xx' if i == bad_row else 'be'}")
    (root / "data" / "contacts.csv").write_text("\n".join(lines) + "\n")
    (root / "migrations" / "0001_contacts.toml").write_text(CREATE)


async def contacts(url: str) -> dict[str, dict[str, Any]]:
    """ref -> record, read by a separate client; duplicates fail here."""
    async with ZenooClient(url=url) as client:
        await client.login("etl", "admin", "admin")
        rows = await client.execute_kw(
            "res.partner",
            "search_read",
            [[["ref", "like", "EO-"]]],
            {"fields": ["ref", "name", "phone"], "context": {"active_test": False}},
        )
    refs = [r["ref"] for r in rows]
    assert len(refs) == len(set(refs)), f"duplicates: {sorted(refs)}"
    return {r["ref"]: r for r in rows}


async def statuses(root: Path, url: str) -> dict[int, str]:
    async with open_ledger("sqlite:///.zenoo/ledger.db", root) as ledger:
        return {m.version: m.status for m in await ledger.scope(url, "etl").migrations()}


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    srv = Server(tmp_path / "target.db")
    sb = await srv.start()
    os.environ[PASSWORD_ENV] = sb.password
    yield sb
    await srv.stop()


ALL = {f"EO-{i}" for i in range(1, ROWS + 1)}


async def test_1_an_apply_after_a_killed_rollback_restores_every_record(
    server: Any, tmp_path: Path
) -> None:
    """Scenario 1: `rollback --to 0` killed after an unlink; the next apply misses nothing."""
    root = tmp_path / "p"
    write(root, server.url)
    await apply(load_project(root))
    assert set(await contacts(server.url)) == ALL
    with pytest.raises(Killed):
        await rollback(load_project(root), to_version=0, wrap_target=die_after("unlink", 1))
    assert await contacts(server.url) == {}  # all unlinked; the ledger never heard
    # never "applied" while a compensation is pending
    assert await statuses(root, server.url) == {1: "rolling_back"}
    result = await apply(load_project(root))
    assert result.ok
    assert set(await contacts(server.url)) == ALL
    assert await statuses(root, server.url) == {1: "applied"}
    # and a full rollback now removes every one of them
    await rollback(load_project(root), to_version=0)
    assert await contacts(server.url) == {}


async def test_1_a_killed_rollback_resumed_by_rollback_finishes_cleanly(
    server: Any, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    write(root, server.url)
    await apply(load_project(root))
    with pytest.raises(Killed):
        await rollback(load_project(root), to_version=0, wrap_target=die_after("unlink", 1))
    done = await rollback(load_project(root), to_version=0)
    assert done.ok and not done.warnings  # what it unlinked itself is not "someone else"
    assert await contacts(server.url) == {}
    assert await statuses(root, server.url) == {1: "rolled_back"}


@pytest.mark.parametrize("then", ["apply", "rollback"])
async def test_1_a_rollback_killed_before_its_unlink_is_settled_by_what_exists(
    server: Any, tmp_path: Path, then: str
) -> None:
    """Killed between the compensation intent and the unlink: nothing was undone."""
    root = tmp_path / "p"
    write(root, server.url)
    await apply(load_project(root))
    with pytest.raises(Killed):
        await rollback(load_project(root), to_version=0, wrap_target=die_before("unlink", 1))
    assert set(await contacts(server.url)) == ALL
    assert await statuses(root, server.url) == {1: "rolling_back"}
    if then == "apply":
        result = await apply(load_project(root))  # the records are its own: kept, not re-sent
        assert result.ok and not result.warnings, result.error
        assert set(await contacts(server.url)) == ALL
        assert await statuses(root, server.url) == {1: "applied"}
        await rollback(load_project(root), to_version=0)
    else:
        done = await rollback(load_project(root), to_version=0)
        assert done.ok and not done.warnings
    assert await contacts(server.url) == {}
    assert await statuses(root, server.url) == {1: "rolled_back"}


async def test_1_a_killed_automatic_rollback_then_a_fixed_csv_applies_everything(
    server: Any, tmp_path: Path
) -> None:
    """Scenario 1: on_error = rollback, killed at its first unlink; fix the CSV; apply."""
    root = tmp_path / "p"
    write(root, server.url, on_error="rollback", bad_row=23)
    with pytest.raises(Killed):
        await apply(load_project(root), wrap_target=die_after("unlink", 1))
    assert (await statuses(root, server.url))[1] != "applied"
    write(root, server.url, on_error="rollback")  # the CSV fixed
    result = await apply(load_project(root))
    assert result.ok
    assert set(await contacts(server.url)) == ALL


async def test_1_apply_notices_records_gone_behind_the_ledgers_back(
    server: Any, tmp_path: Path
) -> None:
    """A resumed apply checks that 'done' rows still exist (one search per chunk)."""
    root = tmp_path / "p"
    write(root, server.url, bad_row=23)  # on_error = stop: rows 1-20 done, migration failed
    with pytest.raises(RunFailed):
        await apply(load_project(root))
    async with ZenooClient(url=server.url) as client:
        await client.login("etl", "admin", "admin")
        gone = await client.search("res.partner", [["ref", "in", ["EO-3", "EO-12"]]])
        await client.unlink("res.partner", gone)
    write(root, server.url)
    result = await apply(load_project(root))
    assert result.ok
    assert set(await contacts(server.url)) == ALL
    assert any("were gone from the target" in w for w in result.warnings)


async def test_2_a_resumed_rollback_recognises_values_it_restored(
    server: Any, tmp_path: Path
) -> None:
    """Scenario 2: rollback killed after writing previous values back; rerun finishes."""
    root = tmp_path / "p"
    write(root, server.url)
    (root / "migrations" / "0002_phones.toml").write_text(PHONES)
    await apply(load_project(root))
    assert {r["phone"] for r in (await contacts(server.url)).values()} == {
        f"+49 30 {i}" for i in range(1, ROWS + 1)
    }
    with pytest.raises(Killed):
        await rollback(load_project(root), to_version=1, wrap_target=die_after("write", 1))
    again = await rollback(load_project(root), to_version=1)  # no --force needed
    assert again.ok, again.error
    assert {r["phone"] for r in (await contacts(server.url)).values()} == {
        f"+49 111 {i}" for i in range(1, ROWS + 1)
    }
    assert await statuses(root, server.url) == {1: "applied", 2: "rolled_back"}


async def test_2_someone_elses_edit_still_stops_a_resumed_rollback(
    server: Any, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    write(root, server.url)
    (root / "migrations" / "0002_phones.toml").write_text(PHONES)
    await apply(load_project(root))
    with pytest.raises(Killed):
        await rollback(load_project(root), to_version=1, wrap_target=die_after("write", 1))
    async with ZenooClient(url=server.url) as client:
        await client.login("etl", "admin", "admin")
        [victim] = await client.search("res.partner", [["ref", "=", "EO-30"]])
        await client.write("res.partner", [victim], {"phone": "by hand"})
    with pytest.raises(RunFailed, match="by hand"):
        await rollback(load_project(root), to_version=1)
    assert (await contacts(server.url))["EO-30"]["phone"] == "by hand"


async def test_4_apply_refuses_a_repeated_key_like_plan_before_any_write(
    server: Any, tmp_path: Path
) -> None:
    """Scenario 4: plan exits 2 on a repeated key; apply --yes must too, nothing sent."""
    root = tmp_path / "p"
    write(root, server.url)
    csv = root / "data" / "contacts.csv"
    lines = csv.read_text().splitlines()
    lines[25] = "11,Row 25 reusing key 11,be"  # rows 11 and 25 share key 11
    csv.write_text("\n".join(lines) + "\n")
    env = {PASSWORD_ENV: os.environ[PASSWORD_ENV]}
    # in threads: the sandbox answers from this test's event loop
    planned = await asyncio.to_thread(zenoo, root, "plan", env=env)
    applied = await asyncio.to_thread(zenoo, root, "apply", "--yes", env=env)
    for done in (planned, applied):
        assert done.returncode == 2, done.stderr
        assert "key '11' is used by rows 11 (line 12) and 25" in done.stderr
        assert "Traceback" not in done.stderr
    assert await contacts(server.url) == {}  # row 11 was not silently lost: nothing was sent


TAGS_AND_COMPANIES = """\
description = "tags, then companies tagged with them"

[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
key = "{{ row.name }}"
records = [{ name = "Export" }, { name = "Import" }]

[steps.fields]
name = "{{ row.name }}"
"""

COMPANIES = """\
description = "companies"

[[steps]]
id = "companies"
model = "res.partner"
action = "create"
identity = "{identity}"
{match}
source = {{ csv = "data/contacts.csv" }}
key = "{{{{ row.id }}}}"

[steps.fields]
name = "Company {{{{ row.id }}}}"
ref = "EO-{{{{ row.id }}}}"
category_id = [{{ ref = "tags", key = "Export" }}]
"""


@pytest.mark.parametrize("identity", ["xmlid", "fields"])
async def test_7_a_dangling_reference_names_the_reference_and_the_record(
    server: Any, tmp_path: Path, identity: str
) -> None:
    """Scenario 7: a record a reference points to was deleted by hand."""
    root = tmp_path / "p"
    write(root, server.url)
    (root / "migrations" / "0001_contacts.toml").write_text(TAGS_AND_COMPANIES)
    await apply(load_project(root))
    async with ZenooClient(url=server.url) as client:
        await client.login("etl", "admin", "admin")
        [export] = await client.search("res.partner.category", [["name", "=", "Export"]])
        await client.unlink("res.partner.category", [export])
    match = 'match = ["ref"]' if identity == "fields" else ""
    (root / "migrations" / "0002_companies.toml").write_text(
        COMPANIES.format(identity=identity, match=match)
    )
    with pytest.raises(RunFailed) as failed:
        await apply(load_project(root))
    message = str(failed.value)
    assert "step 'companies'" in message
    assert "{ref = 'tags', key = 'Export'}" in message
    assert f"res.partner.category id {export}, which no longer exists" in message
    assert "row 1 (data/contacts.csv:2)" in message


class TakeOverAt:
    """Before the n-th Odoo write, another run force-unlocks and takes the lock."""

    WRITES = frozenset({"create", "write", "unlink", "load", "call"})
    READS = frozenset({"has_access", "search"})  # reads the runner makes through call()

    def __init__(self, inner: OdooTarget, root: Path, url: str, n: int) -> None:
        self._inner = inner
        self._root = root
        self._url = url
        self._n = n
        self.writes = 0
        self.after_takeover = 0
        self.calls = inner.calls

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._inner, name)
        if name not in self.WRITES:
            return real

        async def hooked(*args: Any, **kwargs: Any) -> Any:
            if name == "call" and args[1] in self.READS:
                return await real(*args, **kwargs)
            self.writes += 1
            if self.writes == self._n:
                async with open_ledger("sqlite:///.zenoo/ledger.db", self._root) as other:
                    scope = other.scope(self._url, "etl")
                    await scope.force_unlock()
                    await scope.acquire_lock("apply", holder=LockHolder(host="other", pid=1))
            elif self.writes > self._n:
                self.after_takeover += 1
            return await real(*args, **kwargs)

        return hooked


async def test_5_a_run_that_lost_its_lock_stops_writing_and_exits_3(
    server: Any, tmp_path: Path
) -> None:
    """Scenario 5: taken over mid-run, the holder stops at its next ledger write."""
    root = tmp_path / "p"
    write(root, server.url)
    hooks: list[TakeOverAt] = []

    def wrap(inner: OdooTarget) -> OdooTarget:
        hooks.append(TakeOverAt(inner, root, server.url, 3))
        return hooks[0]  # type: ignore[return-value]

    with pytest.raises(LockLostError) as lost:
        await apply(load_project(root), wrap_target=wrap)
    assert lost.value.exit_code == 3
    # the write in flight when the lock was taken is the last one: nothing after it
    assert hooks[0].writes == 3 and hooks[0].after_takeover == 0
    async with open_ledger("sqlite:///.zenoo/ledger.db", root) as ledger:
        info = await ledger.scope(server.url, "etl").lock_info()
    assert info is not None and info.host == "other"  # the new holder's lock is untouched


@pytest.mark.parametrize("then", ["rollback", "apply"])
async def test_a_killed_rollback_keeps_the_ids_of_the_deletes_it_already_recreated(
    tmp_path: Path, then: str
) -> None:
    """Found by the proxy matrix: the rollback of a migration that deleted records
    is killed after those were recreated (and recorded), while undoing the rest.
    The old -> new id mapping must survive the kill (the migration is
    'rolling_back', not 'rolled_back'), also when apply redoes it first."""
    from .proxy_matrix import compare, read_table, write_project

    srv = Server(tmp_path / "target.db")
    sb = await srv.start()
    try:
        os.environ[PASSWORD_ENV] = sb.password
        before = await read_table(sb.url)
        root = tmp_path / "p"
        write_project(root, sb.url, "sqlite:///.zenoo/ledger.db", "apply", bad=False)
        await apply(load_project(root))
        after = await read_table(sb.url)
        with pytest.raises(Killed):  # the deletes are recreated; killed at the next undo
            await rollback(load_project(root), to_version=0, wrap_target=die_after("write", 1))
        if then == "apply":
            assert (await apply(load_project(root))).ok
            assert compare(after, await read_table(sb.url)) == {
                "duplicates": 0,
                "losses": 0,
                "wrong": 0,
            }
        done = await rollback(load_project(root), to_version=0)
        assert done.ok and not done.warnings, done.warnings
        assert compare(before, await read_table(sb.url)) == {
            "duplicates": 0,
            "losses": 0,
            "wrong": 0,
        }
    finally:
        await srv.stop()
