"""Which faults the client retries, which it refuses to guess about, and how long it waits.

All with a scripted transport and an injected sleep: no test waits for real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from zenoo_etl.client import (
    BadResponseError,
    ConcurrencyError,
    ConnectError,
    ConnectionLostError,
    MissingRecordError,
    MockTransport,
    OdooError,
    OutcomeUnknownError,
    Request,
    RequestTimeout,
    Response,
    ValidationError,
    ZenooClient,
)
from zenoo_etl.client.retry import RetryPolicy, parse_retry_after

Step = Callable[[Request], Response]


def ok(result: Any) -> Step:
    return lambda req: Response(200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result}))


def odoo_error(name: str, message: str = "boom") -> Step:
    data = {"name": name, "debug": "", "message": message, "arguments": [message], "context": {}}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": 200, "message": "Odoo Server Error", "data": data},
    }
    return lambda req: Response(200, orjson.dumps(body))


def status(code: int, headers: dict[str, str] | None = None) -> Step:
    return lambda req: Response(code, b"<html>busy</html>", headers or {})


def fail(exc: Exception) -> Step:
    def step(req: Request) -> Response:
        raise exc

    return step


class Script:
    """Answers the login calls, then each later call with the next step."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request: Request) -> Response:
        body = orjson.loads(request.content or b"{}")
        params = body["params"]
        if params["service"] == "common":
            result = {"server_serie": "18.0"} if params["method"] == "version" else 2
            return ok(result)(request)
        self.calls.append((params["args"][3], params["args"][4]))
        return self.steps.pop(0)(request)


