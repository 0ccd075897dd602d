"""Version parsing, protocol choice, and the JSON-2 wire format (named arguments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import pytest

from zenoo_etl.client import (
    AccessError,
    AuthenticationError,
    BadResponseError,
    ClientError,
    MissingRecordError,
    MockTransport,
    OdooUserError,
    Request,
    Response,
    ServerError,
    ValidationError,
    ZenooClient,
)
from zenoo_etl.client.protocol import (
    dumps,
    json2_params,
    json2_result,
    jsonrpc_result,
    normalise_result,
    parse_version,
)
from zenoo_etl.errors import ConfigError


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (
            {
                "server_version": "18.0-20250702",
                "server_serie": "18.0",
                "server_version_info": [18, 0, 0, "final", 0, ""],
            },
            (18, 0),
        ),
        (
            {"server_serie": "saas~17.2", "server_version_info": ["saas~17", 2, 0, "final", 0]},
            (17, 2),
        ),
        ({"server_version_info": ["saas~17", 4, 0, "final", 0, "e"]}, (17, 4)),
        ({"server_version": "saas~18.3+e"}, (18, 3)),
        ({"version": "19.0", "version_info": [19, 0, 0, "final", 0, ""]}, (19, 0)),
        ({"server_version": "16.0+e"}, (16, 0)),
    ],
)
def test_parse_version(info: dict[str, Any], expected: tuple[int, int]) -> None:
    assert parse_version(info) == expected


def test_parse_version_rejects_garbage() -> None:
    with pytest.raises(ClientError):
        parse_version({"server_version": "banana"})


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "expected"),
    [
        ("create", [{"name": "a"}], None, {"vals_list": [{"name": "a"}]}),
        (
            "create",
            [[{"name": "a"}, {"name": "b"}]],
            None,
            {"vals_list": [{"name": "a"}, {"name": "b"}]},
        ),
        ("write", [[1, 2], {"name": "x"}], None, {"ids": [1, 2], "vals": {"name": "x"}}),
        ("unlink", [[3]], None, {"ids": [3]}),
        ("read", [[3], ["name"]], None, {"ids": [3], "fields": ["name"]}),
        ("read", [[3]], {"fields": ["name"]}, {"ids": [3], "fields": ["name"]}),
        ("search", [[["a", "=", 1]]], {"limit": 5}, {"domain": [["a", "=", 1]], "limit": 5}),
        (
            "search_read",
            [[], ["name"]],
            {"order": "id"},
            {"domain": [], "fields": ["name"], "order": "id"},
        ),
        ("search_count", [[]], None, {"domain": []}),
        ("fields_get", [], {"attributes": ["type"]}, {"attributes": ["type"]}),
        (
            "name_search",
            ["Acme", [["is_company", "=", True]]],
            None,
            {"name": "Acme", "domain": [["is_company", "=", True]]},
        ),
        (
            "load",
            [["id", "name"], [["x.a", "A"]]],
            None,
            {"fields": ["id", "name"], "data": [["x.a", "A"]]},
        ),
        ("action_archive", [[4, 5]], None, {"ids": [4, 5]}),
        ("some_model_method", [], {"foo": 1}, {"foo": 1}),
    ],
)
def test_json2_named_arguments(
    method: str, args: list[Any], kwargs: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert json2_params("res.partner", method, args, kwargs, None) == expected


def test_json2_context_merges_kwargs_context_and_call_context() -> None:
    params = json2_params(
        "res.partner", "search", [[]], {"context": {"lang": "fr_FR", "a": 1}}, {"a": 2}
    )
    assert params == {"domain": [], "context": {"lang": "fr_FR", "a": 2}}


def test_json2_refuses_positional_arguments_it_cannot_name() -> None:
    with pytest.raises(ClientError, match="named arguments"):
        json2_params("res.partner", "do_thing", [[1], "positional"], None, None)
    with pytest.raises(ClientError, match="Too many"):
        json2_params("res.partner", "unlink", [[1], 2], None, None)
    with pytest.raises(ClientError, match="both"):
        json2_params("res.partner", "read", [[1], ["name"]], {"fields": ["x"]}, None)


def test_single_create_result_is_normalised_to_an_int() -> None:
    assert normalise_result("create", [{"name": "a"}], [7]) == 7
    assert normalise_result("create", [[{"name": "a"}]], [7]) == [7]
    assert normalise_result("search", [[]], [7]) == [7]


def test_dumps_sends_dates_decimals_and_sets_the_odoo_way() -> None:
    payload = {
        "when": dt.datetime(2026, 1, 2, 3, 4, 5),
        "aware": dt.datetime(2026, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "day": dt.date(2026, 1, 2),
        "price": Decimal("1.5"),
        "tags": {1},
    }
    assert orjson.loads(dumps(payload)) == {
        "when": "2026-01-02 03:04:05",
        "aware": "2026-01-02 03:04:05",
        "day": "2026-01-02",
        "price": 1.5,
        "tags": [1],
    }
    with pytest.raises(ClientError, match="object"):
        dumps({"x": object()})


class FakeOdoo19:
    """A JSON-2 speaking server: /web/version, bearer keys, bare JSON bodies."""

    def __init__(self, key: str = "k-123456") -> None:
        self.key = key
        self.requests: list[tuple[str, dict[str, str], Any]] = []

    def __call__(self, request: Request) -> Response:
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        body = orjson.loads(request.content) if request.content else None
        self.requests.append((path, dict(request.headers), body))
        if path == "web/version":
            return Response(200, orjson.dumps({"version": "19.0", "version_info": [19, 0]}))
        if path == "jsonrpc":
            raise AssertionError("JSON-2 client must not use /jsonrpc")
        if request.headers.get("Authorization") != f"bearer {self.key}":
            err = {
                "name": "werkzeug.exceptions.Unauthorized",
                "message": "Invalid apikey",
                "arguments": ["Invalid apikey", 401],
                "context": {},
                "debug": "",
            }
            return Response(401, orjson.dumps(err))
        _, _, _model, method = path.split("/")
        answers: dict[str, Any] = {
            "context_get": {"lang": "en_US", "tz": False, "uid": 2},
            "create": [41, 42][: len(body.get("vals_list", []))],
            "write": True,
        }
        errors = {
            "bad": (422, "odoo.exceptions.ValidationError", "Contacts require a name"),
            "gone": (404, "odoo.exceptions.MissingError", "Record does not exist"),
            "denied": (403, "odoo.exceptions.AccessError", "not allowed"),
            "biz": (422, "odoo.exceptions.UserError", "nope"),
            "crash": (500, "builtins.ValueError", "Invalid field"),
        }
        if method in errors:
            code, name, message = errors[method]
            return Response(
                code,
                orjson.dumps(
                    {
                        "name": name,
                        "message": message,
                        "arguments": [message],
                        "context": {},
                        "debug": "tb",
                    }
                ),
            )
        if method == "nothing":
            return Response(200, b"null")
        return Response(200, orjson.dumps(answers[method]))


async def test_auto_picks_json2_on_odoo_19_with_an_api_key() -> None:
    server = FakeOdoo19()
    async with ZenooClient(url="https://erp.example.com", transport=MockTransport(server)) as c:
        assert await c.login("prod", api_key="k-123456") == 2
        assert c.protocol == "json2" and c.server_version == (19, 0)
        assert await c.create("res.partner", {"name": "a"}) == 41
        assert await c.create("res.partner", [{"name": "a"}, {"name": "b"}]) == [41, 42]
        assert await c.write("res.partner", [41], {"name": "b"}, context={"lang": "fr_FR"})
        assert await c.execute_kw("res.partner", "nothing", []) is None
    path, headers, body = server.requests[-2]
    assert path == "json/2/res.partner/write"
    assert headers["Authorization"] == "bearer k-123456"
    assert headers["X-Odoo-Database"] == "prod"
    assert body == {"ids": [41], "vals": {"name": "b"}, "context": {"lang": "fr_FR"}}


@pytest.mark.parametrize(
    ("method", "cls", "status"),
    [
        ("bad", ValidationError, 422),
        ("gone", MissingRecordError, 404),
        ("denied", AccessError, 403),
        ("biz", OdooUserError, 422),
        ("crash", ServerError, 500),
    ],
)
async def test_json2_errors_map_by_name_with_http_status(
    method: str, cls: type[Exception], status: int
) -> None:
    async with ZenooClient(url="http://o", transport=MockTransport(FakeOdoo19())) as c:
        await c.login("prod", api_key="k-123456")
        with pytest.raises(cls) as info:
            await c.execute_kw("res.partner", method, [[1]])
    err = info.value
    assert err.http_status == status
    assert err.model == "res.partner" and err.method == method


async def test_json2_bad_api_key_is_an_authentication_error_without_the_key() -> None:
    async with ZenooClient(url="http://o", transport=MockTransport(FakeOdoo19())) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.login("prod", api_key="wrong-key-999")
    assert info.value.http_status == 401
    assert "wrong-key-999" not in str(info.value)


async def test_auto_stays_on_jsonrpc_with_a_password_even_on_19() -> None:
    server = FakeOdoo19()

    def handler(request: Request) -> Response:
        if request.url.endswith("/jsonrpc"):
            params = orjson.loads(request.content or b"{}")["params"]
            assert params["method"] == "authenticate"
            return Response(200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": 2}))
        return server(request)

    async with ZenooClient(url="http://o", transport=MockTransport(handler)) as c:
        await c.login("prod", "admin", "pw-123")
        assert c.protocol == "jsonrpc" and c.server_version == (19, 0)


async def test_auto_falls_back_to_common_version_on_older_servers() -> None:
    def handler(request: Request) -> Response:
        if request.url.endswith("/web/version"):
            return Response(404, b"<html>Not Found</html>")
        params = orjson.loads(request.content or b"{}")["params"]
        result: Any = {"server_serie": "saas~17.2"} if params["method"] == "version" else 2
        return Response(200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result}))

    async with ZenooClient(url="http://o", transport=MockTransport(handler)) as c:
        await c.login("db", "admin", api_key="key-123")
        assert c.server_version == (17, 2) and c.protocol == "jsonrpc"


async def test_json2_is_refused_below_19_and_without_api_key() -> None:
    def handler(request: Request) -> Response:
        if request.url.endswith("/web/version"):
            return Response(404, b"")
        return Response(
            200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": {"server_serie": "18.0"}})
        )

    async with ZenooClient(url="http://o", protocol="json2", transport=MockTransport(handler)) as c:
        with pytest.raises(ConfigError, match="19"):
            await c.login("db", api_key="key-123")
    async with ZenooClient(
        url="http://o", protocol="json2", transport=MockTransport(FakeOdoo19())
    ) as c:
        with pytest.raises(ConfigError, match="API key"):
            await c.login("db", "admin", "password")


def test_json2_none_is_null_and_an_empty_200_is_no_answer() -> None:
    """A real Odoo 19 answers a method returning None with the body ``null``."""
    assert json2_result(Response(200, b"null"), "res.partner", "action_unarchive", ()) is None
    with pytest.raises(BadResponseError):
        json2_result(Response(200, b""), "res.partner", "create", ())


def test_a_jsonrpc_answer_must_be_an_envelope() -> None:
    ok = b'{"jsonrpc": "2.0", "id": 3, "result": 5}'
    assert jsonrpc_result(Response(200, ok), "res.partner", "create", ()) == 5
    for body in (b'{"result": 5}', b"[5]", b'"5"'):
        with pytest.raises(BadResponseError):
            jsonrpc_result(Response(200, body), "res.partner", "create", ())
