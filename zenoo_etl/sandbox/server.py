"""The HTTP face of the sandbox: Odoo's routes, envelopes and status codes.

Routes: ``POST /jsonrpc`` and ``/xmlrpc/2/<service>`` (services common/object/db),
``/web/session/authenticate``, ``/web/dataset/call_kw[/<path>]`` (cookie ``session_id``),
``/web/webclient/version_info``, and in version 19.0 ``GET /web/version`` and
JSON-2 ``POST /json/2/<model>/<method>``; ``POST /__sandbox__/faults`` when
fault control is on. Every answer carries ``Connection: close`` like Odoo's
threaded server. ORM work runs synchronously on the event loop (see
:mod:`zenoo_etl.sandbox.service`), so each call is one transaction.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import socket
import struct
import xmlrpc.client
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError as PydanticValidationError

from zenoo_etl.errors import UsageError
from zenoo_etl.sandbox.exceptions import (
    AccessDenied,
    AccessError,
    HttpError,
    OperationalError,
    PythonError,
    SandboxRpcError,
    SessionExpired,
    UserError,
)
from zenoo_etl.sandbox.faults import FaultInjector
from zenoo_etl.sandbox.seed import ADMIN_LOGIN, ADMIN_PASSWORD
from zenoo_etl.sandbox.service import Database
from zenoo_etl.sandbox.snapshot import common_version

VERSIONS = ("18.0", "19.0")
_JSON = "application/json; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(", ", ": "))


def _json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=_dumps(payload), status=status, content_type="application/json", charset="utf-8"
    )


def _rpc_result(req_id: Any, result: Any) -> web.Response:
    body = {"jsonrpc": "2.0", "id": req_id}
    if result is not None:  # Odoo leaves "result" out when a method returns None
        body["result"] = result
    return _json_response(body)


def _route_not_found() -> HttpError:
    """werkzeug's NotFound as Odoo 18/19 report it on a JSON route: no arguments."""
    exc = HttpError(
        404,
        "NotFound",
        "404 Not Found: The requested URL was not found on the server. If you entered the "
        "URL manually please check your spelling and try again.",
    )
    exc.arguments = []
    return exc


def _rpc_error(req_id: Any, exc: SandboxRpcError, version: str) -> web.Response:
    """A JSON-RPC error envelope: code 200 and ``debug`` second in 18.0; code 0 and
    ``debug`` last in 19.0 (checked on both real servers)."""
    odoo19 = version >= "19"
    code, message = (0 if odoo19 else 200), "Odoo Server Error"
    if isinstance(exc, SessionExpired):
        code, message = 100, "Odoo Session Expired"
    elif isinstance(exc, HttpError) and exc.http_status == 404:
        code, message = 404, "404: Not Found"
    data = exc.payload()
    if odoo19:
        data = {k: data[k] for k in ("name", "message", "arguments", "context", "debug")}
    error = {"code": code, "message": message, "data": data}
    return _json_response({"jsonrpc": "2.0", "id": req_id, "error": error})


def _json2_error(exc: SandboxRpcError) -> web.Response:
    p = exc.payload()
    body = {k: p[k] for k in ("name", "message", "arguments", "context", "debug")}
    return _json_response(body, status=exc.http_status)


_NOT_AUTHENTICATED = "User not authenticated, use an API Key with a Bearer Authorization header."
_NO_DATABASE_PAGE = (
    "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>No database is selected and the requested URL was not found in the server-wide "
    "controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try "
    "again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n"
)
_JSON2_MEDIA_TYPE_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n"
    "<h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with "
    "[&#39;http&#39;] but &#39;/json/2/&lt;__model__&gt;/&lt;__method__&gt;&#39; is "
    "type=&#39;json2&#39;.<br><br>Please verify the Content-Type request header and try "
    "again.</p>\n"
)


class _BadJson(Exception):
    pass


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadJson(str(exc)) from exc


