"""``zenoo-etl apply`` and ``zenoo-etl rollback``: thin click commands over :mod:`zenoo_etl.api`.

They parse options, ask for confirmation on a terminal (never when stdin is
not one: exit 2 with a hint to pass ``--yes``), show progress (rich bars on a
terminal; plain lines when stdout is not a terminal, with ``--no-progress``
or ``NO_COLOR``), and print a summary table, or exactly one JSON object with
``--json``.

SIGTERM (a CI job cancelled, a pod evicted) or Ctrl-C stops the run gracefully: no new
chunk is sent, the chunks in flight finish and land in the ledger, the
migration is marked failed and the command exits 143; ``apply`` again
resumes. A second signal cancels at once (see :mod:`zenoo_etl.runner.stop`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from zenoo_etl import api
from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, output_console, run
from zenoo_etl.cli.completion import complete_versions
from zenoo_etl.errors import UsageError
from zenoo_etl.runner.progress import NullProgress, ProgressReporter, StepCounts
from zenoo_etl.runner.results import RunFailed, RunResult, StepResult
from zenoo_etl.runner.stop import StopRequested, stop_on_signals


class _Story:
    """What both progress styles need to tell a run truthfully.

    The runner reports an apply that fails and rolls back as: started, steps,
    started again (the undo), undo steps, then ``migration_finished`` twice with
    the same status. Told as it is, that reads "started" twice and the status
    twice; this keeps the second start as "rolling back" and drops the repeat.
    """

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.open: dict[int, int] = {}  # version -> nesting (2 while a failed apply undoes)
        self.last_finished: tuple[int, str] | None = None

    def started(self, version: int, name: str, steps: int) -> str:
        depth = self.open.get(version, 0)
        self.open[version] = depth + 1
        self.last_finished = None
        label = f"{version:04d}_{name}"
        if depth:
            return f"migration {label}: rolling back what it did"
        if self.verb == "rollback":
            return f"migration {label}: rolling back"
        return f"migration {label}: started ({steps} step(s))"

    def finished(self, version: int, name: str, status: str) -> str | None:
        self.open[version] = max(self.open.get(version, 1) - 1, 0)
        if self.last_finished == (version, status):
            return None
        self.last_finished = (version, status)
        return f"migration {version:04d}_{name}: {status}"


def _counts_words(counts: StepCounts) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.as_dict().items() if v)


def _unfinished(reason: str, counts: StepCounts, seconds: float) -> str:
    done = _counts_words(counts)
    if reason == "stopped":
        return f"stopped after {seconds:.1f}s ({done or 'nothing done yet'}); apply again to resume"
    return (
        f"failed after {seconds:.1f}s ({done + ' before the failure' if done else 'nothing done'})"
    )


class PlainProgress:
    """One line per event on stdout (not a terminal, ``--no-progress`` or ``NO_COLOR``)."""

    def __init__(self, every: float = 2.0, verb: str = "apply") -> None:
        self._every = every
        self._story = _Story(verb)
        self._done: dict[str, int] = {}
        self._total: dict[str, int | None] = {}
        self._last: dict[str, float] = {}

    def _echo(self, text: str) -> None:
        click.echo(text)

    def migration_started(self, version: int, name: str, steps: int) -> None:
        self._echo(self._story.started(version, name, steps))

    def migration_finished(self, version: int, name: str, status: str) -> None:
        line = self._story.finished(version, name, status)
        if line is not None:
            self._echo(line)

    def step_started(self, step: str, model: str, action: str, total: int | None) -> None:
        self._done[step], self._total[step], self._last[step] = 0, total, time.monotonic()
        of = f" ({total} record(s))" if total is not None else ""
        self._echo(f"  step {step}: {action} {model}{of}")

    def step_advanced(self, step: str, n: int) -> None:
        self._done[step] = self._done.get(step, 0) + n
        now = time.monotonic()
        if now - self._last.get(step, 0.0) >= self._every:
            self._last[step] = now
            total = self._total.get(step)
            of = f"/{total}" if total is not None else ""
            self._echo(f"  step {step}: {self._done[step]}{of}")

    def step_finished(self, step: str, counts: StepCounts, seconds: float) -> None:
        done = _counts_words(counts)
        self._echo(f"  step {step}: done in {seconds:.1f}s ({done or 'nothing to do'})")

    def step_failed(self, step: str, counts: StepCounts, seconds: float, reason: str) -> None:
        self._echo(f"  step {step}: {_unfinished(reason, counts, seconds)}")

    def warning(self, message: str) -> None:
        click.echo(f"Warning: {message}", err=True)


class RichProgress:
    """A rich progress bar per step: done/total, records/s, ETA."""

    def __init__(self, console: Console, verb: str = "apply") -> None:
        self._console = console
        self._story = _Story(verb)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rec/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self._live = False

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live:
            self._progress.stop()

    def _start(self) -> None:
        # Only once the run begins: while the live display runs, rich owns stdout and
        # would eat the "[y/N]" of the confirmation prompt as markup.
        if not self._live:
            self._live = True
            self._progress.start()

    def migration_started(self, version: int, name: str, steps: int) -> None:
        self._start()
        line = self._story.started(version, name, steps).removeprefix("migration ")
        self._console.print(line, style="bold", markup=False, highlight=False)

    def migration_finished(self, version: int, name: str, status: str) -> None:
        if self._story.finished(version, name, status) is None:
            return
        colour = "green" if status in ("applied", "rolled_back") else "yellow"
        self._console.print(f"  [{colour}]{status}[/{colour}]")

    def step_started(self, step: str, model: str, action: str, total: int | None) -> None:
        self._start()
        self._started[step] = time.monotonic()
        self._tasks[step] = self._progress.add_task(f"{step} ({action})", total=total, rate="-")

    def step_advanced(self, step: str, n: int) -> None:
        task = self._tasks.get(step)
        if task is not None:
            self._progress.advance(task, n)
            done = self._progress.tasks[task].completed
            elapsed = max(time.monotonic() - self._started.get(step, 0.0), 1e-6)
            self._progress.update(task, rate=f"{done / elapsed:,.0f}")

    def step_finished(self, step: str, counts: StepCounts, seconds: float) -> None:
        task = self._tasks.get(step)
        if task is not None:
            done = self._progress.tasks[task].completed
            self._progress.update(task, total=done, completed=done)

    def step_failed(self, step: str, counts: StepCounts, seconds: float, reason: str) -> None:
        # The bar stays where the step stopped (never jumps to full); a line says why.
        task = self._tasks.get(step)
        if task is not None:
            self._progress.stop_task(task)
        self._console.print(f"  {step}: {_unfinished(reason, counts, seconds)}", markup=False)

    def warning(self, message: str) -> None:
        self._console.print(f"[yellow]Warning:[/yellow] {message}")


def _summary(console: Console, result: RunResult) -> None:
    table = Table(title=f"{result.command} on {result.target} ({result.seconds:.1f}s)")
    steps = [s for m in result.migrations for s in m.steps]
    # shown only when a step has some: archived, rows left out, lines created with
    # documents, rejects
    archived = ["archived"] if any(s.counts.archived for s in steps) else []
    extra = [c for c in ("filtered", "lines", "rejected") if any(s.to_dict()[c] for s in steps)]
    counted = ["created", "updated", "deleted", *archived, "skipped", *extra]
    # chunk_size / concurrency = "auto": what a step ended with, when the tuning moved it
    tuned = any(s.tuner is not None and s.tuner.changes for s in steps)
    for column in ("migration", "step", "status", *counted):
        table.add_column(column)
    table.add_column("time", justify="right")
    table.add_column("rec/s", justify="right")
    if tuned:
        table.add_column("chunk × calls", justify="right")
    for migration in result.migrations:
        label = f"{migration.version:04d}_{migration.name}"
        status = migration.status
        if not migration.steps:
            table.add_row(label, "-", status, *[""] * (len(counted) + 2 + tuned))
        for step in migration.steps:
            data = step.to_dict()
            data["updated"] += data["unchanged"]
            table.add_row(
                label,
                step.step,
                status,
                *(str(data[c]) for c in counted),
                f"{step.seconds:.2f}s",
                f"{data['records_per_second']:,.0f}",
                *([_chunking(step)] if tuned else []),
            )
            label = status = ""
    if not result.migrations:
        console.print(f"Nothing to {result.command}: the target is up to date.")
    else:
        # Records rollback skipped (gone, changed since apply) were told once already:
        # as a warning when found, or in the error that ends the run.
        console.print(table)


def _chunking(step: StepResult) -> str:
    """``675 × 4``: the chunk size and calls in flight a step ended with."""
    tuner = step.tuner
    return "" if tuner is None else f"{tuner.size} × {tuner.concurrency}"


def _confirm_policy(yes: bool) -> tuple[bool, Any]:
    """(yes, confirm callback); refuses to prompt when stdin is not a terminal."""
    if yes:
        return True, None
    if not sys.stdin.isatty():
        raise UsageError(
            "Refusing to ask for confirmation: stdin is not a terminal. Pass --yes to run "
            "without a prompt (e.g. in a pipeline)."
        )

    def confirm(summary: str) -> bool:
        click.echo(summary)
        return click.confirm("Proceed?", default=False)

    return False, confirm


async def _run(env: CommandEnv, verb: str, yes: bool, call: Any) -> RunResult:
    with stop_on_signals((signal.SIGTERM, signal.SIGINT)) as stopping:
        try:
            return await _run_reporting(env, verb, yes, call)
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
            # a second signal cancelled the run: exit like the first one would
            raise StopRequested(
                f"{verb} was stopped at once by a second signal (SIGTERM or Ctrl-C); chunks "
                "in flight were abandoned and are settled by the next run. Run "
                f"'zenoo-etl {verb}' again to resume."
            ) from None


async def _run_reporting(env: CommandEnv, verb: str, yes: bool, call: Any) -> RunResult:
    yes, confirm = _confirm_policy(yes)
    tty = sys.stdout.isatty()
    console = output_console()
    fancy = env.progress and tty and not os.environ.get("NO_COLOR")
    progress: ProgressReporter
    try:
        if env.json_output or env.quiet:
            result: RunResult = await call(yes, confirm, NullProgress())
        elif fancy:
            with RichProgress(console, verb) as rich_progress:
                result = await call(yes, confirm, rich_progress)
        else:
            progress = PlainProgress(verb=verb)
            result = await call(yes, confirm, progress)
    except RunFailed as failed:
        if env.json_output:
            emit_json(failed.result.to_dict())
            if env.debug:  # as for every other error: --debug shows where it came from
                traceback.print_exception(failed, file=sys.stderr)
            click.echo(f"Error: {failed}", err=True)
            sys.exit(failed.exit_code)
        if failed.result.migrations and not env.quiet:
            _summary(console, failed.result)
        raise
    if env.json_output:
        emit_json(result.to_dict())
    elif not env.quiet:
        _summary(console, result)
    return result


@click.command("apply")
@click.argument(
    "plan_file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="[PLAN.json]",
)
@click.option(
    "--to",
    "to_version",
    type=int,
    default=None,
    help="Stop after this version.",
    shell_complete=complete_versions,
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-drift", is_flag=True, help="Apply even if applied migrations changed.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite existing records that carry this project's external ids while the "
    "ledger does not know them (recorded as updates; see 'zenoo-etl ledger adopt').",
)
@click.option(
    "--no-preflight",
    "no_preflight",
    is_flag=True,
    help="Skip validate's checks of every row before the first write (huge trusted runs).",
)
@click.option(
    "--allow-rejects",
    is_flag=True,
    help='Exit 0 and go on with later migrations when steps with on_error = "reject" '
    "set rows aside (they are in .zenoo/rejects/).",
)
@common_options
def apply(
    env: CommandEnv,
    plan_file: Path | None,
    to_version: int | None,
    yes: bool,
    allow_drift: bool,
    force: bool,
    no_preflight: bool,
    allow_rejects: bool,
) -> None:
    """Apply pending migrations (or exactly a saved plan) to the target."""

    async def call(yes_: bool, confirm: Any, progress: ProgressReporter) -> RunResult:
        return await api.apply(
            env.project,
            target=env.target,
            vars=env.vars,
            plan_file=plan_file,
            to_version=to_version,
            allow_drift=allow_drift,
            force=force,
            preflight=not no_preflight,
            allow_rejects=allow_rejects,
            yes=yes_,
            confirm=confirm,
            progress=progress,
        )

    run(env, lambda: _run(env, "apply", yes, call))


@click.command("rollback")
@click.option(
    "--to",
    "to_version",
    type=int,
    default=None,
    help="Undo migrations above V (0: all).",
    shell_complete=complete_versions,
)
@click.option("--last", type=int, default=None, help="Undo the newest N migrations (default 1).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force",
    is_flag=True,
    help="Also undo calls without undo, and records people changed since apply.",
)
@common_options
def rollback(
    env: CommandEnv, to_version: int | None, last: int | None, yes: bool, force: bool
) -> None:
    """Undo applied migrations, newest first."""

    async def call(yes_: bool, confirm: Any, progress: ProgressReporter) -> RunResult:
        return await api.rollback(
            env.project,
            target=env.target,
            vars=env.vars,
            to_version=to_version,
            last=last,
            force=force,
            yes=yes_,
            confirm=confirm,
            progress=progress,
        )

    run(env, lambda: _run(env, "rollback", yes, call))


COMMANDS: list[click.Command] = [apply, rollback]
