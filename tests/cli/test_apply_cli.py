"""``zenoo-etl apply`` / ``rollback`` from the command line: exit codes, JSON, prompts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.ledger.protocol import LockHolder

SANDBOX_URL = "sandbox:.zenoo/sandbox.db"

CONFIG = """\
[project]
name = "cli-test"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

TAGS = """\
[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
key = "{{ row.name }}"
records = [{ name = "Retail" }, { name = "Wholesale" }, { name = "VIP" }]

[steps.fields]
name = "{{ row.name }}"
"""

PARTNERS = """\
[[steps]]
id = "partners"
model = "res.partner"
action = "create"
source = { csv = "data/partners.csv" }
key = "{{ row.legacy_id }}"
chunk_size = 3

[steps.fields]
name = "{{ row.name }}"
ref = "LEG-{{ row.legacy_id }}"
country_id = { xmlid = "base.{{ row.country | lower }}" }
category_id = [{ ref = "tags", key = "{{ row.tag }}" }]
"""

CSV = """\
legacy_id,name,country,tag
1,Alice,BE,Retail
2,Bob,DE,Wholesale
3,Carol,US,VIP
4,Dan,BE,Retail
5,Eve,FR,Retail
6,Frank,DE,VIP
7,Grace,US,Wholesale
8,Heidi,BE,Retail
"""


def _project(tmp_path: Path, csv: str = CSV) -> Path:
    (tmp_path / "zenoo.toml").write_text(CONFIG)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_tags.toml").write_text(TAGS)
    (tmp_path / "migrations" / "0002_partners.toml").write_text(PARTNERS)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "partners.csv").write_text(csv)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_apply_json_prints_one_object_then_rerun_is_a_noop(tmp_path: Path) -> None:
    root = _project(tmp_path)
    code, out, _err = _invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0
    payload = json.loads(out)  # stdout holds exactly one JSON object
    assert payload["ok"] is True
    assert [m["status"] for m in payload["migrations"]] == ["applied", "applied"]
    assert payload["migrations"][1]["steps"][0]["created"] == 8
    code, out, _err = _invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0 and json.loads(out)["migrations"] == []


def test_plain_progress_and_summary_when_not_a_terminal(tmp_path: Path) -> None:
    root = _project(tmp_path)
    code, out, _err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 0
    assert "migration 0002_partners: started" in out
    assert "step partners: create res.partner (8 record(s))" in out
    assert "migration 0002_partners: applied" in out
    # the summary table row (the progress lines above already name "partners" and "8")
    row = next(line for line in out.splitlines() if line.lstrip("│ ").startswith("0002_partners"))
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells[:4] == ["0002_partners", "partners", "applied", "8"]


def test_no_prompt_without_a_terminal_exits_2_with_a_hint(tmp_path: Path) -> None:
    root = _project(tmp_path)
    code, _out, err = _invoke("apply", "--project", str(root))
    assert code == 2
    assert "--yes" in err
    code, _out, err = _invoke("rollback", "--project", str(root))
    assert code == 2 and "--yes" in err


def test_failure_exits_1_naming_step_and_row(tmp_path: Path) -> None:
    bad = CSV.replace("3,Carol,US", "3,Carol,ZZ")
    root = _project(tmp_path, csv=bad)
    code, _out, err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 1
    assert "step 'partners'" in err and "row 3" in err and "data/partners.csv:4" in err
    assert "base.zz" in err


def test_lock_held_exits_3_naming_the_holder(tmp_path: Path) -> None:
    root = _project(tmp_path)

    async def hold() -> None:
        async with open_ledger("sqlite:///.zenoo/ledger.db", root) as ledger:
            scope = ledger.scope(SANDBOX_URL, "etl")
            await scope.acquire_lock("apply", holder=LockHolder(host="ci-runner-7", pid=4242))

    (root / ".zenoo").mkdir(exist_ok=True)
    asyncio.run(hold())
    code, _out, err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 3
    assert "ci-runner-7" in err and "4242" in err


