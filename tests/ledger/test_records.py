"""Records: write-ahead intents, done ids, compensation, lookups and batching."""

from __future__ import annotations

import pytest

from zenoo_etl.ledger import DoneEntry, LedgerError, StepRow
from zenoo_etl.ledger import sql as ledger_sql
from zenoo_etl.ledger.sql import SqlScope

P = "res.partner"


async def test_intent_then_done_then_compensated(scope: SqlScope) -> None:
    await scope.begin_migration(1, "m", "c")
    await scope.record_intents(1, "customers", P, "created", ["a", "b", "c"])
    assert await scope.step_state(1, "customers") == {
        k: StepRow("intent", None, "created") for k in "abc"
    }
    assert [r.key for r in await scope.intents(1)] == ["a", "b", "c"]

    await scope.record_done(
        1, "customers", P, [DoneEntry("a", 10, "created"), DoneEntry("b", 11, "created")]
    )
    state = await scope.step_state(1, "customers")
    assert state["a"] == StepRow("done", 10, "created")
    assert state["c"] == StepRow("intent", None, "created")
    assert [r.key for r in await scope.intents(1)] == ["c"]
    assert await scope.record_counts(1) == {"intent": 1, "done": 2, "undoing": 0, "compensated": 0}

    await scope.mark_compensated(1, "customers", ["a"])
    assert (await scope.step_state(1, "customers"))["a"] == StepRow("compensated", 10, "created")
    assert await scope.done_ids("customers", ["a", "b", "c"]) == {"b": 11}


async def test_an_intent_never_clobbers_a_done_row(scope: SqlScope) -> None:
    """A rerun that re-announces a done key must not lose the id Odoo gave it."""
    await scope.record_intents(1, "s", P, "created", ["a"])
    await scope.record_done(1, "s", P, [DoneEntry("a", 42, "created")])
    await scope.record_intents(1, "s", P, "created", ["a", "b"])
    state = await scope.step_state(1, "s")
    assert state == {"a": StepRow("done", 42, "created"), "b": StepRow("intent", None, "created")}


async def test_a_compensated_row_can_be_announced_again(scope: SqlScope) -> None:
    await scope.record_done(1, "s", P, [DoneEntry("a", 42, "created")])
    await scope.mark_compensated(1, "s", ["a"])
    await scope.record_intents(1, "s", P, "created", ["a"])
    assert (await scope.step_state(1, "s"))["a"] == StepRow("intent", None, "created")


async def test_done_without_intent_is_adopted(scope: SqlScope) -> None:
    """Reconciliation may find records by xmlid that no intent announced."""
    await scope.record_done(1, "s", P, [DoneEntry("x", 7, "created")])
    assert await scope.done_ids("s", ["x"]) == {"x": 7}


async def test_previous_values_round_trip_as_json(scope: SqlScope) -> None:
    previous = {"name": "Zoë ✓", "tags": [1, 2], "nested": {"active": True, "x": None}, "n": 1.5}
    await scope.record_intents(1, "upd", P, "updated", ["k"])
    await scope.record_done(1, "upd", P, [DoneEntry("k", 3, "updated", previous)])
    (record,) = [r async for r in scope.records_for_rollback(1)]
    assert record.previous == previous
    assert (record.model, record.operation, record.state, record.odoo_id) == (
        P,
        "updated",
        "done",
        3,
    )


async def test_recreated_ids_replace_the_id_of_deleted_records(scope: SqlScope) -> None:
    snapshot = {"name": "Gone", "email": "g@example.com"}
    await scope.record_done(1, "del", P, [DoneEntry("5", 5, "deleted", snapshot)])
    await scope.mark_compensated(1, "del", ["5"], recreated_ids={"5": 99})
    assert (await scope.step_state(1, "del"))["5"] == StepRow("compensated", 99, "deleted")


async def test_bulk_ref_lookup_spans_versions_and_ignores_unknown_keys(scope: SqlScope) -> None:
    keys = [f"k{i}" for i in range(1300)]  # more than one IN chunk
    await scope.record_intents(1, "tags", "res.partner.category", "created", keys)
    await scope.record_done(
        1,
        "tags",
        "res.partner.category",
        [DoneEntry(k, i + 1, "created") for i, k in enumerate(keys)],
    )
    found = await scope.done_ids("tags", [*keys, "missing", "k0"])
    assert len(found) == 1300 and found["k0"] == 1 and found["k1299"] == 1300
    assert await scope.done_ids("other-step", keys) == {}
    assert await scope.done_ids("tags", []) == {}
    subset = await scope.step_state(1, "tags", keys=["k5", "nope"])
    assert subset == {"k5": StepRow("done", 6, "created")}


async def test_rollback_order_is_newest_first_and_pages(
    scope: SqlScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rollback walks done records newest first, page by page, while they are compensated."""
    monkeypatch.setattr(ledger_sql, "_PAGE", 3)
    await scope.record_done(1, "first", P, [DoneEntry(f"a{i}", i, "created") for i in range(4)])
    await scope.record_done(
        1, "second", P, [DoneEntry(f"b{i}", 10 + i, "updated", {"v": i}) for i in range(4)]
    )
    await scope.record_intents(1, "third", P, "created", ["pending"])
    await scope.record_done(2, "other", P, [DoneEntry("z", 99, "created")])
    seen = []
    async for record in scope.records_for_rollback(1):
        seen.append(record)
        await scope.mark_compensated(1, record.step, [record.key])
    assert [r.key for r in seen] == ["b3", "b2", "b1", "b0", "a3", "a2", "a1", "a0"]
    assert [r.seq for r in seen] == sorted((r.seq for r in seen), reverse=True)
    assert [r async for r in scope.records_for_rollback(1)] == []
    assert await scope.record_counts(1) == {"intent": 1, "done": 0, "undoing": 0, "compensated": 8}
    assert await scope.done_ids("other", ["z"]) == {"z": 99}


async def test_a_batch_is_one_transaction(scope: SqlScope) -> None:
    """A batch failing half-way leaves nothing of itself behind, position unchanged."""
    await scope.record_intents(1, "s", P, "created", ["a", "b", "c"])
    before = await scope.position()
    bad = [
        DoneEntry("a", 1, "created"),
        DoneEntry("b", 2, "created"),
        DoneEntry("c", 2**70, "created"),
    ]
    with pytest.raises((LedgerError, OverflowError)):
        await scope.record_done(1, "s", P, bad)
    assert {k: r.state for k, r in (await scope.step_state(1, "s")).items()} == dict.fromkeys(
        "abc", "intent"
    )
    assert await scope.position() == before


async def test_unknown_operations_are_refused_before_writing(scope: SqlScope) -> None:
    with pytest.raises(LedgerError, match="operation"):
        await scope.record_intents(1, "s", P, "exploded", ["a"])  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="operation"):
        await scope.record_done(1, "s", P, [DoneEntry("a", 1, "exploded")])  # type: ignore[arg-type]
    assert await scope.step_state(1, "s") == {}


async def test_large_batches_are_written_whole(scope: SqlScope) -> None:
    keys = [f"row-{i}" for i in range(5000)]
    await scope.record_intents(3, "big", P, "created", keys)
    await scope.record_done(3, "big", P, [DoneEntry(k, i, "created") for i, k in enumerate(keys)])
    assert await scope.record_counts(3) == {
        "intent": 0,
        "done": 5000,
        "undoing": 0,
        "compensated": 0,
    }
    assert len(await scope.step_state(3, "big")) == 5000


async def test_position_moves_on_every_write_but_not_on_reads_or_lock(scope: SqlScope) -> None:
    p0 = await scope.position()
    await scope.migrations()
    await scope.done_ids("s", ["a"])
    assert await scope.position() == p0
    await scope.acquire_lock("apply")  # creates the scope row: still nothing written
    await scope.release()
    assert await scope.position() == p0
    await scope.begin_migration(1, "m", "c")
    p1 = await scope.position()
    await scope.record_intents(1, "s", P, "created", ["a"])
    p2 = await scope.position()
    await scope.record_done(1, "s", P, [DoneEntry("a", 1, "created")])
    p3 = await scope.position()
    await scope.acquire_lock("apply")
    await scope.heartbeat()
    await scope.release()
    await scope.mark_compensated(1, "s", ["a"])
    p4 = await scope.position()
    await scope.set_status(1, "rolled_back")
    p5 = await scope.position()
    assert len({p0, p1, p2, p3, p4, p5}) == 6
    assert p4 != p3
    assert len(p5) < 40


async def test_empty_batches_are_no_ops(scope: SqlScope) -> None:
    p0 = await scope.position()
    await scope.record_intents(1, "s", P, "created", [])
    await scope.record_done(1, "s", P, [])
    await scope.mark_compensated(1, "s", [])
    assert await scope.position() == p0


async def test_undoing_is_a_compensation_intent_settled_either_way(scope: SqlScope) -> None:
    """Rollback announces what it is about to undo; apply or rollback settles it later."""
    await scope.begin_migration(1, "m", "c")
    await scope.record_done(
        1, "s", P, [DoneEntry(k, i + 1, "created") for i, k in enumerate("abc")]
    )
    await scope.mark_undoing(1, "s", ["a", "b"])
    await scope.mark_undoing(1, "s", ["a"])  # again: still undoing
    assert [r.key for r in await scope.undoing(1)] == ["a", "b"]
    assert await scope.record_counts(1) == {
        "intent": 0,
        "done": 1,
        "undoing": 2,
        "compensated": 0,
    }
    # rollback resumes with both: undoing rows are still to be undone
    assert sorted(r.key for r in await _all(scope.records_for_rollback(1))) == ["a", "b", "c"]
    # an undoing record is not "done": refs do not resolve to it
    assert await scope.done_ids("s", ["a", "b", "c"]) == {"c": 3}
    await scope.restore_done(1, "s", ["a", "c"])  # c is done: left alone
    await scope.mark_compensated(1, "s", ["b"])
    state = await scope.step_state(1, "s")
    assert state == {
        "a": StepRow("done", 1, "created"),
        "b": StepRow("compensated", 2, "created"),
        "c": StepRow("done", 3, "created"),
    }
    await scope.mark_undoing(1, "s", ["b"])  # compensated: never back to undoing
    assert await scope.undoing(1) == []


async def test_rolling_back_is_a_status_that_is_not_finished(scope: SqlScope) -> None:
    await scope.begin_migration(1, "m", "c")
    await scope.set_status(1, "applied")
    record = await scope.set_status(1, "rolling_back")
    assert (record.status, record.finished_at) == ("rolling_back", None)
    assert [m.status for m in await scope.migrations()] == ["rolling_back"]
    # not applied: beginning it again (apply redoing it) is allowed
    await scope.begin_migration(1, "m", "c")


async def _all(iterator):  # type: ignore[no-untyped-def]
    return [r async for r in iterator]
