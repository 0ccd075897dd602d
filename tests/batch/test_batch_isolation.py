"""Per-operation truth on failure: a failed call is split until each operation has its result.

Against the in-memory Odoo of ``fake_odoo`` (one call = one transaction; a
record named FAIL is refused), so that the calls sent can be counted exactly.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from fake_odoo import FakeOdoo

from zenoo_etl.batch import (
    BatchContext,
    BatchExecutionError,
    BatchOperationResult,
    CreateOperation,
    RecordRef,
)
from zenoo_etl.client import (
    ConnectError,
    MissingRecordError,
    MockTransport,
    Request,
    Response,
    ValidationError,
    ZenooClient,
)


def creates(fake: FakeOdoo) -> list[list[str]]:
    """The names sent by each create call, in order."""
    sent = [args[0] for _, method, args in fake.calls if method == "create"]
    return [[v["name"] for v in ([vals] if isinstance(vals, dict) else vals)] for vals in sent]


async def test_the_bad_operation_fails_alone_and_the_good_ones_are_kept(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    batch = BatchContext(fake_client, batch_size=2)
    for name in ["a", "b", "c", "FAIL", "e"]:
        batch.create("res.partner", {"name": name})
    batch.delete("res.partner", ids=[1])  # a later group: not started after a failure
    with pytest.raises(BatchExecutionError) as info:
        await batch.execute()
    err = info.value
    assert [r.success for r in err.partial_results] == [True, True, True, False, True, False]
    assert err.successful_count == 4
    assert err.failed_indices == [3] and err.operation_index == 3
    assert isinstance(err.error, ValidationError) and err.partial_results[3].error is err.error
    assert err.partial_results[5].skipped
    assert "#3" in str(err) and "4 of 6 operations succeeded" in str(err)
    # [c, FAIL] failed as one transaction, then each half went alone.
    assert creates(fake_odoo) == [["a", "b"], ["c", "FAIL"], ["c"], ["FAIL"], ["e"]]
    kept = {
        r.data: fake_odoo.tables["res.partner"][r.data]["name"]
        for r in err.partial_results[:5]
        if r.success
    }
    assert sorted(kept.values()) == ["a", "b", "c", "e"]
    assert await batch.rollback() == 4
    assert fake_odoo.tables["res.partner"] == {}


@pytest.mark.parametrize(
    ("bad", "calls"),
    [
        ({5}, 1 + 2 * 3),  # one bad in 8: 2·log2(8) extra calls
        ({0, 7}, 1 + 2 + 2 * 2 + 2 * 2),  # two bad, one per half
        (set(range(8)), 2 * 8 - 1),  # all bad: the worst case, 2(n-1) extra
    ],
)
async def test_splitting_costs_extra_calls_only_around_the_bad_operations(
    fake_client: ZenooClient, fake_odoo: FakeOdoo, bad: set[int], calls: int
) -> None:
    batch = BatchContext(fake_client, batch_size=8)
    for i in range(8):
        batch.create("res.partner", {"name": "FAIL" if i in bad else f"ok{i}"})
    with pytest.raises(BatchExecutionError) as info:
        await batch.execute()
    assert len(fake_odoo.calls) == calls
    assert info.value.failed_indices == sorted(bad)
    assert info.value.successful_count == 8 - len(bad)
    errors = [r.error for r in info.value.partial_results if r.error is not None]
    assert len({id(e) for e in errors}) == len(bad)  # each failure is its own Odoo answer


async def test_no_extra_call_when_nothing_fails(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    async with fake_client.batch(batch_size=4) as batch:
        for i in range(10):
            batch.create("res.partner", {"name": f"p{i}"})
    assert creates(fake_odoo) == [
        [f"p{i}" for i in r] for r in (range(4), range(4, 8), range(8, 10))
    ]


async def test_writes_and_deletes_are_narrowed_per_operation(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    fake_odoo.tables["res.partner"] = {i: {"name": f"p{i}"} for i in range(1, 7)}
    batch = BatchContext(fake_client)
    batch.update("res.partner", {"ref": "X"}, ids=[1, 2])
    batch.update("res.partner", {"ref": "X"}, ids=[3, 99])  # 99 does not exist
    batch.update("res.partner", {"ref": "X"}, ids=[4])
    with pytest.raises(BatchExecutionError) as info:
        await batch.execute()
    assert [r.success for r in info.value.partial_results] == [True, False, True]
    assert isinstance(info.value.error, MissingRecordError)
    # An operation is atomic: 3 was not written, since its operation failed.
    assert [fake_odoo.tables["res.partner"][i].get("ref") for i in (1, 2, 3, 4)] == [
        "X",
        "X",
        None,
        "X",
    ]
    batch.delete("res.partner", ids=[5])
    batch.delete("res.partner", ids=[98])
    batch.delete("res.partner", ids=[6])
    with pytest.raises(BatchExecutionError) as info:
        await batch.execute()
    assert [r.success for r in info.value.partial_results] == [True, False, True]
    assert sorted(fake_odoo.tables["res.partner"]) == [1, 2, 3, 4]


async def test_parallel_calls_of_the_failing_group_all_run(fake_odoo: FakeOdoo) -> None:
    async with ZenooClient(
        url="http://f", protocol="jsonrpc", web_session=False, transport=MockTransport(fake_odoo)
    ) as c:
        await c.login("etl", "admin", "admin")
        batch = BatchContext(c, batch_size=2, parallel=True, concurrency=3)
        names = ["a", "FAIL", "c", "d", "FAIL", "f", "g"]
        for name in names:
            batch.create("res.partner", {"name": name})
        with pytest.raises(BatchExecutionError) as info:
            await batch.execute()
    assert [r.success for r in info.value.partial_results] == [n != "FAIL" for n in names]
    ids = [r.data for r in info.value.partial_results if r.success]
    assert [fake_odoo.tables["res.partner"][i]["name"] for i in ids] == ["a", "c", "d", "f", "g"]


async def test_faults_that_say_nothing_about_the_data_are_not_split(fake_odoo: FakeOdoo) -> None:
    """A refused connection fails its call's operations together and stops the batch."""
    down = {"on": False}

    async def flaky(request: Request) -> Response:
        if down["on"]:
            raise ConnectError("connection refused")
        return await fake_odoo(request)

    async with ZenooClient(
        url="http://f",
        protocol="jsonrpc",
        retries=0,
        web_session=False,
        transport=MockTransport(flaky),
    ) as c:
        await c.login("etl", "admin", "admin")
        batch = BatchContext(c, batch_size=2)
        for i in range(6):
            batch.create("res.partner", {"name": f"p{i}"})
        down["on"] = True
        with pytest.raises(BatchExecutionError) as info:
            await batch.execute()
    err = info.value
    assert isinstance(err.error, ConnectError)
    assert err.failed_indices == [0, 1]
    assert [r.skipped for r in err.partial_results] == [False, False, True, True, True, True]
    assert "#0 to #1" in str(err)


