"""chunk_size / concurrency = "auto" over HTTP: the tuner's choices reach the wire, and
what a step creates, the ledger, rejects and resume do not depend on them.

Each test runs apply against a sandbox over real HTTP (an ``http://`` target);
the sandbox's fault injector adds latency per request (calls cost a round trip,
so bigger chunks pay) or answers 503 (the server is busy, so fewer calls in
flight).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.runner import apply
from zenoo_etl.runner.identity import XMLID_MODULE
from zenoo_etl.runner.odoo import Context, LoadAnswer, OdooTarget
from zenoo_etl.sandbox import SandboxServer, serve_sandbox

from .helpers import PASSWORD_ENV, Killed, ProjectFiles, Spy, table

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
    description = "contacts of the companies, and people"

    [[steps]]
    id = "contacts"
    model = "res.partner"
    action = "create"
    source = { csv = "data/contacts.csv" }
    key = "{{ row.id }}"
    SIZE

    [steps.fields]
    name = "{{ row.name }}"
    ref = "K-{{ row.id }}"
    parent_id = { ref = "companies", key = "{{ row.company }}" }

    [[steps]]
    id = "people"
    model = "res.partner"
    action = "create"
    source = { csv = "data/people.csv" }
    key = "{{ row.id }}"
    on_error = "reject"
    SIZE

    [steps.fields]
    name = "{{ row.name }}"
    ref = "P-{{ row.id }}"
"""

BAD_PEOPLE = {17, 140, 141, 299}  # an empty name: Odoo refuses the row


def _data(contacts: int, companies: int, people: int) -> dict[str, str]:
    rng = random.Random(5)
    codes = [f"CO{j}" for j in range(companies)]
    lines = ["id,name,company"]
    lines += [f"{i},Contact {i},{rng.choice(codes)}" for i in range(1, contacts + 1)]
    people_lines = ["id,name"]
    people_lines += [
        f"{i},{'' if i in BAD_PEOPLE else f'Person {i}'}" for i in range(1, people + 1)
    ]
    return {
        "data/companies.csv": "code\n" + "\n".join(codes) + "\n",
        "data/contacts.csv": "\n".join(lines) + "\n",
        "data/people.csv": "\n".join(people_lines) + "\n",
    }


class Wire(Spy):
    """Records the rows of each ``load`` and the most calls in flight at once."""

    sizes: list[tuple[str, int]]
    running: int
    peak: int

    def __init__(self, inner: OdooTarget) -> None:
        super().__init__(inner)
        self.sizes, self.running, self.peak = [], 0, 0

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer:
        self.sizes.append((model, len(rows)))
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            return await super().load(model, fields, rows, context)
        finally:
            self.running -= 1


def _project(root: Path, sb: SandboxServer, runner: str, size: str) -> ProjectFiles:
    root.mkdir(parents=True, exist_ok=True)
    files = ProjectFiles(root, url=sb.url, runner=runner)
    files.write(
        {"0001_companies.toml": COMPANIES, "0002_contacts.toml": CONTACTS.replace("SIZE", size)},
        _data(600, 15, 300),
    )
    return files


def _ledger(root: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / ".zenoo" / "ledger.db") as db:
        rows = db.execute(
            "SELECT version, step, key, model, operation, state, odoo_id FROM zenoo_records"
        ).fetchall()
    return sorted(rows)


async def _outcome(sb: SandboxServer, root: Path) -> dict[str, Any]:
    """What a run left, in terms that do not depend on ids or call order."""
    async with ZenooClient(url=sb.url) as client:
        await client.login(sb.database, sb.username, sb.password)
        partners = {
            p["id"]: p
            for p in await table(client, "res.partner", ["name", "ref", "parent_id", "is_company"])
        }
        xmlids = await table(
            client, "ir.model.data", ["name", "res_id"], [["module", "=", XMLID_MODULE]]
        )

    def record(odoo_id: int | None) -> tuple[Any, ...]:
        p = partners[odoo_id] if odoo_id is not None else None
        if p is None:
            return ()
        parent = partners[p["parent_id"][0]]["name"] if p["parent_id"] else None
        return (p["name"], p["ref"], parent, p["is_company"])

    ledger = [(*row[:6], record(row[6])) for row in _ledger(root)]
    folder = root / ".zenoo" / "rejects"
    rejects = sorted(folder.rglob("*")) if folder.exists() else []
    return {
        "ledger": ledger,
        "xmlids": sorted((x["name"], record(x["res_id"])) for x in xmlids),
        "partners": sorted(record(i) for i in partners),
        "rejects": [(p.name, p.read_text()) for p in rejects if p.is_file()],
    }


