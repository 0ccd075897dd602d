"""Helpers for runner tests: shared migrations, temporary projects, a sandbox to look at, call
counting, and the checks several test modules make.

Projects are written into ``tmp_path`` with a ``sandbox:`` target (the runner
starts the embedded server in-process) or an ``http://`` target pointing at a
sandbox the test runs itself (for fault injection and RPC counting over the
wire). Contents are checked over real HTTP with the project's client.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler import Project, load_project
from zenoo_etl.runner.identity import XMLID_MODULE
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget

PASSWORD_ENV = "ZENOO_TEST_TARGET_PASSWORD"

# --- migrations and data shared by the runner tests

TAGS = """\
    description = "tags"

    [[steps]]
    id = "tags"
    model = "res.partner.category"
    action = "create"
    key = "{{ row.name }}"
    records = [{ name = "Retail" }, { name = "Wholesale" }, { name = "VIP" }]

    [steps.fields]
    name = "{{ row.name }}"
"""

PARTNERS = """\
    description = "partners from a CSV"

    [[steps]]
    id = "partners"
    model = "res.partner"
    action = "create"
    source = { csv = "data/partners.csv" }
    key = "{{ row.legacy_id }}"
    chunk_size = 3

    [steps.fields]
    name = "{{ row.name | trim }}"
    email = "{{ row.email | lower }}"
    ref = "LEG-{{ row.legacy_id }}"
    is_company = "{{ row.company == 'yes' }}"
    country_id = { xmlid = "base.{{ row.country | lower }}" }
    category_id = [{ ref = "tags", key = "{{ row.tag }}" }]
"""

CSV = """\
    legacy_id,name,email,country,tag,company
    1, Alice ,ALICE@EXAMPLE.COM,BE,Retail,no
    2,Bob,bob@example.com,DE,Wholesale,yes
    3,Carol,carol@example.com,US,VIP,no
    4,Dan,dan@example.com,BE,Retail,no
    5,Eve,eve@example.com,FR,Retail,yes
    6,Frank,frank@example.com,DE,VIP,no
    7,Grace,grace@example.com,US,Wholesale,no
    8,{{ 7*7 }},heidi@example.com,BE,Retail,no
"""

MORE = """\
    description = "upsert, update, delete, archive, call"

    [[steps]]
    id = "vip-upsert"
    model = "res.partner"
    action = "upsert"
    match = ["ref"]
    key = "{{ row.ref }}"
    records = [
      { ref = "LEG-1", name = "Alice Renamed" },
      { ref = "LEG-2", name = "Bob" },
      { ref = "NEW-1", name = "Newcomer" },
    ]

    [steps.fields]
    ref = "{{ row.ref }}"
    name = "{{ row.name }}"

    [[steps]]
    id = "phones"
    model = "res.partner"
    action = "update"
    match = ["ref"]
    key = "{{ row.ref }}"
    records = [
      { ref = "LEG-3", phone = "+32 1" },
      { ref = "LEG-4", phone = "+32 2" },
      { ref = "NOBODY", phone = "+32 3" },
    ]

    [steps.values]
    ref = "{{ row.ref }}"
    phone = "{{ row.phone }}"

    [[steps]]
    id = "germans"
    model = "res.partner"
    action = "update"
    domain = [["country_id.code", "=", "DE"]]

    [steps.values]
    comment = "Guten Tag"

    [[steps]]
    id = "drop-old"
    model = "res.partner"
    action = "delete"
    domain = [["ref", "=", "OLD-1"]]

    [[steps]]
    id = "archive-old"
    model = "res.partner"
    action = "delete"
    archive = true
    domain = [["ref", "=", "OLD-2"]]

    [[steps]]
    id = "stamp"
    model = "res.partner"
    action = "call"
    method = "write"
    args = [{ function = "stamped" }]
    domain = [["ref", "=", "LEG-5"]]
    undo = { method = "write", args = [{ function = false }] }
