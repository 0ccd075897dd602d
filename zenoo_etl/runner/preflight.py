"""``apply``'s preflight: ``validate``'s checks on the pending migrations before the first write.

What ``validate`` can know without writing (every field exists, every row
renders, values have the field's type, references have the right shape,
required fields are set, keys are unique) is checked here against the
target's own ``fields_get``, read through the run's connection. A problem
stops the run before anything is sent (exit 2), instead of after some
chunks were created and had to be rolled back. ``apply --no-preflight``
skips it for huge trusted runs (its cost: ``bench/preflight_cost.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from zenoo_etl.compiler import Migration
from zenoo_etl.compiler.schema import describe_model
from zenoo_etl.compiler.validate import (
    Problem,
    Schema,
    line_models,
    models_used,
    validate_project,
)
from zenoo_etl.errors import UsageError
from zenoo_etl.runner.odoo import OdooTarget
from zenoo_etl.runner.session import Session

_SHOWN = 10  # problems listed in the message; `validate` lists them all


class PreflightError(UsageError):
    """The pending migrations have problems ``validate`` finds (exit 2); nothing was sent."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class _ModelCalls:
    """``execute_kw`` of model-level methods over the run's :class:`OdooTarget`."""

    def __init__(self, odoo: OdooTarget) -> None:
        self._odoo = odoo

    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        return await self._odoo.call(model, method, [], list(args), dict(kwargs or {}))


async def target_schema(session: Session, models: list[str]) -> Schema:
    """``fields_get`` (with what validate needs) of ``models`` on the run's target."""
    series = session.project.target.series
    calls = _ModelCalls(session.odoo)
    return {model: await describe_model(calls, model, series) for model in models}


async def preflight(
    session: Session,
    todo: list[Migration],
    seen_keys: dict[str, set[str]] | None = None,
    row_counts: dict[str, int] | None = None,
) -> None:
    """Raise :class:`PreflightError` listing what ``validate`` finds in ``todo``.

    ``seen_keys`` receives, per step whose rows were all checked clean, the keys
    that may repeat (see :func:`validate_project`): :func:`.foreign.find_foreign`
    then proves its keys unique without reading its rows again. ``row_counts``
    receives the number of source rows of each step whose rows were all read.
    """
    if not todo:
        return
    project = dataclasses.replace(session.project, migrations=list(todo))
    schema = dict(await target_schema(session, models_used(project)))
    schema.update(await target_schema(session, line_models(project, schema)))
    # Rows of an on_error = "reject" step that validate finds wrong are what the run
    # sets aside to the reject file; they do not stop the run. Keys are proven unique
    # on this same row pass (seen_keys), else on runner.foreign's, never on a third.
    rejecting = {s.id for m in todo for s in m.steps if s.on_error == "reject"}
    problems = [
        p
        for p in validate_project(
            project, schema, keys=False, seen_keys=seen_keys, row_counts=row_counts
        )
        if not (p.step in rejecting and (p.row is not None or p.line is None))
    ]
    if not problems:
        return
    shown = "\n".join(f"  {p}" for p in problems[:_SHOWN])
    more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    raise PreflightError(
        f"Preflight found {len(problems)} problem(s) in the pending migrations; nothing was "
        f"written:\n{shown}{more}\nFix them ('zenoo-etl validate' lists every one), then run "
        "apply again ('--no-preflight' skips this check, for huge trusted runs).",
        problems,
    )


__all__ = ["PreflightError", "preflight", "target_schema"]