async def _read_envelope(request: web.Request) -> tuple[Any, dict[str, Any]]:
    """The ``id`` and ``params`` object of a JSON-RPC body (``{}`` when absent)."""
    body = await _read_json(request)
    if not isinstance(body, dict):
        return None, {}
    params = body.get("params")
    return body.get("id"), params if isinstance(params, dict) else {}


class SandboxServer:
    """An Odoo-compatible server on SQLite; start/stop it or use :func:`serve_sandbox`."""

    def __init__(
        self,
        db_path: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        database: str = "etl",
        fault_control: bool = False,
        version: str = "18.0",
        schema_file: Path | str | None = None,
    ) -> None:
        self.schema_file = Path(schema_file) if schema_file is not None else None
        if version not in VERSIONS:
            raise UsageError(
                f"Sandbox version {version!r} is not supported; use one of {', '.join(VERSIONS)}."
            )
        self.host = host
        self.port = port
        self.database = database
        self.version = version
        self.fault_control = fault_control
        self.db_path = Path(db_path) if db_path is not None else None
        self.username = ADMIN_LOGIN
        self.password = ADMIN_PASSWORD
        self.api_key = ""
        self.faults = FaultInjector()
        self.db: Database | None = None
        self._runner: web.AppRunner | None = None
        self._sessions: dict[str, int] = {}

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self.db = Database(self.db_path, self.database, self.version, self.schema_file)
        self.api_key = self.db.create_api_key("zenoo-etl sandbox admin key")
        app = web.Application(client_max_size=512 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_post("/jsonrpc", self._jsonrpc)
        app.router.add_post("/xmlrpc/2/{service}", self._xmlrpc)
        app.router.add_post("/web/session/authenticate", self._session_authenticate)
        app.router.add_post("/web/session/get_session_info", self._session_get_info)
        app.router.add_post("/web/session/destroy", self._session_destroy)
        app.router.add_post("/web/session/account", self._session_account)
        app.router.add_post("/web/dataset/call_kw", self._call_kw)
        app.router.add_post("/web/dataset/call_kw/{path:.*}", self._call_kw)
        app.router.add_post("/web/webclient/version_info", self._version_info)
        app.router.add_post("/web/database/list", self._database_list)
        app.router.add_get("/", self._root)  # GET answers HEAD too
        app.router.add_get("/odoo", self._web_client)
        app.router.add_get("/web/login", self._login_page)
        if self.major >= 19:
            app.router.add_get("/web/version", self._web_version)
            app.router.add_get("/json/version", self._web_version)
            app.router.add_route("*", "/json/2", self._json2_not_found)
            app.router.add_post("/json/2/{model}/{method}", self._json2)
            app.router.add_route("*", "/json/2/{tail:.*}", self._json2_not_found)
        if self.fault_control:
            app.router.add_post("/__sandbox__/faults", self._faults_control)
            app.router.add_get("/__sandbox__/faults", self._faults_control)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise UsageError(
                f"The sandbox cannot listen on {self.host}:{self.port}: {exc.strerror or exc}. "
                "Pick another port with --port (0 chooses a free one) or stop what uses it."
            ) from exc
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.db is not None:
            self.db.close()
            self.db = None

    def _database(self) -> Database:
        assert self.db is not None, "the sandbox is not started"
        return self.db

    # --------------------------------------------------------------- middleware

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/__sandbox__/"):
            response = await handler(request)
        else:
            decision = self.faults.decide()
            if decision.latency_ms:
                await asyncio.sleep(decision.latency_ms / 1000)
            if decision.kind == "reset":
                _reset(request)
                return web.Response(status=500)
            if decision.kind == "throttle":
                response = web.Response(
                    status=429,
                    text="Too Many Requests",
                    headers={"Retry-After": str(decision.retry_after)},
                )
            elif decision.kind == "error":
                response = web.Response(status=decision.status, text=f"{decision.status} fault")
            else:
                response = await handler(request)
                if decision.kind == "drop":
                    # committed; the answer is lost: the connection closes (FIN) unanswered
                    if request.transport is not None:
                        request.transport.close()
                    return response
        response.headers["Connection"] = "close"
        return response

    # ---------------------------------------------------------------- /jsonrpc

    async def _jsonrpc(self, request: web.Request) -> web.Response:
        try:
            body = await _read_json(request)
        except _BadJson:
            return web.Response(status=400, text="Invalid JSON data")
        req_id = body.get("id") if isinstance(body, dict) else None
        try:
            if not isinstance(body, dict):
                raise PythonError(
                    "AttributeError", f"'{type(body).__name__}' object has no attribute 'get'"
                )
            params = body.get("params") or {}
            if not isinstance(params, dict):
                raise PythonError("TypeError", "params must be an object")
            result = self._dispatch(params.get("service"), params.get("method"), params.get("args"))
        except SandboxRpcError as exc:
            return _rpc_error(req_id, exc, self.version)
        return _rpc_result(req_id, result)

    def _check_db(self, name: Any) -> None:
        if name != self.database:
            text = (
                'connection to server at "127.0.0.1", port 5432 failed: '
                f'FATAL:  database "{name}" does not exist\n'
            )
            raise OperationalError(text)

    def _version(self) -> dict[str, Any]:
        """``common.version`` as the recorded server answered it (18.0-20250702 ...)."""
        return common_version(self.version)

    def _dispatch(self, service: Any, method: Any, args: Any) -> Any:
        args = list(args) if isinstance(args, list) else []
        db = self._database()
        if service == "common":
            if method == "version":
                return self._version()
            if method in ("login", "authenticate"):
                if len(args) < 3:
                    raise PythonError("TypeError", f"{method}() missing required arguments")
                self._check_db(args[0])
                return db.authenticate(args[1], args[2]) or False
            raise PythonError("KeyError", repr(f"exp_{method}"))
        if service == "object":
            if method not in ("execute", "execute_kw"):
                raise PythonError("NameError", f"Method not available {method}")
            if len(args) < 5:
                raise PythonError("TypeError", f"{method}() missing required arguments")
            dbname, uid, password, model, name = args[:5]
            self._check_db(dbname)
            db.check(uid, password)
            if method == "execute":
                return db.execute(uid, model, name, args[5:], {})
            call_args = args[5] if len(args) > 5 else []
            kwargs = args[6] if len(args) > 6 else {}
            if not isinstance(call_args, list) or not isinstance(kwargs, dict | None):
                raise PythonError("TypeError", "execute_kw() expects a list of args and a dict")
            return db.execute(uid, model, name, call_args, kwargs or {})
        if service == "db":
            if method == "list":
                return [self.database]
            if method == "server_version":
                return self.version
            raise PythonError("KeyError", repr(f"exp_{method}"))
        raise PythonError("Exception", f"Unknown service {service!r}")

    async def _xmlrpc(self, request: web.Request) -> web.Response:
        """``/xmlrpc/2/<service>``: the same services, XML-RPC framing, int fault codes."""
        try:
            params, method = xmlrpc.client.loads(await request.read())
        except Exception:  # any unparsable body is a bad request
            return web.Response(status=400, text="Invalid XML-RPC request")
        try:
            result = self._dispatch(request.match_info["service"], method, list(params))
            body = xmlrpc.client.dumps((_xml_safe(result),), methodresponse=True)
        except SandboxRpcError as exc:
            body = xmlrpc.client.dumps(_xml_fault(exc), methodresponse=True)
        return web.Response(text=body, content_type="text/xml", charset="utf-8")

    # --------------------------------------------------------- session routes

    async def _session_authenticate(self, request: web.Request) -> web.Response:
        try:
            req_id, params = await _read_envelope(request)
        except _BadJson:
            return web.Response(status=400, text="Invalid JSON data")
        try:
            self._check_db(params.get("db"))
            # an interactive login: API keys are refused, as in Odoo
            uid = self._database().authenticate(
                params.get("login"), params.get("password"), api_key_ok=False
            )
            if uid is None:
                raise AccessDenied()
        except SandboxRpcError as exc:
            return _rpc_error(req_id, exc, self.version)
        sid = secrets.token_urlsafe(54)
        self._sessions[sid] = uid
        response = _rpc_result(req_id, self._session_info(uid))
        response.set_cookie("session_id", sid, max_age=604800, httponly=True, path="/")
        return response

    @staticmethod
    def _redirect(location: str) -> web.Response:
        return web.Response(
            status=303,
            headers={"Location": location},
            text=(
                "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
                "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the "
                f'target URL: <a href="{location}">{location}</a>. If not, click the link.\n'
            ),
            content_type="text/html",
            charset="utf-8",
        )

    async def _root(self, request: web.Request) -> web.Response:
        """``/``: 303 to the web client at ``/odoo``, as Odoo 17.2+ does."""
        return self._redirect("/odoo")

    async def _web_client(self, request: web.Request) -> web.Response:
        """``/odoo`` without a session: 303 to the login page (the sandbox has no web UI)."""
        return self._redirect("/web/login?redirect=%2Fodoo%3F")

    async def _login_page(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<!DOCTYPE html>\n<html><head><title>Odoo</title></head><body>"
            "<p>zenoo-etl sandbox: no web client; use JSON-RPC, XML-RPC or JSON-2.</p>"
            "</body></html>\n",
            content_type="text/html",
            charset="utf-8",
        )

    async def _database_list(self, request: web.Request) -> web.Response:
        """``/web/database/list`` (JSON-RPC): the one database (Odoo's default list_db)."""
        try:
            req_id, _params = await _read_envelope(request)
        except _BadJson:
            return web.Response(status=400, text="Invalid JSON data")
        return _rpc_result(req_id, [self.database])

    async def _session_get_info(self, request: web.Request) -> web.Response:
        req_id, uid = await self._session_request(request)
        if uid is None:
            return _rpc_error(req_id, SessionExpired(), self.version)
        return _rpc_result(req_id, self._session_info(uid))

    async def _session_account(self, request: web.Request) -> web.Response:
        """The odoo.com account link of the web client; its client_id is database.uuid.

        Any logged-in user may call it (the route reads the parameter as sudo),
        which makes it the way a non-admin user learns the database's uuid.
        """
        req_id, uid = await self._session_request(request)
        if uid is None:
            return _rpc_error(req_id, SessionExpired(), self.version)
        state = json.dumps({"d": self.database, "u": self.url})
        query = urlencode(
            {
                "response_type": "token",
                "client_id": self._database().database_uuid(),
                "state": state,
                "scope": "userinfo",
            }
        )
        return _rpc_result(req_id, f"https://accounts.odoo.com/oauth2/auth?{query}")

    async def _session_destroy(self, request: web.Request) -> web.Response:
        req_id, _ = await self._session_request(request)
        self._sessions.pop(request.cookies.get("session_id", ""), None)
        return _rpc_result(req_id, None)

    async def _session_request(self, request: web.Request) -> tuple[Any, int | None]:
        try:
            req_id, _ = await _read_envelope(request)
        except _BadJson:
            req_id = None
        return req_id, self._sessions.get(request.cookies.get("session_id", ""))

    def _session_info(self, uid: int) -> dict[str, Any]:
        db = self._database()
        user = db.execute(uid, "res.users", "read", [[uid], ["name", "login", "partner_id"]], {})
        rec = user[0]
        version = self._version()
        return {
            "uid": uid,
            "is_system": uid == 2,
            "is_admin": uid == 2,
            "is_public": False,
            "is_internal_user": True,
            "user_context": {"lang": "en_US", "tz": False, "uid": uid},
            "db": self.database,
            "user_settings": {"id": 1, "user_id": {"id": uid}},
            "server_version": version["server_version"],
            "server_version_info": version["server_version_info"],
            "support_url": "https://www.odoo.com/buy",
            "name": rec["name"],
            "username": rec["login"],
            "partner_write_date": False,
            "partner_display_name": rec["partner_id"][1] if rec["partner_id"] else False,
            "partner_id": rec["partner_id"][0] if rec["partner_id"] else False,
            "web.base.url": self.url,
            "active_ids_limit": 20000,
            "profile_session": None,
            "profile_collectors": None,
            "profile_params": None,
            "max_file_upload_size": 134217728,
            "home_action_id": False,
            "cache_hashes": {},
            "currencies": {"1": {"symbol": "$", "position": "before", "digits": [69, 2]}},
            "bundle_params": {"lang": "en_US"},
            "test_mode": False,
            "view_info": {},
            "user_companies": {
                "current_company": 1,
                "allowed_companies": {
                    "1": {
                        "id": 1,
                        "name": "My Company",
                        "sequence": 0,
                        "child_ids": [],
                        "parent_id": False,
                    }
                },
                "disallowed_ancestor_companies": {},
            },
            "show_effect": True,
            "display_switch_company_menu": False,
            "websocket_worker_version": f"{self.version}-5",
            "tour_enabled": False,
            "current_tour": None,
            "storeData": {},
            "iap_company_enrich": False,
        }

    async def _call_kw(self, request: web.Request) -> web.Response:
        try:
            req_id, params = await _read_envelope(request)
        except _BadJson:
            return web.Response(status=400, text="Invalid JSON data")
        try:
            uid = self._sessions.get(request.cookies.get("session_id", ""))
            if uid is None:
                raise SessionExpired()
            args = params.get("args") or []
            kwargs = params.get("kwargs") or {}
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise PythonError("TypeError", "call_kw() expects a list of args and a dict")
            model, method = params.get("model"), params.get("method")
            if not isinstance(model, str) or not isinstance(method, str):
                raise PythonError("TypeError", "call_kw() needs a model and a method name")
            if model not in self._database().registry.models:
                # Odoo's route looks the model up before the call (whether it may use a
                # read-only cursor): a bare 404, not /jsonrpc's "Object ... doesn't exist"
                raise _route_not_found()
            result = self._database().execute(uid, model, method, args, kwargs)
        except SandboxRpcError as exc:
            return _rpc_error(req_id, exc, self.version)
        return _rpc_result(req_id, result)

    async def _version_info(self, request: web.Request) -> web.Response:
        try:
            req_id, _ = await _read_envelope(request)
        except _BadJson:
            return web.Response(status=400, text="Invalid JSON data")
        return _rpc_result(req_id, self._version())

    async def _web_version(self, request: web.Request) -> web.Response:
        info = self._version()
        return _json_response(
            {"version_info": info["server_version_info"], "version": self.version}
        )

    # ------------------------------------------------------------------ JSON-2

    async def _json2(self, request: web.Request) -> web.Response:
        """``POST /json/2/<model>/<method>``, checks in Odoo 19's order: the database
        (an HTML 404), the content type (an HTML 415), the API key (401 with
        ``WWW-Authenticate: Bearer``), the body, the model and the method."""
        model = request.match_info["model"]
        method = request.match_info["method"]
        db = self._database()
        wanted_db = request.headers.get("X-Odoo-Database")
        if wanted_db is not None and wanted_db != self.database:
            return web.Response(
                status=404, text=_NO_DATABASE_PAGE, content_type="text/html", charset="utf-8"
            )
        if request.can_read_body and request.content_type != "application/json":
            return web.Response(
                status=415,
                text=_JSON2_MEDIA_TYPE_PAGE,
                content_type="text/html",
                charset="utf-8",
                headers={"Accept": "application/json"},
            )
        try:
            scheme, _, key = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise HttpError(401, "Unauthorized", _NOT_AUTHENTICATED)
            uid = db.api_key_uid(key.strip())
            if uid is None:
                raise HttpError(401, "Unauthorized", "Invalid apikey")
            try:
                body = await _read_json(request) if request.can_read_body else {}
            except _BadJson as exc:
                raise HttpError(
                    400, "BadRequest", f"could not parse the body as json: {exc}"
                ) from exc
            if not isinstance(body, dict):
                body = {}  # Odoo takes the arguments from the path only
            if model not in db.registry.models:
                raise HttpError(404, "NotFound", f"the model {model!r} does not exist")
            try:
                _, is_model = db.resolve(model, method)
            except AccessError:
                raise
            except SandboxRpcError as exc:
                raise HttpError(
                    404, "NotFound", f"The method '{model}.{method}' does not exist"
                ) from exc
            kwargs = dict(body)
            ids = kwargs.pop("ids", None) or []
            if isinstance(ids, int) and not isinstance(ids, bool):
                ids = [ids]  # Model.browse(1)
            if not isinstance(ids, list):
                raise HttpError(422, "UnprocessableEntity", f"ids must be a list, got {ids!r}")
            if is_model and ids:
                raise HttpError(
                    422, "UnprocessableEntity", f"cannot call {model}.{method} with ids"
                )
            try:
                result = db.execute(uid, model, method, [], kwargs, ids=None if is_model else ids)
            except PythonError as exc:
                if exc.bind_text is not None:
                    raise HttpError(422, "UnprocessableEntity", exc.bind_text) from exc
                raise
        except SandboxRpcError as exc:
            response = _json2_error(exc)
            if exc.http_status == 401:
                response.headers["WWW-Authenticate"] = "Bearer "
            return response
        if method == "create" and isinstance(result, int):
            result = [result]
        return _json_response(result)

    async def _json2_not_found(self, request: web.Request) -> web.Response:
        return _json2_error(
            HttpError(404, "NotFound", "Did you mean POST /json/2/<model>/<method>?")
        )

    # ------------------------------------------------------------ fault control

    async def _faults_control(self, request: web.Request) -> web.Response:
        remote = request.remote or ""
        try:
            loopback = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return _json_response({"error": "fault control is only open to loopback"}, 403)
        if request.method == "POST":
            try:
                body = await _read_json(request) if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise _BadJson("expected an object")
                self.faults.configure(**body)
            except (_BadJson, PydanticValidationError) as exc:
                return _json_response({"error": str(exc)}, 400)
        return _json_response(
            {"settings": self.faults.settings.model_dump(), "history": self.faults.history}
        )


def _xml_safe(value: Any) -> Any:
    """XML-RPC has no null: Odoo answers False instead."""
    if value is None:
        return False
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _xml_safe(v) for k, v in value.items()}
    return value


def _xml_fault(exc: SandboxRpcError) -> xmlrpc.client.Fault:
    """Odoo's fault codes: 4 AccessError, 3 AccessDenied, 2 other UserError, 1 anything else."""
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(4, exc.message)
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault(3, exc.message)
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(2, exc.message)
    return xmlrpc.client.Fault(1, exc.debug())


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP reset, answering nothing."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@asynccontextmanager
async def serve_sandbox(
    db_path: Path | str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    database: str = "etl",
    fault_control: bool = False,
    version: str = "18.0",
    schema_file: Path | str | None = None,
) -> AsyncIterator[SandboxServer]:
    """Run a sandbox for the duration of the block; yields the started server.

    ``schema_file``: a schema pulled from a real server (``zenoo-etl schema pull``),
    served over the bundled snapshot of ``version``.
    """
    server = SandboxServer(db_path, host, port, database, fault_control, version, schema_file)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


__all__ = ["VERSIONS", "SandboxServer", "serve_sandbox"]
