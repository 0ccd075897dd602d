"""The query API: keyword filters become domains, and each verb sends the expected calls."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from zenoo_etl.client import ClientError, MockTransport, Request, Response, ZenooClient
from zenoo_etl.client.model import kw_to_domain


def test_keyword_filters_become_a_domain() -> None:
    assert kw_to_domain({"is_company": True, "name__ilike": "acme", "id__in": [1, 2]}) == [
        ["is_company", "=", True],
        ["name", "ilike", "acme"],
        ["id", "in", [1, 2]],
    ]
    assert kw_to_domain({"list_price__gte": 3, "x__not_in": [1], "ref__ne": False}) == [
        ["list_price", ">=", 3],
        ["x", "not in", [1]],
        ["ref", "!=", False],
    ]
    # An unknown suffix is part of the field name (Odoo field names may hold "__").
    assert kw_to_domain({"x_studio__thing": 1}) == [["x_studio__thing", "=", 1]]


class Recorder:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, list[Any], dict[str, Any]]] = []

    def __call__(self, request: Request) -> Response:
        params = orjson.loads(request.content or b"{}")["params"]
        if params["service"] == "common":
            result: Any = {"server_serie": "17.0"} if params["method"] == "version" else 2
        else:
            _db, _uid, _pw, model, method, args, *rest = params["args"]
            self.calls.append((model, method, args, rest[0] if rest else {}))
            result = self.answers[method]
        return Response(200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result}))


async def client_with(answers: dict[str, Any]) -> tuple[ZenooClient, Recorder]:
    recorder = Recorder(answers)
    client = ZenooClient(
        url="http://o", protocol="jsonrpc", web_session=False, transport=MockTransport(recorder)
    )
    await client.login("etl", "admin", "admin")
    return client, recorder


async def test_filter_read_is_one_search_read() -> None:
    client, rec = await client_with({"search_read": [{"id": 3, "name": "Acme"}]})
    rows = await client.model("res.partner").filter(is_company=True).read(["name"])
    assert rows == [{"id": 3, "name": "Acme"}]
    assert rec.calls == [
        ("res.partner", "search_read", [[["is_company", "=", True]]], {"fields": ["name"]})
    ]


async def test_filter_delete_searches_then_unlinks_what_exists() -> None:
    client, rec = await client_with({"search": [7], "unlink": True})
    assert await client.model("res.partner").filter(id=7).delete() == 1
    assert [c[1] for c in rec.calls] == ["search", "unlink"]
    assert rec.calls[1][2] == [[7]]


async def test_delete_with_no_match_sends_no_unlink() -> None:
    client, rec = await client_with({"search": []})
    assert await client.model("res.partner").search([["ref", "=", "x"]]).delete() == 0
    assert [c[1] for c in rec.calls] == ["search"]


async def test_delete_without_any_filter_is_refused() -> None:
    client, rec = await client_with({})
    with pytest.raises(ClientError, match=r"every res\.partner"):
        await client.model("res.partner").delete()
    assert rec.calls == []


async def test_write_count_create_first_and_context() -> None:
    client, rec = await client_with(
        {"search": [1, 2], "write": True, "search_count": 2, "create": 9, "search_read": []}
    )
    query = client.model("res.partner").filter(active=True).with_context(lang="fr_FR")
    assert await query.write({"comment": "x"}) == 2
    assert await query.count() == 2
    assert await query.create({"name": "n"}) == 9
    assert await query.first(["name"]) is None
    assert rec.calls[1] == (
        "res.partner",
        "write",
        [[1, 2], {"comment": "x"}],
        {"context": {"lang": "fr_FR"}},
    )
    assert rec.calls[-1][3] == {"limit": 1, "fields": ["name"], "context": {"lang": "fr_FR"}}
