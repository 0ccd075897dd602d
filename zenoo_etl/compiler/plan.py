"""The Plan: frozen, serialisable data saying what ``apply`` will do.

Built by streaming every pending step's rows once (rendering and validating
them, counting, never keeping them), so memory stays flat in the number of
rows. The same project, ledger input and ``created_at`` give byte-identical
JSON: no clock, no set ordering, no absolute paths.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from zenoo_etl.compiler.config import chunk_bounds
from zenoo_etl.compiler.project import Project, RowStats, changed_parts, iter_keys, iter_rows
from zenoo_etl.compiler.sources import SqlSource, checksum_rule, source_label
from zenoo_etl.compiler.steps import Migration, Step
from zenoo_etl.errors import DriftError, MigrationFileError

# 2: pinned plans (vars, result-changing settings, per-file sums, rendered steps)
PLAN_FORMAT = 2
Status = Literal["pending", "applied", "drift"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanTarget(_Frozen):
    """Where the plan applies; never any credential."""

    name: str
    url: str
    database: str


class PlanStep(_Frozen):
    id: str
    model: str
    action: str
    identity: str
    selector: Literal["rows", "domain", "model"]
    source: str | None
    records: int | None
    # "auto": the runner tunes the size while the step runs (the count is not known ahead)
    chunks: int | Literal["auto"] | None
    chunk_size: int | Literal["auto"]
    reversible: bool
    depends_on: list[str]
    references: list[str]
    # Source rows left out by `when` or a `missing = "skip-row"` cell (None: not counted).
    filtered: int | None = None
    # One2many lines created with the records (steps with [steps.lines]; None: none).
    lines: int | None = None
    # The rule deciding when a change to the source is drift (see sources.checksum_rule).
    source_checksum: str | None = None
    # Only with `plan --diff`, for upserts and updates: rows to create / update /
    # unchanged / unresolved (a reference the target cannot resolve yet) / unmatched
    # (an update row finding no record) / found (the records a domain selects now) ...
    diff: dict[str, int] | None = None
    # ... and per record to update: {"key", "id", "fields": {name: {"from", "to"}}}
    changes: list[dict[str, Any]] | None = None


class PlanMigration(_Frozen):
    version: int
    name: str
    file: str
    description: str
    checksum: str
    # SHA-256 of each file (the migration, each source) and of the rendered steps:
    # what apply PLAN compares to name the file that changed
    parts: dict[str, str] = Field(default_factory=dict)
    definition: str = ""
    status: Status
    reversible: bool
    records: int | None
    chunks: int | Literal["auto"] | None
    steps: list[PlanStep]
    filtered: int | None = None
    lines: int | None = None


class DriftEntry(_Frozen):
    """An applied migration whose files changed (or vanished) since it was applied."""

    version: int
    name: str | None
    file: str | None
    applied_checksum: str
    current_checksum: str | None
    # the files whose sums differ from those recorded at apply (empty when the
    # ledger predates per-file sums: then only "the file or one of its sources")
    changed: list[str] = Field(default_factory=list)


class Plan(_Frozen):
    """What ``plan`` shows and ``apply`` executes, in order."""

    format: int = PLAN_FORMAT
    project: str
    target: PlanTarget
    ledger_position: str | None = None
    created_at: str | None = None
    # Everything besides the files that decides what apply does: the vars the
    # templates saw (and which of them came from --var, re-applied by apply PLAN)
    # and the runner settings that change results.
    vars: dict[str, Any] = Field(default_factory=dict)
    var_overrides: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    migrations: list[PlanMigration] = Field(default_factory=list)
    drift: list[DriftEntry] = Field(default_factory=list)

    @property
    def pending(self) -> list[PlanMigration]:
        return [m for m in self.migrations if m.status == "pending"]

    @property
    def has_drift(self) -> bool:
        return bool(self.drift)


_BLOOM_BITS = 1 << 26  # 8 MiB whatever the row count: memory stays flat
_BLOOM_MASK = _BLOOM_BITS - 1
_BLOOM_K = 6  # ~1e-7 false positives per key at a million keys


def public_url(url: str) -> str:
    """``url`` without a password in its user part (plans are shared, secrets are not)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class KeyFilter:
    """Flags keys that may repeat, in fixed memory (a Bloom filter of 8 MiB).

    Feed every key of a step to :meth:`add`; afterwards :attr:`suspects` holds
    the keys seen (probably) more than once, for :func:`report_duplicate_keys`
    to confirm on a second pass over the keys only.
    """

    def __init__(self) -> None:
        self.bloom = bytearray(_BLOOM_BITS // 8)
        self.suspects: set[str] = set()

    def add(self, key: str) -> None:
        bloom = self.bloom
        # Double hashing with the interpreter's string hash (64 bits of SipHash): its
        # low bits and its high bits are the two hashes. Stable within this process,
        # which is all one pass needs; several times cheaper than blake2b. The
        # _BLOOM_K (6) probes are written out: this runs once per row.
        h1 = hash(key)
        h2 = (h1 >> 32) | 1
        seen = True
        for bit in (
            h1 & _BLOOM_MASK,
            (h1 + h2) & _BLOOM_MASK,
            (h1 + 2 * h2) & _BLOOM_MASK,
            (h1 + 3 * h2) & _BLOOM_MASK,
            (h1 + 4 * h2) & _BLOOM_MASK,
            (h1 + 5 * h2) & _BLOOM_MASK,
        ):
            mask = 1 << (bit & 7)
            current = bloom[bit >> 3]
            if not current & mask:
                seen = False
                bloom[bit >> 3] = current | mask
        if seen:
            self.suspects.add(key)


def count_rows(
    project: Project, migration: Migration, step: Step, stats: RowStats | None = None
) -> int:
    """Render every row of ``step`` (raising on bad data) and return how many are kept
    (``stats.filtered`` counts the rows left out).

    Also proves the keys unique without holding them: a fixed-size Bloom
    filter flags possible repeats, and only if there are any a second pass
    collects the exact rows of the flagged keys.
    """
    keys = KeyFilter()
    count = 0
    for row in iter_rows(project, migration, step, stats):
        count += 1
        keys.add(row.key)
    if keys.suspects:
        report_duplicate_keys(project, migration, step, keys.suspects)
    return count


def report_duplicate_keys(
    project: Project, migration: Migration, step: Step, suspects: set[str]
) -> None:
    first: dict[str, tuple[int, int | None]] = {}
    # Only keys are rendered on this pass: the rows were all checked on the first.
    for index, line, key in iter_keys(project, migration, step):
        if key not in suspects:
            continue
        if key in first:
            first_index, first_line = first[key]
            source = step.source.path if step.source is not None else None
            if isinstance(step.source, SqlSource):
                source = None
            where = project.relative(migration.path) if source is None else source
            at = f" (line {first_line})" if first_line is not None else ""
            raise MigrationFileError(
                f"key {key!r} is used by rows {first_index + 1}{at} and {index + 1}; keys "
                "must be unique within a step: fix the data or the key template",
                path=where,
                line=line if line is not None else step.line,
                step=step.id,
                row=index + 1,
            )
        first[key] = (index, line)


def ledger_position_of(applied: Mapping[int, str]) -> str:
    """A default ledger position: highest applied version and a hash of the checksums."""
    digest = hashlib.sha256()
    for version in sorted(applied):
        digest.update(f"{version}:{applied[version]}\n".encode())
    top = max(applied) if applied else 0
    return f"{top}:{digest.hexdigest()[:16]}"


def _plan_step(project: Project, migration: Migration, step: Step, count: bool) -> PlanStep:
    bounds = chunk_bounds(
        step.chunk_size if step.chunk_size is not None else project.config.runner.chunk_size
    )
    chunk_size: int | Literal["auto"] = bounds.start if bounds.fixed else "auto"
    records: int | None = None
    chunks: int | Literal["auto"] | None = None
    filtered: int | None = None
    lines: int | None = None
    if count:
        if step.source is not None:
            stats = RowStats()
            records = count_rows(project, migration, step, stats)
            # tuned sizes change only after answers came back: what fits in the first chunk
            # is one chunk whatever happens, a longer step has a count known only at apply
            fits = bounds.fixed or records <= bounds.start
            chunks = math.ceil(records / bounds.start) if fits else "auto"
            filtered = stats.filtered
            lines = stats.lines if step.lines is not None else None
        else:
            # Domain and model-level steps: the record count is only known on the server.
            for _ in iter_rows(project, migration, step):
                pass
            records = 0
            chunks = 1
    return PlanStep(
        id=step.id,
        model=step.model,
        action=step.action,
        identity=step.identity,
        selector=step.selector,
        source=source_label(step.source) if step.source is not None else None,
        records=records,
        chunks=chunks,
        chunk_size=chunk_size,
        reversible=step.reversible,
        depends_on=list(step.depends_on),
        references=list(step.references),
        filtered=filtered,
        lines=lines,
        source_checksum=_checksum_rule(step),
    )


def _chunks_of(steps: list[PlanStep]) -> int | Literal["auto"] | None:
    """A migration's chunks: the sum, ``auto`` when a step's count is only known while
    it runs, None when nothing was counted."""
    if not steps:
        return None
    if any(s.chunks == "auto" for s in steps):
        return "auto"
    return sum(s.chunks for s in steps if isinstance(s.chunks, int))


def result_settings(project: Project) -> dict[str, Any]:
    """The ``[runner]`` settings that change what apply does (not how fast)."""
    runner = project.config.runner
    return {"on_error": runner.on_error, "context": dict(runner.context)}


def var_overrides(project: Project) -> dict[str, Any]:
    """The vars that differ from zenoo.toml's ``[vars]`` (given with ``--var``)."""
    missing = object()
    return {
        name: value
        for name, value in project.vars.items()
        if project.config.vars.get(name, missing) != value
    }


def _checksum_rule(step: Step) -> str | None:
    if step.source is None:
        return None
    rule = checksum_rule(step.source)
    if step.lines is not None:
        rule += f"; lines: {checksum_rule(step.lines.source)}"
    return rule


def compile_plan(
    project: Project,
    applied: Mapping[int, str] | None = None,
    ledger_position: str | None = None,
    *,
    created_at: str | None = None,
    applied_parts: Mapping[int, Mapping[str, str]] | None = None,
) -> Plan:
    """Compile ``project`` into a :class:`Plan`.

    ``applied`` maps versions recorded as applied in the ledger to their
    checksums. Pending and drifted migrations have their rows rendered and
    counted; applied ones are listed without counting (``records`` is None).
    ``applied_parts`` (version -> per-file sums recorded at apply) lets a
    drift entry name the file that changed.
    """
    applied = dict(applied or {})
    recorded_parts = dict(applied_parts or {})
    migrations: list[PlanMigration] = []
    drift: list[DriftEntry] = []
    present = {m.version for m in project.migrations}
    for migration in project.migrations:
        recorded = applied.get(migration.version)
        status: Status = "pending"
        if recorded is not None:
            status = "applied" if recorded == migration.checksum else "drift"
        file = project.relative(migration.path)
        if status == "drift":
            drift.append(
                DriftEntry(
                    version=migration.version,
                    name=migration.name,
                    file=file,
                    applied_checksum=recorded or "",
                    current_checksum=migration.checksum,
                    changed=changed_parts(recorded_parts[migration.version], migration.parts)
                    if recorded_parts.get(migration.version)
                    else [],
                )
            )
        steps = [_plan_step(project, migration, s, status != "applied") for s in migration.steps]
        counted = [s for s in steps if s.records is not None]
        migrations.append(
            PlanMigration(
                version=migration.version,
                name=migration.name,
                file=file,
                description=migration.description,
                checksum=migration.checksum,
                parts=dict(migration.parts),
                definition=migration.definition,
                status=status,
                reversible=migration.reversible,
                records=sum(s.records or 0 for s in counted) if counted else None,
                chunks=_chunks_of(counted),
                steps=steps,
                filtered=sum(s.filtered or 0 for s in counted) if counted else None,
                lines=sum(s.lines or 0 for s in counted) if any(s.lines for s in counted) else None,
            )
        )
    for version in sorted(set(applied) - present):
        drift.append(
            DriftEntry(
                version=version,
                name=None,
                file=None,
                applied_checksum=applied[version],
                current_checksum=None,
            )
        )
    return Plan(
        project=project.config.project.name,
        target=PlanTarget(
            name=project.target_name,
            url=public_url(project.target.url),
            database=project.target.database,
        ),
        ledger_position=ledger_position,
        created_at=created_at,
        vars=dict(project.vars),
        var_overrides=var_overrides(project),
        settings=result_settings(project),
        migrations=migrations,
        drift=drift,
    )


class StalePlanError(DriftError):
    """A saved plan that the project (or the target) no longer produces (exit 4)."""


def _shown_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_changed(shown: str, changed: list[str]) -> str:
    """``shown`` and which of its files (itself, its sources) changed, in words."""
    others = [name for name in changed if name != shown]
    words = []
    if shown in changed or not others:
        words.append(f"{shown} changed")
    if others:
        words.append(f"{shown}: its source {', '.join(others)} changed")
    return "; ".join(words)


def what_changed(shown: str, recorded: Mapping[str, str] | None, now: Mapping[str, str]) -> str:
    """Like :func:`describe_changed` from two per-file sum maps.

    ``recorded`` is None or empty for a ledger row (or plan) from before
    per-file sums: then only the combined checksum is known to differ.
    """
    if not recorded:
        sources = [name for name in now if name != shown]
        if not sources:
            return f"{shown} changed"
        return f"{shown} or its source {', '.join(sources)} changed"
    return describe_changed(shown, changed_parts(recorded, now))


def plan_differences(plan: Plan, project: Project, todo: list[Migration]) -> list[str]:
    """What differs between a saved plan and what ``project`` would do now.

    ``todo`` is the project's migrations the plan lists as pending. Each
    entry names one thing: a var, a setting, a file (the migration or which
    of its sources), a rendering, a migration that vanished.
    """
    reasons: list[str] = []
    for name in sorted(set(plan.vars) | set(project.vars)):
        old, new = plan.vars.get(name), project.vars.get(name)
        if name not in project.vars:
            reasons.append(f"var '{name}' is no longer set (the plan used {_shown_value(old)})")
        elif name not in plan.vars:
            reasons.append(f"var '{name}' is new ({_shown_value(new)}); the plan had none")
        elif old != new:
            reasons.append(
                f"var '{name}' is {_shown_value(new)} now, the plan used {_shown_value(old)}"
            )
    settings = result_settings(project)
    for name in sorted(set(plan.settings) | set(settings)):
        if plan.settings.get(name) != settings.get(name):
            reasons.append(
                f"setting [runner] {name} is {_shown_value(settings.get(name))} now, the plan "
                f"used {_shown_value(plan.settings.get(name))}"
            )
    planned = {m.version: m for m in plan.migrations if m.status == "pending"}
    present = {m.version for m in todo}
    for version, entry in sorted(planned.items()):
        if version not in present:
            reasons.append(f"{entry.file} is planned but is no longer a pending migration")
    for migration in todo:
        entry = planned[migration.version]
        shown = project.relative(migration.path)
        if entry.checksum != migration.checksum or changed_parts(entry.parts, migration.parts):
            reasons.append(what_changed(shown, entry.parts, migration.parts))
        elif entry.definition != migration.definition:
            reasons.append(
                f"{shown} renders other steps than planned (same file; a var or an env() "
                "value it reads differs)"
            )
    return reasons


def check_saved_plan(plan: Plan, project: Project, todo: list[Migration]) -> None:
    """Raise :class:`StalePlanError` naming every difference, if there is one."""
    reasons = plan_differences(plan, project, todo)
    if reasons:
        raise StalePlanError(
            "The saved plan no longer matches the project, so nothing was applied: "
            f"{'; '.join(reasons)}. Review the change, then make a new plan with "
            "'zenoo-etl plan --out FILE' (apply runs exactly what a plan lists, or nothing)."
        )


__all__ = [
    "PLAN_FORMAT",
    "DriftEntry",
    "KeyFilter",
    "Plan",
    "PlanMigration",
    "PlanStep",
    "PlanTarget",
    "StalePlanError",
    "check_saved_plan",
    "compile_plan",
    "count_rows",
    "describe_changed",
    "ledger_position_of",
    "plan_differences",
    "report_duplicate_keys",
    "result_settings",
    "var_overrides",
    "what_changed",
]
