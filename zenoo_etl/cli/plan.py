"""``zenoo-etl plan`` and ``zenoo-etl validate``: thin over the compiler.

``plan`` loads the project, reads the applied versions from the ledger
(:func:`applied_versions`), compiles the :class:`~zenoo_etl.compiler.Plan`
and shows it (rich table, ``--json``, ``--out``). Drift exits 4 unless
``--allow-drift``. ``validate`` checks every migration against the target's
schema and reports all problems at once (exit 2 when any).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, output_console, run
from zenoo_etl.compiler import (
    Migration,
    Plan,
    Project,
    Step,
    compile_plan,
    iter_rows,
    ledger_position_of,
    load_project,
)
from zenoo_etl.compiler.plan import describe_changed
from zenoo_etl.compiler.schema import load_schema
from zenoo_etl.compiler.validate import Problem, validate_project
from zenoo_etl.errors import EXIT_USAGE, DriftError, MigrationFileError, UsageError
from zenoo_etl.runner.coerce import CoercionError, equal_values, field_types, rpc_converter
from zenoo_etl.runner.identity import search_matches
from zenoo_etl.runner.pipeline import chunked
from zenoo_etl.runner.resolve import RowError
from zenoo_etl.runner.session import Session, open_session


async def applied_versions(project: Project) -> tuple[dict[int, str], str | None]:
    """Applied versions → recorded checksums, and the ledger position, for the target.

    (:func:`applied_state` also returns the per-file sums drift messages use.)

    A SQLite ledger that does not exist yet means nothing is applied; it is
    not created just to plan, and the position is then the one the runner
    derives from an empty history (``ledger_position_of({})``), so a plan saved
    on a fresh project can be applied.
    """
    applied, position, _parts = await applied_state(project)
    return applied, position


async def applied_state(
    project: Project,
) -> tuple[dict[int, str], str | None, dict[int, dict[str, str]]]:
    """:func:`applied_versions` plus, per applied version, the file sums recorded."""
    from zenoo_etl.ledger import open_ledger
    from zenoo_etl.ledger.open import sqlite_path

    url = project.config.ledger.url
    if url.startswith("sqlite:"):
        path = sqlite_path(url, project.root)
        if isinstance(path, Path) and not path.exists():
            return {}, ledger_position_of({}), {}
    async with open_ledger(url, project.root) as ledger:
        scope = ledger.scope(project.target.url, project.target.database)
        records = await scope.migrations()
        position = await scope.position()
    done = [r for r in records if r.status == "applied"]
    parts = {r.version: dict(r.parts) for r in done if r.parts}
    return {r.version: r.checksum for r in done}, position, parts


async def diff_upserts(project: Project, plan: Plan) -> Plan:
    """``plan`` with each pending upsert's rows split into create/update/unchanged.

    Reads the target (starting the embedded sandbox for ``sandbox:`` targets)
    under the apply lock, through the runner's resolver and converters, so the
    split is what ``apply`` would do. Rows whose references cannot be resolved
    yet (e.g. to a step of a pending migration) count as ``unresolved``.
    """
    todo = {m.version for m in plan.migrations if m.status == "pending"}
    steps = [
        (migration, step)
        for migration in project.migrations
        if migration.version in todo
        for step in migration.steps
        if step.action == "upsert"
    ]
    if not steps:
        return plan
    diffs: dict[str, dict[str, int]] = {}
    async with open_session(project, "plan --diff") as session:
        for migration, step in steps:
            diffs[step.id] = await _diff_step(session, project, migration, step)
    return plan.model_copy(
        update={
            "migrations": [
                m.model_copy(
                    update={
                        "steps": [s.model_copy(update={"diff": diffs.get(s.id)}) for s in m.steps]
                    }
                )
                for m in plan.migrations
            ]
        }
    )


async def _diff_step(
    session: Session, project: Project, migration: Migration, step: Step
) -> dict[str, int]:
    types = field_types(await session.fields(step.model))
    names = list(step.row_fields)
    unknown = [n for n in [*names, *step.match] if n not in types]
    if unknown:
        raise UsageError(
            f"step '{step.id}': model {step.model} has no field {unknown[0]!r}; "
            "run `zenoo-etl validate` for the full list."
        )
    converters = {n: rpc_converter(types[n]) for n in names}
    context = session.context(step.context)
    counts = {"create": 0, "update": 0, "unchanged": 0, "unresolved": 0}
    size = step.chunk_size or project.config.runner.chunk_size
    for rows in chunked(iter_rows(project, migration, step), size):
        await session.resolver.prepare(rows)
        values: list[dict[str, Any]] = []
        for row in rows:
            try:
                resolved = session.resolver.resolve_row(row)
                values.append({n: converters[n](v) for n, v in resolved.items()})
            except (RowError, CoercionError):
                counts["unresolved"] += 1
        if not values:
            continue
        hits = await search_matches(
            session.odoo, step.model, step.match, types, values, names, context
        )
        for vals, found in zip(values, hits, strict=True):
            if not found:
                counts["create"] += 1
            elif all(equal_values(types[n], found[0].get(n, False), v) for n, v in vals.items()):
                counts["unchanged"] += 1
            else:
                counts["update"] += 1
    return counts


def drift_message(plan: Plan) -> str:
    parts = []
    for entry in plan.drift:
        if entry.file is None:
            parts.append(f"version {entry.version} is applied but its file is gone")
        elif entry.changed:
            parts.append(describe_changed(entry.file, entry.changed))
        else:
            parts.append(f"{entry.file} (the file or one of its sources) changed")
    return (
        f"Drift on target '{plan.target.name}': {'; '.join(parts)}. Revert the change and "
        "write a new migration instead, or pass --allow-drift to go on anyway."
    )


def render_table(plan: Plan, console: Console, *, verbose: int = 0) -> None:
    table = Table(title=f"Plan for target '{plan.target.name}' ({plan.target.database})")
    for column in ("version", "description", "steps", "records", "chunks", "reversible", "status"):
        table.add_column(column, justify="right" if column in ("records", "chunks") else "left")
    for migration in plan.migrations:
        table.add_row(
            f"{migration.version:04d}",
            migration.description or migration.name,
            str(len(migration.steps)),
            "-" if migration.records is None else str(migration.records),
            "-" if migration.chunks is None else str(migration.chunks),
            "yes" if migration.reversible else "NO",
            migration.status,
        )
        if verbose:
            for step in migration.steps:
                notes = [f"{step.filtered} filtered"] if step.filtered else []
                if step.lines is not None:
                    notes.insert(0, f"+{step.lines} lines")
                if step.source_checksum:
                    notes.append(f"checksum: {step.source_checksum}")
                extra = f" ({'; '.join(notes)})" if notes else ""
                table.add_row(
                    "",
                    f"  {step.id}: {step.action} {step.model}{extra}",
                    "",
                    "-" if step.records is None else str(step.records),
                    "-" if step.chunks is None else str(step.chunks),
                    "yes" if step.reversible else "NO",
                    "",
                )
    console.print(table)
    for migration in plan.migrations:
        for step in migration.steps:
            if step.diff is not None:
                d = step.diff
                words = f"create {d['create']}, update {d['update']}, unchanged {d['unchanged']}"
                if d.get("unresolved"):
                    words += (
                        f", unresolved {d['unresolved']} "
                        "(a reference or value the target cannot resolve yet)"
                    )
                console.print(f"{migration.version:04d} {step.id}: {words}", soft_wrap=True)
    for entry in plan.drift:
        where = entry.file or f"version {entry.version} (file missing)"
        console.print(f"[bold red]drift[/]: {where} differs from what was applied")
    pending = plan.pending
    if not pending:
        console.print("Nothing to apply: every migration is applied.")
        return
    records = sum(m.records or 0 for m in pending)
    chunks = sum(m.chunks or 0 for m in pending)
    irreversible = [m for m in pending if not m.reversible]
    filtered = sum(m.filtered or 0 for m in pending)
    lines = sum(m.lines or 0 for m in pending)
    with_lines = f" with {lines} line(s)" if lines else ""
    left_out = f", {filtered} source row(s) filtered out (when / skip-row)" if filtered else ""
    console.print(
        f"{len(pending)} pending migration(s), {records} record(s){with_lines} in {chunks} "
        f"chunk(s){left_out}."
    )
    if irreversible:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in irreversible)
        console.print(f"Irreversible (a call step without undo): {names}.")


def save_plan(plan: Plan, out: Path) -> None:
    """Write ``plan`` as JSON (byte-identical for the same plan)."""
    try:
        out.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the plan ({exc}).") from exc


@click.command("plan")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the plan as JSON (apply it exactly with `zenoo-etl apply FILE`).",
)
@click.option("--allow-drift", is_flag=True, help="Plan even if applied migrations changed.")
@click.option(
    "--diff",
    "with_diff",
    is_flag=True,
    help="Read the target to split upserts into create/update/unchanged.",
)
@common_options
def plan_command(env: CommandEnv, out: Path | None, allow_drift: bool, with_diff: bool) -> None:
    """Show what apply would do: pending migrations, steps, records, chunks."""

    async def go() -> None:
        project = load_project(env.project, env.target, env.vars)
        applied, position, parts = await applied_state(project)
        plan = compile_plan(project, applied, position, applied_parts=parts)
        if plan.drift and not allow_drift:
            raise DriftError(drift_message(plan))
        if with_diff:
            plan = await diff_upserts(project, plan)
        if out is not None:
            save_plan(plan, out)
        if env.json_output:
            emit_json(plan.model_dump(mode="json"))
        elif not env.quiet:
            console = output_console()
            render_table(plan, console, verbose=env.verbose)
            if out is not None:
                click.echo(f"Plan saved to {out}.")

    run(env, go)


@click.command("validate")
@click.option("--refresh", is_flag=True, help="Fetch the target's schema again.")
@common_options
def validate_command(env: CommandEnv, refresh: bool) -> None:
    """Check every migration against the target's schema, offline."""

    async def go() -> list[Problem]:
        errors: list[MigrationFileError] = []
        project = load_project(env.project, env.target, env.vars, errors=errors)
        schema = await load_schema(project, refresh=refresh)
        return [Problem.from_error(e) for e in errors] + validate_project(project, schema)

    problems = run(env, go)
    if env.json_output:
        payload: dict[str, Any] = {
            "ok": not problems,
            "problems": [p.to_dict() for p in problems],
        }
        emit_json(payload)
    else:
        for problem in problems:
            click.echo(str(problem))
        if problems:
            click.echo(
                f"Error: {len(problems)} problem(s) found; fix them and run validate again.",
                err=True,
            )
        elif not env.quiet:
            click.echo("All migrations are valid.")
    if problems:
        raise click.exceptions.Exit(EXIT_USAGE)


COMMANDS: list[click.Command] = [plan_command, validate_command]
