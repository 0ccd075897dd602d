"""`zenoo-etl init` and `zenoo-etl new`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.compiler import compile_plan, load_project


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_scaffolds_a_project_that_plans(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    code, out, err = invoke("init", str(root))
    assert code == 0, err
    for rel in ("zenoo.toml", "migrations/0001_example.toml", "data/partners.csv", ".gitignore"):
        assert (root / rel).is_file(), rel
    assert ".zenoo/" in (root / ".gitignore").read_text().splitlines()
    config = (root / "zenoo.toml").read_text()
    assert 'name = "acme"' in config and "# [targets.prod]" in config
    project = load_project(root, environ={})
    assert project.target.is_sandbox
    plan = compile_plan(project)
    assert plan.migrations[0].steps[0].records == 3
    code, out, _ = invoke("plan", "--project", str(root), "--json")
    assert code == 0 and json.loads(out)["migrations"][0]["records"] == 3


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "zenoo.toml").write_text("# mine\n")
    code, _, err = invoke("init", str(tmp_path))
    assert code == 2
    assert "already exists" in err
    assert (tmp_path / "zenoo.toml").read_text() == "# mine\n"
    assert not (tmp_path / "migrations").exists()


def test_init_keeps_an_existing_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    assert invoke("init", str(tmp_path))[0] == 0
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.zenoo/\n"


def test_new_numbers_migrations(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path))[0] == 0
    code, out, err = invoke("new", "fix_prices", "--project", str(tmp_path))
    assert code == 0, err
    created = tmp_path / "migrations" / "0002_fix_prices.toml"
    assert created.is_file() and str(created) in out
    (tmp_path / "migrations" / "0010_jump.toml").write_text(
        created.read_text().replace("fix-prices", "jump")
    )
    assert (
        invoke("new", "next-one", "--project", str(tmp_path), "--description", "Next one")[0] == 0
    )
    newest = tmp_path / "migrations" / "0011_next-one.toml"
    assert 'description = "Next one"' in newest.read_text()
    # every generated file loads and plans
    plan = compile_plan(load_project(tmp_path, environ={}))
    assert [m.version for m in plan.migrations] == [1, 2, 10, 11]
    assert plan.migrations[3].records == 0  # a new migration does nothing until edited


def test_new_validates_the_slug(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path))[0] == 0
    for bad in ("Fix Prices", "../x", "_x", "é"):
        code, _, err = invoke("new", bad, "--project", str(tmp_path))
        assert code == 2, bad
        assert "slug" in err
    assert sorted(p.name for p in (tmp_path / "migrations").iterdir()) == ["0001_example.toml"]


def test_new_outside_a_project(tmp_path: Path) -> None:
    code, _, err = invoke("new", "x", "--project", str(tmp_path))
    assert code == 2 and "zenoo-etl init" in err


def test_scaffold_applies_then_plans_as_applied_then_drifts(tmp_path: Path) -> None:
    """The whole loop on the embedded sandbox: init, apply, plan reads the ledger, drift."""
    root = tmp_path / "loop"
    assert invoke("init", str(root))[0] == 0
    code, out, err = invoke("apply", "--project", str(root), "--yes")
    assert code == 0, out + err
    code, out, err = invoke("plan", "--project", str(root), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [m["status"] for m in data["migrations"]] == ["applied"]
    assert data["ledger_position"]
    assert "Nothing to apply" in invoke("plan", "--project", str(root))[1]
    with (root / "data" / "partners.csv").open("a") as handle:
        handle.write("4,Late Co,late@example.com,company,BE\n")
    code, _, err = invoke("plan", "--project", str(root))
    assert code == 4
    assert "migrations/0001_example.toml: its source data/partners.csv changed" in err


def test_new_twice_with_one_slug_keeps_step_ids_unique(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path))[0] == 0
    assert invoke("new", "sync", "--project", str(tmp_path))[0] == 0
    assert invoke("new", "sync", "--project", str(tmp_path))[0] == 0
    project = load_project(tmp_path, environ={})
    assert [s.id for m in project.migrations for s in m.steps] == [
        "example-partners",
        "sync",
        "sync-3",
    ]


def test_a_plan_saved_on_a_fresh_project_can_be_applied(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert invoke("init", str(root))[0] == 0
    saved = root / "plan.json"
    assert invoke("plan", "--project", str(root), "--out", str(saved))[0] == 0
    assert not (root / ".zenoo" / "ledger.db").exists()
    code, out, err = invoke("apply", str(saved), "--project", str(root), "--yes")
    assert code == 0, out + err
    # ...and once applied, the same saved plan is stale: the ledger moved.
    code, _, err = invoke("apply", str(saved), "--project", str(root), "--yes")
    assert code != 0 and "plan" in err.lower()
