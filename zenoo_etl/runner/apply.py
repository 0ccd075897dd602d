"""Applying pending migrations to a target (``zenoo-etl apply``).

Flow of one run: open the session (lock, sandbox, client), read the ledger,
refuse drift (exit 4) and stale saved plans, then per pending migration:
forget it if it was rolled back (re-applied from scratch), ``begin`` it,
settle intents of an interrupted run, and run its steps in file order
(``depends_on`` and refs only ever name earlier steps, which the compiler
checks), each step streaming chunks through :func:`.pipeline.run_chunks`.

On a failing chunk: nothing more is dispatched, in-flight chunks finish,
then ``on_error = "rollback"`` undoes the migration (status ``rolled_back``)
while ``stop`` marks it ``failed`` for a later resume; the run raises
:class:`RunFailed` (exit 1) with one paragraph naming file, step, row, field
and Odoo's message, and what to do next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterator
from itertools import pairwise
from typing import Any

from zenoo_etl.client.errors import ClientError, OdooError
from zenoo_etl.compiler import Migration, Plan, Project, Step, iter_rows
from zenoo_etl.compiler.config import Bounds, chunk_bounds, concurrency_bounds
from zenoo_etl.compiler.plan import (
    StalePlanError,
    check_saved_plan,
    ledger_position_of,
    what_changed,
)
from zenoo_etl.compiler.project import RowStats
from zenoo_etl.compiler.sources import iter_source
from zenoo_etl.compiler.values import Ref, Row
from zenoo_etl.errors import DriftError, LockLostError, ZenooError
from zenoo_etl.ledger.protocol import Counts, MigrationRecord
from zenoo_etl.runner.actions import Chunk, StepRun, lines_model
from zenoo_etl.runner.foreign import ForeignRecordsError, find_foreign, foreign_message
from zenoo_etl.runner.identity import LoadFailed, NamingFailed, UnknownOutcome
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.runner.ordering import (
    WINDOW_CHUNKS,
    WINDOW_MAX,
    chunk_groups,
    grouped_chunks,
    parent_field,
)
from zenoo_etl.runner.pipeline import chunked, run_chunks
from zenoo_etl.runner.preflight import preflight as check_pending
from zenoo_etl.runner.progress import ProgressReporter
from zenoo_etl.runner.reconcile import reconcile
from zenoo_etl.runner.rejects import RejectSink, write_rejects
from zenoo_etl.runner.resolve import RowError, iter_refs
from zenoo_etl.runner.results import MigrationResult, RunFailed, RunResult, StepResult
from zenoo_etl.runner.rollback import undo_migration
from zenoo_etl.runner.session import Session, TargetWrapper, open_session
from zenoo_etl.runner.stop import RunInterrupted, StopRequested, stop_requested
from zenoo_etl.runner.tuning import Tuner


def _shown_action(step: Step) -> str:
    """The action as output names it: an archiving ``delete`` is an ``archive``."""
    return "archive" if step.action == "delete" and step.archive else step.action


SETTLE_MAX = 5.0


def settle_delay(project: Project) -> float:
    """Seconds to wait after a lost answer before looking for what it did: the
    client's timeout (a call outliving it is being processed still), at most
    :data:`SETTLE_MAX`."""
    return min(project.config.runner.timeout, SETTLE_MAX)


LOOKOUT_MAX = 30.0


def lookout_window(project: Project) -> float:
    """Seconds after a lost ``create`` answer (identity xmlid) during which its records
    are looked for before the chunk is sent again: twice the client's timeout (a call
    that outlived it commits meanwhile and is adopted, never made twice), at most
    :data:`LOOKOUT_MAX`."""
    return min(2 * project.config.runner.timeout, LOOKOUT_MAX)


class StepFailure(Exception):
    """A chunk of a step failed; carries what is needed to explain it."""

    def __init__(self, step: Step, chunk: Chunk, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.step = step
        self.chunk = chunk
        self.cause = cause


def _row_words(
    project: Project, migration: Migration, step: Step, chunk: Chunk, cause: BaseException
) -> str:
    row = getattr(cause, "row", None)
    source = step.source.path if step.source is not None and step.source.path else None
    where_file = source or project.relative(migration.path)
    if row is not None:
        line = row.line if row.line is not None else None
        at = f" ({where_file}:{line})" if line is not None else f" ({where_file})"
        return f"row {row.index + 1}{at}, key '{row.key}'"
    if chunk.rows:
        first = min(chunk.rows, key=lambda r: r.index)
        line = f", first at {where_file}:{first.line}" if first.line is not None else ""
        rows = chunk.rows
        if all(b.index == a.index + 1 for a, b in pairwise(rows)):
            return f"rows {rows[0].index + 1}-{rows[-1].index + 1}{line}"
        # grouped by parent (runner/ordering.py): not a contiguous range of the source
        numbers = sorted(r.index + 1 for r in rows)
        shown = ", ".join(str(n) for n in numbers[:5])
        more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
        return f"{len(numbers)} rows ({shown}{more}){line}"
    if chunk.ids:
        return f"records {chunk.ids[0]}..{chunk.ids[-1]} ({len(chunk.ids)} found by domain)"
    return ""  # the step as a whole (its fields, its model): no row to name


def describe_failure(project: Project, migration: Migration, failure: StepFailure) -> str:
    step, cause = failure.step, failure.cause
    file = project.relative(migration.path)
    words = _row_words(project, migration, step, failure.chunk, cause)
    field = getattr(cause, "field", None)
    parts = [words] if words else []
    if field:
        line = step.field_line(field)
        parts.append(f"field '{field}'" + (f" ({file}:{line})" if line and not words else ""))
    elif not words:
        parts.append(f"{file}:{step.line}")
    reason = failure_reason(step, cause)
    return (
        f"Migration {file} failed at step '{step.id}' ({step.action} {step.model}), "
        f"{', '.join(parts)}: {reason.rstrip('.')}."
    )


def failure_reason(step: Step, cause: BaseException) -> str:
    """What went wrong, in the words shown after the row (Odoo's message when it refused)."""
    if isinstance(cause, OdooError) and _unknown_model(cause, step.model):
        reason = (
            f"model '{step.model}' does not exist on the target (Odoo said: {cause.message}); "
            "check the model name and that the module defining it is installed"
        )
    elif isinstance(cause, OdooError):
        reason = f"Odoo said: {cause.message}"
        if cause.odoo_name:
            reason += f" ({cause.odoo_name})"
    elif isinstance(cause, LoadFailed):
        reason = f"Odoo said: {cause.message}"
    elif isinstance(cause, UnknownOutcome):
        reason = (
            f"the answer for {len(cause.keys)} {cause.model} record(s) was lost and identity "
            f"'{step.identity}' cannot verify whether they were created"
        )
    elif isinstance(cause, RowError):
        reason = cause.message
    else:
        reason = str(cause)
    return reason


def _unknown_model(error: OdooError, model: str) -> bool:
    """Odoo's answer to any call on a model it does not have (``Object x doesn't exist``)."""
    return f"Object {model} doesn't exist" in error.message


class Runner:
    """One apply run over an open :class:`Session`."""

    def __init__(self, session: Session, result: RunResult) -> None:
        self.session = session
        self.project = session.project
        self.result = result
        # apply --force: step id -> {key: id} of existing records to overwrite
        self.overwrite: dict[str, dict[str, int]] = {}
        self.force = False
        # apply --allow-rejects: a migration with rejected rows does not stop the run
        self.allow_rejects = False
        self.started = time.monotonic()
        # step id -> rows of its source, as the preflight's row pass counted them
        self.row_counts: dict[str, int] = {}

    async def step_run(self, migration: Migration, step: Step, fresh: bool) -> StepRun:
        session = self.session
        try:
            fields = await session.fields(step.model)
            line_fields: dict[str, dict[str, Any]] = {}
            if step.lines is not None:
                line_fields = await session.fields(lines_model(step, fields))
            run = StepRun(
                odoo=session.odoo,
                scope=session.scope,
                resolver=session.resolver,
                version=migration.version,
                step=step,
                fields_get=fields,
                context=session.context(step.context),
                fresh=fresh,
                project_id=self.project.config.project.id,
                overwrite=self.overwrite.get(step.id, {}),
                force=self.force,
                line_fields_get=line_fields,
                settle=settle_delay(self.project),
                window=lookout_window(self.project),
                on_lost=session.lost_answer,
                uid=session.uid,
            )
        except (RowError, OdooError) as exc:  # an unknown field, an unknown model
            raise StepFailure(step, Chunk(), exc) from exc
        return run

    def count_rows(self, migration: Migration, step: Step) -> int | None:
        """Rows of a source without rendering them (for progress totals and ETA)."""
        if step.source is None:
            return None
        if step.id in self.row_counts:
            return self.row_counts[step.id]
        try:
            rows = iter_source(step.source, self.project.root, migration.path, cells=False)
            return sum(1 for _ in rows)
        except ZenooError:
            return None  # iter_rows will report the problem with file and line

    def chunks(
        self,
        migration: Migration,
        step: Step,
        tuner: Tuner,
        ids: list[int] | None,
        parent: str | None = None,
        stats: RowStats | None = None,
    ) -> Iterator[Chunk]:
        """The step's chunks, each cut with the size the tuner chooses at that moment."""

        def size() -> int:
            return tuner.size

        if ids is not None:
            for id_part in chunked(ids, size):
                yield Chunk(ids=id_part)
            return
        rows = iter_rows(self.project, migration, step, stats)
        if parent is None:
            for part in chunked(rows, size):
                yield Chunk(rows=part)
            return
        most = tuner.size_bounds.high
        window = min(WINDOW_MAX, max(most, most * tuner.concurrency_bounds.high * WINDOW_CHUNKS))
        for part in grouped_chunks(rows, size, parent, window):
            yield Chunk(rows=part)

    async def dangling_reference(self, chunk: Chunk) -> RowError | None:
        """The first reference of ``chunk`` whose record no longer exists in Odoo, as a
        :class:`RowError` naming the reference (step, key) and the record (model, id)."""
        models = {s.id: s.model for m in self.project.migrations for s in m.steps}
        wanted: list[tuple[Row, str, Ref, str, int]] = []
        for row in chunk.rows:
            for field_name, value in row.values.items():
                for ref in iter_refs(value):
                    if not isinstance(ref, Ref) or ref.step not in models:
                        continue
                    odoo_id = self.session.resolver.ref_id(ref.step, ref.key)
                    if odoo_id is not None:
                        wanted.append((row, field_name, ref, models[ref.step], odoo_id))
        if not wanted:
            return None
        alive: dict[str, set[int]] = {}
        try:
            for model in {w[3] for w in wanted}:
                ids = sorted({w[4] for w in wanted if w[3] == model})
                found = await self.session.odoo.search(
                    model, [["id", "in", ids]], {"active_test": False}
                )
                alive[model] = set(found)
        except ClientError:
            return None  # cannot tell: Odoo's own message stands
        for row, field_name, ref, model, odoo_id in wanted:
            if odoo_id not in alive[model]:
                return RowError(
                    f"reference {{ref = '{ref.step}', key = '{ref.key}'}} points to {model} "
                    f"id {odoo_id}, which no longer exists in Odoo: it was deleted after step "
                    f"'{ref.step}' created it. Recreate it (roll back and apply the migration "
                    f"of step '{ref.step}' again) or change the reference",
                    row=row,
                    field=field_name,
                )
        return None

    async def run_step(
        self, migration: Migration, step: Step, fresh: bool, into: list[StepResult]
    ) -> StepResult:
        """Run one step; its result goes into ``into`` at once, so a step that fails or is
        stopped still shows what it did before."""
        session = self.session
        started = time.monotonic()
        runner_cfg = self.project.config.runner
        size = step.chunk_size if step.chunk_size is not None else runner_cfg.chunk_size
        in_flight = concurrency_bounds(runner_cfg.concurrency)
        tuner = Tuner(
            chunk_bounds(size, lines=step.lines is not None),
            # a call step sends one call at a time (its calls may depend on each other)
            Bounds(1, 1, 1) if step.action == "call" else in_flight,
            timeout=runner_cfg.timeout,
            faults=session.faults,
            name=step.id,
        )
        run = await self.step_run(migration, step, fresh)
        result = StepResult(step.id, step.model, _shown_action(step), run.counts, tuner=tuner)
        into.append(result)
        ids: list[int] | None = None
        total: int | None = None
        if step.selector == "domain":
            try:
                if step.action == "update":
                    row = next(iter(iter_rows(self.project, migration, step)))
                    await session.resolver.prepare([row])
                    run.row_values = run.convert(row, session.resolver.resolve_row(row))
                ids = await session.odoo.search(step.model, list(step.domain or []), run.context)
            except (RowError, ClientError) as exc:
                raise StepFailure(step, Chunk(), exc) from exc
            total = len(ids)
        elif step.selector == "model":
            ids = [0]  # one model-level call
            total = 1
        else:
            total = self.count_rows(migration, step)
        session.progress.step_started(step.id, step.model, _shown_action(step), total)

        rejects = RejectSink() if step.on_error == "reject" else None

        async def work(chunk: Chunk) -> int:
            try:
                return await run.run(chunk)
            except (RowError, LoadFailed, OdooError) as exc:
                if isinstance(exc, (LoadFailed, OdooError)) and (
                    rejects is None or len(chunk.rows) == 1
                ):
                    # Odoo refused: if a reference points at a record deleted since,
                    # say which reference and which record (not just Odoo's words)
                    exc = await self.dangling_reference(chunk) or exc
                if rejects is None or not chunk.rows:
                    raise StepFailure(step, chunk, exc) from exc
                # on_error = "reject": bisect down to the rows that fail alone
                if len(chunk.rows) == 1:
                    rejects.add(
                        chunk.rows[0], getattr(exc, "field", None), failure_reason(step, exc)
                    )
                    run.counts.rejected += 1
                    return 1
                half = len(chunk.rows) // 2
                first = await work(Chunk(rows=chunk.rows[:half]))
                return first + await work(Chunk(rows=chunk.rows[half:]))
            except (UnknownOutcome, NamingFailed, ZenooError) as exc:
                raise StepFailure(step, chunk, exc) from exc

        def advanced(n: int) -> None:
            result.records += n
            session.progress.step_advanced(step.id, n)

        parent = None
        if step.action in ("create", "upsert") and ids is None:
            parent = parent_field(step.model, step.row_fields, run.fields_get)

        def groups(chunk: Chunk) -> frozenset[Hashable]:
            return chunk_groups(chunk.rows, parent) if parent is not None else frozenset()

        stats = RowStats()
        try:
            await run_chunks(
                self.chunks(migration, step, tuner, ids, parent, stats),
                work,
                concurrency=lambda: tuner.concurrency,
                timer=tuner if tuner.tuned else None,
                on_done=advanced,
                stop=stop_requested,
                groups=groups if parent is not None else None,
            )
        except BaseException:
            run.counts.filtered = stats.filtered
            result.seconds = time.monotonic() - started
            session.progress.step_failed(step.id, run.counts, result.seconds, "failed")
            raise
        run.counts.filtered = stats.filtered
        result.seconds = time.monotonic() - started
        if stop_requested() and (total is None or result.records < total):
            session.progress.step_failed(step.id, run.counts, result.seconds, "stopped")
        else:
            session.progress.step_finished(step.id, run.counts, result.seconds)
        if rejects is not None:
            path = write_rejects(self.project, migration, step, rejects)
            if rejects:
                result.reject_file = self.project.relative(path)
                session.warn(
                    f"{self.project.relative(migration.path)}, step '{step.id}': {len(rejects)} "
                    f"row(s) rejected by Odoo were written with their error to "
                    f"{result.reject_file}; the other rows were applied"
                )
        if run.unmatched:
            session.warn(
                f"{self.project.relative(migration.path)}, step '{step.id}': {run.unmatched} "
                f"source row(s) matched no {step.model} record on {step.match}; they were skipped"
            )
        if run.gone:
            session.warn(
                f"{self.project.relative(migration.path)}, step '{step.id}': {run.gone} "
                f"{step.model} record(s) the ledger lists as created by an earlier run were "
                "gone from the target (deleted since, or unlinked by an interrupted rollback); "
                "they were created again"
            )
        if stop_requested():
            # in-flight chunks have finished and written the ledger; stop before the next one
            raise StopRequested(f"stopped on request during step '{step.id}'")
        return result

    async def apply_migration(
        self, migration: Migration, existing: MigrationRecord | None
    ) -> MigrationResult:
        session, scope = self.session, self.session.scope
        started = time.monotonic()
        file = self.project.relative(migration.path)
        result = MigrationResult(migration.version, migration.name, file, "applied")
        self.result.migrations.append(result)
        if existing is not None and existing.status == "rolled_back":
            await scope.forget(migration.version)
            existing = None
        fresh = existing is None or not any((await scope.record_counts(migration.version)).values())
        await scope.begin_migration(
            migration.version, migration.name, migration.checksum, migration.parts
        )
        session.progress.migration_started(migration.version, migration.name, len(migration.steps))
        try:
            if not fresh:
                result.reconciled = await reconcile(session, migration, migration.version)
            for step in migration.steps:
                if stop_requested():
                    raise StopRequested(f"stopped on request before step '{step.id}'")
                await self.run_step(migration, step, fresh, result.steps)
        except StopRequested as stopped:
            result.seconds = time.monotonic() - started
            await self.interrupted(migration, result, str(stopped))
        except StepFailure as failure:
            if isinstance(failure.cause, LockLostError):
                raise failure.cause from None  # exit 3: not one more write
            result.seconds = time.monotonic() - started
            message = describe_failure(self.project, migration, failure)
            await self.fail(migration, result, message)
        except LockLostError:
            raise
        except ZenooError as exc:  # reconciliation refused, transport down before a chunk ...
            result.seconds = time.monotonic() - started
            await self.fail(migration, result, f"Migration {file} failed: {exc}")
        totals = result.totals()
        counts = Counts(  # lines created with their documents are created records too
            totals.created + totals.lines,
            totals.updated,
            totals.deleted,
            totals.called,
            totals.filtered,
            totals.archived,
        )
        if totals.rejected:
            await self.with_rejects(migration, result, counts, totals.rejected)
            result.seconds = time.monotonic() - started
            return result
        await scope.set_status(migration.version, "applied", counts=counts)
        result.seconds = time.monotonic() - started
        session.progress.migration_finished(migration.version, migration.name, "applied")
        return result

    async def with_rejects(
        self, migration: Migration, result: MigrationResult, counts: Counts, rejected: int
    ) -> None:
        """Every row applied but the rejected ones: ``applied_with_rejects``.

        So the ledger records it, with the reject files named in its error: not
        ``applied``, so the next apply runs it again and, skipping what is done,
        applies only the rows that were rejected; rollback undoes it like an
        applied migration.
        """
        files = ", ".join(s.reject_file for s in result.steps if s.reject_file)
        message = (
            f"Migration {self.project.relative(migration.path)} was applied except "
            f"{rejected} rejected row(s), written with their error to {files}. Fix those rows "
            "in the source, then run 'zenoo-etl apply' again: it applies only them."
        )
        await self.session.scope.set_status(
            migration.version, "applied_with_rejects", counts=counts, error=message
        )
        result.status = "applied_with_rejects"
        result.error = message
        self.session.progress.migration_finished(
            migration.version, migration.name, "applied_with_rejects"
        )
        if not self.allow_rejects:
            self.result.ok = False
            self.result.error = message
            self.result.warnings = list(self.session.warnings)
            raise RunFailed(message, self.result)

    async def interrupted(self, migration: Migration, result: MigrationResult, why: str) -> None:
        """Stopped on request: mark the migration failed (resumable), never roll it back."""
        file = self.project.relative(migration.path)
        message = (
            f"Migration {file} was interrupted ({why}); the chunks already sent finished and "
            "are recorded in the ledger. Run 'zenoo-etl apply' again to resume, or "
            "'zenoo-etl rollback' to undo what was done."
        )
        await self.session.scope.set_status(migration.version, "failed", error=message)
        result.status = "failed"
        result.error = message
        self.session.progress.migration_finished(migration.version, migration.name, "failed")
        self.result.seconds = time.monotonic() - self.started
        self.result.ok = False
        self.result.error = message
        self.result.warnings = list(self.session.warnings)
        raise RunInterrupted(message, self.result)

    async def fail(self, migration: Migration, result: MigrationResult, message: str) -> None:
        session, scope = self.session, self.session.scope
        on_error = self.project.config.runner.on_error
        result.error = message
        if on_error == "rollback" and session.lost_answers:
            # a call whose answer was lost may still be running on the server: let it
            # land before undoing, so the rollback sees (and undoes) what it did
            await asyncio.sleep(settle_delay(self.project))
        if on_error == "rollback":
            record = await scope.migration(migration.version)
            assert record is not None
            try:
                undone = await undo_migration(session, record, force=True, error=message)
            except Exception as exc:
                await scope.set_status(migration.version, "failed", error=message)
                result.status = "failed"
                tail = (
                    f" Rolling it back failed too ({exc}); the migration is marked failed. "
                    "Fix the cause, then run 'zenoo-etl rollback' or 'zenoo-etl apply' again."
                )
            else:
                result.status = "rolled_back"
                n = sum(s.records for s in undone.steps)
                tail = (
                    f" Everything this migration did was rolled back ({n} record(s) undone). "
                    "Fix the data or the migration, then run 'zenoo-etl apply' again."
                )
        else:
            await scope.set_status(migration.version, "failed", error=message)
            result.status = "failed"
            tail = (
                " The migration is marked failed and what was done is kept in the ledger "
                "(on_error = \"stop\"). Fix the cause, then run 'zenoo-etl apply' again to "
                "resume, or 'zenoo-etl rollback' to undo it."
            )
        session.progress.migration_finished(migration.version, migration.name, result.status)
        self.result.seconds = time.monotonic() - self.started
        if not message.rstrip().endswith((".", "!", "?")):
            message = message.rstrip() + "."  # the tail is a new sentence
        self.result.ok = False
        self.result.error = message + tail
        self.result.warnings = list(session.warnings)
        raise RunFailed(message + tail, self.result)


def check_drift(project: Project, records: list[MigrationRecord]) -> None:
    files = {m.version: m for m in project.migrations}
    drifted: list[str] = []
    for record in records:
        if record.status != "applied":
            continue
        migration = files.get(record.version)
        if migration is not None and migration.checksum != record.checksum:
            shown = project.relative(migration.path)
            drifted.append(what_changed(shown, record.parts, migration.parts))
    if drifted:
        raise DriftError(
            f"Applied migration(s) changed since they were applied: {'; '.join(drifted)}. "
            "Revert the change (an applied migration is history; add a new migration "
            "instead), or pass --allow-drift to apply the pending ones anyway."
        )


async def pending_migrations(
    session: Session, plan: Plan | None, to_version: int | None, allow_drift: bool
) -> tuple[list[Migration], dict[int, MigrationRecord]]:
    """The migrations this run applies, in order; refuses drift and stale plans."""
    project, scope = session.project, session.scope
    records = {r.version: r for r in await scope.migrations()}
    if not allow_drift:
        check_drift(project, list(records.values()))
    applied = {v: r for v, r in records.items() if r.status == "applied"}
    todo = [m for m in project.migrations if m.version not in applied]
    if plan is not None:
        if (
            plan.target.database != project.target.database
            or plan.target.name != project.target_name
        ):
            raise StalePlanError(
                f"The saved plan is for target '{plan.target.name}' (database "
                f"'{plan.target.database}'), not '{project.target_name}' (database "
                f"'{project.target.database}'); nothing was applied. Pass --target "
                f"{plan.target.name}, or make a plan for this target."
            )
        position = await scope.position()
        legacy = ledger_position_of({v: r.checksum for v, r in applied.items()})
        if plan.ledger_position is None:
            # planned before any ledger existed: still valid while it records nothing
            stale = bool(records)
        else:
            stale = plan.ledger_position not in (position, legacy)
        if stale:
            raise StalePlanError(
                "The saved plan was made against another ledger state (something was applied "
                "or rolled back since); nothing was applied. Make a new plan with "
                "'zenoo-etl plan --out FILE' and review it."
            )
        wanted = {m.version for m in plan.migrations if m.status == "pending"}
        todo = [m for m in todo if m.version in wanted]
        check_saved_plan(plan, project, todo)
    if to_version is not None:
        todo = [m for m in todo if m.version <= to_version]
    return todo, records


def summary_text(project: Project, todo: list[Migration]) -> str:
    lines = [
        f"Apply {len(todo)} migration(s) to target '{project.target_name}' "
        f"({project.target.url}, database {project.target.database}):"
    ]
    for m in todo:
        steps = ", ".join(f"{s.id} ({s.action} {s.model})" for s in m.steps)
        lines.append(f"  {m.version:04d}_{m.name}: {steps}")
    return "\n".join(lines)


async def apply(
    project: Project,
    plan: Plan | None = None,
    to_version: int | None = None,
    progress: ProgressReporter | None = None,
    yes: bool = True,
    *,
    allow_drift: bool = False,
    force: bool = False,
    preflight: bool = True,
    allow_rejects: bool = False,
    confirm: Callable[[str], bool] | None = None,
    wrap_target: TargetWrapper | None = None,
    odoo: OdooTarget | None = None,
) -> RunResult:
    """Apply pending migrations (or exactly a saved plan's) to the project's target.

    Before anything is written, records that a create step would overwrite while
    the ledger knows nothing of them stop the run (:class:`ForeignRecordsError`,
    exit 4); ``force`` overwrites them instead, recording them as updates.
    ``preflight`` first runs validate's checks on the pending migrations
    (:mod:`.preflight`, exit 2 on a problem).
    """
    started = time.monotonic()
    result = RunResult("apply", project.target_name)
    async with open_session(
        project, "apply", progress, wrap_target=wrap_target, odoo=odoo
    ) as session:
        todo, records = await pending_migrations(session, plan, to_version, allow_drift)
        runner = Runner(session, result)
        seen_keys: dict[str, set[str]] = {}  # step id -> keys that may repeat
        if preflight and todo:
            began = time.monotonic()
            await check_pending(session, todo, seen_keys, runner.row_counts)
            result.checks["preflight_seconds"] = time.monotonic() - began
        runner.allow_rejects = allow_rejects
        began = time.monotonic()
        foreign = await find_foreign(session, todo, unique_keys=preflight, seen_keys=seen_keys)
        if todo:
            result.checks["existing_records_seconds"] = time.monotonic() - began
        runner.force = force
        if foreign and not force:
            raise ForeignRecordsError(foreign_message(project, foreign))
        if foreign:
            runner.overwrite = {f.step.id: f.found for f in foreign if f.step.identity == "xmlid"}
            n = sum(len(f.found) for f in foreign)
            session.warn(
                f"--force: {n} existing record(s) the ledger did not know are overwritten "
                "(identity xmlid, recorded as updates) or created again beside (identity fields)"
            )
        if todo and not yes and confirm is not None and not confirm(summary_text(project, todo)):
            raise ZenooError("Aborted: nothing was applied.")
        for migration in todo:
            if stop_requested():
                result.ok = False
                result.error = (
                    "Apply was interrupted before migration "
                    f"{project.relative(migration.path)} began; run 'zenoo-etl apply' again "
                    "to continue."
                )
                raise RunInterrupted(result.error, result)
            await runner.apply_migration(migration, records.get(migration.version))
        result.warnings = list(session.warnings)
    result.seconds = time.monotonic() - started
    return result


__all__ = ["StepFailure", "apply", "check_drift", "describe_failure", "pending_migrations"]