async def test_auto_sizes_differ_on_the_wire_but_records_ledger_and_rejects_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = {}
    wires: dict[str, Wire] = {}
    for name, size in (
        ("fixed", "chunk_size = 7"),
        ("auto", "chunk_size = { min = 3, start = 5, max = 120 }"),
    ):
        async with serve_sandbox(db_path=tmp_path / f"{name}.db") as sb:
            monkeypatch.setenv(PASSWORD_ENV, sb.password)
            files = _project(tmp_path / name, sb, "concurrency = 3", size)
            sb.faults.configure(latency_ms=15)  # a round trip per call: bigger chunks pay

            def wrap(target: OdooTarget, name: str = name) -> OdooTarget:
                wires[name] = Wire(target)
                return wires[name]

            result = await apply(files.load(), wrap_target=wrap, allow_rejects=True)
            sb.faults.clear()
            outcomes[name] = await _outcome(sb, files.root)
            steps = {s.step: s for m in result.migrations for s in m.steps}
            assert steps["contacts"].counts.created == 600
            assert steps["people"].counts.created == 300 - len(BAD_PEOPLE)
            assert steps["people"].counts.rejected == len(BAD_PEOPLE)
            shown = steps["contacts"].to_dict()
            if name == "fixed":
                assert (shown["chunk_size_final"], shown["tuning_changes"]) == (7, 0)
            else:
                # grew from 5: calls cost a round trip
                assert shown["chunk_size_final"] > 5 and shown["tuning_changes"] > 0
                assert steps["contacts"].tuner is not None
                assert steps["contacts"].tuner.changes[0].reason == "faster per record"
    # the first load is the 15 companies (one chunk of the default size)
    assert len({n for _, n in wires["auto"].sizes[1:]}) > 3  # the chunk boundaries moved
    assert max(n for _, n in wires["fixed"].sizes[1:]) == 7
    # ... and nothing else did: the same records, keys, ledger entries, external ids and rejects
    assert outcomes["auto"]["ledger"] == outcomes["fixed"]["ledger"]
    assert outcomes["auto"]["xmlids"] == outcomes["fixed"]["xmlids"]
    assert outcomes["auto"]["partners"] == outcomes["fixed"]["partners"]
    assert outcomes["auto"]["rejects"] == outcomes["fixed"]["rejects"]
    assert len(outcomes["auto"]["ledger"]) == 15 + 600 + 300
    rejected = outcomes["auto"]["rejects"]
    assert rejected and all(f"\n{i}," in text for _, text in rejected for i in BAD_PEOPLE)


async def test_503_answers_lower_the_calls_in_flight_and_every_row_lands_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve_sandbox(db_path=tmp_path / "sb.db") as sb:
        monkeypatch.setenv(PASSWORD_ENV, sb.password)
        files = _project(tmp_path / "p", sb, "retries = 10", "chunk_size = 10")
        wires: list[Wire] = []

        def wrap(target: OdooTarget) -> OdooTarget:
            wires.append(Wire(target))
            return wires[-1]

        sb.faults.configure(error_rate=0.25, error_status=503, seed=3)
        result = await apply(files.load(), wrap_target=wrap, allow_rejects=True)
        history = list(sb.faults.history)
        sb.faults.clear()
        assert history.count("error:503") >= 5  # the server really pushed back
        contacts = next(s for m in result.migrations for s in m.steps if s.step == "contacts")
        assert contacts.tuner is not None
        busy = [c for c in contacts.tuner.changes if c.reason.startswith("server busy")]
        assert busy and min(c.concurrency for c in busy) < 4  # default auto: from 4 calls
        assert contacts.counts.created == 600
        outcome = await _outcome(sb, files.root)
        refs = [p[1] for p in outcome["partners"] if p and p[1] and p[1].startswith("K-")]
        assert sorted(refs) == sorted(f"K-{i}" for i in range(1, 601))  # each exactly once
        data = json.loads(json.dumps(result.to_dict()))
        step = data["migrations"][1]["steps"][0]
        assert step["concurrency_final"] == contacts.tuner.concurrency
        assert step["chunk_size_final"] == 10  # fixed stays fixed


async def test_a_run_killed_mid_step_resumes_exactly_once_whatever_the_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve_sandbox(db_path=tmp_path / "sb.db") as sb:
        monkeypatch.setenv(PASSWORD_ENV, sb.password)
        files = _project(
            tmp_path / "p", sb, "concurrency = 2", "chunk_size = { min = 2, start = 4, max = 90 }"
        )
        sb.faults.configure(latency_ms=10)

        def dies(target: OdooTarget) -> OdooTarget:
            return Spy(target, fail_before_write={12: Killed})  # well into the contacts

        with pytest.raises(Killed):
            await apply(files.load(), wrap_target=dies)
        partial = [row for row in _ledger(files.root) if row[1] == "contacts"]
        assert 0 < len(partial) < 600
        result = await apply(files.load(), allow_rejects=True)  # sizes start over at 4
        sb.faults.clear()
        assert result.ok
        outcome = await _outcome(sb, files.root)
        contacts = [row for row in outcome["ledger"] if row[1] == "contacts"]
        assert [row[5] for row in contacts] == ["done"] * 600
        assert sorted(row[6][1] for row in contacts) == sorted(f"K-{i}" for i in range(1, 601))
        refs = [p[1] for p in outcome["partners"] if p and p[1] and p[1].startswith("K-")]
        assert len(refs) == len(set(refs)) == 600  # nothing created twice
