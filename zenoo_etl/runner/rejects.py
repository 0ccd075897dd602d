"""Reject files: rows Odoo refuses are set aside, the rest of the step is applied.

A step with ``on_error = "reject"`` has independent rows. When a chunk fails
with an error that belongs to its rows (Odoo refused the call, ``load()``
reported a row, a reference or value of a row did not resolve), the chunk is
bisected and each half retried, down to single rows: only the rows that fail
alone are rejected. Nothing of a failed call was kept by Odoo (one call is
one transaction), and every action records its ledger entries around its own
call, so retrying halves applies each good row exactly once.

Errors that say nothing about a row (the connection is gone, an answer was
lost, the ledger failed) are never turned into rejects: they stop the step.

Rejected rows are written, with their error, to
``.zenoo/rejects/<migration>/<step>.csv`` (the original source cells after
``row``, ``line``, ``key``, ``field`` and ``error``); the file is replaced on
every run of the step and removed when nothing is rejected, so after fixing
the data a rerun, which skips the rows already applied, applies exactly the
rows that were rejected.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenoo_etl.compiler import Migration, Project, Step
from zenoo_etl.compiler.sources import iter_source
from zenoo_etl.compiler.values import Row

REJECTS_DIR = Path(".zenoo") / "rejects"


@dataclass(frozen=True)
class Rejected:
    """One row Odoo (or the resolver) refused, alone."""

    index: int
    line: int | None
    key: str
    field: str | None
    error: str


@dataclass
class RejectSink:
    """The rejected rows of one step in one run."""

    rows: list[Rejected] = field(default_factory=list)

    def add(self, row: Row, field_name: str | None, error: str) -> None:
        self.rows.append(Rejected(row.index, row.line, row.key, field_name, error))

    def __len__(self) -> int:
        return len(self.rows)


def reject_path(project: Project, migration: Migration, step: Step) -> Path:
    """``.zenoo/rejects/<migration file stem>/<step>.csv`` under the project root."""
    stem = migration.path.name.split(".", 1)[0]
    return project.root / REJECTS_DIR / stem / f"{step.id}.csv"


def write_rejects(project: Project, migration: Migration, step: Step, sink: RejectSink) -> Path:
    """Write (or, with nothing rejected, remove) the step's reject file; returns its path.

    The source is streamed once more to copy the rejected rows' original cells.
    """
    path = reject_path(project, migration, step)
    if not sink.rows:
        path.unlink(missing_ok=True)
        return path
    by_index = {r.index: r for r in sink.rows}
    cells: dict[int, dict[str, Any]] = {}
    columns: list[str] = []
    if step.source is not None:
        for index, _line, raw in iter_source(step.source, project.root, migration.path):
            if index in by_index:
                cells[index] = raw
                columns.extend(c for c in raw if c not in columns)
                if len(cells) == len(by_index):
                    break
    path.parent.mkdir(parents=True, exist_ok=True)
    fixed = ["row", "line", "key", "field", "error"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*fixed, *columns])
        for reject in sorted(sink.rows, key=lambda r: r.index):
            raw = cells.get(reject.index, {})
            writer.writerow(
                [
                    reject.index + 1,
                    "" if reject.line is None else reject.line,
                    reject.key,
                    reject.field or "",
                    reject.error,
                    *("" if raw.get(c) is None else raw.get(c) for c in columns),
                ]
            )
    return path


__all__ = ["REJECTS_DIR", "RejectSink", "Rejected", "reject_path", "write_rejects"]
