"""The realistic scenario of issue 17: zenoo-etl against raw strategies on any Odoo, interleaved.

    python bench/realistic.py                                   # a sandbox in its own process
    source /tmp/odoo18-run/odoo.env
    python bench/realistic.py --url "$ODOO_URL" --db "$ODOO_DB" --user "$ODOO_USER" \\
        --password-env ODOO_PW --repeat 3 --out r18.json

Data (seeded, :func:`generate`): ``--rows`` customers (10,000) with email,
phone, street, city, zip, a country among 30 (those the target knows; US
weighted 30 %), a US state for US customers, 1-3 of 20 tags (written as three
references, the last one repeated when a row has fewer, as a fixed-width
source does), and half of them children of 150 companies. The zenoo-etl
project creates the tags and companies in migration 1 and the customers in
migration 2, in three steps by shape (children with their company; customers
abroad; US customers with a state ``search`` reference), because a reference
cannot be empty. The raw strategies create the same rows in the same order,
with ids pre-resolved before the clock starts (tags and companies created by
the benchmark), chunked per shape like the steps.

Contenders, interleaved in every repetition (the first one rotates):

* ``zen_default`` / ``zen_xmlid`` / ``zen_none`` / ``zen_fields``: ``zenoo-etl
  apply`` (default settings unless ``--chunk-zen``/``--concurrency-zen`` are
  given, or the contender is suffixed ``:N`` for ``chunk_size = N``, ``:auto``,
  ``:NxC`` / ``:autoxC`` to fix the calls in flight too; the chunk size and
  concurrency each step ended with are printed after its run; a suffix
  ``@DIR`` runs the zenoo-etl found in DIR, to compare two versions);
  rate = rows / the three steps' own seconds), then ``zenoo-etl rollback --to
  1`` (timed: the customers only) and ``--to 0`` (cleanup);
* ``raw_create``: ``create`` with pre-resolved ids, ``--chunk`` rows per call,
  ``--concurrency`` calls in flight, bodies serialised before the clock;
* ``raw_create_sorted``: the same, rows ordered by parent company;
* ``raw_load``: ``load()`` exactly as zenoo-etl sends it (``id`` column,
  ``/.id`` relational cells, repeated tag ids);
* ``raw_load_sorted``: ``load()``, rows ordered by parent, tag ids de-duplicated;
* ``raw_load_xid``: the same with every relation as ``field/id`` external ids;
* ``raw_loop``: one ``create`` per record, one call at a time, ``--loop-rows``
  rows taken evenly from the three shapes (the "script" everyone writes first).

Raw records are deleted with ``unlink`` in pages of ``--unlink-page`` (5,000)
ids, one call at a time, timed: the rollback baseline, through a web session
opened before the clock (``--raw-unlink session``, the best raw unlink: with
``password``, every page after the first of records with external ids pays
execute_kw's password hash again). zenoo-etl's rollback time is the migration's
own undo (the ``migrations[].seconds`` of ``rollback --json``: reconcile, the
change check, the unlinks, the ledger), like its apply rate counts the steps'
own seconds; the command's own ``seconds`` (that plus opening the ledger, the
lock and the login; not process start and imports) is printed beside it.
Every repetition leaves the target as it found it (counts of partners checked
at the end). Prints one line per run,
then medians and ratios against the median of ``raw_create``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from _harness import PASSWORD_ENV, SandboxProcess, machine, run_cli

CTX = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}
# 30 ISO codes; a target without one of them (the sandbox seeds fewer) uses the rest.
COUNTRIES = [
    "US", "DE", "FR", "ES", "IT", "BE", "NL", "GB", "CA", "MX", "BR", "AR", "CH", "AT", "SE",
    "NO", "DK", "FI", "PL", "PT", "IE", "LU", "JP", "CN", "IN", "AU", "NZ", "ZA", "CL", "CO",
]  # fmt: skip
US_STATES = [
    "CA", "NY", "TX", "FL", "WA", "IL", "PA", "OH", "GA", "NC",
    "MI", "NJ", "VA", "AZ", "MA", "TN", "IN", "MO", "MD", "WI",
]  # fmt: skip
N_COMPANIES = 150
N_TAGS = 20
STEPS = ("contacts", "customers", "us_customers")
ZEN = ("zen_default", "zen_xmlid", "zen_none", "zen_fields")
RAW = ("raw_create", "raw_create_sorted", "raw_load", "raw_load_sorted", "raw_load_xid", "raw_loop")


# -- data --------------------------------------------------------------------------------


@dataclass
class Data:
    """The seeded rows: companies, and customers split by shape (the zenoo-etl steps)."""

    run: str
    tags: list[str]
    companies: list[dict[str, str]]
    segments: dict[str, list[dict[str, str]]]

    def customers(self) -> Iterable[tuple[str, dict[str, str]]]:
        for step in STEPS:
            for row in self.segments[step]:
                yield step, row


def _address(rng: random.Random, i: int) -> dict[str, str]:
    return {
        "phone": f"+1 555 {rng.randrange(10_000_000):07d}",
        "street": f"{rng.randrange(1, 999)} {rng.choice(['Main', 'Oak', 'Elm', 'Park'])} St",
        "city": f"City {rng.randrange(400)}",
        "zip": f"{rng.randrange(100_000):05d}",
    }


def generate(seed: int, rows: int, run: str, countries: list[str], states: list[str]) -> Data:
    """Deterministic for a seed and a target's countries/states (``run`` only names things)."""
    rng = random.Random(seed)
    others = [c for c in countries if c != "US"]

    def country() -> str:
        if "US" in countries and (not others or rng.random() < 0.3):
            return "US"
        return rng.choice(others)

    tags = [f"{run} Tag {k:02d}" for k in range(N_TAGS)]
    companies = []
    for j in range(N_COMPANIES):
        companies.append(
            {
                "key": f"CO{j:03d}",
                "name": f"{run} Company {j:03d}",
                "email": f"info{j}@company{j}.example.com",
                "country": country(),
                **_address(rng, j),
            }
        )
    segments: dict[str, list[dict[str, str]]] = {s: [] for s in STEPS}
    children = set(rng.sample(range(rows), rows // 2))
    for i in range(rows):
        chosen = rng.sample(tags, rng.randint(1, 3))
        padded = chosen + [chosen[-1]] * (3 - len(chosen))
        row = {
            "key": f"{run}-{i:06d}",
            "name": f"{run} Customer {i:06d}",
            "email": f"customer{i}@example.com",
            "ref": f"{run}-{i:06d}",
            "tag1": padded[0],
            "tag2": padded[1],
            "tag3": padded[2],
            "company": "",
            "state": "",
            **_address(rng, i),
        }
        if i in children:
            company = rng.choice(companies)
            row["company"] = company["key"]
            row["country"] = company["country"]
            segments["contacts"].append(row)
        else:
            row["country"] = country()
            if row["country"] == "US" and states:
                row["state"] = rng.choice(states)
                segments["us_customers"].append(row)
            else:
                segments["customers"].append(row)
    return Data(run, tags, companies, segments)


# -- zenoo-etl project ---------------------------------------------------------------------

CONFIG = """\
[project]
name = "realistic"

[targets.bench]
url = "{url}"
database = "{db}"
username = "{user}"
password_env = "{password_env}"
protocol = "jsonrpc"

[ledger]
url = "sqlite:///.zenoo/ledger.db"

[runner]
{runner}
"""

BASE = """\
description = "Tags and companies"

[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
identity = "{identity}"
{match_name}source = {{ csv = "data/tags.csv" }}
key = "{{{{ row.name }}}}"

[steps.fields]
name = "{{{{ row.name }}}}"

[[steps]]
id = "companies"
model = "res.partner"
action = "create"
identity = "{identity}"
{match_ref}source = {{ csv = "data/companies.csv" }}
key = "{{{{ row.key }}}}"

[steps.fields]
name = "{{{{ row.name }}}}"
is_company = true
email = "{{{{ row.email }}}}"
phone = "{{{{ row.phone }}}}"
street = "{{{{ row.street }}}}"
city = "{{{{ row.city }}}}"
zip = "{{{{ row.zip }}}}"
ref = "{{{{ row.key }}}}-{run}"
country_id = {{ xmlid = "base.{{{{ row.country | lower }}}}" }}
"""

CUSTOMER_STEP = """
[[steps]]
id = "{step}"
model = "res.partner"
action = "create"
identity = "{identity}"
{match_ref}source = {{ csv = "data/{step}.csv" }}
key = "{{{{ row.key }}}}"

[steps.fields]
name = "{{{{ row.name }}}}"
email = "{{{{ row.email }}}}"
phone = "{{{{ row.phone }}}}"
street = "{{{{ row.street }}}}"
city = "{{{{ row.city }}}}"
zip = "{{{{ row.zip }}}}"
ref = "{{{{ row.ref }}}}"
country_id = {{ xmlid = "base.{{{{ row.country | lower }}}}" }}
category_id = [
    {{ ref = "tags", key = "{{{{ row.tag1 }}}}" }},
    {{ ref = "tags", key = "{{{{ row.tag2 }}}}" }},
    {{ ref = "tags", key = "{{{{ row.tag3 }}}}" }},
]
{extra}"""

PARENT = 'parent_id = { ref = "companies", key = "{{ row.company }}" }\n'
STATE = (
    'state_id = { search = [["country_id.code", "=", "US"], ["code", "=", "{{ row.state }}"]], '
    'model = "res.country.state" }\n'
)
CSV_COLUMNS = [
    "key", "name", "email", "ref", "phone", "street", "city", "zip",
    "country", "state", "company", "tag1", "tag2", "tag3",
]  # fmt: skip


def _write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _setting(value: str) -> str:
    """A ``[runner]`` value as TOML: a number, ``"auto"`` or a ``{ min, max }`` table."""
    return value if value.isdigit() or value.startswith("{") else f'"{value}"'


def make_project(
    folder: Path,
    target: Target,
    data: Data,
    identity: str | None,
    chunk: str | None,
    args: Any,
    concurrency: str | None = None,
) -> None:
    (folder / "migrations").mkdir(parents=True)
    (folder / "data").mkdir()
    runner = []
    if chunk or args.chunk_zen:
        runner.append(f"chunk_size = {_setting(chunk or args.chunk_zen)}")
    if concurrency or args.concurrency_zen:
        runner.append(f"concurrency = {_setting(concurrency or args.concurrency_zen)}")
    (folder / "zenoo.toml").write_text(
        CONFIG.format(
            url=target.url,
            db=target.db,
            user=target.user,
            password_env=PASSWORD_ENV,
            runner="\n".join(runner),
        )
    )
    ident = identity or "xmlid"
    line = f'identity = "{ident}"\n'
    fields_only = ident == "fields"
    base = BASE.format(
        identity=ident,
        run=data.run,
        match_name='match = ["name"]\n' if fields_only else "",
        match_ref='match = ["ref"]\n' if fields_only else "",
    )
    if identity is None:  # the default: no identity line at all
        base = base.replace(line, "")
    (folder / "migrations" / "0001_base.toml").write_text(base)
    body = 'description = "Customers"\n'
    for step in STEPS:
        extra = PARENT if step == "contacts" else STATE if step == "us_customers" else ""
        text = CUSTOMER_STEP.format(
            step=step,
            identity=ident,
            match_ref='match = ["ref"]\n' if fields_only else "",
            extra=extra,
        )
        body += text.replace(line, "") if identity is None else text
        _write_csv(folder / "data" / f"{step}.csv", CSV_COLUMNS, data.segments[step])
    (folder / "migrations" / "0002_customers.toml").write_text(body)
    _write_csv(folder / "data" / "tags.csv", ["name"], ({"name": t} for t in data.tags))
    _write_csv(
        folder / "data" / "companies.csv",
        ["key", "name", "email", "phone", "street", "city", "zip", "country"],
        data.companies,
    )


# -- raw JSON-RPC ----------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    db: str
    user: str
    password: str
    uid: int = 0
    counter: int = 0

    def body(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> bytes:
        self.counter += 1
        params = {
            "service": "object",
            "method": "execute_kw",
            "args": [self.db, self.uid, self.password, model, method, args, kwargs],
        }
        return orjson.dumps(
            {"jsonrpc": "2.0", "method": "call", "id": self.counter, "params": params}
        )


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, cookie: str | None = None
) -> Any:
    headers = {"Content-Type": "application/json"}
    if cookie is not None:  # a web session: /web/dataset/call_kw, see session_body
        headers["Cookie"] = f"session_id={cookie}"
    path = "/jsonrpc" if cookie is None else "/web/dataset/call_kw"
    async with session.post(f"{url}{path}", data=body, headers=headers) as resp:
        answer = orjson.loads(await resp.read())
    if "error" in answer:
        error = answer["error"]
        raise RuntimeError(str(error.get("data", {}).get("message") or error)[:800])
    result = answer["result"]
    if isinstance(result, dict) and result.get("ids") is False:
        raise RuntimeError(f"load() refused the chunk: {result.get('messages')}"[:800])
    return result


async def post_all(
    url: str, bodies: list[bytes], concurrency: int, cookie: str | None = None
) -> tuple[float, list[Any]]:
    """Post every body, ``concurrency`` at a time; wall seconds and answers in body order.

    With ``cookie``, the bodies are ``call_kw`` ones sent with that web session."""
    answers: list[Any] = [None] * len(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=900)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        pending = iter(enumerate(bodies))

        async def worker() -> None:
            for n, body in pending:
                answers[n] = await _post(session, url, body, cookie)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, answers


async def call(target: Target, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    body = target.body(model, method, list(args), kwargs)
    _, answers = await post_all(target.url, [body], 1)
    return answers[0]


async def login(target: Target) -> None:
    body = orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 0,
            "params": {
                "service": "common",
                "method": "authenticate",
                "args": [target.db, target.user, target.password, {}],
            },
        }
    )
    _, answers = await post_all(target.url, [body], 1)
    if not answers[0]:
        raise SystemExit(f"login to {target.url} (database {target.db}) failed")
    target.uid = int(answers[0])


@dataclass
class Refs:
    countries: dict[str, int]
    states: dict[str, int]
    tags: dict[str, int] = field(default_factory=dict)
    companies: dict[str, int] = field(default_factory=dict)
    # (model, id) of tags and companies -> external id
    xmlids: dict[tuple[str, int], str] = field(default_factory=dict)
    state_xmlids: dict[str, str] = field(default_factory=dict)


async def discover(target: Target) -> Refs:
    """Countries (with their ``base.`` external id) and US states the target has."""
    names = [f"{c.lower()}" for c in COUNTRIES]
    rows = await call(
        target,
        "ir.model.data",
        "search_read",
        [["module", "=", "base"], ["model", "=", "res.country"], ["name", "in", names]],
        ["name", "res_id"],
    )
    by_name = {str(r["name"]).upper(): int(r["res_id"]) for r in rows}
    countries = {c: by_name[c] for c in COUNTRIES if c in by_name}
    states = await call(
        target,
        "res.country.state",
        "search_read",
        [["country_id.code", "=", "US"], ["code", "in", US_STATES]],
        ["code"],
    )
    refs = Refs(countries, {str(s["code"]): int(s["id"]) for s in states})
    names = await call(
        target,
        "ir.model.data",
        "search_read",
        [["model", "=", "res.country.state"], ["res_id", "in", list(refs.states.values())]],
        ["module", "name", "res_id"],
    )
    by_id = {int(n["res_id"]): f"{n['module']}.{n['name']}" for n in names}
    refs.state_xmlids = {code: by_id[i] for code, i in refs.states.items() if i in by_id}
    return refs


async def create_fixtures(target: Target, data: Data, refs: Refs) -> None:
    """Tags and companies the raw strategies refer to (not timed)."""
    tag_ids = await call(
        target, "res.partner.category", "create", [{"name": t} for t in data.tags], context=CTX
    )
    refs.tags = dict(zip(data.tags, tag_ids, strict=True))
    vals = [
        {
            "name": c["name"] + " (raw)",
            "is_company": True,
            "email": c["email"],
            "phone": c["phone"],
            "street": c["street"],
            "city": c["city"],
            "zip": c["zip"],
            "ref": f"{c['key']}-{data.run}-raw",
            "country_id": refs.countries[c["country"]],
        }
        for c in data.companies
    ]
    ids = await call(target, "res.partner", "create", vals, context=CTX)
    refs.companies = {c["key"]: i for c, i in zip(data.companies, ids, strict=True)}
    # external ids for raw_load_xid (deleted with their records)
    named = [("res.partner.category", i) for i in tag_ids] + [("res.partner", i) for i in ids]
    await call(
        target,
        "ir.model.data",
        "create",
        [
            {"module": "__bench__", "name": f"{data.run}_{m[4:]}_{i}", "model": m, "res_id": i}
            for m, i in named
        ],
    )
    refs.xmlids = {(m, i): f"__bench__.{data.run}_{m[4:]}_{i}" for m, i in named}


async def delete_fixtures(target: Target, refs: Refs) -> None:
    if refs.companies:
        await call(target, "res.partner", "unlink", sorted(refs.companies.values()))
    if refs.tags:
        await call(target, "res.partner.category", "unlink", sorted(refs.tags.values()))


def _tags(row: dict[str, str], refs: Refs, dedup: bool) -> list[int]:
    ids = [refs.tags[row["tag1"]], refs.tags[row["tag2"]], refs.tags[row["tag3"]]]
    return list(dict.fromkeys(ids)) if dedup else ids


def _values(step: str, row: dict[str, str], refs: Refs, tag: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "street": row["street"],
        "city": row["city"],
        "zip": row["zip"],
        "ref": f"{row['ref']}-{tag}",
        "country_id": refs.countries[row["country"]],
        "category_id": [[6, 0, _tags(row, refs, False)]],
    }
    if step == "contacts":
        values["parent_id"] = refs.companies[row["company"]]
    if step == "us_customers":
        values["state_id"] = refs.states[row["state"]]
    return values


def _cells(
    step: str, row: dict[str, str], refs: Refs, tag: str, dedup: bool, xid: bool = False
) -> tuple[list[str], list[str]]:
    """``load()`` columns and cells of one row, as zenoo-etl sends them.

    ``xid``: every relation as ``field/id`` external ids instead of ``field/.id``.
    """
    if xid:
        return _xid_cells(step, row, refs, tag)
    columns = ["id", "name", "email", "phone", "street", "city", "zip", "ref"]
    columns += ["country_id/.id", "category_id/.id"]
    cells = [
        f"__bench__.{tag}_{row['key']}",
        row["name"],
        row["email"],
        row["phone"],
        row["street"],
        row["city"],
        row["zip"],
        f"{row['ref']}-{tag}",
        str(refs.countries[row["country"]]),
        ",".join(str(i) for i in _tags(row, refs, dedup)),
    ]
    if step == "contacts":
        columns.append("parent_id/.id")
        cells.append(str(refs.companies[row["company"]]))
    if step == "us_customers":
        columns.append("state_id/.id")
        cells.append(str(refs.states[row["state"]]))
    return columns, cells


def _xid_cells(step: str, row: dict[str, str], refs: Refs, tag: str) -> tuple[list[str], list[str]]:
    columns, cells = _cells(step, row, refs, tag, dedup=True)
    columns = [c.replace("/.id", "/id") for c in columns]
    cells[8] = f"base.{row['country'].lower()}"
    cells[9] = ",".join(refs.xmlids["res.partner.category", i] for i in _tags(row, refs, True))
    if step == "contacts":
        cells[10] = refs.xmlids["res.partner", refs.companies[row["company"]]]
    if step == "us_customers":
        cells[10] = refs.state_xmlids[row["state"]]
    return columns, cells


def _ordered(data: Data, sort: bool) -> list[tuple[str, list[dict[str, str]]]]:
    out = []
    for step in STEPS:
        rows = data.segments[step]
        if sort:
            rows = sorted(rows, key=lambda r: r["company"])  # stable: ties keep source order
        out.append((step, rows))
    return out


def raw_bodies(
    target: Target, data: Data, refs: Refs, variant: str, tag: str, chunk: int
) -> list[bytes]:
    sort = variant.endswith(("_sorted", "_xid"))
    xid = variant.endswith("_xid")
    bodies = []
    for step, rows in _ordered(data, sort):
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            if variant.startswith("raw_create"):
                vals = [_values(step, r, refs, tag) for r in part]
                bodies.append(target.body("res.partner", "create", [vals], {"context": CTX}))
            else:
                columns: list[str] = []
                cells = []
                for r in part:
                    columns, row_cells = _cells(step, r, refs, tag, dedup=sort, xid=xid)
                    cells.append(row_cells)
                bodies.append(
                    target.body("res.partner", "load", [columns, cells], {"context": CTX})
                )
    return bodies


def loop_bodies(target: Target, data: Data, refs: Refs, tag: str, rows: int) -> list[bytes]:
    """One ``create`` per record for ``rows`` rows spread evenly over all three shapes."""
    every = list(data.customers())
    step = max(1, len(every) // max(1, rows))
    return [
        target.body("res.partner", "create", [_values(s, row, refs, tag)], {"context": CTX})
        for s, row in every[::step][:rows]
    ]


async def count_ref(target: Target, prefix: str) -> list[int]:
    ids = await call(
        target,
        "res.partner",
        "search",
        [["ref", "=like", f"{prefix}%"]],
        context={"active_test": False},
    )
    return sorted(int(i) for i in ids)


async def web_session(target: Target) -> str:
    """A web session's cookie (``/web/session/authenticate``), as zenoo-etl's client opens."""
    body = orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": target.db, "login": target.user, "password": target.password},
        }
    )
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
        session.post(
            f"{target.url}/web/session/authenticate",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        await resp.read()
        for value in resp.headers.getall("Set-Cookie", []):
            name, _, rest = value.partition("=")
            if name.strip() == "session_id":
                return rest.split(";", 1)[0]
    raise SystemExit(f"no web session from {target.url}")


def session_body(model: str, method: str, args: list[Any]) -> bytes:
    params = {"model": model, "method": method, "args": args, "kwargs": {}}
    return orjson.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})


