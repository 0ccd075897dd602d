"""Server-aware chunking: children of one parent travel together, never in two calls at once."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pytest

from zenoo_etl.compiler.values import Ref, Row
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RunFailed, apply
from zenoo_etl.runner.coerce import (
    load_converter,
    load_row_converter,
    rpc_row_converter,
    to_ids,
    to_set_command,
)
from zenoo_etl.runner.identity import XMLID_MODULE, xmlid_name
from zenoo_etl.runner.odoo import Context, OdooTarget
from zenoo_etl.runner.ordering import chunk_groups, grouped_chunks, parent_field
from zenoo_etl.runner.pipeline import run_chunks

from .helpers import TAGS, ProjectFiles, Spy, looking_at, table


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
    """Rows are grouped within a window of the source only (memory stays bounded): no
    chunk mixes two windows, and within one a family that fits a chunk is in one."""
    rows = _rows([["a", "b", None][i % 3] for i in range(25)])
    chunks = list(grouped_chunks(iter(rows), 4, "parent_id", window=7))
    assert sorted(r.index for c in chunks for r in c) == list(range(25))
    assert all(0 < len(c) <= 4 for c in chunks)
    assert all(len({r.index // 7 for r in c}) == 1 for c in chunks)  # one window each
    for window in range(4):  # 2-3 rows of a family per window: one chunk holds them
        for parent in "ab":
            family = [
                r
                for r in rows
                if r.index // 7 == window and r.values["parent_id"] == Ref("co", parent)
            ]
            holding = [c for c in chunks if any(r in c for r in family)]
            assert len(holding) == 1


def test_parent_field_is_a_many2one_to_the_model_itself() -> None:
    fields = {
        "name": {"type": "char"},
        "country_id": {"type": "many2one", "relation": "res.country"},
        "parent_id": {"type": "many2one", "relation": "res.partner"},
    }
    assert parent_field("res.partner", ["name", "country_id", "parent_id"], fields) == "parent_id"
    assert parent_field("res.partner", ["name", "country_id"], fields) is None


def test_x2many_ids_are_sent_once_each() -> None:
    """Every way an x2many value reaches Odoo carries each id once, in first-seen order:
    the converters and the generated row functions of ``create`` values and ``load`` cells."""
    assert to_ids([3, 5, 3, 3, 7, 5]) == [3, 5, 7]
    assert to_ids(["3", 3, (5, "Five"), 5]) == [3, 5]  # the same id written differently
    assert to_set_command([4, 4, 2]) == [(6, 0, [4, 2])]
    column, cell = load_converter("category_id", "many2many")
    assert column == "category_id/.id"
    assert cell([4, 4, 2, 4]) == "4,2"
    assert cell([(6, 0, [9, 9, 1])]) == "9,1"
    values = rpc_row_converter([("category_id", to_set_command)])
    assert values({"category_id": [4, 4, 2]}) == {"category_id": [(6, 0, [4, 2])]}
    cells = load_row_converter([("category_id", cell)])
    assert cells({"category_id": [5, 5]}) == ["5"]
    assert cells({"category_id": [5, 6, 5]}) == ["5,6"]


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

    done: list[int] = []
    await run_chunks(iter(chunks), work, concurrency=3, groups=lambda c: c, on_done=done.append)
    assert overlaps == []
    assert len(done) == len(chunks)  # none was dropped for waiting on a group
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

TAGGED = """\
    description = "partners naming a tag more than once"

    [[steps]]
    id = "tagged"
    model = "res.partner"
    action = "create"
    source = { csv = "data/tagged.csv" }
    key = "{{ row.id }}"

    [steps.fields]
    name = "Tagged {{ row.id }}"
    ref = "T-{{ row.id }}"
    category_id = [
        { ref = "tags", key = "{{ row.t1 }}" },
        { ref = "tags", key = "{{ row.t2 }}" },
        { ref = "tags", key = "{{ row.t3 }}" },
    ]