def test_drift_exits_4_naming_the_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _invoke("apply", "--project", str(root), "--yes")[0] == 0
    (root / "data" / "partners.csv").write_text(CSV + "9,Ivan,BE,VIP\n")
    code, _out, err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 4
    assert "migrations/0002_partners.toml" in err
    code, _out, _err = _invoke("apply", "--project", str(root), "--yes", "--allow-drift")
    assert code == 0


def test_saved_plan_is_refused_once_the_ledger_moved(tmp_path: Path) -> None:
    root = _project(tmp_path)
    plan = tmp_path / "plan.json"
    assert _invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    assert _invoke("apply", "--project", str(root), "--yes", "--to", "1")[0] == 0
    code, _out, err = _invoke("apply", str(plan), "--project", str(root), "--yes")
    assert code == 4
    assert "another ledger state" in err and "zenoo-etl plan --out" in err
    # a fresh plan applies exactly what it lists
    assert _invoke("plan", "--project", str(root), "--out", str(plan))[0] == 0
    code, out, _err = _invoke("apply", str(plan), "--project", str(root), "--yes", "--json")
    assert code == 0
    assert [m["version"] for m in json.loads(out)["migrations"]] == [2]


def test_rollback_to_zero_then_status_words(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _invoke("apply", "--project", str(root), "--yes")[0] == 0
    code, out, _err = _invoke("rollback", "--project", str(root), "--to", "0", "--yes", "--json")
    assert code == 0
    payload = json.loads(out)
    assert [m["version"] for m in payload["migrations"]] == [2, 1]
    assert all(m["status"] == "rolled_back" for m in payload["migrations"])
    code, out, _err = _invoke("rollback", "--project", str(root), "--yes", "--json")
    assert code == 0 and json.loads(out)["migrations"] == []


def test_rich_progress_draws_bars_with_rate_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from zenoo_etl.cli.apply import RichProgress
    from zenoo_etl.runner.progress import StepCounts

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with RichProgress(console) as progress:
        progress.migration_started(3, "customers", 1)
        progress.step_started("customers", "res.partner", "create", 10)
        progress.step_advanced("customers", 4)
        progress.step_advanced("customers", 6)
        progress.step_finished("customers", StepCounts(created=10), 0.5)
        progress.migration_finished(3, "customers", "applied")
    text = buffer.getvalue()
    assert "0003_customers" in text
    assert "customers (create)" in text and "10/10" in text and "rec/s" in text
    assert "applied" in text


def test_tuned_chunks_show_in_plan_json_and_the_summary(tmp_path: Path) -> None:
    rows = "".join(f"{i},P{i},BE,Retail\n" for i in range(1, 41))
    root = _project(tmp_path, "legacy_id,name,country,tag\n" + rows)
    partners = PARTNERS.replace("chunk_size = 3", "chunk_size = { min = 1, start = 1, max = 4 }")
    (root / "migrations" / "0002_partners.toml").write_text(partners)
    (root / "zenoo.toml").write_text(CONFIG + "\n[runner]\nconcurrency = 1\n")
    code, out, err = _invoke("plan", "--project", str(root), "--json")
    assert code == 0, err
    step = json.loads(out)["migrations"][1]["steps"][0]
    assert (step["records"], step["chunks"], step["chunk_size"]) == (40, "auto", "auto")
    code, out, _err = _invoke("plan", "--project", str(root))
    assert "chunks sized while running" in out
    code, out, err = _invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    step = json.loads(out)["migrations"][1]["steps"][0]
    assert step["created"] == 40
    # after 3 one-record chunks the tuner tries 2 (the first period always grows)
    assert step["tuning_changes"] >= 1 and 1 <= step["chunk_size_final"] <= 4
    assert step["concurrency_final"] == 1  # a number is fixed
    code, out, _err = _invoke("rollback", "--project", str(root), "--to", "0", "--yes")
    assert code == 0
    code, out, _err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 0
    assert "chunk × calls" in out
    row = next(line for line in out.splitlines() if line.lstrip("│ ").startswith("0002_partners"))
    assert row.rstrip(" │").endswith(" × 1")
