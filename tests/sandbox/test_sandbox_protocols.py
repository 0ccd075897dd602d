"""Session routes, JSON-2 (contract section 1.4), versions and API keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_wire import Wire, new_api_key

from zenoo_etl.sandbox import SandboxServer


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies set by an IP-address host (127.0.0.1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        yield s


async def json2(
    session: aiohttp.ClientSession,
    sb: SandboxServer,
    path: str,
    body: Any = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    hdrs = {"Authorization": f"bearer {key if key is not None else sb.api_key}"}
    hdrs.update(headers or {})
    kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body or {}}
    async with session.post(f"{sb.url}/json/2/{path}", headers=hdrs, **kwargs) as resp:
        if resp.content_type != "application/json":
            return resp.status, await resp.text()
        return resp.status, await resp.json()


async def test_session_authenticate_then_call_kw(
    sandbox: SandboxServer, session: aiohttp.ClientSession
) -> None:
    wire = Wire(sandbox, session)
    payload: dict[str, Any] = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {"model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}},
    }
    status, body = await wire.post("/web/dataset/call_kw", payload)
    assert status == 200 and body["error"]["code"] == 100
    assert body["error"]["message"] == "Odoo Session Expired"
    params = {"db": "etl", "login": "admin", "password": "admin"}
    status, body = await wire.post(
        "/web/session/authenticate", {"jsonrpc": "2.0", "params": params}
    )
    assert body["result"]["uid"] == 2
    status, body = await wire.post("/web/dataset/call_kw/res.partner/search_count", payload)
    assert body["result"] >= 2
    payload["params"]["method"] = "_private"
    status, body = await wire.post("/web/dataset/call_kw", payload)
    assert body["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    status, body = await wire.post("/web/session/get_session_info", {"jsonrpc": "2.0"})
    assert body["result"]["username"] == "admin"
    await wire.post("/web/session/destroy", {"jsonrpc": "2.0"})
    status, body = await wire.post("/web/session/get_session_info", {"jsonrpc": "2.0"})
    assert body["error"]["code"] == 100


async def test_version_18_has_no_json2_and_no_web_version(
    sandbox: SandboxServer, session: aiohttp.ClientSession
) -> None:
    status, _ = await json2(session, sandbox, "res.partner/search", {"domain": []})
    assert status == 404
    async with session.get(f"{sandbox.url}/web/version") as resp:
        assert resp.status == 404
    body = await Wire(sandbox, session).rpc("common", "version")
    assert body["result"]["server_serie"] == "18.0"


async def test_version_19_answers_web_version(
    sandbox19: SandboxServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{sandbox19.url}/web/version") as resp:
        assert await resp.json() == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
    body = await Wire(sandbox19, session).rpc("common", "version")
    assert body["result"]["server_version_info"][0] == 19


async def test_json2_crud_returns_bare_values(
    sandbox19: SandboxServer, session: aiohttp.ClientSession
) -> None:
    sb = sandbox19
    status, ids = await json2(session, sb, "res.partner/create", {"vals_list": {"name": "J"}})
    assert (status, len(ids)) == (200, 1)
    status, more = await json2(
        session, sb, "res.partner/create", {"vals_list": [{"name": "K"}, {"name": "L"}]}
    )
    assert status == 200 and len(more) == 2
    status, ok = await json2(
        session, sb, "res.partner/write", {"ids": ids, "vals": {"email": "j@x.com"}}
    )
    assert (status, ok) == (200, True)
    status, rows = await json2(
        session,
        sb,
        "res.partner/search_read",
        {"domain": [["name", "in", ["J", "K"]]], "fields": ["name", "email"], "order": "name"},
        headers={"X-Odoo-Database": "etl"},
    )
    assert rows == [
        {"id": ids[0], "name": "J", "email": "j@x.com"},
        {"id": more[0], "name": "K", "email": False},
    ]
    status, me = await json2(session, sb, "res.users/context_get")
    assert me["uid"] == 2
    status, found = await json2(
        session, sb, "res.partner/name_search", {"name": "J", "domain": [["id", ">=", ids[0]]]}
    )
    assert found == [[ids[0], "J"]]


@pytest.mark.parametrize(
    ("path", "body", "key", "status", "name", "message"),
    [
        ("res.partner/search", {"domain": []}, "wrong", 401, "werkzeug.exceptions.Unauthorized",
         "Invalid apikey"),
        ("no.model/search", {"domain": []}, None, 404, "werkzeug.exceptions.NotFound",
         "the model 'no.model' does not exist"),
        ("res.partner/nope", {}, None, 404, "werkzeug.exceptions.NotFound", None),
        ("res.partner/_private", {}, None, 403, "odoo.exceptions.AccessError",
         "Private methods (such as 'res.partner._private') cannot be called remotely."),
        ("res.partner/create", {"ids": [1], "vals_list": {}}, None, 422,
         "werkzeug.exceptions.UnprocessableEntity", "cannot call res.partner.create with ids"),
        ("res.partner/search", {"bogus": 1}, None, 422, "werkzeug.exceptions.UnprocessableEntity",
         None),
        ("res.partner/create", {"vals_list": {}}, None, 422, "odoo.exceptions.ValidationError",
         "The operation cannot be completed: Contacts require a name"),
        ("res.partner/write", {"ids": [424242], "vals": {"name": "x"}}, None, 404,
         "odoo.exceptions.MissingError", None),
        ("res.partner/create", {"vals_list": {"nope": 1}}, None, 500, "builtins.ValueError",
         "Invalid field 'nope' in 'res.partner'"),
        ("whatever", {}, None, 404, "werkzeug.exceptions.NotFound",
         "Did you mean POST /json/2/<model>/<method>?"),
    ],
)  # fmt: skip
async def test_json2_errors_follow_the_contract(
    sandbox19: SandboxServer,
    session: aiohttp.ClientSession,
    path: str,
    body: dict[str, Any],
    key: str | None,
    status: int,
    name: str,
    message: str | None,
) -> None:
    got_status, got = await json2(session, sandbox19, path, body, key=key)
    assert got_status == status
    assert list(got) == ["name", "message", "arguments", "context", "debug"]
    assert got["name"] == name
    if message is not None:
        assert got["message"] == message
    if name.startswith("werkzeug"):
        assert got["arguments"] == [got["message"], status]


async def test_json2_bad_body_and_wrong_database(
    sandbox19: SandboxServer, session: aiohttp.ClientSession
) -> None:
    json_type = {"Content-Type": "application/json"}
    status, got = await json2(
        session, sandbox19, "res.partner/search", raw=b"{nope", headers=json_type
    )
    assert status == 400 and got["message"].startswith("could not parse the body as json")
    # a database that does not exist: Odoo's HTML 404 page, before the key is looked at
    status, got = await json2(
        session,
        sandbox19,
        "res.partner/search",
        {},
        key="wrong",
        headers={"X-Odoo-Database": "other"},
    )
    assert status == 404 and got.startswith("<!DOCTYPE html>") and "No database is selected" in got
    # not JSON: an HTML 415
    status, got = await json2(
        session,
        sandbox19,
        "res.partner/search_count",
        raw=b'{"domain": []}',
        headers={"Content-Type": "text/plain"},
    )
    assert status == 415 and "415 Unsupported Media Type" in got


async def test_api_keys_are_generated_through_the_apikeys_model(
    sandbox19: SandboxServer, session: aiohttp.ClientSession
) -> None:
    wire = Wire(sandbox19, session)
    refused = await wire.fail("res.users.apikeys", "generate", "ci pipeline")
    assert refused["name"] == "builtins.AttributeError"  # no public generate in Odoo
    key = await new_api_key(wire, "ci pipeline")
    assert isinstance(key, str) and len(key) == 40 and key != sandbox19.api_key
    status, count = await json2(
        session, sandbox19, "res.partner/search_count", {"domain": []}, key=key
    )
    assert status == 200 and count >= 2
    # an API key also works as the password of the legacy protocol
    assert (await wire.rpc("common", "login", "etl", "admin", key))["result"] == 2
    body = await wire.rpc(
        "object", "execute_kw", "etl", 2, key, "res.partner", "search_count", [[]]
    )
    assert body["result"] == count
    rows = await wire.call(
        "res.users.apikeys", "search_read", [], fields=["name", "user_id", "scope"]
    )
    assert {"name": "ci pipeline", "user_id": [2, "Administrator"], "scope": False} in [
        {k: r[k] for k in ("name", "user_id", "scope")} for r in rows
    ]
    assert all("key" not in r for r in rows)
    # the interactive session login takes passwords only
    params = {"db": "etl", "login": "admin", "password": key}
    _, body = await wire.post("/web/session/authenticate", {"jsonrpc": "2.0", "params": params})
    assert body["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


async def test_bad_json_on_jsonrpc_is_plain_http_400(
    sandbox: SandboxServer, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{sandbox.url}/jsonrpc", data=b"{oops") as resp:
        assert resp.status == 400
        assert await resp.text() == "Invalid JSON data"
        assert resp.headers["Connection"] == "close"


async def test_xmlrpc_speaks_the_same_services_with_odoo_fault_codes(
    sandbox: SandboxServer, session: aiohttp.ClientSession
) -> None:
    import xmlrpc.client

    async def call(service: str, method: str, *params: Any) -> Any:
        body = xmlrpc.client.dumps(params, method)
        async with session.post(f"{sandbox.url}/xmlrpc/2/{service}", data=body) as resp:
            assert resp.status == 200
            return xmlrpc.client.loads(await resp.read())[0][0]

    assert await call("common", "authenticate", "etl", "admin", "admin", {}) == 2
    assert await call("common", "login", "etl", "admin", "wrong") is False
    pid = await call(
        "object", "execute_kw", "etl", 2, "admin", "res.partner", "create", [{"name": "X"}]
    )
    rows = await call(
        "object",
        "execute_kw",
        "etl",
        2,
        "admin",
        "res.partner",
        "read",
        [[pid]],
        {"fields": ["name", "parent_id"]},
    )
    assert rows == [{"id": pid, "name": "X", "parent_id": False}]
    faults = {}
    for label, args in {
        "denied": ("etl", 2, "wrong", "res.partner", "search", [[]]),
        "access": ("etl", 2, "admin", "res.partner", "_private", [[]]),
        "user": ("etl", 2, "admin", "res.partner", "create", [{}]),
        "app": ("etl", 2, "admin", "res.partner", "nope", [[]]),
    }.items():
        with pytest.raises(xmlrpc.client.Fault) as info:
            await call("object", "execute_kw", *args)
        faults[label] = info.value.faultCode
    assert faults == {"denied": 3, "access": 4, "user": 2, "app": 1}


async def test_json2_401_carries_www_authenticate_bearer_with_its_space(
    sandbox19: SandboxServer,
) -> None:
    """Raw bytes: HTTP clients strip the trailing space real Odoo 19 sends."""
    reader, writer = await asyncio.open_connection(sandbox19.host, sandbox19.port)
    body = b'{"domain": []}'
    writer.write(
        b"POST /json/2/res.partner/search HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    head = (await reader.read(65536)).split(b"\r\n\r\n", 1)[0]
    writer.close()
    assert head.startswith(b"HTTP/1.1 401")
    assert b"\r\nWWW-Authenticate: Bearer \r\n" in head + b"\r\n"
