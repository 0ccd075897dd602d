"""The target schema ``validate`` checks against: fetched, cached, or the sandbox's.

Cache: ``.zenoo/schema/<target>.json`` holding ``{"models": {model: {field:
attrs} | null}}`` (null: the model does not exist on the target). Real
targets are read with ``fields_get`` (plus ``default_get`` on required
fields, so a required field with a default is not reported as missing) only
for models not cached yet, or all of them with ``refresh``. Sandbox targets
use ``zenoo_etl.sandbox.schema()`` directly: no server needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.project import Project
from zenoo_etl.compiler.validate import Schema, models_used
from zenoo_etl.errors import ConfigError, ZenooError

ATTRIBUTES = ["type", "required", "readonly", "relation", "selection", "string"]
CACHE_FORMAT = 1


def cache_path(project: Project) -> Path:
    return project.root / ".zenoo" / "schema" / f"{project.target_name}.json"


def sandbox_schema() -> dict[str, Any]:
    """The embedded server's declared models, or a clear error when unavailable."""
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
    result = fn()
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
        full = sandbox_schema()
        return {model: full.get(model) for model in wanted}
    path = cache_path(project)
    cached = {} if refresh else read_cache(path)
    missing = [m for m in wanted if m not in cached]
    if missing:
        fetched = await fetch_schema(project, missing)
        cached.update(fetched)
        write_cache(path, cached)
    return {model: cached.get(model) for model in wanted}


async def fetch_schema(project: Project, models: Sequence[str]) -> dict[str, Any]:
    """``fields_get`` of each model on the real target (None for unknown models)."""
    try:
        from zenoo_etl.client import OdooError, ZenooClient
    except ImportError as exc:  # pragma: no cover - guarded while layers are being built
        raise ConfigError(f"validate --refresh needs the RPC client ({exc}).") from exc
    target = project.target
    password, api_key = target.credentials()
    runner = project.config.runner
    out: dict[str, Any] = {}
    async with ZenooClient(
        url=target.url,
        protocol=target.protocol,
        timeout=runner.timeout,
        retries=runner.retries,
        verify_tls=target.verify_tls,
        ca_bundle=target.ca_bundle_path,
    ) as client:
        await client.login(target.database, target.username, password, api_key=api_key)
        for model in models:
            try:
                fields = await client.fields_get(model, attributes=ATTRIBUTES)
            except OdooError as exc:
                if "doesn't exist" in str(exc) or "does not exist" in str(exc):
                    out[model] = None
                    continue
                raise
            required = [n for n, a in fields.items() if a.get("required")]
            if required:
                try:
                    defaults = await client.execute_kw(model, "default_get", [required])
                except ZenooError:
                    defaults = {}
                for name in defaults or {}:
                    if name in fields:
                        fields[name]["has_default"] = True
            out[model] = fields
    return out


__all__ = ["ATTRIBUTES", "cache_path", "fetch_schema", "load_schema", "read_cache", "write_cache"]
