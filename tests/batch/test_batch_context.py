"""BatchContext against an in-memory Odoo: results, failures, rollback, validation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_odoo import FakeOdoo

from zenoo_etl.batch import (
    BatchContext,
    BatchExecutionError,
    BatchOperationResult,
    BatchValidationError,
    CreateOp,
    Operation,
)
from zenoo_etl.client import MissingRecordError, MockTransport, ValidationError, ZenooClient


async def test_results_come_back_one_per_operation_in_order(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    fake_odoo.tables["res.partner"] = {7: {"name": "a"}, 8: {"name": "b"}, 9: {"name": "c"}}
    async with BatchContext(fake_client, auto_execute=False) as batch:
        assert batch.create("res.partner", {"name": "P1"}) == 0
        batch.create("res.partner", {"name": "P2"})
        batch.update("res.partner", {"active": False}, ids=[7, 8])
        batch.delete("res.partner", ids=[9])
        results = await batch.execute()
    assert results == [
        BatchOperationResult(True, 101),
        BatchOperationResult(True, 102),
        BatchOperationResult(True, True),
        BatchOperationResult(True, True),
    ]
    assert [(m, meth) for m, meth, _ in fake_odoo.calls] == [
        ("res.partner", "create"),
        ("res.partner", "write"),
        ("res.partner", "unlink"),
    ]
    assert 9 not in fake_odoo.tables["res.partner"]
    assert fake_odoo.tables["res.partner"][7]["active"] is False
    assert len(batch) == 0


async def test_client_batch_executes_on_exit(fake_client: ZenooClient, fake_odoo: FakeOdoo) -> None:
    async with fake_client.batch() as batch:
        batch.create("res.partner", {"name": "P1"})
    assert fake_odoo.tables["res.partner"] == {101: {"name": "P1"}}


async def test_nothing_is_sent_when_the_block_raises(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    with pytest.raises(RuntimeError):
        async with fake_client.batch() as batch:
            batch.create("res.partner", {"name": "P1"})
            raise RuntimeError("changed my mind")
    assert fake_odoo.calls == []


async def test_all_or_nothing_chunks_fail_together_and_rollback_deletes_newest_first(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    """isolate_failures=False: a failed call fails all its operations, nothing after it runs."""
    batch = BatchContext(fake_client, batch_size=2, isolate_failures=False)
    for name in ["a", "b", "c", "FAIL", "e"]:
        batch.create("res.partner", {"name": name})
    batch.delete("res.partner", ids=[1])
    with pytest.raises(BatchExecutionError) as info:
        await batch.execute()
    err = info.value
    assert err.successful_count == 2
    assert err.operation_index == 2 and err.failed_indices == [2, 3]
    assert isinstance(err.error, ValidationError) and err.error.operation_index == 2
    assert [r.success for r in err.partial_results] == [True, True, False, False, False, False]
    assert err.partial_results[2].error is err.error
    assert err.partial_results[4].skipped and err.partial_results[5].skipped
    assert "#2" in str(err) and "rollback()" in str(err)
    assert sorted(fake_odoo.tables["res.partner"]) == [101, 102]
    assert await batch.rollback() == 2
    assert fake_odoo.tables["res.partner"] == {}
    assert fake_odoo.calls[-1] == ("res.partner", "unlink", [[102, 101]])
    assert await batch.rollback() == 0


async def test_rollback_skips_records_already_gone(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    batch = BatchContext(fake_client)
    for name in ["a", "b", "c"]:
        batch.create("res.partner", {"name": name})
    await batch.execute()
    del fake_odoo.tables["res.partner"][102]
    assert await batch.rollback() == 2
    assert fake_odoo.tables["res.partner"] == {}


async def test_rollback_keeps_what_it_could_not_delete(fake_odoo: FakeOdoo) -> None:
    fail = {"on": False}

    async def flaky(request: Any) -> Any:
        if fail["on"]:
            raise MissingRecordError("boom")  # stands for any error during rollback
        return await fake_odoo(request)

    async with ZenooClient(
        url="http://f", protocol="jsonrpc", web_session=False, transport=MockTransport(flaky)
    ) as c:
        await c.login("etl", "admin", "admin")
        batch = BatchContext(c)
        batch.create("res.partner", {"name": "a"})
        await batch.execute()
        fail["on"] = True
        with pytest.raises(MissingRecordError):
            await batch.rollback()
        assert batch.created == [("res.partner", 101)]


async def test_validators_reject_before_anything_is_sent(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    def no_deletes(op: Operation) -> str | None:
        return "deletes are not allowed here" if op.kind == "delete" else None

    def names_required(op: Operation) -> bool:
        return not isinstance(op, CreateOp) or bool(op.values.get("name"))

    batch = BatchContext(fake_client, validators=[no_deletes])
    batch.add_validator(names_required)
    batch.create("res.partner", {"name": "ok"})
    batch.delete("res.partner", ids=[1])
    with pytest.raises(BatchValidationError) as info:
        await batch.execute()
    assert info.value.operation_index == 1
    assert "deletes are not allowed here" in str(info.value)
    assert fake_odoo.calls == []
    batch.clear()
    batch.create("res.partner", {})
    with pytest.raises(BatchValidationError, match="#0"):
        await batch.execute()

    def explodes(op: Operation) -> None:
        raise ValueError("bad row 3")

    batch = BatchContext(fake_client, validators=[explodes])
    batch.create("res.partner", {"name": "x"})
    with pytest.raises(BatchValidationError, match="bad row 3"):
        await batch.execute()
    assert fake_odoo.calls == []


async def test_malformed_operations_are_refused_when_queued(fake_client: ZenooClient) -> None:
    batch = BatchContext(fake_client)
    with pytest.raises(TypeError):
        batch.update("res.partner", {"a": 1}, ids="12")
    with pytest.raises(TypeError):
        batch.delete("res.partner", ids=[1, True])
    with pytest.raises(TypeError):
        batch.create("res.partner", [{"name": "x"}])  # type: ignore[arg-type]


async def test_parallel_runs_chunks_concurrently_up_to_the_limit() -> None:
    fake = FakeOdoo(delay=0.05)
    async with ZenooClient(
        url="http://f", protocol="jsonrpc", web_session=False, transport=MockTransport(fake)
    ) as c:
        await c.login("etl", "admin", "admin")
        async with BatchContext(c, batch_size=10, parallel=True, concurrency=3) as batch:
            for i in range(100):
                batch.create("res.partner", {"name": f"P{i}"})
            started = asyncio.get_running_loop().time()
            results = await batch.execute()
            elapsed = asyncio.get_running_loop().time() - started
    assert fake.max_in_flight == 3
    assert len(fake.calls) == 10
    # 10 calls of 50 ms, 3 at a time: 4 rounds, far below 10 sequential ones.
    assert elapsed < 0.4
    ids = [r.data for r in results]
    assert len(set(ids)) == 100
    assert [fake.tables["res.partner"][i]["name"] for i in ids] == [f"P{i}" for i in range(100)]


async def test_parallel_failure_stops_new_calls_and_reports_the_first_failure() -> None:
    fake = FakeOdoo(delay=0.01)
    async with ZenooClient(
        url="http://f", protocol="jsonrpc", web_session=False, transport=MockTransport(fake)
    ) as c:
        await c.login("etl", "admin", "admin")
        batch = BatchContext(c, batch_size=1, parallel=True, concurrency=2, isolate_failures=False)
        for name in ["a", "FAIL", "c", "d", "e", "f"]:
            batch.create("res.partner", {"name": name})
        with pytest.raises(BatchExecutionError) as info:
            await batch.execute()
    err = info.value
    assert err.operation_index == 1
    assert len(fake.calls) < 6  # calls after the failure were never started
    assert err.partial_results[0].success  # started before the failure
    assert err.partial_results[1].error is err.error
    assert any(r.skipped for r in err.partial_results)
    assert len(batch.created) == err.successful_count


async def test_execute_twice_runs_only_new_operations(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    batch = BatchContext(fake_client)
    batch.create("res.partner", {"name": "a"})
    assert len(await batch.execute()) == 1
    batch.create("res.partner", {"name": "b"})
    assert [r.data for r in await batch.execute()] == [102]
    assert await batch.execute() == []
    assert len(fake_odoo.calls) == 2
