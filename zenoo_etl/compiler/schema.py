"""The target schema ``validate`` checks against: fetched, cached, or the sandbox's.

Cache: ``.zenoo/schema/<target>.json`` holding ``{"models": {model: {field:
attrs} | null}}`` (null: the model does not exist on the target). Real
targets are read with ``fields_get`` only for models not cached yet, or all
of them with ``refresh``. Sandbox targets use ``zenoo_etl.sandbox.schema()``
directly: no server needed.

``fields_get`` calls many fields ``required`` that a ``create()`` never has
to give, so each required field the ORM fills is marked before ``validate``
sees it: ``has_default`` when ``default_get`` answers a value for it, and
``filled`` (how) when it is a one2many/many2many (no column), a stored
computed or related field (``depends``), or listed in ``orm_facts.json``
(``_inherits`` links, fields ``create()`` fills; recorded from real Odoo
18.0 and 19.0 by ``scripts/make_orm_facts.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.connect import login, open_client
from zenoo_etl.compiler.project import Project
from zenoo_etl.compiler.validate import Schema, line_models, models_used
from zenoo_etl.errors import ConfigError, ZenooError

ATTRIBUTES = ["type", "required", "readonly", "relation", "selection", "string", "depends", "store"]
CACHE_FORMAT = 2  # 2: required fields carry has_default / filled as described above


@cache
def orm_facts() -> dict[str, dict[str, dict[str, str]]]:
    """``{series: {model: {field: how}}}``: required fields real Odoo fills on create."""
    text = resources.files("zenoo_etl.compiler").joinpath("orm_facts.json").read_text("utf-8")
    facts: dict[str, dict[str, dict[str, str]]] = json.loads(text)
    return facts


def _facts_for(series: str | None) -> dict[str, dict[str, str]]:
    """The facts of ``series``, else of the nearest recorded series (or none)."""
    facts = orm_facts()
    if not series:
        return {}
    if series in facts:
        return facts[series]

    def distance(known: str) -> float:
        return abs(float(known) - float(series))

    return facts[min(facts, key=distance)]


def mark_filled(model: str, fields: dict[str, Any], series: str | None) -> None:
    """Mark each required field of ``model`` that Odoo fills itself with ``filled``."""
    known = _facts_for(series).get(model, {})
    for name, attrs in fields.items():
        if not attrs.get("required") or attrs.get("filled"):
            continue
        how = known.get(name)
        if how is None and attrs.get("type") in ("one2many", "many2many"):
            how = "x2many"
        elif how is None and attrs.get("depends"):
            how = "compute"
        if how is not None:
            attrs["filled"] = how


def cache_path(project: Project) -> Path:
    return project.root / ".zenoo" / "schema" / f"{project.target_name}.json"


def sandbox_schema(version: str = "18.0", schema_file: Path | None = None) -> dict[str, Any]:
    """The embedded server's models in ``version``, or a clear error when unavailable.

    ``schema_file``: the project's pulled schema (``schema/odoo.json``, ``zenoo-etl
    schema pull``), whose models are served as the user's server describes them.
    """
    try:
        from zenoo_etl import sandbox
    except ImportError as exc:  # pragma: no cover - the package always exists
        raise ConfigError(f"the embedded sandbox cannot be imported ({exc}).") from exc
    fn = getattr(sandbox, "schema", None)
    if fn is None:
        raise ConfigError(
            "validate: this build of zenoo-etl has no sandbox schema "
            "(zenoo_etl.sandbox.schema is missing); validate against a real target instead."
        )
    result = fn(version) if schema_file is None else fn(version, schema_file)
    if not isinstance(result, dict):
        raise ConfigError("validate: zenoo_etl.sandbox.schema() did not return a dict.")
    return result


def read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: the schema cache is unreadable ({exc}); rerun validate with --refresh."
        ) from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    return models


def write_cache(path: Path, models: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CACHE_FORMAT, "models": dict(sorted(models.items()))}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


async def load_schema(project: Project, *, refresh: bool = False) -> Schema:
    """The schema for every model the project uses (sandbox, cache, or the server)."""
    wanted = models_used(project)
    if project.target.is_sandbox:
        from zenoo_etl.sandbox.snapshot import project_schema_file, pulled_version

        schema_file = project_schema_file(project.root)
        version = pulled_version(schema_file) if schema_file else project.target.series
        full = sandbox_schema(version or "18.0", schema_file)
        picked = {model: full.get(model) for model in wanted}
        for model in line_models(project, picked):  # the lines' models, named by the headers'
            picked[model] = full.get(model)
        for model, fields in picked.items():
            if fields is not None:
                mark_filled(model, fields, project.target.series)
        return picked
    path = cache_path(project)
    cached = {} if refresh else read_cache(path)
    for _round in range(2):  # then the lines' models, which the headers' schema names
        missing = [m for m in wanted if m not in cached]
        if missing:
            fetched = await fetch_schema(project, missing)
            cached.update(fetched)
            write_cache(path, cached)
        extra = line_models(project, {model: cached.get(model) for model in wanted})
        if not extra:
            break
        wanted = [*wanted, *extra]
    return {model: cached.get(model) for model in wanted}


async def fetch_schema(project: Project, models: Sequence[str]) -> dict[str, Any]:
    """``fields_get`` of each model on the real target (None for unknown models)."""
    target = project.target
    out: dict[str, Any] = {}
    async with AsyncExitStack() as stack:
        client = await open_client(stack, target, project.config.runner)
        await login(client, project)
        version = client.server_version
        series = f"{version[0]}.{version[1]}" if version else target.version
        for model in models:
            out[model] = await describe_model(client, model, series)
    return out


async def describe_model(client: Any, model: str, series: str | None) -> dict[str, Any] | None:
    """``fields_get`` of ``model`` as validate needs it (None: no such model).

    ``client`` is anything with ``execute_kw(model, method, args, kwargs)``: the
    RPC client, or the runner's target (apply's preflight uses its connection).
    Required fields get ``has_default`` (from ``default_get``) and ``filled``.
    """
    from zenoo_etl.client import OdooError

    try:
        fields = await client.execute_kw(model, "fields_get", [], {"attributes": ATTRIBUTES})
    except OdooError as exc:
        if "doesn't exist" in str(exc) or "does not exist" in str(exc):
            return None
        raise
    fields = dict(fields)
    required = [n for n, a in fields.items() if a.get("required")]
    if required:
        defaults = await _default_get(client, model, required)
        for name, value in defaults.items():
            attrs = fields.get(name)
            # False is a value for a boolean and "nothing" for the rest
            if attrs is not None and (
                value not in (False, None, "") or attrs.get("type") == "boolean"
            ):
                attrs["has_default"] = True
    mark_filled(model, fields, series)
    return fields


async def _default_get(client: Any, model: str, names: list[str]) -> Mapping[str, Any]:
    """``default_get`` of ``names``, called the way the model accepts it.

    Some models override ``default_get`` without ``@api.model`` (seven in
    Odoo 18.0: product.template, sale.order.line, account.move.line ...); over
    RPC they take ``default_get([], fields)`` and answer the plain call with a
    ``TypeError``. Any other failure is reported, never read as "no defaults":
    that would turn every defaulted required field into a false alarm.
    """
    from zenoo_etl.client import OdooError

    try:
        answer = await client.execute_kw(model, "default_get", [names])
    except OdooError as exc:
        if "TypeError" not in (exc.odoo_name or ""):
            raise _default_get_failed(model, exc) from exc
        try:
            answer = await client.execute_kw(model, "default_get", [[], names])
        except ZenooError as again:
            raise _default_get_failed(model, again) from again
    return answer if isinstance(answer, dict) else {}


def _default_get_failed(model: str, exc: ZenooError) -> ConfigError:
    return ConfigError(
        f"validate: reading the defaults of {model} (default_get) failed on the target: "
        f"{exc}. Without them every required field with a default would be reported "
        "as missing; fix the access (the user needs read rights on the model) and rerun."
    )


__all__ = [
    "ATTRIBUTES",
    "cache_path",
    "fetch_schema",
    "load_schema",
    "mark_filled",
    "orm_facts",
    "read_cache",
    "write_cache",
]
