"""Lost answers (outcome unknown) are reconciled by xmlid: every row exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.client.errors import ConnectError, OutcomeUnknownError
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.identity import XMLID_MODULE, xmlid_name
from zenoo_etl.runner.odoo import Context, OdooTarget
from zenoo_etl.runner.results import RunFailed
from zenoo_etl.sandbox import serve_sandbox

from .helpers import (
    CSV,
    PARTNERS,
    PASSWORD_ENV,
    TAGS,
    Killed,
    ProjectFiles,
    Spy,
    exactly_once,
    looking_at,
    table,
)


def _lost() -> BaseException:
    return OutcomeUnknownError("answer lost (test)", model="res.partner", method="create")


async def test_answer_lost_after_commit_is_adopted_not_resent(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create that committed but whose answer was lost: its rows are found again (one
    transaction, not named yet, their values) and named, not created twice."""
    async with serve_sandbox(db_path=project_files.root / "sb.db") as sb:
        monkeypatch.setenv(PASSWORD_ENV, sb.password)
        project_files.url = sb.url
        project_files.runner = "chunk_size = 3\nconcurrency = 1"
        project_files.write(
            {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
        )
        spies: list[Spy] = []

        def wrap(target: OdooTarget) -> OdooTarget:
            # tags (a name only) go as one load(); creates: partners chunk 1, its names,
            # partners chunk 2 (the partners carry relations: create + naming)
            spy = Spy(target, lose_after={("create", 3): _lost})
            spies.append(spy)
            return spy

        result = await apply(project_files.load(), wrap_target=wrap)
        step = result.migrations[1].steps[0]
        assert step.counts.adopted == 3
        assert step.counts.created == 8
        # the lost chunk was NOT sent again
        assert spies[0].log.count(("create", "res.partner")) == 3
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, sb.username, sb.password)
            await exactly_once(client)