async def unlink_timed(target: Target, ids: list[int], page: int, auth: str) -> float:
    """Seconds to unlink ``ids`` in pages of ``page``, one call at a time.

    ``auth = "session"``: through a web session opened before the clock (the
    best raw unlink: an unlink of records with external ids clears Odoo's
    caches, and with ``"password"``, execute_kw's next call hashes the
    password again, ~0.3 s)."""
    pages = [ids[s : s + page] for s in range(0, len(ids), page)]
    if auth == "session":
        cookie = await web_session(target)
        bodies = [session_body("res.partner", "unlink", [p]) for p in pages]
        seconds, _ = await post_all(target.url, bodies, 1, cookie)
        return seconds
    bodies = [target.body("res.partner", "unlink", [p], {}) for p in pages]
    seconds, _ = await post_all(target.url, bodies, 1)
    return seconds


# -- the server's own CPU -------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def server_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by ``roots`` (Odoo, PostgreSQL) and every descendant
    (PostgreSQL's backends): the server's work, whatever else loads the machine.
    Only processes alive now count: start a server's pool before measuring."""
    if not roots:
        return float("nan")
    kids = _children()
    todo, total, tick = list(roots), 0.0, os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(kids.get(pid, []))
    return total


# -- one measurement -----------------------------------------------------------------------


@dataclass
class Run:
    variant: str
    rep: int
    rows: int
    seconds: float
    rollback: float | None = None
    cpu: float | None = None
    ok: bool = True
    note: str = ""
    # zenoo-etl: the rollback command's ``seconds`` (ledger, lock and login included)
    rollback_total: float | None = None
    server: float = float("nan")  # server CPU seconds (--server-pids)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.ok and self.seconds else float("nan")


async def run_raw(target: Target, data: Data, refs: Refs, variant: str, rep: int, args: Any) -> Run:
    tag = f"{variant.replace('_', '')}{rep}{uuid.uuid4().hex[:4]}"
    if variant == "raw_loop":
        bodies = loop_bodies(target, data, refs, tag, args.loop_rows)
        rows, concurrency = len(bodies), 1
    else:
        bodies = raw_bodies(target, data, refs, variant, tag, args.chunk)
        rows, concurrency = sum(len(s) for s in data.segments.values()), args.concurrency
    try:
        used = server_cpu(args.server_pids)
        seconds, _ = await post_all(target.url, bodies, concurrency)
        used = server_cpu(args.server_pids) - used
    finally:
        ids = await count_ref(target, f"{data.run}-")  # every customer ref starts with the run
        ids = await call(
            target,
            "res.partner",
            "search",
            [["id", "in", ids], ["ref", "=like", f"%-{tag}"]],
            context={"active_test": False},
        )
        ids = sorted(int(i) for i in ids)
        rollback = await unlink_timed(target, ids, args.unlink_page, args.raw_unlink)
    ok = len(ids) == rows
    note = "" if ok else f"{len(ids)} made"
    return Run(variant, rep, rows, seconds, rollback, ok=ok, note=note, server=used)


def run_zen(target: Target, data: Data, variant: str, rep: int, args: Any) -> Run:
    label = variant
    variant, _, code = variant.partition("@")  # zen_none@DIR: zenoo-etl from DIR (A/B)
    # zen_xmlid:500 = chunk_size 500; zen_none:500x2 = and concurrency 2; zen_none:auto
    name, _, setting = variant.partition(":")
    size, _, calls = setting.partition("x")
    identity = None if name == "zen_default" else name.split("_", 1)[1]
    folder = Path(tempfile.mkdtemp(prefix=f"zenoo-realistic-{name}-"))
    env = {PASSWORD_ENV: target.password, **({"PYTHONPATH": code} if code else {})}
    try:
        make_project(folder, target, data, identity, size or None, args, calls or None)
        common = ["--project", str(folder), "--target", "bench", "--json", "--no-progress"]
        used = server_cpu(args.server_pids)  # the whole apply: the 170 tags and companies too
        where = folder if code else None  # not the checkout: -m would import it first
        applied = run_cli(["apply", "--yes", *common], env_extra=env, cwd=where)
        used = server_cpu(args.server_pids) - used
        seconds, note, ok = 0.0, "", applied.returncode == 0
        if ok:
            chosen = []
            for migration in applied.output["migrations"]:
                for step in migration["steps"]:
                    if step["id"] in STEPS:
                        seconds += float(step["seconds"])
                        # the chunk size and calls in flight each step ended with
                        final = (step.get("chunk_size_final"), step.get("concurrency_final"))
                        chosen.append(f"{step['id']} {final[0]}x{final[1]}")
            note = "; ".join(chosen)
        else:
            note = applied.stderr.strip()[-600:]
        back = run_cli(["rollback", "--to", "1", "--yes", *common], env_extra=env, cwd=where)
        rollback = total = None
        if back.returncode == 0 and back.output:
            # like apply's rate (the steps' own seconds): the migration's undo, i.e.
            # reconcile, the change check, the unlinks and the ledger; not opening
            # the ledger, the lock and the login (nor process start and imports)
            rollback = sum(float(m["seconds"]) for m in back.output["migrations"])
            total = float(back.output["seconds"])
        clean = run_cli(["rollback", "--to", "0", "--yes", *common], env_extra=env, cwd=where)
        if back.returncode != 0 or clean.returncode != 0:
            ok = False
            note += (back.stderr + clean.stderr).strip()[-600:]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = sum(len(s) for s in data.segments.values())
    return Run(
        label, rep, rows, seconds or float("nan"), rollback, applied.cpu, ok, note, total, used
    )


# -- the run -----------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else float("nan")


def report(runs: list[Run], variants: list[str]) -> dict[str, Any]:
    med = {v: _median([r.rate for r in runs if r.variant == v]) for v in variants}
    back = {
        v: _median([r.rollback for r in runs if r.variant == v and r.rollback is not None])
        for v in variants
    }
    total = {
        v: _median([r.rollback_total for r in runs if r.variant == v and r.rollback_total])
        for v in variants
    }
    base = med.get("raw_create", float("nan"))
    loop = med.get("raw_loop", float("nan"))
    # rollback baselines: raw unlink of records without / with external ids
    plain_back = back.get("raw_create", float("nan"))
    xmlid_back = back.get("raw_load", float("nan"))
    print("\nmedians (rec/s), ratio to raw_create, speed-up vs raw_loop, rollback seconds:")
    print(f"{'contender':20s} {'rec/s':>9s} {'ratio':>7s} {'x loop':>7s} {'rollback':>9s} "
          f"{'vs raw':>7s}  runs")  # fmt: skip
    table = {}
    for v in variants:
        rates = [r.rate for r in runs if r.variant == v]
        ratio = med[v] / base if base == base else float("nan")
        speed = med[v] / loop if loop == loop else float("nan")
        exact = v.partition("@")[0].partition(":")[0] in ("zen_default", "zen_xmlid", "raw_load")
        raw_back = xmlid_back if exact else plain_back
        rb_ratio = raw_back / back[v] if back[v] == back[v] and back[v] else float("nan")
        cpu = [r.cpu / r.rows * 1e6 for r in runs if r.variant == v and r.cpu is not None]
        server = _median([r.server / r.rows * 1e6 for r in runs if r.variant == v])
        print(
            f"{v:20s} {med[v]:9.1f} {ratio:7.2f} {speed:7.1f} {back[v]:9.2f} {rb_ratio:7.2f}  "
            + ", ".join(f"{x:.0f}" for x in rates)
            + (f"  (rollback command {total[v]:.2f} s)" if total[v] == total[v] else "")
            + (f"  (client CPU {_median(cpu):.0f} µs/rec)" if cpu else "")
            + (f"  (server CPU {server:.0f} µs/rec)" if server == server else "")
        )
        table[v] = {
            "rate": med[v],
            "ratio_raw_create": ratio,
            "speedup_loop": speed,
            "rollback_s": back[v],
            "rollback_command_s": total[v],
            "rollback_ratio": rb_ratio,
            "runs": rates,
            "server_cpu_us_per_record": server,
        }
    return table


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running Odoo (default: start a sandbox)")
    parser.add_argument("--db", default="etl")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-env", default="ODOO_PW", help="variable holding the password")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--chunk", type=int, default=500, help="raw strategies' chunk")
    parser.add_argument("--concurrency", type=int, default=4, help="raw strategies' concurrency")
    parser.add_argument("--chunk-zen", help="zenoo-etl chunk_size: N or auto (default: its own)")
    parser.add_argument("--concurrency-zen", help="zenoo-etl concurrency: N or auto")
    parser.add_argument("--loop-rows", type=int, default=300)
    parser.add_argument("--unlink-page", type=int, default=5_000)
    parser.add_argument(
        "--raw-unlink",
        choices=("session", "password"),
        default="session",
        help="raw unlink through a web session (the best; default) or execute_kw + password",
    )
    parser.add_argument("--only", default=",".join(("zen_default", "zen_none", *RAW)))
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--server-pids",
        type=lambda text: [int(p) for p in text.replace(",", " ").split()],
        default=[],
        help="pids of a server on this machine (Odoo, PostgreSQL's postmaster; e.g. $PIDS of "
        "/tmp/odoo18-run/odoo.env): report the server's CPU per record, descendants included",
    )
    args = parser.parse_args()
    variants = args.only.split(",")
    unknown = {v.partition("@")[0].partition(":")[0] for v in variants} - set(ZEN) - set(RAW)
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="zenoo-realistic-") as tmp:
        if args.url:
            password = os.environ.get(args.password_env)
            if password is None:
                parser.error(f"${args.password_env} is not set")
            await measure(
                Target(args.url.rstrip("/"), args.db, args.user, password), args, variants
            )
        else:
            with SandboxProcess(Path(tmp) / "sandbox.db") as sandbox:
                target = Target(sandbox.url, "etl", "admin", sandbox.password)
                await measure(target, args, variants)


