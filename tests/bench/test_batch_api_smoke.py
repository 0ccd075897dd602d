"""The batch API benchmark keeps working: ``bench/batch_api.py`` on a tiny size.

Not a performance test (no thresholds on speed): it pins down that the script
still starts a sandbox in its own process, drives BatchContext, the raw loop
and the one-record loop, counts connections and prints the table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_batch_api_bench_runs_on_a_tiny_size(tmp_path: Path) -> None:
    """600 rows in two chunks of 500, 40 single creates: every figure is produced."""
    out = tmp_path / "batch.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "batch_api.py"),
            "--rows",
            "600",
            "--loop-rows",
            "40",
            "--repeat",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["rows"] == 600 and report["loop_rows"] == 40
    (batch,) = report["batch"]
    (raw,) = report["raw"]
    assert batch["records"] == raw["records"] == 600
    assert batch["wall"] > 0 and batch["cpu"] > 0 and raw["wall"] > 0
    # two chunks of 500 each way; Connection: close means at least one connection per request
    assert batch["requests"] == raw["requests"] == 2
    assert batch["connections"] >= 1 and raw["connections"] >= 1
    assert report["loop"]["records"] == 40 and report["loop"]["connections"] >= 1
    assert "| BatchContext records/s (batch 500, concurrency 4) |" in done.stdout
    assert "| BatchContext client CPU per 1,000 records |" in done.stdout