"""

PARTNER_FIELDS = [
    "name",
    "email",
    "ref",
    "phone",
    "comment",
    "function",
    "is_company",
    "active",
    "country_id",
    "category_id",
]


@dataclass
class ProjectFiles:
    """A project folder under construction."""

    root: Path
    url: str = "sandbox:.zenoo/sandbox.db"
    runner: str = ""
    ledger_url: str = "sqlite:///.zenoo/ledger.db"
    username: str = "admin"  # another user of a sandbox target: its password below
    password: str = "admin"

    def write(self, migrations: Mapping[str, str], data: Mapping[str, str] | None = None) -> None:
        target = (
            f'password = "{self.password}"'
            if self.url.startswith("sandbox:")
            else f'password_env = "{PASSWORD_ENV}"'
        )
        (self.root / "zenoo.toml").write_text(
            textwrap.dedent(
                f"""\
                [project]
                name = "runner-test"

                [targets.local]
                url = "{self.url}"
                database = "etl"
                username = "{self.username}"
                {target}

                [ledger]
                url = "{self.ledger_url}"

                [runner]
                {self.runner}
                """
            )
        )
        folder = self.root / "migrations"
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            if old.name not in migrations:
                old.unlink()
        for name, text in migrations.items():
            (folder / name).write_text(textwrap.dedent(text))
        for name, text in (data or {}).items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))

    def load(self) -> Project:
        return load_project(self.root)

    @property
    def sandbox_db(self) -> Path:
        return self.root / ".zenoo" / "sandbox.db"


@asynccontextmanager
async def looking_at(db_path: Path) -> AsyncIterator[ZenooClient]:
    """A logged-in client on a sandbox serving ``db_path`` (after or between runs)."""
    from zenoo_etl.sandbox import serve_sandbox

    async with serve_sandbox(db_path=db_path) as sb, ZenooClient(url=sb.url) as client:
        await client.login(sb.database, sb.username, sb.password)
        yield client


PLAIN_LOGIN, PLAIN_PASSWORD = "etl-plain", "pw-etl-plain"


async def add_plain_user(project_files: ProjectFiles) -> None:
    """Make a user who is not an administrator on the project's sandbox and run the
    project as that user (write its files after this). Like an Internal User on a real
    Odoo 18/19, it may neither create nor read ir.model.data (has_access False)."""
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        await client.create(
            "res.users", {"name": PLAIN_LOGIN, "login": PLAIN_LOGIN, "password": PLAIN_PASSWORD}
        )
        await client.login("etl", PLAIN_LOGIN, PLAIN_PASSWORD)
        access = await client.execute_kw(
            "ir.model.data", "has_access", [[]], {"operation": "create"}
        )
    assert access is False
    project_files.username, project_files.password = PLAIN_LOGIN, PLAIN_PASSWORD


async def table(
    client: ZenooClient, model: str, fields: Sequence[str], domain: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Every record of ``model`` (archived too), sorted by id."""
    rows = await client.execute_kw(
        model,
        "search_read",
        [domain or []],
        {"fields": list(fields), "context": {"active_test": False}, "order": "id"},
    )
    return list(rows)


WRITES = frozenset({"create", "write", "unlink", "load", "copy"})


@dataclass
class Spy:
    """Wraps an :class:`OdooTarget`: counts calls, can fail or lose answers on demand."""

    inner: OdooTarget
    calls: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str]] = field(default_factory=list)
    # (method, n-th call of that method) -> exception factory, raised AFTER the call ran
    lose_after: dict[tuple[str, int], Callable[[], BaseException]] = field(default_factory=dict)
    # raised BEFORE the n-th call of any write method
    fail_before_write: dict[int, Callable[[], BaseException]] = field(default_factory=dict)
    writes: int = 0

    def _before(self, method: str, model: str) -> None:
        self.calls[method] += 1
        self.log.append((method, model))
        if method in WRITES:
            self.writes += 1
            factory = self.fail_before_write.get(self.writes)
            if factory is not None:
                raise factory()

    def _after(self, method: str) -> None:
        factory = self.lose_after.get((method, self.calls[method]))
        if factory is not None:
            raise factory()

    async def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        self._before("fields_get", model)
        return await self.inner.fields_get(model)

    async def search(
        self,
        model: str,
        domain: list[Any],
        context: Context | None = None,
        limit: int | None = None,
    ) -> list[int]:
        self._before("search", model)
        return await self.inner.search(model, domain, context, limit)

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]:
        self._before("search_read", model)
        return await self.inner.search_read(model, domain, fields, context)

    async def read(
        self, model: str, ids: list[int], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]:
        self._before("read", model)
        return await self.inner.read(model, ids, fields, context)

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]:
        self._before("create", model)
        out = await self.inner.create(model, values, context)
        self._after("create")
        return out

    async def write(
        self, model: str, ids: list[int], values: dict[str, Any], context: Context | None = None
    ) -> None:
        self._before("write", model)
        await self.inner.write(model, ids, values, context)
        self._after("write")

    async def unlink(self, model: str, ids: list[int], context: Context | None = None) -> None:
        self._before("unlink", model)
        await self.inner.unlink(model, ids, context)
        self._after("unlink")

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer:
        self._before("load", model)
        out = await self.inner.load(model, fields, rows, context)
        self._after("load")
        return out

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        context: Context | None = None,
    ) -> Any:
        self._before(method, model)
        out = await self.inner.call(model, method, ids, args, kwargs, context)
        self._after(method)
        return out

    def write_calls(self) -> int:
        return sum(n for m, n in self.calls.items() if m in WRITES)


# --- checks shared by the runner tests


async def seed_old(project_files: ProjectFiles) -> None:
    """Two pre-existing partners the migrations delete and archive, one they update."""
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        await client.create(
            "res.partner",
            [
                {"name": "Old One", "ref": "OLD-1", "email": "old1@example.com"},
                {"name": "Old Two", "ref": "OLD-2"},
            ],
        )


def comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = []
        for name in PARTNER_FIELDS:
            value = row.get(name)
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
                value = value[0]
            values.append(repr(sorted(value) if isinstance(value, list) else value))
        out.append(tuple(values))
    return sorted(out)


async def exactly_once(client: ZenooClient) -> None:
    legs = await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]])
    assert sorted(r["ref"] for r in legs) == [f"LEG-{i}" for i in range(1, 9)]
    imd = await table(client, "ir.model.data", ["name", "res_id"], [["module", "=", XMLID_MODULE]])
    partner_xmlids = [r for r in imd if r["name"].startswith("partners_")]
    assert len(partner_xmlids) == 8
    assert {r["res_id"] for r in partner_xmlids} == {r["id"] for r in legs}


class Killed(BaseException):
    """The runner process 'dies' (not an Exception: nothing may catch it)."""
