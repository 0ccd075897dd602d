"""The Plan: counts, chunks, reversibility, checksums, drift, determinism, key uniqueness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from zenoo_etl.compiler import Plan, compile_plan, ledger_position_of, load_project
from zenoo_etl.errors import MigrationFileError

MakeProject = Callable[..., Path]  # the make_project fixture of conftest.py

M1 = """\
description = "customers"

[[steps]]
id = "customers"
model = "res.partner"
action = "create"
source = { csv = "data/c.csv" }
key = "{{ row.id }}"
chunk_size = 2

[steps.fields]
name = "{{ row.name }}"

[[steps]]
id = "cleanup"
model = "res.partner"
action = "call"
domain = [["ref", "=", "x"]]
method = "action_archive"
"""
M2 = """\
[[steps]]
id = "tags"
model = "res.partner.category"
action = "upsert"
match = ["name"]
records = [{ name = "a" }, { name = "b" }, { name = "c" }]
fields = { name = "{{ row.name }}" }
"""
CSV = "id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n"


def project_files() -> dict[str, str]:
    return {
        "migrations/0001_customers.toml": M1,
        "migrations/0002_tags.toml": M2,
        "data/c.csv": CSV,
    }


def test_counts_chunks_and_reversibility(make_project: MakeProject) -> None:
    plan = compile_plan(load_project(make_project(project_files()), environ={}))
    first, second = plan.migrations
    customers, cleanup = first.steps
    assert (customers.records, customers.chunks, customers.chunk_size) == (5, 3, 2)
    assert customers.source == "data/c.csv" and customers.selector == "rows"
    assert (cleanup.records, cleanup.chunks, cleanup.reversible, cleanup.selector) == (
        0,
        1,
        False,
        "domain",
    )
    assert not first.reversible and first.status == "pending" and first.records == 5
    # chunk_size = "auto" (the default): 3 records fit in the first chunk (200 records)
    assert (second.steps[0].records, second.steps[0].chunks, second.steps[0].chunk_size) == (
        3,
        1,
        "auto",
    )
    assert plan.target.name == "local" and plan.target.database == "etl"
    assert [m.version for m in plan.pending] == [1, 2]


def test_plan_json_is_byte_identical_and_has_the_design_keys(make_project: MakeProject) -> None:
    root = make_project(project_files())
    one = compile_plan(load_project(root, environ={}), ledger_position="p").model_dump_json()
    two = compile_plan(load_project(root, environ={}), ledger_position="p").model_dump_json()
    assert one == two
    plan = Plan.model_validate_json(one)
    assert plan.model_dump_json() == one  # round-trips
    data = plan.model_dump(mode="json")
    assert {"target", "migrations", "drift"} <= set(data)
    assert {"version", "name", "checksum", "steps"} <= set(data["migrations"][0])
    assert {"id", "model", "action", "records", "chunks", "reversible"} <= set(
        data["migrations"][0]["steps"][0]
    )
    assert "admin" not in one  # no credentials in a plan


@pytest.mark.parametrize(
    ("setting", "chunks", "chunk_size", "total"),
    [
        ("chunk_size = 2", 3, 2, 3),  # fixed: counted
        ('chunk_size = "auto"', 1, "auto", 1),  # 5 rows fit in the first chunk (200)
        ("chunk_size = { start = 2, min = 1 }", "auto", "auto", "auto"),  # known only at apply
        ("chunk_size = { start = 5, min = 1 }", 1, "auto", 1),
    ],
)
def test_a_tuned_chunk_size_plans_as_auto_not_a_guessed_count(
    make_project: MakeProject, setting: str, chunks: object, chunk_size: object, total: object
) -> None:
    files = {
        **project_files(),
        "migrations/0001_customers.toml": M1.replace("chunk_size = 2", setting),
    }
    root = make_project(files)
    plan = compile_plan(load_project(root, environ={}), ledger_position="p")
    customers = plan.migrations[0].steps[0]
    assert (customers.records, customers.chunks, customers.chunk_size) == (5, chunks, chunk_size)
    # the migration's count: the domain step's one chunk plus the customers', or "auto"
    assert plan.migrations[0].chunks == (total + 1 if isinstance(total, int) else total)
    again = compile_plan(load_project(root, environ={}), ledger_position="p")
    assert again.model_dump_json() == plan.model_dump_json()  # deterministic
    assert Plan.model_validate_json(plan.model_dump_json()) == plan


def test_plan_is_frozen(make_project: MakeProject) -> None:
    plan = compile_plan(load_project(make_project(project_files()), environ={}))
    with pytest.raises(ValueError, match="frozen"):
        plan.project = "other"  # type: ignore[misc]


def test_checksum_changes_with_the_source_file(make_project: MakeProject) -> None:
    root = make_project(project_files())
    before = load_project(root, environ={}).migrations
    (root / "data" / "c.csv").write_text(CSV + "6,f\n")
    after = load_project(root, environ={}).migrations
    assert before[0].checksum != after[0].checksum
    assert before[1].checksum == after[1].checksum
    (root / "migrations" / "0002_tags.toml").write_text(M2 + "\n# comment\n")
    assert load_project(root, environ={}).migrations[1].checksum != after[1].checksum


def test_applied_and_drift(make_project: MakeProject) -> None:
    root = make_project(project_files())
    project = load_project(root, environ={})
    sums = {m.version: m.checksum for m in project.migrations}
    plan = compile_plan(project, {1: sums[1]}, ledger_position_of({1: sums[1]}))
    assert [m.status for m in plan.migrations] == ["applied", "pending"]
    assert plan.migrations[0].records is None  # applied: not re-counted
    assert plan.drift == [] and plan.ledger_position is not None
    assert plan.ledger_position.startswith("1:")

    plan = compile_plan(project, {1: "0" * 64, 9: "f" * 64})
    assert [m.status for m in plan.migrations] == ["drift", "pending"]
    assert [(d.version, d.file) for d in plan.drift] == [
        (1, "migrations/0001_customers.toml"),
        (9, None),
    ]
    assert plan.has_drift


def test_duplicate_keys_in_a_step_are_reported_with_both_rows(make_project: MakeProject) -> None:
    files = project_files()
    files["data/c.csv"] = "id,name\n1,a\n2,b\n1,again\n"
    with pytest.raises(MigrationFileError) as info:
        compile_plan(load_project(make_project(files), environ={}))
    err = info.value
    assert (err.path, err.line, err.step, err.row) == ("data/c.csv", 4, "customers", 3)
    assert "key '1'" in str(err) and "rows 1 (line 2) and 3" in str(err)


def test_bad_row_fails_the_plan_with_its_location(make_project: MakeProject) -> None:
    files = project_files()
    files["migrations/0002_tags.toml"] = M2.replace(
        "{{ row.name }}", "{{ row.name | int(0) // 0 }}"
    )
    with pytest.raises(MigrationFileError) as info:
        compile_plan(load_project(make_project(files), environ={}))
    assert "ZeroDivisionError" in str(info.value)
    assert str(info.value).startswith("migrations/0002_tags.toml:1, step 'tags', row 1")


def test_relative_project_dir(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(project_files())
    monkeypatch.chdir(root.parent)
    plan = compile_plan(load_project(Path(root.name), environ={}))
    assert plan.migrations[0].file == "migrations/0001_customers.toml"


def test_a_password_in_the_target_url_never_reaches_the_plan(make_project: MakeProject) -> None:
    config = (
        '[project]\nname = "t"\n\n[targets.prod]\nurl = "https://bot:s3cret@erp.example.com/odoo"\n'
        'database = "d"\nusername = "bot"\napi_key_env = "ZT_K"\n'
    )
    plan = compile_plan(load_project(make_project(project_files(), config=config), environ={}))
    assert plan.target.url == "https://bot:***@erp.example.com/odoo"
    assert "s3cret" not in plan.model_dump_json()


def test_key_uniqueness_at_scale(make_project: MakeProject) -> None:
    """20k distinct keys pass; one repeat far apart is found with both rows."""
    rows = "".join(f"{i},n{i}\n" for i in range(1, 20_001))
    files = project_files()
    files["data/c.csv"] = "id,name\n" + rows
    root = make_project(files)
    plan = compile_plan(load_project(root, environ={}))
    assert plan.migrations[0].steps[0].records == 20_000
    (root / "data" / "c.csv").write_text("id,name\n" + rows + "17,again\n")
    with pytest.raises(
        MigrationFileError, match=r"key '17' is used by rows 17 \(line 18\) and 20001"
    ):
        compile_plan(load_project(root, environ={}))
