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
from zenoo_etl.compiler.config import chunk_bounds
from zenoo_etl.compiler.plan import PlanMigration, PlanStep, describe_changed
from zenoo_etl.compiler.schema import load_schema
from zenoo_etl.compiler.validate import Problem, validate_project
from zenoo_etl.errors import EXIT_USAGE, DriftError, MigrationFileError, UsageError
from zenoo_etl.runner.coerce import (
    CoercionError,
    equal_values,
    field_types,
    normalise_read,
    normalise_written,
    rpc_converter,
)
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


DIFF_SHOWN = 10  # record changes listed per step in text output; --json has them all


async def diff_upserts(project: Project, plan: Plan) -> Plan:
    """``plan`` with what each pending upsert and update would do to the target now.

    Reads the target (starting the embedded sandbox for ``sandbox:`` targets)
    under the apply lock, through the runner's resolver and converters, so the
    split is what ``apply`` would do: ``diff`` counts rows to create / update /
    leave unchanged (``unresolved``: a reference the target cannot resolve yet,
    e.g. to a step of a pending migration; ``unmatched``: an update row that
    finds no record; ``found``: the records a domain step selects now), and
    ``changes`` lists, per record to update, each field's current and new value.
    """
    todo = {m.version for m in plan.migrations if m.status == "pending"}
    steps = [
        (migration, step)
        for migration in project.migrations
        if migration.version in todo
        for step in migration.steps
        if step.action in ("upsert", "update") and step.lines is None
    ]
    if not steps:
        return plan
    diffs: dict[str, tuple[dict[str, int], list[dict[str, Any]]]] = {}
    async with open_session(project, "plan --diff") as session:
        for migration, step in steps:
            diffs[step.id] = await _diff_step(session, project, migration, step)

    def with_diff(s: Any) -> Any:
        if s.id not in diffs:
            return s
        counts, changes = diffs[s.id]
        return s.model_copy(update={"diff": counts, "changes": changes})

    return plan.model_copy(
        update={
            "migrations": [
                m.model_copy(update={"steps": [with_diff(s) for s in m.steps]})
                for m in plan.migrations
            ]
        }
    )


def _changed_fields(
    types: dict[str, str], record: dict[str, Any], values: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """``{field: {"from": now, "to": new}}`` for each value that would change ``record``."""
    return {
        name: {
            "from": normalise_read(types[name], record.get(name, False)),
            "to": normalise_written(types[name], value),
        }
        for name, value in values.items()
        if not equal_values(types[name], record.get(name, False), value)
    }


async def _diff_step(
    session: Session, project: Project, migration: Migration, step: Step
) -> tuple[dict[str, int], list[dict[str, Any]]]:
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
    changes: list[dict[str, Any]] = []
    size = _lookup_size(project, step)
    if step.selector == "domain":
        return await _diff_domain(session, project, migration, step, types, converters)
    if step.action == "update":
        counts = {"update": 0, "unchanged": 0, "unmatched": 0, "unresolved": 0}
    for rows in chunked(iter_rows(project, migration, step), size):
        await session.resolver.prepare(rows)
        values: list[dict[str, Any]] = []
        keys: list[str] = []
        for row in rows:
            try:
                resolved = session.resolver.resolve_row(row)
                values.append({n: converters[n](v) for n, v in resolved.items()})
                keys.append(row.key)
            except (RowError, CoercionError):
                counts["unresolved"] += 1
        if not values:
            continue
        hits = await search_matches(
            session.odoo, step.model, step.match, types, values, names, context
        )
        for key, vals, found in zip(keys, values, hits, strict=True):
            if not found:
                counts["create" if step.action == "upsert" else "unmatched"] += 1
                continue
            targets = found[:1] if step.action == "upsert" else found
            for record in targets:
                changed = _changed_fields(types, record, vals)
                if changed:
                    counts["update"] += 1
                    changes.append({"key": key, "id": int(record["id"]), "fields": changed})
                else:
                    counts["unchanged"] += 1
    return counts, changes


async def _diff_domain(
    session: Session,
    project: Project,
    migration: Migration,
    step: Step,
    types: dict[str, str],
    converters: dict[str, Any],
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """An update by domain: the records it selects now, and what it would change on each."""
    context = session.context(step.context)
    row = next(iter(iter_rows(project, migration, step)))
    await session.resolver.prepare([row])
    try:
        resolved = session.resolver.resolve_row(row)
    except (RowError, CoercionError):
        return {"found": 0, "update": 0, "unchanged": 0, "unresolved": 1}, []
    values = {n: converters[n](v) for n, v in resolved.items()}
    ids = await session.odoo.search(step.model, list(step.domain or []), context)
    counts = {"found": len(ids), "update": 0, "unchanged": 0, "unresolved": 0}
    changes: list[dict[str, Any]] = []
    size = _lookup_size(project, step)
    for part in chunked(ids, size):
        records = await session.odoo.read(
            step.model, part, list(values), {**context, "active_test": False}
        )
        for record in records:
            changed = _changed_fields(types, record, values)
            if changed:
                counts["update"] += 1
                changes.append({"key": None, "id": int(record["id"]), "fields": changed})
            else:
                counts["unchanged"] += 1
    return counts, changes


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
            _migration_records(migration),
            "-" if migration.chunks is None else str(migration.chunks),  # or "auto"
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
                    _step_records(step),
                    "-" if step.chunks is None else str(step.chunks),
                    "yes" if step.reversible else "NO",
                    "",
                )
    console.print(table)
    for migration in plan.migrations:
        for step in migration.steps:
            if step.diff is not None:
                console.print(
                    f"{migration.version:04d} {step.id}: {_diff_words(step.diff)}",
                    soft_wrap=True,
                    markup=False,
                )
                _print_changes(console, step.changes or [])
    for entry in plan.drift:
        where = entry.file or f"version {entry.version} (file missing)"
        console.print(f"[bold red]drift[/]: {where} differs from what was applied")
    pending = plan.pending
    if not pending:
        console.print("Nothing to apply: every migration is applied.")
        return
    records = sum(m.records or 0 for m in pending)
    records += sum((s.diff or {}).get("found", 0) for m in pending for s in m.steps)
    counts = [m.chunks for m in pending]
    tuned = any(c == "auto" for c in counts)
    fixed = sum(c for c in counts if isinstance(c, int))
    irreversible = [m for m in pending if not m.reversible]
    filtered = sum(m.filtered or 0 for m in pending)
    lines = sum(m.lines or 0 for m in pending)
    with_lines = f" with {lines} line(s)" if lines else ""
    left_out = f", {filtered} source row(s) filtered out (when / skip-row)" if filtered else ""
    by_domain = [s for m in pending for s in m.steps if s.selector == "domain" and s.diff is None]
    at_apply = (
        f"; {len(by_domain)} domain step(s) select their records at apply "
        "('plan --diff' counts them now)"
        if by_domain
        else ""
    )
    if tuned:  # chunk_size = "auto": the count depends on the sizes chosen while running
        plus = f"{fixed} chunk(s) plus " if fixed else ""
        chunks = f' in {plus}chunks sized while running (chunk_size = "auto")'
    else:
        chunks = f" in {fixed} chunk(s)"
    console.print(
        f"{len(pending)} pending migration(s), {records} record(s){with_lines}{chunks}"
        f"{left_out}{at_apply}."
    )
    if irreversible:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in irreversible)
        console.print(f"Irreversible (a call step without undo): {names}.")


