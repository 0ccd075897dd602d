"""What apply and rollback return (and what ``--json`` prints), and their failure error.

Plain dataclasses with a ``to_dict`` so the CLI prints them as one JSON
object or a summary table; :class:`RunFailed` carries the partial result of a
failed run so the CLI can still show what was done before the failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zenoo_etl.errors import MigrationFailed
from zenoo_etl.runner.drift import Drift
from zenoo_etl.runner.progress import StepCounts
from zenoo_etl.runner.tuning import Tuner


@dataclass
class StepResult:
    """One step of one run."""

    step: str
    model: str
    action: str
    counts: StepCounts = field(default_factory=StepCounts)
    records: int = 0
    seconds: float = 0.0
    drift: Drift = field(default_factory=Drift)  # rollback: records gone / changed since apply
    reject_file: str | None = None  # on_error = "reject": where the rejected rows were written
    tuner: Tuner | None = None  # apply: the chunk size and calls in flight it chose

    def tuning(self) -> dict[str, Any]:
        """The chunk size and calls in flight the step ended with, and how often they
        changed (``chunk_size = "auto"``, :mod:`.tuning`)."""
        if self.tuner is None:
            return {}
        return {
            "chunk_size_final": self.tuner.size,
            "concurrency_final": self.tuner.concurrency,
            "tuning_changes": len(self.tuner.changes),
        }

    def to_dict(self) -> dict[str, Any]:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        checks: dict[str, Any] = {}
        if self.action == "rollback":
            checks = {
                "skipped_missing": {
                    "count": len(self.drift.missing),
                    "ids": sorted(self.drift.missing),
                },
                "changed_since_apply": [c.to_dict() for c in self.drift.changed],
            }
        return {
            "id": self.step,
            "model": self.model,
            "action": self.action,
            "records": self.records,
            **self.counts.as_dict(),
            "seconds": round(self.seconds, 3),
            "records_per_second": round(rate, 1),
            **self.tuning(),
            **({"reject_file": self.reject_file} if self.reject_file else {}),
            **checks,
        }


@dataclass
class MigrationResult:
    """One migration of one run: ``status`` is applied / skipped / failed / rolled_back, or
    applied_with_rejects (every row applied but those in the steps' reject files)."""

    version: int
    name: str
    file: str
    status: str
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reconciled: int = 0  # records of an interrupted run adopted before the steps ran

    def totals(self) -> StepCounts:
        total = StepCounts()
        for step in self.steps:
            total.add(step.counts)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "file": self.file,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "counts": self.totals().as_dict(),
            "reconciled": self.reconciled,
            "steps": [s.to_dict() for s in self.steps],
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class RunResult:
    """A whole apply or rollback run."""

    command: str
    target: str
    migrations: list[MigrationResult] = field(default_factory=list)
    seconds: float = 0.0
    ok: bool = True
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # apply: seconds spent before the first write on the preflight (validate's
    # checks) and on looking up records the ledger does not know (None: not run)
    checks: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": self.command,
            "target": self.target,
            "seconds": round(self.seconds, 3),
            **({"checks": {k: round(v, 3) for k, v in self.checks.items()}} if self.checks else {}),
            "migrations": [m.to_dict() for m in self.migrations],
            "warnings": list(self.warnings),
            **({"error": {"message": self.error, "exit_code": 1}} if self.error else {}),
        }


ApplyResult = RunResult
RollbackResult = RunResult


class RunFailed(MigrationFailed):
    """A migration failed (exit 1); ``result`` tells what was done before."""

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


__all__ = [
    "ApplyResult",
    "MigrationResult",
    "RollbackResult",
    "RunFailed",
    "RunResult",
    "StepResult",
]
