"""The HTTP boundary: a one-method transport protocol and its aiohttp implementation.

``Transport.handle(request) -> response`` is all the client needs from HTTP,
so tests swap in :class:`MockTransport` (a plain function answering requests)
and wrappers such as :class:`CountingTransport` observe traffic.

:class:`AiohttpTransport` owns the one ``aiohttp.ClientSession`` of a client
and is the only place aiohttp exceptions are translated into
:class:`~zenoo_etl.client.errors.TransportError` subclasses:

* connection refused / DNS / TLS handshake  -> ``ConnectError`` (not sent)
* untrusted TLS certificate                 -> ``TransportError`` (not sent, not retried)
* timeout                                   -> ``RequestTimeout`` (may have been sent)
* disconnect or reset while talking         -> ``ConnectionLostError`` (may have been sent)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import aiohttp

from zenoo_etl.client.errors import (
    ConnectError,
    ConnectionLostError,
    RequestTimeout,
    TransportError,
)

logger = logging.getLogger("zenoo_etl.client")


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: ``url`` is absolute, ``content`` the encoded body (or None)."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP answer, fully read."""

    status: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns its answer, or raises a ``TransportError``."""

    async def handle(self, request: Request) -> Response:
        """Send ``request`` and return the complete response."""
        ...

    async def aclose(self) -> None:
        """Release connections; the transport is not used afterwards."""
        ...


Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport:
    """A transport whose answers come from ``handler`` (sync or async); for tests."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.closed = False

    async def handle(self, request: Request) -> Response:
        result = self._handler(request)
        if inspect.isawaitable(result):
            return await result
        return result

    async def aclose(self) -> None:
        self.closed = True


class CountingTransport:
    """Wraps a transport and records every request it forwards (for tests and metrics)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.requests: list[Request] = []

    @property
    def count(self) -> int:
        return len(self.requests)

    async def handle(self, request: Request) -> Response:
        self.requests.append(request)
        return await self.inner.handle(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_ssl_context(verify_tls: bool, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """The ``ssl`` argument for aiohttp: verified by default, optional extra CA file."""
    if not verify_tls:
        logger.warning(
            "TLS certificate verification is DISABLED for this Odoo connection: "
            "anyone on the network path can read and alter the traffic, including "
            "credentials. Use ca_bundle= for private certificate authorities instead."
        )
        return False
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=ca_bundle)
    return True


class AiohttpTransport:
    """The production transport: one pooled ``aiohttp.ClientSession``.

    The connector allows ``concurrency`` connections at once; keep-alive is
    used whenever the server allows it (threaded Odoo answers
    ``Connection: close``, which aiohttp honours by opening a new connection).
    """

    def __init__(
        self,
        *,
        concurrency: int = 4,
        timeout: float = 120.0,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self._ssl = make_ssl_context(verify_tls, ca_bundle)
        self._limit = max(1, concurrency)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._trace_configs = list(trace_configs)  # aiohttp request tracing (benchmarks)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                # Odoo does not need cookies for stateless RPC; skip the jar work.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
                trace_configs=self._trace_configs or None,
            )
        return self._session

    async def handle(self, request: Request) -> Response:
        session = self._get_session()
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.content,
                headers=request.headers,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                return Response(resp.status, body, resp.headers)
        except aiohttp.ClientConnectorCertificateError as exc:
            # Not a ConnectError: retrying cannot fix a certificate.
            raise TransportError(
                f"The TLS certificate of {_origin(request.url)} could not be verified "
                f"({exc.certificate_error}). Pass ca_bundle= with the certificate authority "
                "that signed it (or, unsafely, verify_tls=False)."
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            # Raised while establishing the connection: nothing was sent.
            raise ConnectError(
                f"Cannot connect to {_origin(request.url)}: {exc.os_error}. "
                "Check the URL and port, and that the server is running."
            ) from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(
                f"No answer from {_origin(request.url)} within the timeout. "
                "Raise the timeout or make the calls smaller."
            ) from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientResponseError,
        ) as exc:
            raise ConnectionLostError(
                f"The connection to {_origin(request.url)} was lost during the call "
                f"({type(exc).__name__}). The server may or may not have processed it."
            ) from exc
        except aiohttp.InvalidURL as exc:
            raise TransportError(f"Invalid Odoo URL {_origin(request.url)}: {exc}") from exc
        except aiohttp.ClientError as exc:
            # anything else went wrong once the request was on its way: whether Odoo
            # processed it is unknown, like a dropped connection
            raise ConnectionLostError(
                f"The call to {_origin(request.url)} failed after it was sent "
                f"({type(exc).__name__}: {exc}). The server may or may not have processed it."
            ) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _origin(url: str) -> str:
    # Only scheme://host:port: URLs never carry credentials here, but paths are noise.
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


__all__ = [
    "AiohttpTransport",
    "CountingTransport",
    "Handler",
    "MockTransport",
    "Request",
    "Response",
    "Transport",
    "make_ssl_context",
]
