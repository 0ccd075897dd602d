"""The aiohttp transport over real sockets, the client's lifecycle and its public names."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

import zenoo_etl.batch
import zenoo_etl.client
from zenoo_etl.client import (
    AiohttpTransport,
    ClientClosedError,
    ClientError,
    ConnectError,
    ConnectionLostError,
    MockTransport,
    OutcomeUnknownError,
    Request,
    RequestTimeout,
    Response,
    TransportError,
    ZenooClient,
)
from zenoo_etl.errors import ConfigError, ZenooError

HandlerFn = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: HandlerFn) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.Response(text="{}")

    runner, url = await serve(handler)
    yield url
    await runner.cleanup()


@pytest.fixture
async def dropping_server() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        assert request.transport is not None
        request.transport.close()  # the request arrived; the answer never leaves
        return web.Response(text="{}")

    runner, url = await serve(handler)
    yield url
    await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refused_connection_is_connect_error() -> None:
    transport = AiohttpTransport(timeout=5)
    url = f"http://127.0.0.1:{free_port()}/jsonrpc"
    try:
        with pytest.raises(ConnectError) as info:
            await transport.handle(Request("POST", url, {}, b"{}"))
    finally:
        await transport.aclose()
    assert info.value.__cause__ is not None


async def test_timeout_is_request_timeout(slow_server: str) -> None:
    transport = AiohttpTransport(timeout=0.2)
    try:
        with pytest.raises(RequestTimeout):
            await transport.handle(Request("POST", slow_server + "/jsonrpc", {}, b"{}"))
    finally:
        await transport.aclose()


async def test_dropped_connection_after_sending_is_connection_lost(dropping_server: str) -> None:
    transport = AiohttpTransport(timeout=5)
    try:
        with pytest.raises(ConnectionLostError):
            await transport.handle(Request("POST", dropping_server + "/jsonrpc", {}, b"{}"))
    finally:
        await transport.aclose()


async def test_create_on_a_dropping_server_is_outcome_unknown_not_resent(
    dropping_server: str,
) -> None:
    hits: list[Request] = []
    inner = AiohttpTransport(timeout=5)

    async def handler(request: Request) -> Response:
        if request.url.endswith("/jsonrpc") and b'"create"' in (request.content or b""):
            hits.append(request)
            return await inner.handle(
                Request("POST", dropping_server + "/jsonrpc", {}, request.content)
            )
        body = (
            b'{"jsonrpc":"2.0","id":1,"result":'
            + (b'{"server_serie":"18.0"}' if b'"version"' in (request.content or b"") else b"2")
            + b"}"
        )
        return Response(200, body)

    async with ZenooClient(
        url="http://o", protocol="jsonrpc", web_session=False, transport=MockTransport(handler)
    ) as client:
        await client.login("etl", "admin", "admin")
        with pytest.raises(OutcomeUnknownError) as info:
            await client.create("res.partner", {"name": "x"})
    await inner.aclose()
    assert len(hits) == 1
    assert isinstance(info.value.__cause__, ConnectionLostError)


async def test_closed_client_refuses_use() -> None:
    client = ZenooClient(
        "localhost", port=8069, transport=MockTransport(lambda r: Response(200, b""))
    )
    async with client:
        pass
    assert client.is_closed
    with pytest.raises(ClientClosedError):
        await client.login("etl", "admin", "admin")
    with pytest.raises(ClientClosedError):
        await client.open()
    with pytest.raises(ClientClosedError):
        await client.version()


async def test_calls_before_login_are_refused() -> None:
    async with ZenooClient(
        url="http://o", transport=MockTransport(lambda r: Response(200, b""))
    ) as c:
        with pytest.raises(ClientError, match="login"):
            await c.search("res.partner")


def test_urls() -> None:
    assert ZenooClient("localhost", port=8069).url == "http://localhost:8069"
    assert ZenooClient("localhost").url == "http://localhost:8069"
    assert ZenooClient("erp.example.com", port=443).url == "https://erp.example.com:443"
    assert ZenooClient(url="https://erp.example.com/").url == "https://erp.example.com"
    for bad in (
        {"url": "ftp://x"},
        {"url": "https://user:pw@x"},
        {},
    ):
        with pytest.raises(ConfigError):
            ZenooClient(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ZenooClient("h", url="http://x")
    with pytest.raises(ConfigError):
        ZenooClient(url="http://x", protocol="xmlrpc")  # type: ignore[arg-type]


def test_disabling_tls_verification_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="zenoo_etl.client"):
        AiohttpTransport(verify_tls=False)
    assert "TLS certificate verification is DISABLED" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="zenoo_etl.client"):
        AiohttpTransport()
    assert caplog.text == ""


def test_repr_never_shows_the_secret() -> None:
    client = ZenooClient(url="http://o")
    client._secret = "hunter2-secret"
    assert "hunter2" not in repr(client)


@pytest.mark.parametrize("module", [zenoo_etl.client, zenoo_etl.batch])
def test_public_names(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None


def test_client_exports_the_documented_names() -> None:
    documented = {
        "ZenooClient",
        "LoadResult",
        "ClientError",
        "TransportError",
        "ConnectError",
        "RequestTimeout",
        "OutcomeUnknownError",
        "BadResponseError",
        "OdooError",
        "AuthenticationError",
        "AccessError",
        "ValidationError",
        "MissingRecordError",
        "OdooUserError",
        "ConcurrencyError",
        "ServerError",
    }
    assert documented <= set(zenoo_etl.client.__all__)
    assert {"BatchContext", "BatchOperationResult", "BatchExecutionError"} <= set(
        zenoo_etl.batch.__all__
    )
    for name in documented - {"ZenooClient", "LoadResult"}:
        cls = getattr(zenoo_etl.client, name)
        assert issubclass(cls, zenoo_etl.client.ClientError)
        assert issubclass(cls, ZenooError)


def test_client_does_not_import_the_batch_layer() -> None:
    import subprocess
    import sys

    code = "import sys, zenoo_etl.client; print('zenoo_etl.batch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("server_closes", [False, True])
async def test_keep_alive_is_used_when_allowed_and_close_is_honoured(server_closes: bool) -> None:
    peers: list[object] = []

    async def handler(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        response = web.Response(body=b'{"jsonrpc":"2.0","id":1,"result":[1]}')
        if server_closes:  # what threaded Odoo does on every answer
            response.force_close()
        return response

    runner, url = await serve(handler)
    transport = AiohttpTransport(concurrency=1, timeout=5)
    try:
        for _ in range(4):
            response = await transport.handle(Request("POST", url + "/jsonrpc", {}, b"{}"))
            assert response.status == 200
    finally:
        await transport.aclose()
        await runner.cleanup()
    assert len(peers) == 4
    assert len(set(peers)) == (4 if server_closes else 1)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_is_verified_by_default_and_ca_bundle_trusts_a_private_ca(
    self_signed: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()

    async def version(request: web.Request) -> web.Response:
        body = b'{"jsonrpc":"2.0","id":1,"result":{"server_serie":"18.0"}}'
        return web.Response(body=body, content_type="application/json")

    app.router.add_post("/jsonrpc", version)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    try:
        async with ZenooClient(url=url, protocol="jsonrpc", sleep=sleep) as client:
            with pytest.raises(TransportError, match="ca_bundle") as info:
                await client.version()
            assert not isinstance(info.value, ConnectError) and sleeps == []
        async with ZenooClient(url=url, protocol="jsonrpc", ca_bundle=str(cert)) as client:
            assert (await client.version())["server_serie"] == "18.0"
        with caplog.at_level(logging.WARNING, logger="zenoo_etl.client"):
            async with ZenooClient(url=url, protocol="jsonrpc", verify_tls=False) as client:
                assert client.server_version is None
                await client.version()
                assert client.server_version == (18, 0)
        assert "DISABLED" in caplog.text
    finally:
        await runner.cleanup()
