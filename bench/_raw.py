"""Baselines: the best any client could do against the sandbox, with a bare aiohttp loop.

Request bodies are built and serialised BEFORE the clock starts, so the timed
loop only posts bytes over ``/jsonrpc`` (``execute_kw``), reads each answer
and checks it for an error: no templates, no ledger, no client library. The
rows carry exactly what ``bench/_harness.py``'s customers migration renders
(trimmed name, lower-cased email, ``LEG-`` ref, phone, title-cased city,
country id, one tag), as ``load()`` cells (identity xmlid) or ``create``
dicts (identity none).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from _harness import COUNTRIES, TAGS, customer_row

UID = 2  # the sandbox's admin
LOAD_COLUMNS = [
    "id",
    "name",
    "email",
    "is_company",
    "ref",
    "phone",
    "city",
    "country_id/.id",
    "category_id/.id",
]
CTX = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


@dataclass
class Refs:
    """Ids the rows refer to, looked up once before timing."""

    countries: dict[str, int]
    tags: dict[str, int]


def _body(password: str, model: str, method: str, args: list[Any], n: int) -> bytes:
    params = {
        "service": "object",
        "method": "execute_kw",
        "args": ["etl", UID, password, model, method, args, {"context": CTX}],
    }
    return orjson.dumps({"jsonrpc": "2.0", "method": "call", "id": n, "params": params})


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> Any:
    headers = {"Content-Type": "application/json"}
    async with session.post(f"{url}/jsonrpc", data=body, headers=headers) as resp:
        answer = orjson.loads(await resp.read())
    if "error" in answer:
        raise RuntimeError(str(answer["error"].get("data", answer["error"]))[:500])
    result = answer["result"]
    if isinstance(result, dict) and result.get("ids") is False:
        raise RuntimeError(f"load() refused the chunk: {result.get('messages')}"[:500])
    return result


async def call(url: str, password: str, model: str, method: str, args: list[Any]) -> Any:
    async with aiohttp.ClientSession() as session:
        return await _post(session, url, _body(password, model, method, args, 1))


async def prepare(url: str, password: str) -> Refs:
    """Create the tags and read the country ids (what the tags migration and xmlids give)."""
    tag_ids = await call(
        url, password, "res.partner.category", "create", [[{"name": t} for t in TAGS]]
    )
    countries = await call(
        url,
        password,
        "res.country",
        "search_read",
        [[["code", "in", COUNTRIES]], ["code"]],
    )
    return Refs(
        countries={str(c["code"]): int(c["id"]) for c in countries},
        tags=dict(zip(TAGS, (int(i) for i in tag_ids), strict=True)),
    )


def _rendered(i: int, refs: Refs) -> tuple[list[str], dict[str, Any]]:
    legacy, name, email, kind, phone, city, country, tag = customer_row(i)
    xmlid = "__bench__.customers_" + hashlib.sha1(legacy.encode()).hexdigest()[:16]
    country_id, tag_id = refs.countries[country], refs.tags[tag]
    cells = [
        xmlid,
        name.strip(),
        email.lower(),
        "1" if kind == "company" else "0",
        f"LEG-{legacy}",
        f"+1 555 {phone}",
        city.title(),
        str(country_id),
        str(tag_id),
    ]
    values = {
        "name": name.strip(),
        "email": email.lower(),
        "is_company": kind == "company",
        "ref": f"LEG-{legacy}",
        "phone": f"+1 555 {phone}",
        "city": city.title(),
        "country_id": country_id,
        "category_id": [[6, 0, [tag_id]]],
    }
    return cells, values


def load_bodies(password: str, rows: int, chunk: int, refs: Refs) -> list[bytes]:
    """One ``load()`` request per chunk, serialised."""
    bodies = []
    for start in range(0, rows, chunk):
        data = [_rendered(i, refs)[0] for i in range(start, min(start + chunk, rows))]
        bodies.append(_body(password, "res.partner", "load", [LOAD_COLUMNS, data], start))
    return bodies


def create_bodies(password: str, rows: int, chunk: int, refs: Refs) -> list[bytes]:
    """One ``create`` request per chunk (``chunk=1``: one record per call), serialised."""
    bodies = []
    for start in range(0, rows, chunk):
        vals = [_rendered(i, refs)[1] for i in range(start, min(start + chunk, rows))]
        bodies.append(_body(password, "res.partner", "create", [vals], start))
    return bodies


def unlink_bodies(password: str, ids: list[int], chunk: int) -> list[bytes]:
    return [
        _body(password, "res.partner", "unlink", [ids[s : s + chunk]], s)
        for s in range(0, len(ids), chunk)
    ]


async def post_all(url: str, bodies: list[bytes], concurrency: int) -> float:
    """Post every body with at most ``concurrency`` in flight; returns wall seconds."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        pending = iter(bodies)

        async def worker() -> None:
            for body in pending:  # workers share one iterator: each body is sent once
                await _post(session, url, body)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def partner_ids(url: str, password: str, domain: list[Any]) -> list[int]:
    ids = await call(url, password, "res.partner", "search", [domain])
    return sorted(int(i) for i in ids)
