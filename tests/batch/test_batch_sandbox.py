"""BatchContext against the embedded sandbox over real HTTP: few calls, parallel, rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from zenoo_etl.batch import BatchContext, BatchExecutionError, BatchValidationError, Operation
from zenoo_etl.client import (
    AiohttpTransport,
    CountingTransport,
    ValidationError,
    ZenooClient,
)


@pytest.fixture
async def sb() -> AsyncIterator[Any]:
    from zenoo_etl.sandbox import serve_sandbox

    async with serve_sandbox(database="demo") as server:
        yield server


@pytest.fixture
async def counted(sb: Any) -> AsyncIterator[tuple[ZenooClient, CountingTransport]]:
    transport = CountingTransport(AiohttpTransport(concurrency=4, timeout=30))
    async with ZenooClient(url=sb.url, transport=transport) as client:
        await client.login(sb.database, sb.username, sb.password)
        transport.requests.clear()
        yield client, transport


def rpc_methods(transport: CountingTransport) -> list[str]:
    import orjson

    methods = []
    for request in transport.requests:
        params = orjson.loads(request.content or b"{}")["params"]
        if "model" in params:  # /web/dataset/call_kw, the web session's route
            methods.append(params["method"])
        else:
            methods.append(params["args"][4] if params["service"] == "object" else params["method"])
    return methods


async def test_the_design_example_works_as_written(sb: Any) -> None:
    """DESIGN.md section 6, verbatim but for the port (ids 7-9 are made to exist)."""
    async with ZenooClient(url=sb.url) as setup:
        await setup.login("demo", "admin", "admin")
        while max(await setup.search("res.partner", [], context={"active_test": False})) < 9:
            await setup.create("res.partner", {"name": "filler"})
        for i in (7, 8, 9):
            await setup.write("res.partner", [i], {"active": True})

    async with ZenooClient("localhost", port=sb.port) as client:  # or ZenooClient(url=...)
        await client.login("demo", "admin", "admin")  # or api_key=
        async with client.batch() as batch:  # executes on exit unless an exception
            batch.create("res.partner", {"name": "P1"})
            batch.update("res.partner", {"active": False}, ids=[7, 8])
            batch.delete("res.partner", ids=[9])
        async with BatchContext(client, auto_execute=False, batch_size=100, parallel=True) as b:
            b.create("res.partner", {"name": "P2"})
            results = await b.execute()

        assert results[0].success and isinstance(results[0].data, int)
        assert await client.search_count("res.partner", [["name", "in", ["P1", "P2"]]]) == 2
        archived = await client.search_read(
            "res.partner", [["id", "in", [7, 8, 9]]], ["active"], context={"active_test": False}
        )
        assert {r["id"]: r["active"] for r in archived} == {7: False, 8: False}


async def test_grouping_sends_few_calls(counted: tuple[ZenooClient, CountingTransport]) -> None:
    client, transport = counted
    async with client.batch(batch_size=100) as batch:
        for i in range(250):
            batch.create("res.partner", {"name": f"G{i}"})
    assert rpc_methods(transport) == ["create"] * 3
    ids = await client.search("res.partner", [["name", "=like", "G%"]])
    transport.requests.clear()

    async with client.batch(batch_size=100) as batch:
        for n, record_id in enumerate(ids):
            batch.update("res.partner", {"comment": "even" if n % 2 else "odd"}, ids=[record_id])
        for record_id in ids[:120]:
            batch.delete("res.partner", ids=[record_id])
    # 2 distinct values x (125 ids in chunks of 100) = 4 writes, 120 ids in 2 unlinks.
    assert rpc_methods(transport) == ["write"] * 4 + ["unlink"] * 2
    assert await client.search_count("res.partner", [["name", "=like", "G%"]]) == 130
    odd = await client.search_count("res.partner", [["comment", "=", "odd"]])
    assert odd == 125 - 60


async def test_parallel_execution_matches_sequential_results(
    counted: tuple[ZenooClient, CountingTransport],
) -> None:
    client, transport = counted
    b = BatchContext(client, batch_size=20, parallel=True, concurrency=4)
    for i in range(200):
        b.create("res.partner", {"name": f"Par{i:03d}"})
    results = await b.execute()
    assert len(transport.requests) == 10
    ids = [r.data for r in results]
    rows = await client.read("res.partner", ids, ["name"])
    assert [r["name"] for r in rows] == [f"Par{i:03d}" for i in range(200)]


async def test_failure_then_rollback_leaves_nothing(
    counted: tuple[ZenooClient, CountingTransport],
) -> None:
    client, _ = counted
    b = BatchContext(client, batch_size=3, isolate_failures=False)
    for i in range(7):
        b.create("res.partner", {"name": f"Rb{i}"})
    b.create("res.partner", {})  # contacts require a name: the whole chunk fails
    with pytest.raises(BatchExecutionError) as info:
        await b.execute()
    err = info.value
    assert isinstance(err.error, ValidationError)
    assert err.successful_count == 6 and err.failed_indices == [6, 7]
    assert await client.search_count("res.partner", [["name", "=like", "Rb%"]]) == 6
    assert await b.rollback() == 6
    assert await client.search_count("res.partner", [["name", "=like", "Rb%"]]) == 0


async def test_a_bad_record_is_found_and_the_rest_of_its_chunk_kept(
    counted: tuple[ZenooClient, CountingTransport],
) -> None:
    """The sandbox refuses the whole create (one transaction); the split finds the bad one."""
    client, transport = counted
    b = BatchContext(client, batch_size=4)
    for i in range(8):
        b.create("res.partner", {"name": f"Iso{i}"} if i != 6 else {})
    with pytest.raises(BatchExecutionError) as info:
        await b.execute()
    err = info.value
    assert err.failed_indices == [6] and err.successful_count == 7
    assert isinstance(err.error, ValidationError) and "Contacts require a name" in str(err.error)
    # 2 chunks; the failed one [4..7] split into [4, 5] and [6, 7], then [6] and [7].
    assert rpc_methods(transport) == ["create"] * 6
    ids = [r.data.id for r in err.partial_results if r.success]
    rows = await client.read("res.partner", ids, ["name"])
    assert [r["name"] for r in rows] == [f"Iso{i}" for i in range(8) if i != 6]
    assert {r.data._model_name for r in err.partial_results if r.success} == {"res.partner"}


async def test_json2_errors_are_narrowed_down_the_same_way(sandbox19: Any) -> None:
    """Over JSON-2 an Odoo error is an HTTP error status; it is split like a JSON-RPC one."""
    async with ZenooClient(url=sandbox19.url) as client:
        await client.login(sandbox19.database, api_key=sandbox19.api_key)
        assert client.protocol == "json2"
        with pytest.raises(BatchExecutionError) as info:
            async with client.batch(batch_size=3) as batch:
                for name in ["J0", "J1", "", "J3"]:
                    batch.create("res.partner", {"name": name} if name else {"type": "contact"})
        err = info.value
        assert err.failed_indices == [2] and err.successful_count == 3
        assert isinstance(err.error, ValidationError)
        assert await client.search_count("res.partner", [["name", "=like", "J_"]]) == 3


async def test_validation_hook_sends_nothing(
    counted: tuple[ZenooClient, CountingTransport],
) -> None:
    client, transport = counted

    def no_empty_names(op: Operation) -> str | None:
        if op.kind == "create" and not op.values.get("name"):
            return "a partner needs a name"
        return None

    with pytest.raises(BatchValidationError, match="needs a name"):
        async with client.batch(validators=[no_empty_names]) as batch:
            batch.create("res.partner", {"name": "ok"})
            batch.create("res.partner", {"name": ""})
    assert transport.requests == []
