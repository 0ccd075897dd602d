"""Fault injection: reproducible decisions and what each fault does on the wire."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from zenoo_etl.sandbox import FaultInjector, SandboxServer, serve_sandbox


def _create(sb: SandboxServer, name: str) -> dict[str, Any]:
    args = [sb.database, 2, "admin", "res.partner", "create", [{"name": name}]]
    return {"jsonrpc": "2.0", "params": {"service": "object", "method": "execute_kw", "args": args}}


def _count(sb: SandboxServer, name: str) -> dict[str, Any]:
    args = [sb.database, 2, "admin", "res.partner", "search_count", [[["name", "=", name]]]]
    return {"jsonrpc": "2.0", "params": {"service": "object", "method": "execute_kw", "args": args}}


async def _count_now(sb: SandboxServer, name: str) -> int:
    sb.faults.clear()
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sb.url}/jsonrpc", json=_count(sb, name)) as r,
    ):
        body = await r.json()
    result: int = body["result"]
    return result


def test_same_seed_same_sequence() -> None:
    settings: dict[str, Any] = {
        "reset_rate": 0.1,
        "throttle_rate": 0.1,
        "error_rate": 0.1,
        "error_burst": 3,
        "drop_after_commit_rate": 0.1,
    }
    first, second, other = FaultInjector(), FaultInjector(), FaultInjector()
    first.configure(seed=42, **settings)
    second.configure(seed=42, **settings)
    other.configure(seed=43, **settings)
    a = [first.decide().kind for _ in range(300)]
    b = [second.decide().kind for _ in range(300)]
    c = [other.decide().kind for _ in range(300)]
    assert a == b and a != c
    assert {"ok", "reset", "throttle", "error", "drop"} <= set(a)
    assert first.history == second.history
    # bursts: an error is followed by at least error_burst - 1 more errors
    start = a.index("error")
    assert a[start : start + 3] == ["error"] * 3


def test_off_by_default_and_unknown_settings_refused() -> None:
    faults = FaultInjector()
    assert [faults.decide().kind for _ in range(5)] == ["ok"] * 5 and faults.history == []
    with pytest.raises(ValidationError):
        faults.configure(eror_rate=0.5)
    with pytest.raises(ValidationError):
        faults.configure(error_rate=2.0)


async def test_statuses_on_the_wire(sandbox: SandboxServer) -> None:
    sb = sandbox
    async with aiohttp.ClientSession() as s:
        sb.faults.configure(throttle_rate=1.0, retry_after=7, seed=1)
        async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, "T")) as r:
            assert (r.status, r.headers["Retry-After"]) == (429, "7")
        sb.faults.configure(error_rate=1.0, error_status=503, seed=1)
        async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, "T")) as r:
            assert r.status == 503
        sb.faults.configure(error_rate=1.0, seed=3)
        statuses = []
        for _ in range(12):
            async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, "T")) as r:
                statuses.append(r.status)
        assert set(statuses) <= {502, 503, 504} and len(set(statuses)) > 1
    assert await _count_now(sb, "T") == 0  # nothing refused was processed


async def test_drop_after_commit_commits_but_answers_nothing(sandbox: SandboxServer) -> None:
    sb = sandbox
    sb.faults.configure(drop_after_commit_rate=1.0, seed=1)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientError):
            async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, "Dropped")) as r:
                await r.read()
    assert sb.faults.history == ["drop"]
    assert await _count_now(sb, "Dropped") == 1


async def test_reset_before_processing_keeps_nothing(sandbox: SandboxServer) -> None:
    sb = sandbox
    sb.faults.configure(reset_rate=1.0, seed=1)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientError):
            async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, "Reset")) as r:
                await r.read()
    assert sb.faults.history == ["reset"]
    assert await _count_now(sb, "Reset") == 0


async def test_latency(sandbox: SandboxServer) -> None:
    sandbox.faults.configure(latency_ms=150)
    start = time.perf_counter()
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sandbox.url}/jsonrpc", json=_count(sandbox, "x")) as r,
    ):
        assert r.status == 200
    assert time.perf_counter() - start >= 0.15


async def test_same_seed_over_http_gives_the_same_history() -> None:
    histories = []
    for _ in range(2):
        async with serve_sandbox() as sb, aiohttp.ClientSession() as s:
            sb.faults.configure(error_rate=0.3, throttle_rate=0.2, seed=99)
            for i in range(30):
                async with s.post(f"{sb.url}/jsonrpc", json=_create(sb, f"n{i}")) as r:
                    await r.read()
            histories.append(list(sb.faults.history))
    assert histories[0] == histories[1] and len(histories[0]) == 30


async def test_fault_control_endpoint() -> None:
    async with serve_sandbox(fault_control=True) as sb, aiohttp.ClientSession() as s:
        settings = {"throttle_rate": 1.0, "retry_after": 2, "seed": 5}
        async with s.post(f"{sb.url}/__sandbox__/faults", json=settings) as r:
            assert r.status == 200
            assert (await r.json())["settings"]["throttle_rate"] == 1.0
        async with s.post(f"{sb.url}/jsonrpc", json=_count(sb, "x")) as r:
            assert r.status == 429
        async with s.post(f"{sb.url}/__sandbox__/faults", json={"nope": 1}) as r:
            assert r.status == 400
        async with s.post(f"{sb.url}/__sandbox__/faults", json={}) as r:
            assert (await r.json())["history"] == []
        async with s.post(f"{sb.url}/jsonrpc", json=_count(sb, "x")) as r:
            assert r.status == 200
    async with (
        serve_sandbox() as sb,
        aiohttp.ClientSession() as s,
        s.post(f"{sb.url}/__sandbox__/faults", json=settings) as r,
    ):
        assert r.status == 404
