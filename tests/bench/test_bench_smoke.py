"""The benchmark script keeps working: ``bench/run.py --quick --only e2e`` on a tiny size.

Not a performance test (no thresholds on speed): it pins down that the suite
still drives the real CLI against a sandbox in its own process, that every
e2e figure is produced with its baseline, and that the JSON output is usable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_e2e_runs_on_a_tiny_size(tmp_path: Path) -> None:
    """apply, no-op rerun and rollback of 600 rows each get a figure and a baseline."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--only",
            "e2e",
            "--rows",
            "600",
            "--repeat",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["sizes"]["rows"] == 600
    figures = {f["name"]: f for f in report["figures"]}
    apply = figures["apply records/s (identity xmlid, load)"]
    assert apply["value"] > 0 and apply["baseline"] > 0
    assert figures["apply client CPU per record (all included)"]["value"] > 0
    assert 0 < figures["apply peak RSS"]["value"] < 1000
    assert figures["no-op rerun of the applied migrations"]["value"] > 0
    assert figures["rollback records/s"]["value"] > 0
    assert "| apply records/s (identity xmlid, load) |" in done.stdout  # the printed table


def test_realistic_scenario_runs_against_a_sandbox(tmp_path: Path) -> None:
    """bench/realistic.py: every contender creates exactly its rows and leaves nothing behind."""
    out = tmp_path / "realistic.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "realistic.py"),
            "--rows",
            "300",
            "--repeat",
            "1",
            "--loop-rows",
            "10",
            "--only",
            "zen_default,zen_none,raw_create,raw_load_sorted,raw_load_xid,raw_loop",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert sum(report["segments"].values()) == 300
    assert report["segments"]["contacts"] == 150  # half of the rows are children
    runs = report["runs"]
    assert [r["ok"] for r in runs] == [True] * 6, [r["note"] for r in runs]
    assert all(r["rate"] > 0 and r["rollback"] is not None for r in runs)
    assert "FAILED" not in done.stdout
    before, after = done.stdout.rsplit("partners after: ", 1)[1].split(" (before: ")
    assert int(before) == int(after.rstrip(")\n"))  # the target is left as it was found


def test_identity_cost_runs_against_a_sandbox() -> None:
    """bench/identity_cost.py: each call shape makes exactly its rows (and removes them)."""
    done = subprocess.run(
        [sys.executable, "identity_cost.py", "--rows", "120", "--rounds", "1", "--chunk", "50"],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    made = [line for line in done.stdout.splitlines() if line.startswith("round 1")]
    assert len(made) == 3 and all("(120 made" in line for line in made), done.stdout


def test_identity_flat_runs_against_a_sandbox() -> None:
    """bench/identity_flat.py: each call shape makes exactly its rows and removes them."""
    done = subprocess.run(
        [sys.executable, "identity_flat.py", "--rows", "120", "--rounds", "1", "--chunk", "50"],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    made = [line for line in done.stdout.splitlines() if line.startswith("round 1")]
    assert len(made) == 5, done.stdout
    assert "external ids left behind: 0" in done.stdout, done.stdout


def test_call_cost_runs_against_a_sandbox() -> None:
    """bench/call_cost.py: every size is measured and everything it made is removed."""
    done = subprocess.run(
        [sys.executable, "call_cost.py", "--sizes", "20,60", "--rounds", "2"],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "made 160 contacts and 160 external ids; left behind: 0" in done.stdout, done.stdout
    assert "create   fixed" in done.stdout and "name     fixed" in done.stdout, done.stdout
