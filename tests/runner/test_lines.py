"""Documents with lines: headers created together with their one2many lines in one call,
the lines' ids in the ledger, exactly-once reruns and rollback to nothing (sandbox, HTTP).

The sandbox's one2many here is res.partner.child_ids (a company and its contacts); the
example project's sale orders use the same construct on sale.order.order_line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client.errors import OutcomeUnknownError
from zenoo_etl.compiler import compile_plan
from zenoo_etl.errors import MigrationFileError
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import RunFailed, apply, rollback
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import ProjectFiles, Spy, looking_at, table

COMPANIES = """\
    description = "companies with their contacts as lines"

    [[steps]]
    id = "firms"
    model = "res.partner"
    action = "create"
    source = { csv = "data/firms.csv" }
    key = "{{ row.code }}"
    match = ["ref"]
    chunk_size = 2

    [steps.fields]
    name = "{{ row.name }}"
    ref = "FIRM-{{ row.code }}"
    is_company = true

    [steps.lines]
    field = "child_ids"
    source = { csv = "data/people.csv" }
    header = "{{ row.firm }}"
    key = "{{ row.email }}"
    when = "{{ row.email != '' }}"

    [steps.lines.fields]
    name = "{{ row.name }}"
    email = "{{ row.email }}"

    [steps.lines.fields.country_id]
    search = [["code", "=", "{{ row.country }}"]]
    model = "res.country"
    missing = "null"
"""

FIRMS = """\
    code,name
    F1,Alpha SA
    F2,Beta BV
    F3,Gamma AG
"""

PEOPLE = """\
    firm,name,email,country
    F1,Ann,ann@alpha.example,BE
    F2,Bart,bart@beta.example,NL
    F1,Alex,alex@alpha.example,
    F2,Bo,bo@beta.example,NL
    F2,Nobody,,NL
"""


async def test_headers_arrive_with_their_lines_and_roll_back_to_nothing(
    project_files: ProjectFiles,
) -> None:
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    plan = compile_plan(project_files.load())
    step = plan.migrations[0].steps[0]
    assert (step.records, step.lines, step.filtered) == (3, 4, 1)
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])

    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spy = Spy(target)
        spies.append(spy)
        return spy

    result = await apply(project_files.load(), wrap_target=wrap)
    assert result.ok, result.error
    counts = result.migrations[0].steps[0].counts
    assert (counts.created, counts.lines, counts.filtered) == (3, 4, 1)
    assert spies[0].calls["create"] == 2  # 3 headers in chunks of 2: lines ride along
    async with looking_at(project_files.sandbox_db) as client:
        firms = await table(client, "res.partner", ["ref", "child_ids"], [["ref", "like", "FIRM-"]])
        people = await table(
            client,
            "res.partner",
            ["name", "parent_id", "country_id"],
            [["email", "like", ".example"]],
        )
    kids = {f["ref"]: f["child_ids"] for f in firms}
    by_name = {p["name"]: p for p in people}
    assert sorted(by_name) == ["Alex", "Ann", "Bart", "Bo"]
    assert sorted(kids["FIRM-F1"]) == sorted([by_name["Ann"]["id"], by_name["Alex"]["id"]])
    assert kids["FIRM-F3"] == []
    assert by_name["Alex"]["country_id"] is False

    async with open_ledger(project_files.load().config.ledger.url, project_files.root) as ledger:
        scope = ledger.scope("sandbox:.zenoo/sandbox.db", "etl")
        done = await scope.done_ids("firms:lines", ["F1/ann@alpha.example", "F2/bo@beta.example"])
        record = await scope.migration(1)
    assert done == {
        "F1/ann@alpha.example": by_name["Ann"]["id"],
        "F2/bo@beta.example": by_name["Bo"]["id"],
    }
    assert record is not None and record.counts.created == 7

    again = await apply(project_files.load())
    assert again.ok and again.migrations == []

    undone = await rollback(project_files.load(), to_version=0)
    assert undone.ok
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before


async def test_a_failed_run_resumes_without_creating_twice(project_files: ProjectFiles) -> None:
    """on_error = stop: a bad header stops the run after the first chunk; fixed, the rerun
    creates only the rest (the first chunk's headers and lines are skipped, not duplicated)."""
    project_files.runner = 'on_error = "stop"'
    bad = FIRMS.replace("F3,Gamma AG", "F3,")
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": bad, "data/people.csv": PEOPLE}
    )
    with pytest.raises(RunFailed, match="Contacts require a name"):
        await apply(project_files.load())  # F3 has no name: Odoo refuses that chunk
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    second = await apply(project_files.load())
    assert second.ok, second.error
    assert second.migrations[0].steps[0].counts.skipped == 2
    async with looking_at(project_files.sandbox_db) as client:
        firms = await table(client, "res.partner", ["ref"], [["ref", "like", "FIRM-"]])
        people = await table(client, "res.partner", ["name"], [["email", "like", ".example"]])
    assert sorted(f["ref"] for f in firms) == ["FIRM-F1", "FIRM-F2", "FIRM-F3"]
    assert len(people) == 4