def _lookup_size(project: Project, step: Step) -> int:
    """Rows per lookup call of ``plan --diff``: the step's chunk size (where it starts
    when tuned)."""
    setting = step.chunk_size if step.chunk_size is not None else project.config.runner.chunk_size
    return chunk_bounds(setting).start


def _step_records(step: PlanStep) -> str:
    """A step's record count; a domain step's is only known at apply (or with --diff)."""
    if step.selector == "domain" and step.records is not None:
        found = (step.diff or {}).get("found")
        return "at apply" if found is None else str(found)
    return "-" if step.records is None else str(step.records)


def _migration_records(migration: PlanMigration) -> str:
    if migration.records is None:
        return "-"
    found = sum((s.diff or {}).get("found", 0) for s in migration.steps)
    later = any(s.selector == "domain" and s.diff is None for s in migration.steps)
    return f"{migration.records + found}{' + domain' if later else ''}"


_DIFF_WORDS = {
    "found": "found {} by the domain",
    "create": "create {}",
    "update": "update {}",
    "unchanged": "unchanged {}",
    "unmatched": "unmatched {} (no record has the match values; skipped)",
    "unresolved": "unresolved {} (a reference or value the target cannot resolve yet)",
}


def _diff_words(diff: dict[str, int]) -> str:
    always = ("create", "update", "unchanged", "found")
    return ", ".join(
        words.format(diff[name])
        for name, words in _DIFF_WORDS.items()
        if name in diff and (diff[name] or name in always)
    )


def _print_changes(console: Console, changes: list[dict[str, Any]]) -> None:
    """The first :data:`DIFF_SHOWN` records to update, each with ``field from → to``."""
    for change in changes[:DIFF_SHOWN]:
        who = f"{change['key']} (id {change['id']})" if change["key"] else f"id {change['id']}"
        fields = ", ".join(
            f"{name} {v['from']!r} → {v['to']!r}" for name, v in change["fields"].items()
        )
        console.print(f"  {who}: {fields}", soft_wrap=True, markup=False, highlight=False)
    if len(changes) > DIFF_SHOWN:
        console.print(
            f"  ... and {len(changes) - DIFF_SHOWN} more record(s) ('plan --diff --json' "
            "lists them all)",
            markup=False,
        )


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
    help=(
        "Read the target: split upserts into create/update/unchanged, count what domain "
        "steps select, and list per record which fields change from what to what."
    ),
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