async def client_for(script: Script, retries: int = 3) -> tuple[ZenooClient, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = ZenooClient(
        url="http://odoo.test",
        protocol="jsonrpc",
        retries=retries,
        web_session=False,
        transport=MockTransport(script),
        sleep=sleep,
        rng=lambda: 0.5,
    )
    await client.login("etl", "admin", "s3cret-pass")
    return client, sleeps


@pytest.mark.parametrize(
    "fault",
    [
        fail(ConnectError("refused")),
        status(503),
        status(429),
        odoo_error("psycopg2.errors.SerializationFailure", "could not serialize access"),
        odoo_error("odoo.exceptions.ConcurrencyError"),
    ],
    ids=["connect-refused", "503", "429", "serialization-failure", "concurrency-error"],
)
async def test_transient_faults_are_retried_even_for_create(fault: Step) -> None:
    script = Script(fault, fault, ok(41))
    client, sleeps = await client_for(script)
    assert await client.create("res.partner", {"name": "x"}) == 41
    assert script.calls == [("res.partner", "create")] * 3
    # Exponential backoff with (injected) jitter 0.5: 0.2*1*0.5, 0.2*2*0.5.
    assert sleeps == [pytest.approx(0.1), pytest.approx(0.2)]


@pytest.mark.parametrize(
    "fault",
    [
        fail(RequestTimeout("slow")),
        fail(ConnectionLostError("reset")),
        status(502),
        status(504),
    ],
    ids=["timeout", "reset-after-send", "502", "504"],
)
@pytest.mark.parametrize("method", ["create", "load", "action_archive"])
async def test_maybe_committed_non_idempotent_calls_raise_outcome_unknown(
    fault: Step, method: str
) -> None:
    script = Script(fault, ok(1))
    client, sleeps = await client_for(script)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.execute_kw("res.partner", method, [[{"name": "x"}]])
    assert (info.value.model, info.value.method) == ("res.partner", method)
    assert "res.partner." + method in str(info.value)
    assert len(script.calls) == 1 and sleeps == []


@pytest.mark.parametrize(
    "fault",
    [fail(RequestTimeout("slow")), fail(ConnectionLostError("reset")), status(502), status(504)],
    ids=["timeout", "reset-after-send", "502", "504"],
)
@pytest.mark.parametrize(
    ("method", "args", "answer"),
    [
        ("read", [[1], ["name"]], [{"id": 1, "name": "a"}]),
        ("search", [[]], [1, 2]),
        ("search_read", [[]], []),
        ("search_count", [[]], 3),
        ("fields_get", [], {"name": {}}),
        ("name_search", ["a"], [[1, "a"]]),
        ("write", [[1], {"name": "b"}], True),
        ("unlink", [[1]], True),
    ],
)
async def test_idempotent_calls_are_retried_after_unknown_outcomes(
    fault: Step, method: str, args: list[Any], answer: Any
) -> None:
    script = Script(fault, ok(answer))
    client, sleeps = await client_for(script)
    assert await client.execute_kw("res.partner", method, args) == answer
    assert len(script.calls) == 2 and len(sleeps) == 1


async def test_retries_are_bounded_and_the_last_fault_is_raised() -> None:
    script = Script(*([fail(ConnectError("refused"))] * 3))
    client, sleeps = await client_for(script, retries=2)
    with pytest.raises(ConnectError):
        await client.search("res.partner")
    assert len(script.calls) == 3 and len(sleeps) == 2


async def test_persistent_503_ends_in_bad_response_naming_the_status() -> None:
    script = Script(*([status(503)] * 4))
    client, _ = await client_for(script, retries=3)
    with pytest.raises(BadResponseError) as info:
        await client.search("res.partner")
    assert info.value.http_status == 503 and "503" in str(info.value)


async def test_persistent_concurrency_error_is_raised_as_such() -> None:
    script = Script(*([odoo_error("psycopg2.errors.DeadlockDetected")] * 2))
    client, _ = await client_for(script, retries=1)
    with pytest.raises(ConcurrencyError):
        await client.write("res.partner", [1], {"name": "x"})


async def test_retry_after_is_honoured() -> None:
    script = Script(status(429, {"Retry-After": "7"}), status(503, {"Retry-After": "2"}), ok([]))
    client, sleeps = await client_for(script)
    assert await client.search("res.partner") == []
    assert sleeps == [7.0, 2.0]


@pytest.mark.parametrize(
    "fault",
    [
        odoo_error("odoo.exceptions.ValidationError"),
        odoo_error("odoo.exceptions.UserError"),
        odoo_error("builtins.ValueError"),
        odoo_error("odoo.exceptions.AccessDenied"),
    ],
)
async def test_business_errors_are_never_retried(fault: Step) -> None:
    script = Script(fault, ok(1))
    client, sleeps = await client_for(script)
    with pytest.raises(OdooError) as info:
        await client.create("res.partner", {"name": "x"})
    assert not isinstance(info.value, ConcurrencyError)
    assert len(script.calls) == 1 and sleeps == []


async def test_unlink_retry_reads_missing_as_already_deleted() -> None:
    """A lost unlink answer, then MissingError on the resend: gone, if none remain."""
    script = Script(
        fail(ConnectionLostError("reset")),
        odoo_error("odoo.exceptions.MissingError", "Record does not exist"),
        ok([]),  # the check: none of the ids exist any more
    )
    client, _ = await client_for(script)
    assert await client.unlink("res.partner", [5, 6]) is True
    assert script.calls == [("res.partner", "unlink")] * 2 + [("res.partner", "search")]


async def test_unlink_retry_keeps_missing_error_when_records_remain() -> None:
    script = Script(
        fail(RequestTimeout("slow")),
        odoo_error("odoo.exceptions.MissingError", "Record does not exist"),
        ok([6]),  # 6 still exists: the first try did not commit; 5 never existed
    )
    client, _ = await client_for(script)
    with pytest.raises(MissingRecordError):
        await client.unlink("res.partner", [5, 6])


async def test_unlink_missing_without_a_lost_attempt_is_an_error() -> None:
    script = Script(odoo_error("odoo.exceptions.MissingError", "Record does not exist"))
    client, _ = await client_for(script)
    with pytest.raises(MissingRecordError):
        await client.unlink("res.partner", [5])


async def test_error_messages_never_contain_the_password() -> None:
    script = Script(odoo_error("odoo.exceptions.ValidationError", "bad value s3cret-pass here"))
    client, _ = await client_for(script)
    with pytest.raises(ValidationError) as info:
        await client.create("res.partner", {"name": "x"})
    assert "s3cret-pass" not in str(info.value)
    assert "s3cret-pass" not in info.value.message
    assert "***" in info.value.message


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=lambda: 1.0)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(0, retry_after=500.0) == policy.max_retry_after


