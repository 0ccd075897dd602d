"""``ZenooClient``: the async Odoo RPC client (JSON-RPC and JSON-2).

Owns one transport (one pooled aiohttp session), the credentials, the
detected server version and protocol, and the retry loop. Everything a call
needs on the hot path (URL, headers, the constant part of the envelope) is
prepared once at login, so sending a chunk costs one dict, one orjson
encode and one decode.

Lifecycle is explicit: a client is usable once opened (``async with`` or
:meth:`ZenooClient.open`, or implicitly by the first call) and refuses every
call with :class:`ClientClosedError` after :meth:`ZenooClient.aclose`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import parse_qs, urlsplit

import orjson

from zenoo_etl import __version__
from zenoo_etl.client.errors import (
    AuthenticationError,
    BadResponseError,
    ClientClosedError,
    ClientError,
    ConcurrencyError,
    ConnectError,
    ConnectionLostError,
    MissingRecordError,
    OdooError,
    OutcomeUnknownError,
    RequestTimeout,
    ServerError,
    UnknownDatabaseError,
)
from zenoo_etl.client.protocol import (
    base_url,
    dumps,
    json2_params,
    json2_result,
    jsonrpc_result,
    loads,
    normalise_result,
    parse_version,
)
from zenoo_etl.client.retry import (
    RETRY_ANY_STATUS,
    RETRY_IDEMPOTENT_STATUS,
    RetryPolicy,
    Sleep,
    parse_retry_after,
    resendable,
)
from zenoo_etl.client.transport import AiohttpTransport, Request, Transport
from zenoo_etl.errors import ConfigError

if TYPE_CHECKING:
    from zenoo_etl.batch import BatchContext
    from zenoo_etl.client.model import ModelQuery

logger = logging.getLogger("zenoo_etl.client")

Protocol = Literal["auto", "jsonrpc", "json2"]
Domain = Sequence[Any]
Context = Mapping[str, Any]


@dataclass(frozen=True)
class LoadResult:
    """What ``load`` answered: ``ids`` is None when any row failed (nothing was kept)."""

    ids: list[int] | None
    messages: list[dict[str, Any]] = field(default_factory=list)


_SESSION_EXPIRED = "odoo.http.SessionExpiredException"


def _session_cookie(headers: Mapping[str, str]) -> str | None:
    """The ``session_id`` value of a Set-Cookie answer header (all of them, if several)."""
    getall = getattr(headers, "getall", None)
    values = getall("Set-Cookie", []) if getall is not None else [headers.get("Set-Cookie", "")]
    for value in values:
        for part in str(value).split(";"):
            name, _, cookie = part.strip().partition("=")
            if name == "session_id" and cookie:
                return cookie
    return None


class ZenooClient:
    """Async client for Odoo's external API; see the package docstring for an example."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        url: str | None = None,
        protocol: Protocol = "auto",
        timeout: float = 120.0,
        retries: int = 5,
        concurrency: int = 4,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        retry_base_delay: float = 0.2,
        retry_max_delay: float = 10.0,
        sleep: Sleep | None = None,
        rng: Callable[[], float] | None = None,
        transport: Transport | None = None,
        web_session: bool = True,
    ) -> None:
        self.url = base_url(host, port, url)
        if protocol not in ("auto", "jsonrpc", "json2"):
            raise ConfigError(
                f"Unknown Odoo protocol {protocol!r}: use 'auto', 'jsonrpc' or 'json2'."
            )
        self._requested_protocol: Protocol = protocol
        policy = RetryPolicy(
            retries=max(0, retries), base_delay=retry_base_delay, max_delay=retry_max_delay
        )
        if sleep is not None:
            policy = replace(policy, sleep=sleep)
        if rng is not None:
            policy = replace(policy, rng=rng)
        self.retry_policy = policy
        # retried faults by reason ("HTTP 503", "concurrency conflict", "RequestTimeout"...):
        # what the runner's chunk tuner reads to see the server struggle
        self.faults: Counter[str] = Counter()
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self._transport: Transport = transport or AiohttpTransport(
            concurrency=self.concurrency,
            timeout=timeout,
            verify_tls=verify_tls,
            ca_bundle=ca_bundle,
        )
        self._state: Literal["new", "open", "closed"] = "new"
        self._jsonrpc_url = f"{self.url}/jsonrpc"
        self._web_session = web_session
        self._json_headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"zenoo-etl/{__version__}",
        }
        self._request_id = 0
        # Set by login().
        self.server_version: tuple[int, int] | None = None
        self.server_version_info: dict[str, Any] | None = None
        self.protocol: Literal["jsonrpc", "json2"] = "json2" if protocol == "json2" else "jsonrpc"
        self.database: str | None = None
        self.uid: int | None = None
        self._secret: str | None = None
        self._login: str | None = None
        self._json2_headers: dict[str, str] = {}
        # JSON-RPC with a password: the web session whose cookie authenticates calls
        self._session_id: str | None = None
        self._session_headers: dict[str, str] = {}
        self._session_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ZenooClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Mark the client open (connections are made lazily, on the first call)."""
        if self._state == "closed":
            raise ClientClosedError(
                "This ZenooClient has been closed and cannot be reopened; create a new one."
            )
        self._state = "open"

    async def aclose(self) -> None:
        """Close the connections; every later call raises ``ClientClosedError``."""
        if self._state != "closed":
            self._state = "closed"
            await self._transport.aclose()

    @property
    def web_session(self) -> bool:
        """Whether calls are authenticated by a web session cookie (JSON-RPC with a password)."""
        return self._session_id is not None

    @property
    def is_closed(self) -> bool:
        return self._state == "closed"

    def __repr__(self) -> str:
        return (
            f"<ZenooClient {self.url} db={self.database!r} protocol={self.protocol} "
            f"state={self._state}>"
        )

    # ------------------------------------------------------------------ login

    async def version(self) -> dict[str, Any]:
        """The server's version info; also sets ``server_version``.

        Tries ``GET /web/version`` (Odoo 19+) unless the protocol is ``jsonrpc``,
        then falls back to ``common.version`` over ``/jsonrpc``.
        """
        self._check_open()
        info: Any = None
        if self._requested_protocol != "jsonrpc":
            info = await self._web_version()
        if info is None:
            info = await self._call_service("common", "version", [])
        if not isinstance(info, dict):
            raise BadResponseError(f"Odoo answered common.version with {info!r}.")
        self.server_version = parse_version(info)
        self.server_version_info = info
        return info

    async def _web_version(self) -> dict[str, Any] | None:
        request = Request("GET", f"{self.url}/web/version", self._json_headers)
        try:
            response = await self._transport.handle(request)
        except ConnectError:
            raise
        except ClientError:
            return None
        if response.status != 200:
            return None
        try:
            body = loads(response.content, status=200, what="GET /web/version")
        except BadResponseError:
            return None
        return body if isinstance(body, dict) and "version" in body else None

    async def database_uuid(self) -> str | None:
        """Odoo's ``database.uuid``, which identifies a database wherever it is reached.

        ``ir.config_parameter.get_param`` answers system users only (others get
        an AccessError, measured on real 18 and 19); any internal user can read it
        from the web client's ``/web/session/account`` route (the ``client_id`` of
        the odoo.com link it builds), which needs a web session: logged in with
        the password. None when neither works (e.g. an API key of a non-admin).
        """
        self._check_open()
        try:
            value = await self.execute_kw(
                "ir.config_parameter", "get_param", [], {"key": "database.uuid"}
            )
        except OdooError:
            value = None
        if isinstance(value, str) and value:
            return value
        return await self._uuid_from_web_session()

    async def _uuid_from_web_session(self) -> str | None:
        login = self._login
        if not login or not self._secret or self.database is None:
            return None
        try:
            cookie = self._session_id
            if cookie is None:
                body = {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"db": self.database, "login": login, "password": self._secret},
                }
                auth = await self._transport.handle(
                    Request(
                        "POST",
                        f"{self.url}/web/session/authenticate",
                        self._json_headers,
                        orjson.dumps(body),
                    )
                )
                cookie = _session_cookie(auth.headers)
                if auth.status != 200 or cookie is None:
                    return None
            answer = await self._transport.handle(
                Request(
                    "POST",
                    f"{self.url}/web/session/account",
                    {**self._json_headers, "Cookie": f"session_id={cookie}"},
                    orjson.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}),
                )
            )
            link = orjson.loads(answer.content).get("result")
        except (ClientError, ValueError, AttributeError):
            return None
        if not isinstance(link, str):
            return None
        found = parse_qs(urlsplit(link).query).get("client_id") or [""]
        return found[0] or None

    async def login(
        self,
        db: str,
        user: str | None = None,
        password: str | None = None,
        *,
        api_key: str | None = None,
    ) -> int:
        """Authenticate; detect the server version and pick the protocol. Returns the uid.

        With ``protocol="auto"``, JSON-2 is used when the server is Odoo 19+ and
        an API key is given; otherwise JSON-RPC with the password (or the API
        key in its place, which Odoo accepts). Over JSON-RPC with a password the
        client logs in to a web session and sends its calls with the session
        cookie (``web_session=False``: the password in every call); see
        :meth:`_session_login`.
        """
        self._check_open()
        secret = api_key if api_key is not None else password
        if not secret:
            raise ConfigError(
                f"No password or API key given to log in to database {db!r} at {self.url}."
            )
        self.database = db
        self._secret = secret
        self._login = user
        self._session_id = None
        self._session_headers = {}
        await self.version()
        assert self.server_version is not None
        if self._requested_protocol == "auto":
            use_json2 = self.server_version[0] >= 19 and api_key is not None
            self.protocol = "json2" if use_json2 else "jsonrpc"
        else:
            self.protocol = self._requested_protocol
        if self.protocol == "json2":
            if api_key is None:
                raise ConfigError(
                    "The JSON-2 protocol authenticates with an API key only; give api_key= "
                    "or use protocol 'jsonrpc'."
                )
            if self.server_version[0] < 19:
                raise ConfigError(
                    f"The server at {self.url} is Odoo {self.server_version[0]}, which has no "
                    "JSON-2 API (19+); use protocol 'jsonrpc' or 'auto'."
                )
            self._json2_headers = {
                **self._json_headers,
                "Authorization": f"bearer {api_key}",
                "X-Odoo-Database": db,
            }
            try:
                info = await self._execute_kw("res.users", "context_get", [], None, None)
            except BadResponseError as exc:
                # Odoo 19 answers an unknown X-Odoo-Database with its HTML 404 page.
                if exc.http_status != 404:
                    raise
                raise UnknownDatabaseError(db, self.url, await self._databases()) from exc
            uid = info.get("uid") if isinstance(info, dict) else None
            if not isinstance(uid, int):
                raise BadResponseError(
                    f"Odoo answered res.users.context_get without a uid ({info!r})."
                )
        else:
            if not user:
                raise ConfigError(f"A login name is needed to log in to {self.url} over JSON-RPC.")
            session_uid = None
            if self._web_session and api_key is None:
                session_uid = await self._session_login(db, user, secret)
            if session_uid is not None:
                self.uid = session_uid
                return session_uid
            try:
                uid = await self._call_service("common", "authenticate", [db, user, secret, {}])
            except OdooError as exc:
                # Odoo 18 lets PostgreSQL's 'database "x" does not exist' through.
                if f'database "{db}" does not exist' not in exc.message:
                    raise
                raise UnknownDatabaseError(db, self.url, await self._databases()) from exc
            if not isinstance(uid, int) or isinstance(uid, bool):
                raise AuthenticationError(
                    f"login of user {user!r} on database {db!r} was rejected",
                    odoo_name="",
                    model=None,
                    method="common.authenticate",
                )
        self.uid = uid
        return uid

    async def _session_login(self, db: str, user: str, password: str) -> int | None:
        """Open a web session (``POST /web/session/authenticate``); its uid, or None.

        Odoo checks ``execute_kw``'s password with a cached PBKDF2 hash (600,000
        rounds, 0.25-0.9 s) and every cache clear (an ``unlink`` of records with
        external ids does one) makes the next call hash it again; a session
        cookie is checked with one SQL query and an HMAC instead (Odoo's
        ``check_session``). None when the server gives no session for these
        credentials (no web module, a proxy serving ``/jsonrpc`` only, an API key
        used as the password, two-factor login, a transient fault): the caller
        then logs in with ``common.authenticate`` and sends the password with
        every call, and reports any error exactly as before.
        """
        body = self._rpc_body({"db": db, "login": user, "password": password})
        request = Request("POST", f"{self.url}/web/session/authenticate", self._json_headers, body)
        try:
            response = await self._transport.handle(request)
            answer = loads(response.content, status=response.status, what="a web login")
        except ClientError:
            return None
        cookie = _session_cookie(response.headers)
        result = answer.get("result") if isinstance(answer, dict) else None
        uid = result.get("uid") if isinstance(result, dict) else None
        if response.status != 200 or cookie is None or not isinstance(uid, int) or uid is True:
            return None
        self._set_session(cookie)
        return uid

    def _set_session(self, cookie: str) -> None:
        self._session_id = cookie
        self._session_headers = {**self._json_headers, "Cookie": f"session_id={cookie}"}

    async def _renew_session(self, expired: str | None, error: AuthenticationError) -> None:
        """Log in again once after Odoo answered a call with SessionExpired.

        Concurrent calls that saw the same session expire wait for one login.
        Raises ``error`` when the server gives no new session.
        """
        async with self._session_lock:
            if self._session_id != expired:
                return  # another call renewed it meanwhile
            assert self.database is not None and self._login and self._secret
            logger.info("The Odoo web session expired; logging in again")
            uid = await self._session_login(self.database, self._login, self._secret)
            if uid is None or uid != self.uid:
                raise error

    async def _databases(self) -> list[str] | None:
        """The server's databases (``db.list``), or None when it does not list them."""
        try:
            names = await self._call_service("db", "list", [])
        except ClientError:
            return None
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return names
        return None

    # ------------------------------------------------------------------ calls

    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
    ) -> Any:
        """Call ``model.method(*args, **kwargs)``; ``context`` is merged over kwargs' one."""
        if self.uid is None or self._secret is None:
            self._check_open()
            raise ClientError(f"Call login() before {model}.{method}.")
        return await self._execute_kw(model, method, args, kwargs, context)

    async def _execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any] | None,
        context: Context | None,
    ) -> Any:
        if self.protocol == "json2":
            body = dumps(json2_params(model, method, args, kwargs, context))
            url = f"{self.url}/json/2/{model}/{method}"
            result = await self._send(url, body, self._json2_headers, model, method, args, kwargs)
            return normalise_result(method, args, result)
        if context:
            if kwargs and kwargs.get("context"):
                kwargs = {**kwargs, "context": {**kwargs["context"], **context}}
            else:
                kwargs = {**kwargs, "context": context} if kwargs else {"context": context}
        if self._session_id is not None:
            return await self._call_kw(model, method, args, kwargs)
        return await self._password_call(model, method, args, kwargs)

    async def _password_call(
        self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None
    ) -> Any:
        """``object.execute_kw`` over ``/jsonrpc``, the password in every call."""
        call_args: list[Any] = [self.database, self.uid, self._secret, model, method, args]
        if kwargs:
            call_args.append(kwargs)
        body = self._envelope("object", "execute_kw", call_args)
        return await self._send(self._jsonrpc_url, body, None, model, method, args, kwargs)

    async def _call_kw(
        self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None
    ) -> Any:
        """``/web/dataset/call_kw`` with the session cookie: what Odoo's web client sends.

        Odoo's ``call_kw`` replaces the session's context by the one in
        ``kwargs`` (empty when none is given), as ``execute_kw`` does, so the
        same call does the same thing on either route. A session that expired
        is renewed once and the call resent: Odoo refused it before running
        anything. An unknown model is answered there by routing (a bare 404),
        so that call is sent again over ``/jsonrpc`` for Odoo's own error.
        """
        params = {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}
        body = self._rpc_body(params)
        url = f"{self.url}/web/dataset/call_kw/{model}/{method}"
        sent_with = self._session_id
        try:
            return await self._send(url, body, self._session_headers, model, method, args, kwargs)
        except AuthenticationError as exc:
            if exc.odoo_name != _SESSION_EXPIRED:
                raise
            await self._renew_session(sent_with, exc)
        except ServerError as exc:
            if exc.odoo_name != "werkzeug.exceptions.NotFound":
                raise
            return await self._password_call(model, method, args, kwargs)
        return await self._send(url, body, self._session_headers, model, method, args, kwargs)

    async def _call_service(self, service: str, method: str, args: list[Any]) -> Any:
        body = self._envelope(service, method, args)
        return await self._send(
            self._jsonrpc_url, body, None, None, f"{service}.{method}", (), None
        )

    def _envelope(self, service: str, method: str, args: list[Any]) -> bytes:
        return self._rpc_body({"service": service, "method": method, "args": args})

    def _rpc_body(self, params: Mapping[str, Any]) -> bytes:
        """A JSON-RPC ``call`` of ``params`` with the next request id."""
        self._request_id += 1
        return dumps({"jsonrpc": "2.0", "method": "call", "id": self._request_id, "params": params})

    def _check_open(self) -> None:
        if self._state == "closed":
            raise ClientClosedError(
                "This ZenooClient has been closed; create a new client to make more calls."
            )
        self._state = "open"

    async def _send(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None,
        model: str | None,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any] | None,
    ) -> Any:
        """POST ``body`` with retries for transient faults; return the decoded result."""
        self._check_open()
        policy = self.retry_policy
        short = method.rpartition(".")[2]
        request = Request("POST", url, headers or self._json_headers, body)
        where = f"{model}.{method}" if model else method
        attempt = 0
        outcome_unknown = False
        while True:
            retry_after: float | None = None
            try:
                response = await self._transport.handle(request)
                if self._session_id is not None:
                    # Odoo may hand a session a new id (rotation): follow it
                    renewed = _session_cookie(response.headers)
                    if renewed is not None and renewed != self._session_id:
                        self._set_session(renewed)
                status = response.status
                if status in RETRY_ANY_STATUS or status in RETRY_IDEMPOTENT_STATUS:
                    if status in RETRY_IDEMPOTENT_STATUS and not resendable(short, args, kwargs):
                        raise self._outcome_unknown(where, model, method, f"HTTP {status}")
                    if attempt >= policy.retries:
                        raise BadResponseError(
                            f"The server kept answering {where} with HTTP {status} "
                            f"after {attempt + 1} tries. Try again later.",
                            http_status=status,
                        )
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    reason = f"HTTP {status}"
                    outcome_unknown = outcome_unknown or status in RETRY_IDEMPOTENT_STATUS
                else:
                    try:
                        if self.protocol == "json2" and url != self._jsonrpc_url:
                            return json2_result(response, model, method, self._secrets())
                        return jsonrpc_result(response, model, method, self._secrets())
                    except BadResponseError as exc:
                        # The request left and what came back is neither an Odoo result
                        # nor an Odoo error (HTML, random bytes, half a document, an
                        # empty 200): Odoo may have committed, exactly as if the answer
                        # had been lost.
                        if not resendable(short, args, kwargs):
                            raise self._outcome_unknown(
                                where, model, method, f"an unreadable answer (HTTP {status})"
                            ) from exc
                        if attempt >= policy.retries:
                            raise
                        outcome_unknown = True
                        reason = f"an unreadable answer (HTTP {status})"
            except ConnectError:
                if attempt >= policy.retries:
                    raise
                reason = "connection refused"
            except (RequestTimeout, ConnectionLostError) as exc:
                if not resendable(short, args, kwargs):
                    raise self._outcome_unknown(where, model, method, type(exc).__name__) from exc
                if attempt >= policy.retries:
                    raise
                outcome_unknown = True
                reason = type(exc).__name__
            except ConcurrencyError:
                if attempt >= policy.retries:
                    raise
                reason = "concurrency conflict"
            except MissingRecordError as exc:
                if short == "unlink" and outcome_unknown and model is not None:
                    return await self._unlink_settled(model, args, kwargs, exc)
                raise
            self.faults[reason] += 1
            delay = policy.backoff(attempt, retry_after)
            attempt += 1
            logger.info(
                "Retrying %s after %s (retry %d of %d) in %.2fs",
                where,
                reason,
                attempt,
                policy.retries,
                delay,
            )
            await policy.sleep(delay)

    def _outcome_unknown(
        self, where: str, model: str | None, method: str, cause: str
    ) -> OutcomeUnknownError:
        return OutcomeUnknownError(
            f"The outcome of {where} is unknown ({cause} after the request was sent): Odoo "
            "may or may not have committed it. It was not resent because it is not "
            "idempotent; reconcile (e.g. look up the external ids sent) before retrying.",
            model=model or "",
            method=method,
        )

    async def _unlink_settled(
        self,
        model: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any] | None,
        exc: MissingRecordError,
    ) -> bool:
        # A retried unlink found records missing: our lost attempt may have
        # deleted them. It did iff none of the ids exist any more (one
        # transaction deletes all or nothing).
        ids = args[0] if args else (kwargs or {}).get("ids", [])
        remaining = await self.execute_kw(
            model, "search", [[["id", "in", list(ids)]]], {"context": {"active_test": False}}
        )
        if remaining:
            raise exc
        return True

    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._secret, self._session_id) if s)

    # ------------------------------------------------------------------ helpers

    @overload
    async def create(
        self, model: str, values: Mapping[str, Any], *, context: Context | None = None
    ) -> int: ...

    @overload
    async def create(
        self, model: str, values: Sequence[Mapping[str, Any]], *, context: Context | None = None
    ) -> list[int]: ...

    async def create(
        self,
        model: str,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        context: Context | None = None,
    ) -> int | list[int]:
        """Create one record (→ id) or many in one call and transaction (→ ids, in order)."""
        result = await self.execute_kw(model, "create", [values], context=context)
        if isinstance(values, Mapping):
            if isinstance(result, list) and len(result) == 1:
                return int(result[0])
            if isinstance(result, int):
                return result
        elif isinstance(result, list):
            return result
        raise BadResponseError(f"Odoo answered {model}.create with {result!r}, not ids.")

    async def write(
        self,
        model: str,
        ids: Sequence[int],
        values: Mapping[str, Any],
        *,
        context: Context | None = None,
    ) -> bool:
        """Write the same ``values`` on every record of ``ids``."""
        return bool(await self.execute_kw(model, "write", [ids, values], context=context))

    async def unlink(
        self, model: str, ids: Sequence[int], *, context: Context | None = None
    ) -> bool:
        """Delete the records ``ids`` (all or none)."""
        return bool(await self.execute_kw(model, "unlink", [ids], context=context))

    async def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str] | None = None,
        *,
        context: Context | None = None,
    ) -> list[dict[str, Any]]:
        """Read ``fields`` of ``ids``; missing ids are silently absent from the result."""
        kwargs = {"fields": fields} if fields is not None else None
        result = await self.execute_kw(model, "read", [ids], kwargs, context=context)
        return list(result or [])

    async def search(
        self,
        model: str,
        domain: Domain = (),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: Context | None = None,
    ) -> list[int]:
        """Ids of the records matching ``domain``."""
        kwargs = _paging(offset, limit, order)
        result = await self.execute_kw(model, "search", [domain], kwargs, context=context)
        return list(result or [])

    async def search_read(
        self,
        model: str,
        domain: Domain = (),
        fields: Sequence[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: Context | None = None,
    ) -> list[dict[str, Any]]:
        """Search and read in one call."""
        kwargs = _paging(offset, limit, order) or {}
        if fields is not None:
            kwargs["fields"] = fields
        result = await self.execute_kw(model, "search_read", [domain], kwargs, context=context)
        return list(result or [])

    async def search_count(
        self, model: str, domain: Domain = (), *, context: Context | None = None
    ) -> int:
        """How many records match ``domain``."""
        return int(await self.execute_kw(model, "search_count", [domain], context=context) or 0)

    async def fields_get(
        self,
        model: str,
        fields: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        *,
        context: Context | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Field definitions of ``model`` (optionally only ``fields`` and ``attributes``)."""
        kwargs: dict[str, Any] = {}
        if fields is not None:
            kwargs["allfields"] = fields
        if attributes is not None:
            kwargs["attributes"] = attributes
        result = await self.execute_kw(model, "fields_get", [], kwargs or None, context=context)
        return dict(result or {})

    async def name_search(
        self,
        model: str,
        name: str = "",
        domain: Domain | None = None,
        *,
        operator: str = "ilike",
        limit: int = 100,
        context: Context | None = None,
    ) -> list[tuple[int, str]]:
        """``[(id, display_name), ...]`` of records whose name matches."""
        # Positional: the domain parameter is "args" up to 18 and "domain" in 19.
        result = await self.execute_kw(
            model,
            "name_search",
            [name, list(domain or []), operator, limit],
            context=context,
        )
        return [(int(pair[0]), str(pair[1])) for pair in result or []]

    async def load(
        self,
        model: str,
        fields: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        context: Context | None = None,
    ) -> LoadResult:
        """Odoo's import API: all rows are kept, or none (``ids`` None, see ``messages``)."""
        result = await self.execute_kw(model, "load", [fields, rows], context=context)
        if not isinstance(result, dict):
            raise BadResponseError(f"Odoo answered {model}.load with {result!r}.")
        ids = result.get("ids")
        messages = result.get("messages") or []
        return LoadResult(ids=list(ids) if isinstance(ids, list) else None, messages=messages)

    # ------------------------------------------------------------------ sugar

    def model(self, name: str) -> ModelQuery:
        """A small query API on one model: ``client.model("res.partner").filter(...)``."""
        from zenoo_etl.client.model import ModelQuery

        return ModelQuery(self, name)

    def batch(self, **options: Any) -> BatchContext:
        """A ``BatchContext`` (same options) that executes on leaving its ``async with`` block.

        By default a failed call is narrowed down to the bad operations, so
        every operation gets its own result (``isolate_failures=True``).
        """
        # Local import: the batch layer sits above the client.
        from zenoo_etl.batch import BatchContext

        return BatchContext(self, **options)


def _paging(offset: int, limit: int | None, order: str | None) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {}
    if offset:
        kwargs["offset"] = offset
    if limit is not None:
        kwargs["limit"] = limit
    if order is not None:
        kwargs["order"] = order
    return kwargs or None


__all__ = ["LoadResult", "ZenooClient"]