async def measure(target: Target, args: Any, variants: list[str]) -> None:
    await login(target)
    refs = await discover(target)
    run_id = "RZ" + uuid.uuid4().hex[:6].upper()
    data = generate(args.seed, args.rows, run_id, list(refs.countries), sorted(refs.states))
    before = await call(target, "res.partner", "search_count", [], context={"active_test": False})
    sizes = {s: len(r) for s, r in data.segments.items()}
    print(
        f"target {target.url} db {target.db}; {args.rows} rows {sizes}, {len(refs.countries)} "
        f"countries, {len(refs.states)} US states; raw chunk {args.chunk} x {args.concurrency}; "
        f"zenoo chunk {args.chunk_zen or 'default'} x {args.concurrency_zen or 'default'}; "
        f"partners before: {before}; machine {machine()}",
        flush=True,
    )
    runs: list[Run] = []
    await create_fixtures(target, data, refs)
    try:
        for rep in range(args.repeat):
            order = variants[rep % len(variants) :] + variants[: rep % len(variants)]
            for variant in order:
                if variant.startswith("zen_"):
                    run = await asyncio.to_thread(run_zen, target, data, variant, rep, args)
                else:
                    run = await run_raw(target, data, refs, variant, rep, args)
                runs.append(run)
                print(
                    f"rep {rep + 1} {variant:18s} {run.rows:6d} rows {run.seconds:7.2f} s "
                    f"= {run.rate:7.1f} rec/s; rollback {run.rollback or float('nan'):6.2f} s"
                    + (
                        f" (command {run.rollback_total:.2f} s)"
                        if run.rollback_total is not None
                        else ""
                    )
                    + (f"  ({run.note})" if run.ok and run.note else "")
                    + ("" if run.ok else f"  FAILED {run.note}"),
                    flush=True,
                )
    finally:
        await delete_fixtures(target, refs)
    table = report(runs, variants)
    after = await call(target, "res.partner", "search_count", [], context={"active_test": False})
    print(f"partners after: {after} (before: {before})")
    if args.out:
        payload = {
            "target": target.url,
            "rows": args.rows,
            "segments": sizes,
            "machine": machine(),
            "table": table,
            "runs": [r.__dict__ | {"rate": r.rate} for r in runs],
        }
        args.out.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    asyncio.run(main())