def test_lines_errors_name_the_step_and_the_line_row(project_files: ProjectFiles) -> None:
    orphan = PEOPLE + "    F9,Zed,zed@nowhere.example,BE\n"
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": FIRMS, "data/people.csv": orphan}
    )
    with pytest.raises(MigrationFileError) as caught:
        compile_plan(project_files.load())
    err = caught.value
    assert err.path == "data/people.csv" and err.step == "firms" and err.row == 6
    assert "names header 'F9'" in err.detail
    xmlid = COMPANIES.replace('match = ["ref"]\n', 'identity = "xmlid"\n    match = ["ref"]\n')
    project_files.write(
        {"0001_firms.toml": xmlid}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    with pytest.raises(MigrationFileError) as caught:
        project_files.load()
    assert 'identity = "fields"' in caught.value.detail


async def test_a_lost_answer_adopts_headers_by_match_and_records_their_lines(
    project_files: ProjectFiles,
) -> None:
    """The 2nd create commits but its answer is lost: the header is found by its match
    field, its lines are read back into the ledger, nothing is created twice, and
    rollback removes headers and lines."""

    def lost() -> BaseException:
        return OutcomeUnknownError("answer lost (test)", model="res.partner", method="create")

    project_files.runner = "concurrency = 1"  # the spy counts calls: one chunk at a time
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    project_files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(project_files.sandbox_db) as client:
        before = await table(client, "res.partner", ["name"])
    spies: list[Spy] = []

    def wrap(target: OdooTarget) -> OdooTarget:
        spy = Spy(target, lose_after={("create", 2): lost})
        spies.append(spy)
        return spy

    result = await apply(project_files.load(), wrap_target=wrap)
    assert result.ok, result.error
    counts = result.migrations[0].steps[0].counts
    assert (counts.created, counts.adopted, counts.lines) == (3, 1, 4)
    assert spies[0].calls["create"] == 2  # the lost chunk was not sent again
    async with looking_at(project_files.sandbox_db) as client:
        firms = await table(client, "res.partner", ["ref"], [["ref", "like", "FIRM-"]])
        people = await table(client, "res.partner", ["name"], [["email", "like", ".example"]])
    assert len(firms) == 3 and len(people) == 4
    await rollback(project_files.load(), to_version=0)
    async with looking_at(project_files.sandbox_db) as client:
        assert await table(client, "res.partner", ["name"]) == before


def test_validate_checks_the_lines_against_their_model(project_files: ProjectFiles) -> None:
    """`validate` reads the one2many's relation and checks the line fields on it."""
    wrong = COMPANIES.replace('    email = "{{ row.email }}"\n', '    emial = "{{ row.email }}"\n')
    project_files.write(
        {"0001_firms.toml": wrong}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    result = CliRunner().invoke(main, ["validate", "--project", str(project_files.root), "--json"])
    problems = json.loads(result.output)["problems"]
    assert result.exit_code != 0
    assert [(p["step"], p["field"]) for p in problems] == [("firms", "lines.emial")]
    assert "model 'res.partner' (the lines) has no field 'emial'" in problems[0]["message"]
    project_files.write(
        {"0001_firms.toml": COMPANIES}, {"data/firms.csv": FIRMS, "data/people.csv": PEOPLE}
    )
    result = CliRunner().invoke(main, ["validate", "--project", str(project_files.root), "--json"])
    assert result.exit_code == 0, result.output