def test_backoff_has_full_jitter() -> None:
    assert RetryPolicy(base_delay=1.0, rng=lambda: 0.0).backoff(3) == 0.0
    assert RetryPolicy(base_delay=1.0, rng=lambda: 0.25).backoff(2) == 1.0


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 27, 4, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Fri, 27 Nov 2026 04:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Fri, 27 Nov 2026 03:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_write_creating_sub_records_is_not_resent_after_an_unknown_outcome() -> None:
    script = Script(fail(ConnectionLostError("reset")), ok(True))
    client, _ = await client_for(script)
    with pytest.raises(OutcomeUnknownError):
        await client.write("res.partner", [1], {"child_ids": [(0, 0, {"name": "kid"})]})
    # Linking (4) or setting (6) is idempotent: resent.
    script = Script(fail(ConnectionLostError("reset")), ok(True))
    client, _ = await client_for(script)
    assert await client.write("res.partner", [1], {"category_id": [(6, 0, [1, 2]), (4, 3)]})
    assert len(script.calls) == 2


def garbled(body: bytes, code: int = 200) -> Step:
    return lambda req: Response(code, body, {})


GARBLED = {
    "html": garbled(b"<html><body>Proxy error</body></html>"),
    "random-bytes": garbled(bytes(range(256)) * 3),
    "half-json": garbled(b'{"jsonrpc": "2.0", "id": 1, "result": [4'),
    "empty-200": garbled(b""),
    "json-not-an-envelope": garbled(b'{"status": "ok"}'),
    "html-500": garbled(b"<html>Internal Server Error</html>", 500),
}


@pytest.mark.parametrize("answer", list(GARBLED), ids=list(GARBLED))
async def test_an_unreadable_answer_to_a_create_is_outcome_unknown(answer: str) -> None:
    """Issue 11 scenario 3: not a well-formed result or error after sending = unknown."""
    script = Script(GARBLED[answer])
    client, sleeps = await client_for(script)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.create("res.partner", {"name": "x"})
    assert isinstance(info.value.__cause__, BadResponseError)
    assert "unreadable answer" in str(info.value)
    assert script.calls == [("res.partner", "create")] and sleeps == []  # never resent


@pytest.mark.parametrize("answer", list(GARBLED), ids=list(GARBLED))
async def test_an_unreadable_answer_to_an_idempotent_call_is_retried(answer: str) -> None:
    script = Script(GARBLED[answer], ok([7]))
    client, sleeps = await client_for(script)
    assert await client.search("res.partner") == [7]
    assert len(script.calls) == 2 and len(sleeps) == 1


async def test_an_unreadable_answer_to_a_resent_unlink_settles_as_gone() -> None:
    """The first unlink committed, its answer was garbage; the resend finds nothing left."""
    missing = odoo_error("odoo.exceptions.MissingError", "Record does not exist")
    script = Script(GARBLED["html"], missing, ok([]))
    client, _ = await client_for(script)
    assert await client.unlink("res.partner", [5]) is True
    unlink, search = ("res.partner", "unlink"), ("res.partner", "search")
    assert script.calls == [unlink, unlink, search]


async def test_a_result_left_out_for_none_is_still_a_result() -> None:
    """Odoo 18 leaves "result" out when the method returned None (seen on a real server)."""
    script = Script(garbled(b'{"jsonrpc": "2.0", "id": 1}'))
    client, _ = await client_for(script)
    assert await client.execute_kw("res.partner", "action_unarchive", [[3]]) is None