async def test_dropped_responses_from_the_server_still_giveexactly_once(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox commits then drops a share of answers; apply converges without duplicates."""
    async with serve_sandbox(db_path=project_files.root / "sb.db") as sb:
        monkeypatch.setenv(PASSWORD_ENV, sb.password)
        project_files.url = sb.url
        project_files.runner = "chunk_size = 2\nconcurrency = 2\nretries = 8"
        project_files.write(
            {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
        )
        sb.faults.configure(drop_after_commit_rate=0.3, seed=11)
        result = await apply(project_files.load())
        history: list[Any] = list(sb.faults.history)
        sb.faults.clear()
        assert result.ok
        assert "drop" in history  # answers really were lost on the way
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, sb.username, sb.password)
            await exactly_once(client)


async def test_killed_between_create_and_naming_rollback_asks_for_apply_first(
    project_files: ProjectFiles,
) -> None:
    """Records a killed run created but had not named yet: rollback (no values to know them
    by) neither deletes nor forgets them; apply finds them by their values and names them;
    then rollback removes everything."""
    project_files.runner = "chunk_size = 3\nconcurrency = 1"
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )

    def wrap(target: OdooTarget) -> OdooTarget:
        # tags (a name only) go as one load(); creates: partners chunk 1, its names,
        # partners chunk 2 (killed)
        return Spy(target, lose_after={("create", 3): Killed})

    with contextlib.suppress(Killed):
        await apply(project_files.load(), wrap_target=wrap)
    async with looking_at(project_files.sandbox_db) as client:
        made = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
        named = await table(
            client,
            "ir.model.data",
            ["res_id"],
            [["model", "=", "res.partner"], ["res_id", "in", [r["id"] for r in made]]],
        )
    assert len(made) == 6 and len(named) == 3  # chunk 2 exists without its names

    with pytest.raises(RunFailed, match="Run 'zenoo-etl apply' first"):
        await rollback(project_files.load(), to_version=0)

    result = await apply(project_files.load())
    step = result.migrations[0].steps[0]
    assert (step.counts.skipped, step.counts.adopted, step.counts.created) == (3, 3, 5)
    async with looking_at(project_files.sandbox_db) as client:
        await exactly_once(client)
    undone = await rollback(project_files.load(), to_version=0)
    assert undone.ok
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []


@dataclass
class ByHand(Spy):
    """The ``lose``-th partners ``create`` never reaches Odoo, its answer counts as lost;
    just before, a colleague (another Odoo user) enters a partner by hand."""

    lose: int = 0
    enter: Callable[[], Awaitable[None]] | None = None
    partner_creates: int = 0

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]:
        if model == "res.partner":
            self.partner_creates += 1
            if self.partner_creates == self.lose and self.enter is not None:
                await self.enter()
                raise _lost()
        return await super().create(model, values, context)


async def test_a_lost_create_never_takes_a_record_another_user_made(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create lost before it reached Odoo, while a colleague entered the same person
    by hand (same e-mail, country, company flag: most of the row's values): the record
    is the colleague's, not the lost call's. It is neither named nor recorded as the
    migration's (the row is created anew), and rollback leaves it alone."""
    async with serve_sandbox(db_path=project_files.root / "sb.db") as sb:
        monkeypatch.setenv(PASSWORD_ENV, sb.password)
        project_files.url = sb.url
        project_files.runner = "concurrency = 1\ntimeout = 0.2"
        one_by_one = PARTNERS.replace("chunk_size = 3", "chunk_size = 1")
        project_files.write(
            {"0001_tags.toml": TAGS, "0002_partners.toml": one_by_one}, {"data/partners.csv": CSV}
        )
        async with ZenooClient(url=sb.url) as admin, ZenooClient(url=sb.url) as colleague:
            await admin.login(sb.database, sb.username, sb.password)
            await admin.execute_kw(
                "res.users", "create", [[{"name": "Colleague", "login": "col", "password": "c-1"}]]
            )
            await colleague.login(sb.database, "col", "c-1")
            [de] = await admin.execute_kw("res.country", "search", [[["code", "=", "DE"]]])
            # the CSV's row 2: Bob,bob@example.com,DE,Wholesale,yes
            bob = {"name": "Bob Miller", "email": "bob@example.com", "country_id": de}

            async def enter() -> None:
                await colleague.execute_kw("res.partner", "create", [[{**bob, "is_company": True}]])

            def wrap(target: OdooTarget) -> OdooTarget:
                return ByHand(target, lose=2, enter=enter)  # row 2's create

            result = await apply(project_files.load(), wrap_target=wrap)
            assert result.ok
            legs = await table(admin, "res.partner", ["name", "ref"], [["ref", "like", "LEG-"]])
            [theirs] = await table(admin, "res.partner", ["id"], [["name", "=", "Bob Miller"]])
            ours = [["module", "=", XMLID_MODULE], ["model", "=", "res.partner"]]
            named = await table(
                admin, "ir.model.data", ["name"], [*ours, ["res_id", "=", theirs["id"]]]
            )
            assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]
            assert [r["name"] for r in legs if r["ref"] == "LEG-2"] == ["Bob"]
            assert named == []  # not named as the migration's

            undone = await rollback(project_files.load(), to_version=0)
            assert undone.ok
            assert await table(admin, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []
            assert await table(admin, "res.partner", ["id"], [["name", "=", "Bob Miller"]]) == [
                theirs
            ]


FIRMS = """\
    description = "firms: a name, and what every firm has alike"

    [[steps]]
    id = "firms"
    model = "res.partner"
    action = "create"
    source = { csv = "data/firms.csv" }
    key = "{{ row.id }}"
    chunk_size = 1

    [steps.fields]
    name = "{{ row.name }}"
    is_company = true
    country_id = { xmlid = "base.be" }
"""


@dataclass
class Crossing(Spy):
    """The first partners ``create`` never reaches Odoo (its answer counts as lost);
    the second commits, but its answer comes back only once the lost one's lookup has
    read the partners (or after a second)."""

    partner_creates: int = 0
    looked: asyncio.Event = field(default_factory=asyncio.Event)

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]:
        if model != "res.partner":
            return await super().create(model, values, context)
        self.partner_creates += 1
        if self.partner_creates == 1:
            await asyncio.sleep(0.05)  # the second chunk is sent meanwhile
            raise _lost()
        ids = await super().create(model, values, context)
        if self.partner_creates == 2:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.looked.wait(), 1)
        return ids

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]:
        out = await super().search_read(model, domain, fields, context)
        if model == "res.partner" and domain[:1] and domain[0][:2] == ["id", ">"]:
            self.looked.set()  # find_unbound's read of the records above the floor
        return out


