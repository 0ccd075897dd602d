"""compiler layer: migration files → checked steps → a frozen :class:`Plan`.

Modules: ``config`` (zenoo.toml), ``discover`` (file names and order),
``render`` (Jinja, native values), ``sources`` (CSV/JSON/JSONL/inline rows),
``steps`` (the migration file format), ``project`` (loading, row streaming,
checksums), ``plan`` (the Plan). No I/O to Odoo happens here.
"""

from __future__ import annotations

from zenoo_etl.compiler.config import (
    LedgerConfig,
    ProjectConfig,
    ProjectSection,
    RunnerConfig,
    TargetConfig,
    load_config,
)
from zenoo_etl.compiler.plan import (
    DriftEntry,
    Plan,
    PlanMigration,
    PlanStep,
    PlanTarget,
    compile_plan,
    ledger_position_of,
)
from zenoo_etl.compiler.project import Project, iter_rows, load_project, migration_checksum
from zenoo_etl.compiler.steps import Migration, Step, UndoSpec
from zenoo_etl.compiler.values import FieldValue, Ref, Row, SearchRef, XmlidRef

__all__ = [
    "DriftEntry",
    "FieldValue",
    "LedgerConfig",
    "Migration",
    "Plan",
    "PlanMigration",
    "PlanStep",
    "PlanTarget",
    "Project",
    "ProjectConfig",
    "ProjectSection",
    "Ref",
    "Row",
    "RunnerConfig",
    "SearchRef",
    "Step",
    "TargetConfig",
    "UndoSpec",
    "XmlidRef",
    "compile_plan",
    "iter_rows",
    "ledger_position_of",
    "load_config",
    "load_project",
    "migration_checksum",
]
