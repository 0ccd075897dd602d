"""How queued operations become few multi-record calls."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenoo_etl.batch import CreateOp, DeleteOp, Operation, UpdateOp
from zenoo_etl.batch.planner import CreateCall, UnlinkCall, WriteCall, plan_calls


def test_consecutive_creates_become_chunked_list_creates() -> None:
    ops = [CreateOp("res.partner", {"name": f"P{i}"}) for i in range(250)]
    groups = plan_calls(ops, batch_size=100)
    assert len(groups) == 1
    calls = groups[0]
    assert [len(c.indices) for c in calls] == [100, 100, 50]
    assert all(isinstance(c, CreateCall) for c in calls)
    first = calls[0]
    assert isinstance(first, CreateCall)
    assert first.values[0] == {"name": "P0"} and first.indices[:2] == [0, 1]


def test_model_or_kind_changes_start_a_new_group_in_queue_order() -> None:
    ops = [
        CreateOp("res.partner", {"name": "a"}),
        CreateOp("res.partner.category", {"name": "t"}),
        CreateOp("res.partner", {"name": "b"}),
        DeleteOp("res.partner", (9,)),
        DeleteOp("res.partner", (10, 11)),
    ]
    groups = plan_calls(ops, batch_size=100)
    assert [[type(c).__name__ for c in g] for g in groups] == [
        ["CreateCall"],
        ["CreateCall"],
        ["CreateCall"],
        ["UnlinkCall"],
    ]
    unlink = groups[-1][0]
    assert isinstance(unlink, UnlinkCall)
    assert unlink.ids == [9, 10, 11] and unlink.indices == [3, 4]


def test_updates_with_identical_values_share_one_write() -> None:
    ops = [
        UpdateOp("res.partner", {"active": False}, (1, 2)),
        UpdateOp("res.partner", {"lang": "fr_FR"}, (3,)),
        UpdateOp("res.partner", {"active": False}, (4,)),
    ]
    (calls,) = plan_calls(ops, batch_size=100)
    assert len(calls) == 2
    first, second = calls
    assert isinstance(first, WriteCall) and isinstance(second, WriteCall)
    assert (first.ids, first.values, first.indices) == ([1, 2, 4], {"active": False}, [0, 2])
    assert (second.ids, second.indices) == ([3], [1])


def test_updates_touching_an_id_twice_keep_their_order() -> None:
    ops = [
        UpdateOp("res.partner", {"name": "x"}, (1,)),
        UpdateOp("res.partner", {"name": "y"}, (1,)),
        UpdateOp("res.partner", {"name": "x"}, (2,)),
    ]
    (calls,) = plan_calls(ops, batch_size=100)
    assert [c.indices for c in calls] == [[0], [1], [2]]


def test_write_and_unlink_chunks_hold_at_most_batch_size_ids_by_whole_operation() -> None:
    ops = [DeleteOp("res.partner", (i, i + 1000)) for i in range(5)]
    (calls,) = plan_calls(ops, batch_size=4)
    assert [c.indices for c in calls] == [[0, 1], [2, 3], [4]]
    big = [UpdateOp("res.partner", {"a": 1}, tuple(range(10)))]
    (calls,) = plan_calls(big, batch_size=4)
    assert len(calls) == 1 and isinstance(calls[0], WriteCall) and len(calls[0].ids) == 10


def test_duplicate_ids_are_sent_once() -> None:
    ops = [DeleteOp("res.partner", (5,)), DeleteOp("res.partner", (5, 6))]
    (calls,) = plan_calls(ops, batch_size=10)
    assert isinstance(calls[0], UnlinkCall) and calls[0].ids == [5, 6]


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        plan_calls([], batch_size=0)


def _apply_sequentially(ops: list[Operation], table: dict[int, dict[str, Any]]) -> None:
    next_id = max(table, default=0)
    for op in ops:
        if isinstance(op, CreateOp):
            next_id += 1
            table[next_id] = dict(op.values)
        elif isinstance(op, UpdateOp):
            for i in op.ids:
                table[i].update(op.values)
        else:
            for i in op.ids:
                del table[i]


def _apply_calls(ops: list[Operation], table: dict[int, dict[str, Any]], size: int) -> None:
    next_id = max(table, default=0)
    for group in plan_calls(ops, batch_size=size):
        for call in group:
            if isinstance(call, CreateCall):
                for values in call.values:
                    next_id += 1
                    table[next_id] = dict(values)
            elif isinstance(call, WriteCall):
                for i in call.ids:
                    table[i].update(call.values)
            else:
                for i in call.ids:
                    del table[i]


@st.composite
def op_sequences(draw: st.DrawFn) -> list[Operation]:
    alive = list(range(1, 6))
    ops: list[Operation] = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["create", "update", "update", "update", "delete"]))
        if kind == "create":
            ops.append(CreateOp("m", {"name": draw(st.sampled_from("abc"))}))
        elif alive and kind == "update":
            ids = draw(st.lists(st.sampled_from(alive), min_size=1, max_size=3, unique=True))
            values = {draw(st.sampled_from(["x", "y"])): draw(st.integers(0, 1))}
            ops.append(UpdateOp("m", values, tuple(ids)))
        elif alive:
            ids = draw(st.lists(st.sampled_from(alive), min_size=1, max_size=2, unique=True))
            alive = [i for i in alive if i not in ids]
            ops.append(DeleteOp("m", tuple(ids)))
    return ops


@settings(max_examples=300, deadline=None)
@given(ops=op_sequences(), size=st.integers(1, 5))
def test_grouped_calls_leave_the_same_data_as_one_call_per_operation(
    ops: list[Operation], size: int
) -> None:
    """Whatever the queue, merging and chunking never changes the end state."""
    expected = {i: {"name": "seed"} for i in range(1, 6)}
    actual = {i: {"name": "seed"} for i in range(1, 6)}
    _apply_sequentially(ops, expected)
    _apply_calls(ops, actual, size)
    assert actual == expected
    planned = [i for group in plan_calls(ops, size) for call in group for i in call.indices]
    assert sorted(planned) == list(range(len(ops)))