async def test_a_lost_create_never_takes_the_records_of_a_chunk_still_in_flight(
    project_files: ProjectFiles,
) -> None:
    """Two chunks in flight, rows alike but for their name (2 of 3 values): the first
    create is lost before reaching Odoo; the second has committed, its answer still on
    the way when the first looks for its records. The lookup waits for the creates in
    flight: the second chunk's record is not taken for the first's (which would leave
    the first row never created and one record with two names); every row has its
    own record and name."""
    project_files.runner = "concurrency = 2\ntimeout = 0.2"
    project_files.write(
        {"0001_firms.toml": FIRMS}, {"data/firms.csv": "id,name\n1,Acme\n2,Bolt\n3,Cyan\n"}
    )
    result = await apply(project_files.load(), wrap_target=lambda target: Crossing(target))
    assert result.ok
    async with looking_at(project_files.sandbox_db) as client:
        firms = await table(
            client, "res.partner", ["name"], [["name", "in", ["Acme", "Bolt", "Cyan"]]]
        )
        named = await table(
            client, "ir.model.data", ["name", "res_id"], [["module", "=", XMLID_MODULE]]
        )
    by_name = {f["name"]: f["id"] for f in firms}
    assert sorted(by_name) == ["Acme", "Bolt", "Cyan"]
    project_id = project_files.load().config.project.id
    assert {n["name"]: n["res_id"] for n in named} == {
        xmlid_name("firms", key, project_id): by_name[name]
        for key, name in (("1", "Acme"), ("2", "Bolt"), ("3", "Cyan"))
    }


@pytest.mark.parametrize("on_error", ["rollback", "stop"])
async def test_naming_never_sent_leaves_no_record_behind_nor_made_twice(
    project_files: ProjectFiles, on_error: str
) -> None:
    """The chunk's records are created, the call naming them never reaches Odoo (the
    server went away): the records exist, so the ledger keeps them (not 'refused,
    nothing kept'). The failure says so; the automatic rollback removes them (or,
    with on_error = "stop", the rerun does not make them again); every row ends up
    once, and rollback leaves nothing."""
    project_files.runner = f'chunk_size = 3\nconcurrency = 1\non_error = "{on_error}"'
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
    )

    def wrap(target: OdooTarget) -> OdooTarget:
        # writes: the tags' load() (a name only: records and names at once), partners
        # chunk 1 (relations: create + naming), its names (never sent)
        return Spy(target, fail_before_write={3: lambda: ConnectError("server went away")})

    with pytest.raises(RunFailed, match="but naming them failed") as failed:
        await apply(project_files.load(), wrap_target=wrap)
    async with looking_at(project_files.sandbox_db) as client:
        left = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    if on_error == "rollback":
        assert "(3 record(s) undone)" in str(failed.value)
        assert left == []
    else:
        assert sorted(r["ref"] for r in left) == ["LEG-1", "LEG-2", "LEG-3"]

    again = await apply(project_files.load())
    assert again.ok
    async with looking_at(project_files.sandbox_db) as client:
        legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]
    assert (await rollback(project_files.load(), to_version=0)).ok
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []
