"""Server-aware chunking: children of one parent travel together, never in two calls at once."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from zenoo_etl.compiler.values import Ref, Row
from zenoo_etl.runner import RunFailed, apply
from zenoo_etl.runner.coerce import to_ids, to_set_command
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget
from zenoo_etl.runner.ordering import chunk_groups, grouped_chunks, parent_field
from zenoo_etl.runner.pipeline import run_chunks

from .helpers import ProjectFiles, Spy, looking_at, table


def _rows(parents: list[str | None]) -> list[Row]:
    return [
        Row(i, i + 2, f"k{i}", {"name": f"n{i}", "parent_id": Ref("co", p) if p else False})
        for i, p in enumerate(parents)
    ]


def test_families_are_packed_whole_and_loose_rows_fill_the_gaps() -> None:
    rng = random.Random(3)
    parents = [rng.choice(["a", "b", "c", "d", None, None]) for _ in range(60)]
    rows = _rows(parents)
    chunks = list(grouped_chunks(rows, 10, "parent_id", window=1000))
    assert sorted(r.index for c in chunks for r in c) == list(range(60))  # each row once
    assert all(len(c) <= 10 for c in chunks)
    families = {p: parents.count(p) for p in "abcd"}
    for parent, count in families.items():
        holding = [c for c in chunks if Ref("co", parent) in chunk_groups(c, "parent_id")]
        # a family fits in ceil(count / 10) chunks, and only a family bigger than a chunk
        # is split (then into whole chunks of its own)
        assert len(holding) == -(-count // 10)
        if count <= 10:
            assert len(holding) == 1
    for chunk in chunks:  # source order is kept inside a family
        for parent in "abcd":
            idx = [r.index for r in chunk if r.values["parent_id"] == Ref("co", parent)]
            assert idx == sorted(idx)


def test_without_a_window_big_enough_rows_still_all_come_out_once() -> None:
    rows = _rows([["a", "b", None][i % 3] for i in range(25)])
    chunks = list(grouped_chunks(iter(rows), 4, "parent_id", window=7))
    assert sorted(r.index for c in chunks for r in c) == list(range(25))
    assert all(0 < len(c) <= 4 for c in chunks)


def test_parent_field_is_a_many2one_to_the_model_itself() -> None:
    fields = {
        "name": {"type": "char"},
        "country_id": {"type": "many2one", "relation": "res.country"},
        "parent_id": {"type": "many2one", "relation": "res.partner"},
    }
    assert parent_field("res.partner", ["name", "country_id", "parent_id"], fields) == "parent_id"
    assert parent_field("res.partner", ["name", "country_id"], fields) is None


def test_x2many_ids_are_sent_once_each() -> None:
    assert to_ids([3, 5, 3, 3, 7, 5]) == [3, 5, 7]
    assert to_set_command([4, 4, 2]) == [(6, 0, [4, 2])]


async def test_pipeline_never_runs_two_chunks_of_one_group_at_once() -> None:
    chunks = [frozenset({"a"}), frozenset({"b"}), frozenset({"a", "c"}), frozenset({"c"})]
    chunks += [frozenset({"d"}), frozenset(), frozenset({"b"})]
    running: list[frozenset[str]] = []
    overlaps: list[tuple[frozenset[str], frozenset[str]]] = []
    peak = 0

    async def work(chunk: frozenset[str]) -> int:
        nonlocal peak
        overlaps.extend((chunk, other) for other in running if chunk & other)
        running.append(chunk)
        peak = max(peak, len(running))
        await asyncio.sleep(0.01)
        running.remove(chunk)
        return 1

    await run_chunks(iter(chunks), work, concurrency=3, groups=lambda c: c)
    assert overlaps == []
    assert peak >= 2  # chunks of different groups still run side by side


COMPANIES = """\
    description = "companies"

    [[steps]]
    id = "companies"
    model = "res.partner"
    action = "create"
    source = { csv = "data/companies.csv" }
    key = "{{ row.code }}"

    [steps.fields]
    name = "{{ row.code }}"
    is_company = true
"""

CONTACTS = """\
    description = "contacts of the companies"

    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    source = { csv = "data/contacts.csv" }
    key = "{{ row.id }}"
    chunk_size = 4

    [steps.fields]
    name = "{{ row.name }}"
    ref = "K-{{ row.id }}"
    parent_id = { ref = "companies", key = "{{ row.company }}" }
