"""The library face of the CLI: one async function per command verb.

Each function does what the command of the same name does, minus argument
parsing and printing (alembic's ``command.py`` pattern)::

    import asyncio
    from zenoo_etl import api

    result = asyncio.run(api.apply("path/to/project", target="local"))
    print(result.to_dict())

Lower-level pieces are re-exported for scripts: ``load_project`` and
``compile_plan`` (compiler), ``open_ledger`` (ledger), and the runner's
``apply``/``rollback`` taking an already loaded ``Project``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zenoo_etl.compiler import Plan, Project, compile_plan, load_project
from zenoo_etl.compiler.plan import PLAN_FORMAT, StalePlanError
from zenoo_etl.errors import UsageError
from zenoo_etl.ledger.open import open_ledger
from zenoo_etl.runner import apply as run_apply
from zenoo_etl.runner import rollback as run_rollback
from zenoo_etl.runner.foreign import adopt_foreign, find_foreign
from zenoo_etl.runner.progress import ProgressReporter
from zenoo_etl.runner.results import RunResult
from zenoo_etl.runner.session import open_session


def read_plan(path: Path | str) -> Plan:
    """A saved plan file (``zenoo-etl plan --out``), or UsageError naming the file.

    A plan of another format (an older zenoo-etl's, which did not pin vars,
    settings and file sums) is refused with :class:`StalePlanError` (exit 4).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        raw = json.loads(text)
    except OSError as exc:
        raise UsageError(f"Cannot read the plan file {file}: {exc.strerror}.") from None
    except ValueError:
        raw = None  # not JSON: reported below like any other non-plan
    found = raw.get("format") if isinstance(raw, dict) else None
    if isinstance(found, int) and found != PLAN_FORMAT:
        age = "an older" if found < PLAN_FORMAT else "a newer"
        raise StalePlanError(
            f"{file} was made by {age} zenoo-etl (plan format {found}; this one applies "
            f"format {PLAN_FORMAT} only, which pins vars, settings and every file's "
            "checksum). Nothing was applied; make a new plan with 'zenoo-etl plan --out "
            "FILE' and review it."
        )
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(
            f"{file} is not a zenoo-etl plan ({where}: {first['msg']}); make one with "
            "'zenoo-etl plan --out FILE'."
        ) from None


def _project(
    project_dir: Path | str, target: str | None, vars: Mapping[str, Any] | None
) -> Project:
    return load_project(Path(project_dir), target=target, vars=dict(vars or {}))


async def apply(
    project_dir: Path | str = ".",
    *,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    plan_file: Path | str | None = None,
    to_version: int | None = None,
    allow_drift: bool = False,
    force: bool = False,
    preflight: bool = True,
    allow_rejects: bool = False,
    yes: bool = True,
    confirm: Callable[[str], bool] | None = None,
    progress: ProgressReporter | None = None,
) -> RunResult:
    """``zenoo-etl apply``: apply pending migrations (or exactly a saved plan's)."""
    plan = read_plan(plan_file) if plan_file is not None else None
    if plan is not None:
        # Render exactly as when the plan was made: its --var values come back
        # (an explicit --var still wins, and then shows as a difference).
        vars = {**plan.var_overrides, **dict(vars or {})}
    project = _project(project_dir, target, vars)
    return await run_apply(
        project,
        plan=plan,
        to_version=to_version,
        progress=progress,
        yes=yes,
        allow_drift=allow_drift,
        force=force,
        preflight=preflight,
        allow_rejects=allow_rejects,
        confirm=confirm,
    )


async def adopt(
    project_dir: Path | str = ".",
    *,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    to_version: int | None = None,
) -> list[tuple[str, str, int]]:
    """``zenoo-etl ledger adopt``: record existing records as the pending create steps' own.

    Returns ``(migration file, step id, count)`` per step that adopted records.
    """
    project = _project(project_dir, target, vars)
    async with open_session(project, "ledger adopt") as session:
        records = {r.version: r for r in await session.scope.migrations()}
        todo = [
            m
            for m in project.migrations
            if (r := records.get(m.version)) is None or r.status != "applied"
        ]
        if to_version is not None:
            todo = [m for m in todo if m.version <= to_version]
        foreign = await find_foreign(session, todo)
        await adopt_foreign(session, foreign)
    return [(project.relative(f.migration.path), f.step.id, len(f.found)) for f in foreign]


async def copy_ledger(
    project_dir: Path | str,
    to_url: str,
    *,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``zenoo-etl ledger copy --to URL``: the target's history into another ledger.

    Both ledgers' locks of the target are held while copying, so no run writes
    to either meanwhile.
    """
    from zenoo_etl.ledger.copy import copy_scope
    from zenoo_etl.ledger.keys import mask_url

    project = _project(project_dir, target, vars)
    source_url = project.config.ledger.url
    if to_url.strip() == source_url.strip():
        raise UsageError(f"--to names the project's own ledger ({mask_url(to_url)}).")
    url, database = project.target.url, project.target.database
    async with (
        open_ledger(source_url, project.root) as source,
        open_ledger(to_url, project.root) as dest,
    ):
        if source.url == dest.url:
            raise UsageError(f"--to names the project's own ledger ({dest.url}).")
        src, dst = source.scope(url, database), dest.scope(url, database)
        await src.acquire_lock("ledger copy")
        try:
            await dst.acquire_lock("ledger copy")
            try:
                copied = await copy_scope(src, dst)
            finally:
                await dst.release()
        finally:
            await src.release()
    return {
        "target": project.target_name,
        "to": dest.url,
        "migrations": copied.migrations,
        "events": copied.events,
        "records": copied.records,
    }


async def rollback(
    project_dir: Path | str = ".",
    *,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    to_version: int | None = None,
    last: int | None = None,
    force: bool = False,
    yes: bool = True,
    confirm: Callable[[str], bool] | None = None,
    progress: ProgressReporter | None = None,
) -> RunResult:
    """``zenoo-etl rollback``: undo applied migrations newest first."""
    project = _project(project_dir, target, vars)
    return await run_rollback(
        project,
        to_version=to_version,
        last=last,
        force=force,
        progress=progress,
        yes=yes,
        confirm=confirm,
    )


__all__ = [
    "RunResult",
    "adopt",
    "apply",
    "compile_plan",
    "copy_ledger",
    "load_project",
    "open_ledger",
    "read_plan",
    "rollback",
]