async def test_create_results_are_record_handles_usable_as_ids(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    batch = BatchContext(fake_client, auto_execute=False)
    batch.create("res.partner", {"name": "a"})
    batch.update("res.partner", {"name": "b"}, ids=[])
    created, updated = await batch.execute()
    ref = created.data
    assert isinstance(ref, RecordRef) and isinstance(ref, int)
    assert ref.id == 101 and type(ref.id) is int and ref._model_name == "res.partner"
    assert (created.id, created._model_name) == (101, "res.partner")
    assert ref == 101 and hash(ref) == hash(101) and {101: "x"}[ref] == "x" and ref < 102
    assert json.dumps({"id": ref}) == '{"id": 101}' and orjson.dumps([ref]) == b"[101]"
    assert f"ID {ref}" == "ID 101" and repr(ref) == "res.partner(101)"
    assert created == BatchOperationResult(True, 101)
    # Only a create's result has an id: the seed's hasattr(result, "id") test relies on it.
    assert not hasattr(updated, "id") and not hasattr(updated, "_model_name")
    # Usable where an id is expected, e.g. in a later batch.
    async with fake_client.batch() as again:
        again.update("res.partner", {"ref": "R"}, ids=[ref])
    assert fake_odoo.tables["res.partner"][101]["ref"] == "R"


async def test_auto_execute_is_the_default_and_nothing_is_sent_twice(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    async with BatchContext(fake_client) as batch:
        batch.create("res.partner", {"name": "a"})
        assert [op.kind for op in batch.operations] == ["create"]
        assert await batch.execute() == [BatchOperationResult(True, 101)]
        batch.create("res.partner", {"name": "b"})
    # The exit ran only what was still queued.
    assert creates(fake_odoo) == [["a"], ["b"]]
    assert batch.operations == [] and [r.data for r in batch.results] == [101, 102]


async def test_the_seed_hooks_run_operations_once(
    fake_client: ZenooClient, fake_odoo: FakeOdoo
) -> None:
    """``_execute_create_operations`` and ``op.execute`` mark what they sent: the exit skips it."""
    async with BatchContext(fake_client, batch_size=2) as batch:
        for name in ["a", "FAIL", "c", "d"]:
            batch.create("res.partner", {"name": name})
        chunk = [op for op in batch.operations if isinstance(op, CreateOperation)][:3]
        results = await batch._execute_create_operations(chunk)
        assert [r.success for r in results] == [True, False, True]
        assert len(batch) == 1
        last = batch.operations[3]
        assert (await last.execute(fake_client)).data == fake_odoo.next_id
        assert await batch._execute_create_operations(chunk) == results  # not sent again
    assert sorted(v["name"] for v in fake_odoo.tables["res.partner"].values()) == ["a", "c", "d"]
    assert creates(fake_odoo) == [["a", "FAIL"], ["a"], ["FAIL"], ["c"], ["d"]]


def test_operations_compare_by_content_not_by_result() -> None:
    from zenoo_etl.batch import CreateOp

    sent = CreateOp("res.partner", {"name": "a"})
    sent.result = BatchOperationResult(True, 1)
    assert sent == CreateOp("res.partner", {"name": "a"})
    assert "result" not in repr(sent)


async def test_error_strings_from_user_code_are_kept(fake_client: Any) -> None:
    """The seed builds ``BatchOperationResult(success=False, error=str(e))``."""
    result = BatchOperationResult(success=False, error="boom")
    assert not result.skipped and result.error == "boom"