"""


@dataclass
class InFlight(Spy):
    """Records which parent ids the ``load`` calls in flight at the same time carry."""

    running: list[set[str]] = field(default_factory=list)
    overlaps: int = 0
    parents_per_call: list[int] = field(default_factory=list)

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer:
        column = fields.index("parent_id/.id") if "parent_id/.id" in fields else None
        mine = {row[column] for row in rows} if column is not None else set()
        self.overlaps += sum(1 for other in self.running if other & mine)
        self.running.append(mine)
        self.parents_per_call.append(len(mine))
        try:
            await asyncio.sleep(0.005)  # keep it in flight while others start
            return await super().load(model, fields, rows, context)
        finally:
            self.running.remove(mine)


def _contacts(n: int, companies: int, bad: int | None = None) -> str:
    rng = random.Random(7)
    lines = ["id,name,company"]
    for i in range(1, n + 1):
        name = "" if i == bad else f"Contact {i}"
        lines.append(f"{i},{name},CO{rng.randrange(companies)}")
    return "\n".join(lines) + "\n"


def _write(project_files: ProjectFiles, n: int, companies: int, bad: int | None = None) -> None:
    project_files.runner = "concurrency = 3"
    codes = "\n".join(f"CO{j}" for j in range(companies))
    project_files.write(
        {"0001_companies.toml": COMPANIES, "0002_contacts.toml": CONTACTS},
        {
            "data/companies.csv": f"code\n{codes}\n",
            "data/contacts.csv": _contacts(n, companies, bad),
        },
    )


async def test_children_of_one_parent_share_calls_and_every_key_gets_its_own_record(
    project_files: ProjectFiles,
) -> None:
    _write(project_files, 60, 6)
    spies: list[InFlight] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(InFlight(target))
        return spies[-1]

    result = await apply(project_files.load(), wrap_target=wrap)
    assert result.migrations[1].steps[0].counts.created == 60
    spy = spies[0]
    assert spy.overlaps == 0
    # 60 rows of 6 parents in chunks of 4: grouped, most calls carry one parent
    contact_calls = spy.parents_per_call[1:]
    assert sum(contact_calls) <= len(contact_calls) + 6
    async with looking_at(project_files.sandbox_db) as client:
        companies = {
            c["id"]: c["name"]
            for c in await table(client, "res.partner", ["name"], [["is_company", "=", True]])
        }
        contacts = await table(
            client, "res.partner", ["name", "ref", "parent_id"], [["ref", "like", "K-"]]
        )
    source = {line.split(",")[0]: line.split(",")[2] for line in _contacts(60, 6).splitlines()[1:]}
    assert len(contacts) == 60
    for contact in contacts:
        key = contact["ref"].removeprefix("K-")
        assert contact["name"] == f"Contact {key}"
        assert companies[contact["parent_id"][0]] == source[key]


async def test_a_refused_row_is_named_by_its_source_row_whatever_the_order(
    project_files: ProjectFiles,
) -> None:
    _write(project_files, 40, 5, bad=17)
    with pytest.raises(RunFailed) as failed:
        await apply(project_files.load())
    message = str(failed.value)
    assert "row 17 (data/contacts.csv:18), key '17'" in message, message


def test_a_size_changing_between_chunks_keeps_every_row_once_and_families_whole() -> None:
    rng = random.Random(7)
    parents = [rng.choice(["a", "b", "c", "d", "e", None, None]) for _ in range(300)]
    rows = _rows(parents)
    sizes = [rng.choice([3, 8, 20, 40, 90]) for _ in range(500)]
    asked: list[int] = []

    def size() -> int:  # a tuner growing and shrinking the size while chunks are cut
        asked.append(sizes[len(asked)])
        return asked[-1]

    chunks = list(grouped_chunks(rows, size, "parent_id", window=120))
    assert sorted(r.index for c in chunks for r in c) == list(range(300))  # each row once
    assert len(asked) >= len(chunks) > 300 // 90
    assert max(len(c) for c in chunks) <= 90
    for parent in "abcde":
        holding = [c for c in chunks if Ref("co", parent) in chunk_groups(c, "parent_id")]
        # within one window a family small enough for its chunk travels whole
        for chunk in holding:
            idx = [r.index for r in chunk if r.values["parent_id"] == Ref("co", parent)]
            assert idx == sorted(idx)
    # a family is split only into pieces that fill a chunk of the size asked at the time
    for window_start in range(0, 300, 120):
        window = set(range(window_start, window_start + 120))
        for parent in "abcde":
            pieces = [
                [r for r in c if r.values["parent_id"] == Ref("co", parent) and r.index in window]
                for c in chunks
            ]
            pieces = [p for p in pieces if p]
            if len(pieces) > 1:  # split: all but the last piece are whole chunks of their own
                assert all(len(p) >= 3 for p in pieces[:-1])
