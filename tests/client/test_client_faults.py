"""Retries against the sandbox's injected faults, over real HTTP (sleep injected: no waiting)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from zenoo_etl.client import (
    BadResponseError,
    ConnectionLostError,
    OutcomeUnknownError,
    RequestTimeout,
    ZenooClient,
)


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
async def faulty(sb: Any) -> AsyncIterator[tuple[ZenooClient, Sleeps]]:
    sleeps = Sleeps()
    async with ZenooClient(url=sb.url, retries=8, timeout=5, sleep=sleeps) as client:
        await client.login(sb.database, sb.username, sb.password)
        yield client, sleeps


def seed_for(wanted: list[str], **settings: Any) -> int:
    """A seed whose first decisions are ``wanted`` (drop-after-commit only, rate 0.5)."""
    from zenoo_etl.sandbox.faults import FaultInjector

    for seed in range(1000):
        probe = FaultInjector()
        probe.configure(drop_after_commit_rate=0.5, seed=seed)
        if [probe.decide().kind for _ in wanted] == wanted:
            return seed
    raise AssertionError("no seed found")


async def count(sb: Any, name: str) -> int:
    sb.faults.clear()
    async with ZenooClient(url=sb.url) as client:
        await client.login(sb.database, sb.username, sb.password)
        return await client.search_count("res.partner", [["name", "=", name]])


async def test_5xx_bursts_are_retried_until_success(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, sleeps = faulty
    sb.faults.configure(error_rate=0.5, error_status=503, seed=7)
    new_ids = [await client.create("res.partner", {"name": f"Burst{i}"}) for i in range(5)]
    assert len(set(new_ids)) == 5
    assert any(h.startswith("error:503") for h in sb.faults.history)
    assert len(sleeps) == sum(1 for h in sb.faults.history if h != "ok")
    assert await count(sb, "Burst0") == 1


async def test_retried_faults_are_counted_by_reason(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, _ = faulty
    sb.faults.configure(error_rate=0.4, error_statuses=[503, 502], throttle_rate=0.2, seed=5)
    for i in range(8):
        await client.search("res.partner", [["name", "=", f"Counted{i}"]])
    history = list(sb.faults.history)
    sb.faults.clear()
    expected = {
        "HTTP 503": history.count("error:503"),
        "HTTP 502": history.count("error:502"),
        "HTTP 429": history.count("throttle"),
    }
    assert sum(expected.values()) >= 3  # the seed gives a few of each kind
    assert {k: v for k, v in client.faults.items()} == {k: v for k, v in expected.items() if v}


async def test_persistent_503_gives_up_after_the_retry_budget(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, sleeps = faulty
    sb.faults.configure(error_rate=1.0, error_status=503, seed=1)
    with pytest.raises(BadResponseError) as info:
        await client.search("res.partner")
    assert info.value.http_status == 503
    assert len(sb.faults.history) == 9 and len(sleeps) == 8


async def test_502_on_create_is_outcome_unknown_and_on_read_retried(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, _ = faulty
    sb.faults.configure(error_rate=1.0, error_status=502, error_burst=1, seed=1)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.create("res.partner", {"name": "Gw"})
    assert (info.value.model, info.value.method) == ("res.partner", "create")
    sb.faults.configure(error_rate=0.5, error_status=502, seed=3)
    assert isinstance(await client.search_count("res.partner", []), int)


async def test_throttling_honours_retry_after(sb: Any, faulty: tuple[ZenooClient, Sleeps]) -> None:
    client, sleeps = faulty
    sb.faults.configure(throttle_rate=0.5, retry_after=3, seed=5)
    for _ in range(6):
        await client.search("res.partner", limit=1)
    throttled = sb.faults.history.count("throttle")
    assert throttled > 0
    assert sleeps == [3.0] * throttled


async def test_answer_dropped_after_commit_is_outcome_unknown_and_was_committed(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, sleeps = faulty
    sb.faults.configure(drop_after_commit_rate=1.0, seed=1)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.create("res.partner", {"name": "Dropped"})
    assert isinstance(info.value.__cause__, ConnectionLostError)
    assert sleeps == [] and sb.faults.history == ["drop"]
    assert await count(sb, "Dropped") == 1  # it did commit: the caller must reconcile


async def test_reset_before_processing_on_create_is_not_resent(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, _ = faulty
    sb.faults.configure(reset_rate=1.0, seed=1)
    with pytest.raises(OutcomeUnknownError):
        await client.create("res.partner", {"name": "Reset"})
    assert sb.faults.history == ["reset"]
    assert await count(sb, "Reset") == 0


async def test_idempotent_calls_survive_drops_and_resets(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, sleeps = faulty
    partner = await client.create("res.partner", {"name": "Survivor"})
    sb.faults.configure(drop_after_commit_rate=0.3, reset_rate=0.3, seed=11)
    for _ in range(5):
        assert await client.read("res.partner", [partner], ["name"]) == [
            {"id": partner, "name": "Survivor"}
        ]
    assert await client.write("res.partner", [partner], {"ref": "S"}) is True
    assert await client.unlink("res.partner", [partner]) is True
    assert any(h in ("drop", "reset") for h in sb.faults.history)
    assert len(sleeps) == sum(1 for h in sb.faults.history if h != "ok")
    assert await count(sb, "Survivor") == 0


async def test_dropped_unlink_answer_reads_as_already_deleted(
    sb: Any, faulty: tuple[ZenooClient, Sleeps]
) -> None:
    client, _ = faulty
    partner = await client.create("res.partner", {"name": "Gone"})
    # First unlink commits and loses its answer; the resend finds nothing to delete.
    sb.faults.configure(drop_after_commit_rate=0.5, seed=seed_for(["drop", "ok"]))
    assert await client.unlink("res.partner", [partner]) is True
    assert sb.faults.history[:2] == ["drop", "ok"]
    assert await count(sb, "Gone") == 0


async def test_latency_beyond_the_timeout(sb: Any) -> None:
    async with ZenooClient(url=sb.url, timeout=0.3, retries=1, sleep=Sleeps()) as client:
        await client.login(sb.database, sb.username, sb.password)
        sb.faults.configure(latency_ms=600)
        with pytest.raises(OutcomeUnknownError) as info:
            await client.create("res.partner", {"name": "Slow"})
        assert isinstance(info.value.__cause__, RequestTimeout)
        with pytest.raises(RequestTimeout):
            await client.search("res.partner")
