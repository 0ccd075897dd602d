"""Whatever the moment the runner dies, a rerun converges to exactly once (DESIGN.md §5).

Kills are injected around the n-th write RPC: BEFORE it is sent (nothing
committed) or AFTER Odoo committed it but before the runner saw the answer
(the worst case for a ledger). A second kind of test cancels the apply task
at seeded random moments. Each case then reruns apply to completion and
checks: every row present exactly once, upserted/updated values as written,
the migration applied; and a rollback afterwards restores the original data.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.odoo import OdooTarget

from .helpers import CSV, PARTNERS, TAGS, Killed, ProjectFiles, Spy, looking_at, table

UPDATES = """\
    description = "upsert and update on top"

    [[steps]]
    id = "renames"
    model = "res.partner"
    action = "upsert"
    match = ["ref"]
    key = "{{ row.ref }}"
    records = [
      { ref = "LEG-1", name = "Alice Renamed" },
      { ref = "LEG-4", name = "Dan Renamed" },
      { ref = "NEW-1", name = "Newcomer" },
      { ref = "NEW-2", name = "Second Newcomer" },
    ]

    [steps.fields]
    ref = "{{ row.ref }}"
    name = "{{ row.name }}"

    [[steps]]
    id = "belgians"
    model = "res.partner"
    action = "update"
    domain = [["country_id.code", "=", "BE"]]

    [steps.values]
    comment = "Goeiedag"
"""


def _write(root: Path) -> ProjectFiles:
    root.mkdir(parents=True, exist_ok=True)
    files = ProjectFiles(root)
    files.runner = "chunk_size = 2\nconcurrency = 2"
    files.write(
        {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_updates.toml": UPDATES},
        {"data/partners.csv": CSV},
    )
    return files


async def _snapshot(files: ProjectFiles) -> list[dict[str, Any]]:
    async with looking_at(files.sandbox_db) as client:
        return await table(client, "res.partner", ["name", "ref", "comment", "active"])


async def _check_converged(files: ProjectFiles, original: list[dict[str, Any]]) -> None:
    result = await apply(files.load())
    assert result.ok
    rows = await _snapshot(files)
    refs = [r["ref"] for r in rows if r["ref"]]
    assert sorted(refs) == sorted([f"LEG-{i}" for i in range(1, 9)] + ["NEW-1", "NEW-2"])
    by_ref = {r["ref"]: r for r in rows if r["ref"]}
    assert by_ref["LEG-1"]["name"] == "Alice Renamed"
    assert by_ref["LEG-4"]["comment"] == "Goeiedag"
    assert by_ref["LEG-2"]["comment"] is False
    async with looking_at(files.sandbox_db) as client:
        tags = await table(client, "res.partner.category", ["name"])
    assert sorted(t["name"] for t in tags) == ["Retail", "VIP", "Wholesale"]
    await rollback(files.load(), to_version=0)
    assert await _snapshot(files) == original


@settings(
    max_examples=14,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kill_at=st.integers(min_value=1, max_value=10), after=st.booleans())
async def test_kill_around_any_write_then_rerun_converges(kill_at: int, after: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(Path(tmp))
        files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
        original = await _snapshot(files)

        def wrap(target: OdooTarget) -> OdooTarget:
            spy = Spy(target)
            if after:
                for method in ("load", "write", "create", "unlink"):
                    spy.lose_after[(method, kill_at)] = Killed
            else:
                spy.fail_before_write[kill_at] = Killed
            return spy

        with contextlib.suppress(Killed):
            await apply(files.load(), wrap_target=wrap)
        await _check_converged(files, original)


async def test_killed_after_an_upserts_create_then_rerun_and_rollback_restore_exactly(
    tmp_path: Path,
) -> None:
    """The upsert's create (NEW-1, NEW-2) committed, the run dies before naming them: the
    rerun adopts them as created (not as records its match found), so rollback removes
    them. Creates before it: tags and their names, 4 partner chunks and their names."""
    files = _write(tmp_path)
    files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    original = await _snapshot(files)

    def wrap(target: OdooTarget) -> OdooTarget:
        return Spy(target, lose_after={("create", 11): Killed})

    with contextlib.suppress(Killed):
        await apply(files.load(), wrap_target=wrap)
    await _check_converged(files, original)


async def test_cancelling_apply_at_random_moments_then_rerun_converges(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    for attempt in range(4):
        files = _write(tmp_path / f"run{attempt}")
        files.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
        original = await _snapshot(files)
        task = asyncio.ensure_future(apply(files.load()))
        await asyncio.sleep(rng.uniform(0.0, 0.25))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _check_converged(files, original)
