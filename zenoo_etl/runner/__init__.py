"""The runner: apply a Plan to a target, roll back, resume, reconcile.

Public surface (see docs/dev/architecture.md, section runner)::

    result = await apply(project, plan=None, to_version=None, progress=reporter, yes=True)
    result = await rollback(project, to_version=0, last=None, force=False, progress=reporter)

Modules: ``session`` (lock, sandbox, client), ``pipeline`` (chunks in
flight), ``actions`` (what a chunk does per action), ``identity`` and
``reconcile`` (exactly-once after lost answers), ``resolve`` (references in
bulk), ``coerce`` (values per field type), ``rollback``, ``progress``,
``results``.
"""

from __future__ import annotations

from zenoo_etl.runner.apply import apply
from zenoo_etl.runner.progress import NullProgress, ProgressReporter, RecordingProgress, StepCounts
from zenoo_etl.runner.results import MigrationResult, RunFailed, RunResult, StepResult
from zenoo_etl.runner.rollback import rollback

__all__ = [
    "MigrationResult",
    "NullProgress",
    "ProgressReporter",
    "RecordingProgress",
    "RunFailed",
    "RunResult",
    "StepCounts",
    "StepResult",
    "apply",
    "rollback",
]
