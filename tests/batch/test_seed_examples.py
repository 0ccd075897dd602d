"""The seed page's six examples, as shipped in ``examples/``, run against the sandbox.

``examples/seed_batch_context.py`` must be the seed's code blocks verbatim
but for the import lines and the connection line (checked here against the
copy of the seed page beside it), and every example must do what its
comments say: valid records created, invalid ones reported one by one,
rollback removing what was created, validation refusing before anything is
sent. The examples open their own client; the tests look at the sandbox
afterwards, and at the contexts the examples made (recorded when they exit).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import pytest

from zenoo_etl.batch import BatchContext
from zenoo_etl.client import ZenooClient
from zenoo_etl.sandbox import serve_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_PAGE = EXAMPLES / "seed-batch-context.md"
MODULE = EXAMPLES / "seed_batch_context.py"
MARKER = "# --- the seed's examples, verbatim below this line"
FOOTER = "\n\n# --- not in the seed"


def load_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_batch_context", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_examples_are_the_seed_code_but_for_imports_and_connection() -> None:
    page = SEED_PAGE.read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page[page.index("## Usage Examples") :], re.S)
    assert len(blocks) == 4
    seed = "\n\n".join(b.rstrip("\n") + "\n" for b in blocks)
    assert seed.count('ZenooClient("localhost", port=8069)') == 6
    source = MODULE.read_text("utf-8")
    shipped = source[source.index("\n", source.index(MARKER)) + 1 : source.index(FOOTER)]
    assert shipped.lstrip("\n") == seed.replace(
        'ZenooClient("localhost", port=8069)', "ZenooClient(HOST, port=PORT)"
    )
    names = [f.__name__ for f in load_examples().EXAMPLES]
    assert names == re.findall(r"^async def (\w+)\(\):", seed, re.M)
    assert len(names) == 6


@pytest.fixture
async def demo(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[ModuleType, ZenooClient]]:
    """The examples module pointed at a fresh sandbox serving database ``demo``."""
    async with serve_sandbox(database="demo") as sb:
        module = load_examples()
        monkeypatch.setattr(module, "HOST", "127.0.0.1")
        monkeypatch.setattr(module, "PORT", sb.port)
        async with ZenooClient(url=sb.url) as client:
            await client.login("demo", "admin", "admin")
            yield module, client


class Exits:
    """Every BatchContext that left its ``async with`` block, with what the hooks returned.

    Hooks run at that point, while the example's client is still open.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[BatchContext, list[Any]]] = []
        self.hooks: list[Callable[[BatchContext], Awaitable[Any]]] = []


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> Exits:
    recorder = Exits()
    original = BatchContext.__aexit__

    async def recording_exit(
        self: BatchContext,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await original(self, exc_type, exc, tb)
        finally:
            recorder.seen.append((self, [await hook(self) for hook in recorder.hooks]))

    monkeypatch.setattr(BatchContext, "__aexit__", recording_exit)
    return recorder


async def names(client: ZenooClient, model: str, pattern: str) -> list[str]:
    rows = await client.search_read(model, [["name", "=like", pattern]], ["name"], order="id")
    return [r["name"] for r in rows]


async def test_basic_batch_context_creates_on_exit(
    demo: tuple[ModuleType, ZenooClient], capsys: pytest.CaptureFixture[str]
) -> None:
    module, client = demo
    await module.basic_batch_context()
    assert capsys.readouterr().out == "Batch operations completed\n"
    partners = await client.search_read(
        "res.partner", [["name", "in", ["Partner 1", "Partner 2"]]], ["name", "email"], order="id"
    )
    assert [(p["name"], p["email"]) for p in partners] == [
        ("Partner 1", "p1@example.com"),
        ("Partner 2", "p2@example.com"),
    ]
    products = await client.search_read(
        "product.product", [["name", "=", "Product 1"]], ["list_price"]
    )
    assert [p["list_price"] for p in products] == [10.0]


async def test_manual_batch_execution_executes_once(
    demo: tuple[ModuleType, ZenooClient], capsys: pytest.CaptureFixture[str]
) -> None:
    module, client = demo
    await module.manual_batch_execution()
    assert capsys.readouterr().out == "Created 2 records manually\n"
    assert await names(client, "res.partner", "Manual Partner") == ["Manual Partner"]
    assert await names(client, "product.product", "Manual Product") == ["Manual Product"]


async def test_error_handling_reports_each_operation(
    demo: tuple[ModuleType, ZenooClient], capsys: pytest.CaptureFixture[str]
) -> None:
    module, client = demo
    before = await client.search_count("res.partner", [])
    await module.batch_with_error_handling()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Batch failed: Batch operation #1 (create res.partner) failed")
    assert out[1] == "Successful operations: 2"
    first = re.fullmatch(r"Operation 0: Success - ID (\d+)", out[2])
    third = re.fullmatch(r"Operation 2: Success - ID (\d+)", out[4])
    assert first and third
    assert out[3].startswith("Operation 1: Failed - ") and "Contacts require a name" in out[3]
    assert len(out) == 5
    rows = await client.read("res.partner", [int(first[1]), int(third[1])], ["name"])
    assert [r["name"] for r in rows] == ["Valid Partner", "Another Partner"]
    assert await client.search_count("res.partner", []) == before + 2


async def test_rollback_example_tracks_model_and_id_and_its_rollback_deletes_them(
    demo: tuple[ModuleType, ZenooClient],
    exits: Exits,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The example's success path records (model, id) pairs from the results; its
    ``rollback()``, called while the example's client is open, deletes exactly those."""
    module, client = demo

    async def roll_back_what_was_tracked(batch: BatchContext) -> list[tuple[str, int]]:
        tracked = list(getattr(batch, "created_ids", []))
        present = await client.search_count("res.partner", [["id", "in", [i for _, i in tracked]]])
        assert present == len(tracked) == 2  # created, before the rollback
        await batch.rollback()  # type: ignore[call-arg]
        return tracked

    exits.hooks.append(roll_back_what_was_tracked)
    await module.batch_with_rollback()
    [(batch, [tracked])] = exits.seen
    assert type(batch).__name__ == "RollbackBatchContext"
    assert [model for model, _ in tracked] == ["res.partner", "res.partner"]
    first, second = (record_id for _, record_id in tracked)
    assert capsys.readouterr().out.splitlines() == [
        "Batch completed successfully",
        f"Rolled back res.partner ID {second}",
        f"Rolled back res.partner ID {first}",
    ]
    assert await names(client, "res.partner", "Partner _") == []


async def test_advanced_example_creates_each_record_once_in_order(
    demo: tuple[ModuleType, ZenooClient],
    exits: Exits,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, client = demo
    await module.advanced_batch_example()
    assert capsys.readouterr().out == "Bulk operations completed: 700 records created\n"
    # Executed in chunks by the example; the context's exit sent nothing again.
    assert await client.search_count("res.partner", [["name", "=like", "Bulk Partner %"]]) == 500
    assert (
        await client.search_count("product.product", [["name", "=like", "Bulk Product %"]]) == 200
    )
    [(batch, _)] = exits.seen
    assert len(batch) == 0 and len(batch.operations) == 700
    results = [op.result for op in batch.operations]
    assert all(r is not None and r.success for r in results)
    partner_ids = [r.data.id for r in results[:500] if r is not None]
    rows = await client.read("res.partner", partner_ids, ["name", "email"])
    assert [(r["name"], r["email"]) for r in rows] == [
        (f"Bulk Partner {i}", f"bulk{i}@example.com") for i in range(500)
    ]
    product_ids = [r.data.id for r in results[500:] if r is not None]
    products = await client.read("product.product", product_ids, ["name", "list_price"])
    assert [(p["name"], p["list_price"]) for p in products] == [
        (f"Bulk Product {i}", 10.0 + i * 0.5) for i in range(200)
    ]
    assert {r.data._model_name for r in results[500:] if r is not None} == {"product.product"}


async def test_validated_example_refuses_before_anything_is_sent(
    demo: tuple[ModuleType, ZenooClient], capsys: pytest.CaptureFixture[str]
) -> None:
    module, client = demo
    partners = await client.search_count("res.partner", [])
    products = await client.search_count("product.product", [])
    await module.validated_batch_example()
    assert capsys.readouterr().out.splitlines() == [
        "Validation failed: Validation failed: "
        "['Partner name is required', 'Product name is required']",
        "Please fix validation errors and try again",
    ]
    assert await client.search_count("res.partner", []) == partners
    assert await client.search_count("product.product", []) == products


@pytest.mark.parametrize("parallel", [False, True])
async def test_the_advanced_context_both_ways_with_a_refused_record(
    demo: tuple[ModuleType, ZenooClient], parallel: bool
) -> None:
    """The seed's AdvancedBatchContext beyond its example: its sequential path
    (``operation.execute``) and its parallel path (the ``_execute_*_operations``
    hooks) on mixed operations, one refused; nothing is sent again on exit."""
    module, client = demo
    keep, drop = await client.create("res.partner", [{"name": "Adv keep"}, {"name": "Adv drop"}])
    async with module.AdvancedBatchContext(client, batch_size=3, parallel=parallel) as batch:
        batch.create("res.partner", {"name": "Adv new"})
        batch.create("res.partner", {})  # contacts require a name
        batch.update("res.partner", {"ref": "ADV"}, ids=[keep])
        batch.delete("res.partner", ids=[drop])
        results = await batch.execute_in_chunks()
    # Sequential: one result per operation, the refused one as the seed builds it.
    # Parallel: per chunk, creates then updates then deletes (the seed's grouping).
    assert [r.success for r in results] == [True, False, True, True]
    assert results[0].data._model_name == "res.partner"
    error = results[1].error
    assert "Contacts require a name" in (error if isinstance(error, str) else str(error))
    assert await names(client, "res.partner", "Adv %") == ["Adv keep", "Adv new"]
    rows = await client.read("res.partner", [keep], ["ref"])
    assert rows[0]["ref"] == "ADV"
