"""Turn a queue of operations into few multi-record Odoo calls (pure, no I/O).

Rules:

* a *group* is a run of consecutive operations with the same model and kind;
  groups run one after the other, so the queue's order between different
  models or kinds is kept (a create before a delete of the same model stays
  before it);
* creates of a group become ``create`` calls with up to ``batch_size`` dicts;
* updates of a group are merged by identical values into ``write`` calls of
  up to ``batch_size`` ids (whole operations, so a large one is one call).
  Non-adjacent updates are merged only when no id appears in two operations
  of the group, otherwise the order of writes on that id could change;
* deletes of a group become ``unlink`` calls of up to ``batch_size`` ids;
* the calls of one group touch disjoint operations and may run in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from typing_extensions import assert_never  # typing has it from 3.11 only

from zenoo_etl.batch.operations import CreateOp, DeleteOp, Operation, UpdateOp


@dataclass(frozen=True, slots=True)
class CreateCall:
    model: str
    values: list[Mapping[str, Any]]
    indices: list[int]


@dataclass(frozen=True, slots=True)
class WriteCall:
    model: str
    ids: list[int]
    values: Mapping[str, Any]
    indices: list[int]


@dataclass(frozen=True, slots=True)
class UnlinkCall:
    model: str
    ids: list[int]
    indices: list[int]


Call = CreateCall | WriteCall | UnlinkCall


def _runs(ops: Sequence[Operation]) -> Iterator[list[int]]:
    """Indices of consecutive operations sharing model and kind."""
    # Compare with locals and emit ranges: this loop sees every queued operation.
    start = 0
    kind: str | None = None
    model: str | None = None
    for index, op in enumerate(ops):
        if op.kind != kind or op.model != model:
            if index:
                yield list(range(start, index))
            start, kind, model = index, op.kind, op.model
    if ops:
        yield list(range(start, len(ops)))


def _values_key(values: Mapping[str, Any]) -> bytes:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS, default=repr)


def _id_chunks(
    indices: Sequence[int], ops: Sequence[Operation], batch_size: int
) -> Iterator[tuple[list[int], list[int]]]:
    """(op indices, deduplicated ids) chunks of at most ``batch_size`` ids (whole ops)."""
    chunk_ops: list[int] = []
    chunk_ids: dict[int, None] = {}
    for index in indices:
        op = ops[index]
        assert isinstance(op, (UpdateOp, DeleteOp))
        if chunk_ops and len(chunk_ids) + len(op.ids) > batch_size:
            yield chunk_ops, list(chunk_ids)
            chunk_ops, chunk_ids = [], {}
        chunk_ops.append(index)
        chunk_ids.update(dict.fromkeys(op.ids))
    if chunk_ops:
        yield chunk_ops, list(chunk_ids)


def _write_groups(run: list[int], ops: Sequence[Operation]) -> list[list[int]]:
    """Operations of an update run that may share one ``write`` (same values)."""
    updates = [ops[i] for i in run]
    all_ids = [i for op in updates if isinstance(op, UpdateOp) for i in op.ids]
    groups: dict[bytes, list[int]] = {}
    if len(all_ids) == len(set(all_ids)):
        for index in run:
            op = ops[index]
            assert isinstance(op, UpdateOp)
            groups.setdefault(_values_key(op.values), []).append(index)
        return list(groups.values())
    # Some id is written twice: merge only neighbours, keeping write order.
    merged: list[list[int]] = []
    last_key: bytes | None = None
    for index in run:
        op = ops[index]
        assert isinstance(op, UpdateOp)
        key = _values_key(op.values)
        if merged and key == last_key:
            merged[-1].append(index)
        else:
            merged.append([index])
        last_key = key
    return merged


def plan_calls(ops: Sequence[Operation], batch_size: int) -> list[list[Call]]:
    """The calls for ``ops``: a list of groups (run in order) of calls (parallelisable)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    groups: list[list[Call]] = []
    for run in _runs(ops):
        first = ops[run[0]]
        calls: list[Call] = []
        match first:
            case CreateOp():
                for start in range(0, len(run), batch_size):
                    indices = run[start : start + batch_size]
                    values = [
                        op.values for op in (ops[i] for i in indices) if isinstance(op, CreateOp)
                    ]
                    calls.append(CreateCall(first.model, values, indices))
            case UpdateOp():
                for same_values in _write_groups(run, ops):
                    head = ops[same_values[0]]
                    assert isinstance(head, UpdateOp)
                    for indices, ids in _id_chunks(same_values, ops, batch_size):
                        calls.append(WriteCall(first.model, ids, head.values, indices))
            case DeleteOp():
                for indices, ids in _id_chunks(run, ops, batch_size):
                    calls.append(UnlinkCall(first.model, ids, indices))
            case _:
                assert_never(first)
        groups.append(calls)
    return groups


__all__ = ["Call", "CreateCall", "UnlinkCall", "WriteCall", "plan_calls"]
