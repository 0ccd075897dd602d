"""The progress protocol the runner reports through, and a silent default.

The runner never prints. It calls a :class:`ProgressReporter` at a handful of
moments (migration and step boundaries, chunk completions, warnings); the CLI
implements it with rich progress bars or plain lines, tests with a recorder.
Every call is cheap and synchronous so reporting never slows a chunk down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class StepCounts:
    """What one step did to the target (per run)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    archived: int = 0  # a delete step with archive = true (active set to false)
    called: int = 0
    skipped: int = 0  # already done by an earlier (interrupted) run
    adopted: int = 0  # found by reconciliation after a lost answer
    filtered: int = 0  # source rows left out by `when` or a `missing = "skip-row"` cell
    lines: int = 0  # one2many lines created with their headers ([steps.lines])
    rejected: int = 0  # rows Odoo refused, set aside to a reject file (on_error = "reject")

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "archived": self.archived,
            "called": self.called,
            "skipped": self.skipped,
            "adopted": self.adopted,
            "filtered": self.filtered,
            "lines": self.lines,
            "rejected": self.rejected,
        }

    def add(self, other: StepCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.archived += other.archived
        self.called += other.called
        self.skipped += other.skipped
        self.adopted += other.adopted
        self.filtered += other.filtered
        self.lines += other.lines
        self.rejected += other.rejected


class ProgressReporter(Protocol):
    """Receives the runner's progress events; implementations must be fast."""

    def migration_started(self, version: int, name: str, steps: int) -> None: ...

    def migration_finished(self, version: int, name: str, status: str) -> None: ...

    def step_started(self, step: str, model: str, action: str, total: int | None) -> None: ...

    def step_advanced(self, step: str, n: int) -> None: ...

    def step_finished(self, step: str, counts: StepCounts, seconds: float) -> None: ...

    def step_failed(self, step: str, counts: StepCounts, seconds: float, reason: str) -> None:
        """Instead of ``step_finished`` for a step that did not complete: ``reason`` is
        ``failed`` (an error; ``migration_finished`` follows with the outcome) or
        ``stopped`` (Ctrl-C / SIGTERM; the run resumes from there). ``counts`` is what
        the step did before."""
        ...

    def warning(self, message: str) -> None: ...


class NullProgress:
    """A reporter that ignores everything (library default)."""

    def migration_started(self, version: int, name: str, steps: int) -> None:
        return None

    def migration_finished(self, version: int, name: str, status: str) -> None:
        return None

    def step_started(self, step: str, model: str, action: str, total: int | None) -> None:
        return None

    def step_advanced(self, step: str, n: int) -> None:
        return None

    def step_finished(self, step: str, counts: StepCounts, seconds: float) -> None:
        return None

    def step_failed(self, step: str, counts: StepCounts, seconds: float, reason: str) -> None:
        return None

    def warning(self, message: str) -> None:
        return None


@dataclass
class RecordingProgress:
    """A reporter that keeps every event; handy in tests and for summaries."""

    events: list[tuple[str, object]] = field(default_factory=list)

    def migration_started(self, version: int, name: str, steps: int) -> None:
        self.events.append(("migration_started", (version, name, steps)))

    def migration_finished(self, version: int, name: str, status: str) -> None:
        self.events.append(("migration_finished", (version, name, status)))

    def step_started(self, step: str, model: str, action: str, total: int | None) -> None:
        self.events.append(("step_started", (step, model, action, total)))

    def step_advanced(self, step: str, n: int) -> None:
        self.events.append(("step_advanced", (step, n)))

    def step_finished(self, step: str, counts: StepCounts, seconds: float) -> None:
        self.events.append(("step_finished", (step, counts.as_dict())))

    def step_failed(self, step: str, counts: StepCounts, seconds: float, reason: str) -> None:
        self.events.append(("step_failed", (step, reason, counts.as_dict())))

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))


__all__ = ["NullProgress", "ProgressReporter", "RecordingProgress", "StepCounts"]
