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
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from zenoo_etl.compiler.project import Project, iter_keys, iter_rows
from zenoo_etl.compiler.steps import Migration, Step
from zenoo_etl.errors import MigrationFileError

PLAN_FORMAT = 1
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
    chunks: int | None
    chunk_size: int
    reversible: bool
    depends_on: list[str]
    references: list[str]
    # Only with `plan --diff`, for upserts: rows to create / update / unchanged /
    # unresolved (a reference the target cannot resolve yet).
    diff: dict[str, int] | None = None


class PlanMigration(_Frozen):
    version: int
    name: str
    file: str
    description: str
    checksum: str
    status: Status
    reversible: bool
    records: int | None
    chunks: int | None
    steps: list[PlanStep]


class DriftEntry(_Frozen):
    """An applied migration whose files changed (or vanished) since it was applied."""

    version: int
    name: str | None
    file: str | None
    applied_checksum: str
    current_checksum: str | None


class Plan(_Frozen):
    """What ``plan`` shows and ``apply`` executes, in order."""

    format: int = PLAN_FORMAT
    project: str
    target: PlanTarget
    ledger_position: str | None = None
    created_at: str | None = None
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


def count_rows(project: Project, migration: Migration, step: Step) -> int:
    """Render every row of ``step`` (raising on bad data) and return how many there are.

    Also proves the keys unique without holding them: a fixed-size Bloom
    filter flags possible repeats, and only if there are any a second pass
    collects the exact rows of the flagged keys.
    """
    bloom = bytearray(_BLOOM_BITS // 8)
    suspects: set[str] = set()
    count = 0
    for row in iter_rows(project, migration, step):
        count += 1
        key = row.key
        # Double hashing with the interpreter's string hash: stable within this
        # process, which is all one pass needs; several times cheaper than blake2b.
        h1 = hash(key)
        h2 = hash(key + "\0") | 1
        seen = True
        for i in range(_BLOOM_K):
            bit = (h1 + i * h2) & _BLOOM_MASK
            byte = bit >> 3
            mask = 1 << (bit & 7)
            current = bloom[byte]
            if not current & mask:
                seen = False
                bloom[byte] = current | mask
        if seen:
            suspects.add(key)
    if suspects:
        _report_duplicate_keys(project, migration, step, suspects)
    return count


def _report_duplicate_keys(
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
    chunk_size = step.chunk_size or project.config.runner.chunk_size
    records: int | None = None
    chunks: int | None = None
    if count:
        if step.source is not None:
            records = count_rows(project, migration, step)
            chunks = math.ceil(records / chunk_size)
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
        source=step.source.path if step.source is not None else None,
        records=records,
        chunks=chunks,
        chunk_size=chunk_size,
        reversible=step.reversible,
        depends_on=list(step.depends_on),
        references=list(step.references),
    )


def compile_plan(
    project: Project,
    applied: Mapping[int, str] | None = None,
    ledger_position: str | None = None,
    *,
    created_at: str | None = None,
) -> Plan:
    """Compile ``project`` into a :class:`Plan`.

    ``applied`` maps versions recorded as applied in the ledger to their
    checksums. Pending and drifted migrations have their rows rendered and
    counted; applied ones are listed without counting (``records`` is None).
    """
    applied = dict(applied or {})
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
                status=status,
                reversible=migration.reversible,
                records=sum(s.records or 0 for s in counted) if counted else None,
                chunks=sum(s.chunks or 0 for s in counted) if counted else None,
                steps=steps,
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
        migrations=migrations,
        drift=drift,
    )


__all__ = [
    "PLAN_FORMAT",
    "DriftEntry",
    "Plan",
    "PlanMigration",
    "PlanStep",
    "PlanTarget",
    "compile_plan",
    "count_rows",
    "ledger_position_of",
]
