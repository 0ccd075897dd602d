"""JSON-RPC with a password through a web session, over HTTP to the sandbox.

Odoo checks ``execute_kw``'s password with a cached PBKDF2 hash that every
cache clear (an unlink of records with external ids) throws away; a web
session's cookie is checked with one query and an HMAC instead. The client
logs in with ``/web/session/authenticate`` and sends its calls to
``/web/dataset/call_kw`` with the cookie; these tests pin what that changes
on the wire and what it must not change (errors, secrets, expiry).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.client.errors import AuthenticationError, OdooUserError, ServerError
from zenoo_etl.client.transport import AiohttpTransport, CountingTransport, Request
from zenoo_etl.sandbox import SandboxServer


def _paths(transport: CountingTransport) -> list[str]:
    return [r.url.split("/", 3)[3] for r in transport.requests]


def _counted(**options: Any) -> tuple[CountingTransport, dict[str, Any]]:
    transport = CountingTransport(AiohttpTransport(concurrency=4, timeout=30))
    return transport, {"transport": transport, **options}


async def _destroy(sandbox: SandboxServer, cookie: str) -> None:
    """Log the session out from elsewhere, as Odoo's /web/session/destroy does."""
    other = AiohttpTransport(timeout=30)
    try:
        answer = await other.handle(
            Request(
                "POST",
                f"{sandbox.url}/web/session/destroy",
                {"Content-Type": "application/json", "Cookie": f"session_id={cookie}"},
                orjson.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}),
            )
        )
        assert answer.status == 200
    finally:
        await other.aclose()


async def test_a_password_login_opens_a_web_session_and_calls_carry_the_cookie_only(
    sandbox: SandboxServer,
) -> None:
    transport, options = _counted()
    async with ZenooClient(url=sandbox.url, **options) as client:
        uid = await client.login(sandbox.database, sandbox.username, sandbox.password)
        assert uid == 2 and client.web_session and client.protocol == "jsonrpc"
        new = await client.create("res.partner", {"name": "via the session"})
        assert await client.read("res.partner", [new], ["name"]) == [
            {"id": new, "name": "via the session"}
        ]
    paths = _paths(transport)
    assert paths[-3:] == [
        "web/session/authenticate",
        "web/dataset/call_kw/res.partner/create",
        "web/dataset/call_kw/res.partner/read",
    ]
    assert "jsonrpc" not in paths[paths.index("web/session/authenticate") :]
    for request in transport.requests[-2:]:
        assert request.headers["Cookie"].startswith("session_id=")
        assert sandbox.password.encode() not in (request.content or b"")


async def test_web_session_false_sends_the_password_with_every_call(
    sandbox: SandboxServer,
) -> None:
    transport, options = _counted(web_session=False)
    async with ZenooClient(url=sandbox.url, **options) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        assert not client.web_session
        await client.search("res.partner", [["id", "=", 1]])
    assert "web/session/authenticate" not in _paths(transport)
    body = orjson.loads(transport.requests[-1].content or b"")
    assert body["params"]["service"] == "object"
    assert body["params"]["args"][2] == sandbox.password


async def test_an_expired_session_is_renewed_once_and_the_call_goes_through(
    sandbox: SandboxServer,
) -> None:
    transport, options = _counted()
    async with ZenooClient(url=sandbox.url, **options) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        first = client._session_id
        assert first is not None
        await _destroy(sandbox, first)
        transport.requests.clear()
        # four calls in flight meet the expired session: one login serves them all
        found = await asyncio.gather(
            *(client.search("res.partner", [["id", "=", 1]]) for _ in range(4))
        )
        assert found == [[1]] * 4
        assert client._session_id not in (None, first)
    paths = _paths(transport)
    assert paths.count("web/session/authenticate") == 1
    assert paths.count("web/dataset/call_kw/res.partner/search") == 8  # each sent twice


async def test_a_session_that_cannot_be_renewed_is_an_authentication_error(
    sandbox: SandboxServer,
) -> None:
    async with ZenooClient(url=sandbox.url) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        assert client._session_id is not None
        await _destroy(sandbox, client._session_id)
        client._secret = "not-the-password"  # changed on the server meanwhile
        with pytest.raises(AuthenticationError) as info:
            await client.search("res.partner", [])
    assert info.value.odoo_name == "odoo.http.SessionExpiredException"


async def test_a_refused_password_reads_as_before(sandbox: SandboxServer) -> None:
    transport, options = _counted()
    async with ZenooClient(url=sandbox.url, **options) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.login(sandbox.database, sandbox.username, "wrong-password")
    assert info.value.message == "login of user 'admin' on database 'etl' was rejected"
    assert "wrong-password" not in str(info.value)
    # the web login said no, then common.authenticate was asked, as before
    assert _paths(transport)[-2:] == ["web/session/authenticate", "jsonrpc"]


async def test_an_unknown_model_is_reported_as_over_jsonrpc(sandbox: SandboxServer) -> None:
    async with ZenooClient(url=sandbox.url) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        with pytest.raises(OdooUserError) as info:
            await client.search("no.such.model", [])
    assert info.value.message == "Object no.such.model doesn't exist"


async def test_an_api_key_given_as_the_password_still_logs_in(sandbox19: SandboxServer) -> None:
    # Odoo refuses API keys on the interactive web login but accepts them in
    # execute_kw: the client falls back to the password in every call
    async with ZenooClient(url=sandbox19.url, protocol="jsonrpc") as client:
        await client.login(sandbox19.database, sandbox19.username, sandbox19.api_key)
        assert not client.web_session
        assert await client.search("res.partner", [["id", "=", 1]]) == [1]


async def test_the_session_cookie_is_never_logged_or_shown(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ZenooClient(url=sandbox.url) as client:
        await client.login(sandbox.database, sandbox.username, sandbox.password)
        first = client._session_id
        assert first is not None
        await _destroy(sandbox, first)
        await client.search("res.partner", [])
        second = client._session_id
        assert second is not None
        with pytest.raises(ServerError) as info:  # Odoo's message quotes the domain
            await client.search("res.partner", [[second, "=", 1]])
        assert "Invalid field res.partner.*** in leaf" in info.value.message
        shown = f"{client!r} {info.value} {info.value.debug} {info.value.arguments}"
    for cookie in (first, second):
        assert cookie not in caplog.text
        assert cookie not in shown