"""


@dataclass
class InFlight(Spy):
    """Records the partners' ``create`` values, and which parents the calls in flight at
    once carry."""

    running: list[set[int]] = field(default_factory=list)
    overlaps: int = 0
    peak: int = 0
    parents_per_call: list[int] = field(default_factory=list)
    refs_per_call: list[list[str]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]:
        if model != "res.partner":
            return await super().create(model, values, context)
        self.sent.extend(values)
        if not any("parent_id" in v for v in values):
            return await super().create(model, values, context)
        mine = {v["parent_id"] for v in values if v.get("parent_id")}
        self.overlaps += sum(1 for other in self.running if other & mine)
        self.running.append(mine)
        self.peak = max(self.peak, len(self.running))
        self.parents_per_call.append(len(mine))
        self.refs_per_call.append([v["ref"] for v in values])
        try:
            await asyncio.sleep(0.005)  # keep it in flight while others start
            return await super().create(model, values, context)
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


def _spying(spies: list[InFlight]) -> Callable[[OdooTarget], OdooTarget]:
    def wrap(target: OdooTarget) -> OdooTarget:
        spies.append(InFlight(target))
        return spies[-1]

    return wrap


def _moved(refs_per_call: list[list[str]]) -> bool:
    """Whether a call carried rows that are not neighbours in the source."""
    numbers = ([int(ref.removeprefix("K-")) for ref in refs] for refs in refs_per_call)
    return any(b != a + 1 for call in numbers for a, b in pairwise(call))


async def test_children_of_one_parent_share_calls_and_every_key_gets_its_own_record(
    project_files: ProjectFiles,
) -> None:
    """Children of one company go in as few calls as their number allows, never in two
    calls at once, and every key's ledger entry and external id name its own record."""
    _write(project_files, 60, 6)
    spies: list[InFlight] = []
    result = await apply(project_files.load(), wrap_target=_spying(spies))
    assert result.migrations[1].steps[0].counts.created == 60
    spy = spies[0]
    assert len(spy.parents_per_call) == 15  # 60 contacts, chunks of 4
    assert spy.peak >= 2  # calls did run side by side...
    assert spy.overlaps == 0  # ...but never two sharing a parent
    # packed whole: a family of c contacts is spread over ceil(c / 4) calls, no more
    source = {line.split(",")[0]: line.split(",")[2] for line in _contacts(60, 6).splitlines()[1:]}
    family = Counter(source.values())
    assert sum(spy.parents_per_call) == sum(-(-c // 4) for c in family.values())
    assert _moved(spy.refs_per_call)  # the order of the source was not kept
    async with looking_at(project_files.sandbox_db) as client:
        companies = {
            c["id"]: c["name"]
            for c in await table(client, "res.partner", ["name"], [["is_company", "=", True]])
        }
        contacts = await table(
            client, "res.partner", ["name", "ref", "parent_id"], [["ref", "like", "K-"]]
        )
        names = {
            r["name"]: r["res_id"]
            for r in await table(
                client, "ir.model.data", ["name", "res_id"], [["module", "=", XMLID_MODULE]]
            )
        }
    assert len(contacts) == 60
    for contact in contacts:
        key = contact["ref"].removeprefix("K-")
        assert contact["name"] == f"Contact {key}"
        assert companies[contact["parent_id"][0]] == source[key]
    by_ref = {c["ref"]: c["id"] for c in contacts}
    project = project_files.load()
    async with open_ledger(project.config.ledger.url, project_files.root) as ledger:
        done = await ledger.scope(project_files.url, "etl").done_ids("contacts", source)
    assert done == {key: by_ref[f"K-{key}"] for key in source}  # the ledger: key -> its record
    for key in source:
        assert names[xmlid_name("contacts", key, project.config.project.id)] == by_ref[f"K-{key}"]


async def test_a_refused_row_is_named_by_its_source_row_whatever_the_order(
    project_files: ProjectFiles,
) -> None:
    _write(project_files, 40, 5, bad=17)
    spies: list[InFlight] = []
    with pytest.raises(RunFailed) as failed:
        await apply(project_files.load(), wrap_target=_spying(spies))
    message = str(failed.value)
    assert "row 17 (data/contacts.csv:18), key '17'" in message, message
    calls = spies[0].refs_per_call
    assert _moved(calls)  # the rows were not sent in source order
    assert any("K-17" in refs for refs in calls)  # row 17 was sent, in a reordered call


async def test_x2many_cells_carry_each_tag_once(project_files: ProjectFiles) -> None:
    """A row naming a tag twice (two columns, one tag): the ``create`` carries its id
    once, and the record has each tag."""
    project_files.write(
        {"0001_tags.toml": TAGS, "0002_tagged.toml": TAGGED},
        {"data/tagged.csv": "id,t1,t2,t3\n1,VIP,VIP,Retail\n2,Retail,VIP,Retail\n3,VIP,VIP,VIP\n"},
    )
    spies: list[InFlight] = []
    await apply(project_files.load(), wrap_target=_spying(spies))
    sent = {v["ref"]: v["category_id"] for v in spies[0].sent}
    async with looking_at(project_files.sandbox_db) as client:
        tags = {t["name"]: t["id"] for t in await table(client, "res.partner.category", ["name"])}
        tagged = await table(client, "res.partner", ["ref", "category_id"], [["ref", "like", "T-"]])
    vip, retail = tags["VIP"], tags["Retail"]
    assert sent == {
        "T-1": [(6, 0, [vip, retail])],
        "T-2": [(6, 0, [retail, vip])],
        "T-3": [(6, 0, [vip])],
    }
    assert {r["ref"]: sorted(r["category_id"]) for r in tagged} == {
        "T-1": sorted([vip, retail]),
        "T-2": sorted([vip, retail]),
        "T-3": [vip],
    }


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
    # within a window a family comes out in source order, and is split only into whole
    # chunks of its own (each the size asked at the time) before its last piece
    for window_start in range(0, 300, 120):
        window = range(window_start, window_start + 120)
        for parent in "abcde":
            pieces = [
                (c, [r for r in c if r.values["parent_id"] == Ref("co", parent)])
                for c in chunks
                if c[0].index in window
            ]
            pieces = [(c, p) for c, p in pieces if p]
            family = [i for i in window if i < 300 and parents[i] == parent]
            assert [r.index for _c, p in pieces for r in p] == family
            for chunk, piece in pieces[:-1]:
                assert piece == chunk and len(chunk) in sizes
