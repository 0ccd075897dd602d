"""Randomised model test: the ledger behaves like a plain dict under any mix of batches.

Random sequences of intents, done entries (with and without prior intent,
with duplicates) and compensations are applied to the ledger and to a tiny
reference model; after every batch the step states, bulk lookups and the
newest-first rollback order must agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from zenoo_etl.ledger import DoneEntry, Operation, RecordState, StepRow
from zenoo_etl.ledger.sql import SqlScope

STEPS = {"a": 1, "b": 1, "c": 2}  # step -> version (a step id belongs to one migration)
KEYS = [f"k{i}" for i in range(25)]
OPS: list[Operation] = ["created", "updated", "deleted", "called"]


@dataclass
class Row:
    state: RecordState
    odoo_id: int | None
    operation: Operation
    order: int  # insertion order: the ledger's seq


class Model:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}
        self.counter = 0

    def _new(self, step: str, key: str, row: Row) -> None:
        self.counter += 1
        row.order = self.counter
        self.rows[(step, key)] = row

    def intents(self, step: str, keys: list[str], op: Operation) -> None:
        for key in keys:
            row = self.rows.get((step, key))
            if row is None:
                self._new(step, key, Row("intent", None, op, 0))
            elif row.state != "done":
                row.state, row.odoo_id, row.operation = "intent", None, op

    def done(self, step: str, entries: list[DoneEntry]) -> None:
        for e in entries:
            row = self.rows.get((step, e.key))
            if row is None:
                self._new(step, e.key, Row("done", e.odoo_id, e.operation, 0))
            else:
                row.state, row.odoo_id, row.operation = "done", e.odoo_id, e.operation

    def compensate(self, step: str, keys: list[str], recreated: dict[str, int]) -> None:
        for key in keys:
            row = self.rows.get((step, key))
            if row is not None:
                row.state = "compensated"
                if key in recreated:
                    row.odoo_id = recreated[key]


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_batches_match_the_model(scope: SqlScope, seed: int) -> None:
    rng = random.Random(seed)
    model = Model()
    next_id = 1
    for _ in range(60):
        step = rng.choice(list(STEPS))
        version = STEPS[step]
        keys = rng.sample(KEYS, rng.randint(1, 8))
        action = rng.random()
        if action < 0.4:
            op = rng.choice(OPS)
            await scope.record_intents(version, step, "res.partner", op, keys)
            model.intents(step, keys, op)
        elif action < 0.8:
            entries = []
            for key in keys + rng.sample(
                keys, rng.randint(0, min(2, len(keys)))
            ):  # dups: last wins
                odoo_id = None if rng.random() < 0.1 else next_id
                next_id += 1
                entries.append(DoneEntry(key, odoo_id, rng.choice(OPS), {"n": next_id}))
            await scope.record_done(version, step, "res.partner", entries)
            model.done(step, entries)
        else:
            recreated = {k: 10_000 + i for i, k in enumerate(keys) if rng.random() < 0.3}
            await scope.mark_compensated(version, step, keys, recreated_ids=recreated)
            model.compensate(step, keys, recreated)

        for s, v in STEPS.items():
            expected = {
                k: StepRow(r.state, r.odoo_id, r.operation)
                for (ms, k), r in model.rows.items()
                if ms == s
            }
            assert await scope.step_state(v, s) == expected
            assert await scope.done_ids(s, KEYS) == {
                k: r.odoo_id
                for (ms, k), r in model.rows.items()
                if ms == s and r.state == "done" and r.odoo_id is not None
            }
    for version in (1, 2):
        walked = [(r.step, r.key) async for r in scope.records_for_rollback(version)]
        expected_order = sorted(
            (
                (r.order, s, k)
                for (s, k), r in model.rows.items()
                if STEPS[s] == version and r.state == "done"
            ),
            reverse=True,
        )
        assert walked == [(s, k) for _, s, k in expected_order]
