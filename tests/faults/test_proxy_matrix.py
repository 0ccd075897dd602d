"""A CI-sized sample of the proxy matrix (``proxy_matrix.py``; the large run is
``scripts/proxy_matrix.py``): each proxy fault kind once (phases and backends
spread over the kinds), and SIGKILL of a real process in each phase.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .proxy import KINDS
from .proxy_matrix import LAST_DIFF, PHASES, run_cell

# every fault kind once, the phases taking turns
CELLS = [(PHASES[i % len(PHASES)], kind, 1) for i, kind in enumerate(KINDS)]
KILLS = [(phase, "kill", seed) for phase in PHASES for seed in (1, 2)]


@pytest.mark.parametrize(("phase", "fault", "seed"), CELLS + KILLS)
async def test_proxy_cell_sqlite(tmp_path: Path, phase: str, fault: str, seed: int) -> None:
    outcome = await run_cell(phase, fault, "sqlite", seed, tmp_path)
    assert outcome.ok, (outcome, LAST_DIFF)
    if fault != "kill":
        assert outcome.struck, "the proxy never struck: the cell tested nothing"


@pytest.mark.postgres
@pytest.mark.parametrize(("phase", "fault"), [("rollback", "hold"), ("auto", "kill")])
async def test_proxy_cell_postgres(tmp_path: Path, pg_url: str, phase: str, fault: str) -> None:
    outcome = await run_cell(phase, fault, "postgres", 3, tmp_path, pg_url)
    assert outcome.ok, (outcome, LAST_DIFF)
