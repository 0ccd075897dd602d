"""``zenoo-etl schema pull``: record a user's Odoo schema for an offline sandbox twin.

:func:`pull_schema` reads, over RPC, what the sandbox needs to serve the
models a project touches the way the user's own server does: for each model
(the ones named, their relational neighbours, and every custom ``x_`` model)
the full ``fields_get`` (custom ``x_`` fields and the installed modules'
selection values included), ``default_get``, how each required field gets a
value, the SQL constraints, ``_order``; and, only for models named with
``with_data``, their records under their external ids. The result has the
format of the bundled snapshots (:mod:`zenoo_etl.sandbox.snapshot`); a
sandbox started with it serves those models over the bundled snapshot of the
same version (``serve_sandbox(schema_file=...)``, ``zenoo-etl sandbox
--schema``).

Never recorded: binary fields, passwords, tokens, keys and secrets, and no
record of any model not named in ``with_data``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from zenoo_etl.errors import ZenooError

FORMAT = 1
_SECRET = re.compile(r"password|passwd|secret|token|api_?key|totp|signup", re.I)
_NEIGHBOUR_TYPES = ("many2one", "one2many", "many2many")


class Client(Protocol):
    async def execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any: ...


async def _default_get(client: Client, model: str, names: list[str]) -> dict[str, Any]:
    try:
        answer = await client.execute_kw(model, "default_get", [names], {})
    except ZenooError as exc:
        if "TypeError" not in str(getattr(exc, "odoo_name", "") or exc):
            return {}
        try:
            answer = await client.execute_kw(model, "default_get", [[], names], {})
        except ZenooError:
            return {}
    return dict(answer) if isinstance(answer, dict) else {}


def _required_how(
    name: str, desc: dict[str, Any], defaults: dict[str, Any], inherits: dict[str, str]
) -> str:
    if desc.get("type") in ("one2many", "many2many"):
        return "x2many"
    if name in inherits.values():
        return "inherits"
    if desc.get("depends") or desc.get("related"):
        return "compute"
    if name in defaults:
        value = defaults[name]
        return "default" if value not in (False, None, "") or desc["type"] == "boolean" else (
            "default_empty"
        )  # fmt: skip
    return "caller"


async def _models_info(client: Client, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    rows = await client.execute_kw(
        "ir.model",
        "search_read",
        [[["model", "in", sorted(set(names))]]],
        {"fields": ["model", "name", "state", "transient", "order"]},
    )
    return {row["model"]: row for row in rows}


async def _custom_models(client: Client) -> list[str]:
    rows = await client.execute_kw(
        "ir.model", "search_read", [[["state", "=", "manual"]]], {"fields": ["model"]}
    )
    return [row["model"] for row in rows]


async def _field_meta(client: Client, model: str) -> dict[str, dict[str, Any]]:
    rows = await client.execute_kw(
        "ir.model.fields",
        "search_read",
        [[["model", "=", model], ["ttype", "in", ["many2one", "many2many"]]]],
        {"fields": ["name", "relation_table", "column1", "column2", "on_delete"]},
    )
    meta = {}
    for row in rows:
        entry = {k: row[k] for k in ("relation_table", "column1", "column2", "on_delete")}
        meta[row["name"]] = {k: v for k, v in entry.items() if v}
    return meta


async def _constraints(client: Client, model: str) -> list[dict[str, Any]]:
    try:
        rows = await client.execute_kw(
            "ir.model.constraint",
            "search_read",
            [[["model.model", "=", model], ["type", "in", ["u", "i"]]]],
            {"fields": ["name", "type", "definition", "message"]},
        )
    except ZenooError:
        return []  # not readable: the sandbox then has no SQL constraint for the model
    return [
        {"name": r["name"], "type": r["type"], "definition": r["definition"] or "",
         "message": r.get("message") or ""}
        for r in rows
    ]  # fmt: skip


async def _describe(client: Client, model: str, info: dict[str, Any]) -> dict[str, Any]:
    fields = await client.execute_kw(model, "fields_get", [], {})
    order = list(fields)
    inherits: dict[str, str] = {}  # not visible over RPC: the bundled snapshot knows them
    defaults = await _default_get(client, model, [n for n in order if n != "id"])
    meta = await _field_meta(client, model)
    orm = {}
    for name, desc in fields.items():
        facts: dict[str, Any] = {"store": bool(desc.get("store")), "type": desc.get("type")}
        if desc.get("related"):
            facts["related"] = desc["related"]
        elif desc.get("depends"):
            facts["compute"] = "(recorded by schema pull)"
        if name in meta and meta[name].get("relation_table"):
            facts.update(
                relation=meta[name]["relation_table"],
                column1=meta[name].get("column1"),
                column2=meta[name].get("column2"),
            )
        orm[name] = facts
    how = {
        name: _required_how(name, desc, defaults, inherits)
        for name, desc in fields.items()
        if desc.get("required")
    }
    refs = {
        name: value
        for name, value in defaults.items()
        if fields.get(name, {}).get("type") == "many2one" and value
    }
    return {
        "fields": fields,
        "field_order": order,
        "defaults": defaults,
        "defaults_refs": refs,
        "required_how": how,
        "orm": orm,
        "field_meta": meta,
        "constraints": await _constraints(client, model),
        "default_get_needs_ids": False,
    }


async def _records(client: Client, model: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
    names = [
        n
        for n, d in fields.items()
        if d.get("store")
        and d.get("type") not in ("binary", "one2many")
        and not _SECRET.search(n)
        and n not in ("create_uid", "create_date", "write_uid", "write_date")
    ]
    rows = await client.execute_kw(
        model, "search_read", [[]], {"fields": names, "context": {"active_test": False}}
    )
    xmlids = await client.execute_kw(
        "ir.model.data",
        "search_read",
        [[["model", "=", model]]],
        {"fields": ["module", "name", "res_id", "noupdate"]},
    )
    by_id: dict[int, list[dict[str, Any]]] = {}
    for row in xmlids:
        by_id.setdefault(row["res_id"], []).append(row)
    out = []
    for row in rows:
        known = by_id.get(row["id"], [])
        record: dict[str, Any] = {
            "id": row["id"],
            "xmlid": f"{known[0]['module']}.{known[0]['name']}" if known else None,
            "noupdate": bool(known and known[0]["noupdate"]),
        }
        for name in names:
            value = row.get(name)
            if fields[name]["type"] == "many2one":
                value = value[0] if value else None
            record[name] = value
        out.append(record)
    return out


async def pull_schema(
    client: Client,
    version: dict[str, Any],
    models: Iterable[str],
    with_data: Iterable[str] = (),
) -> dict[str, Any]:
    """The snapshot of ``models`` (+ neighbours, custom models) on the connected server.

    ``version`` is the server's ``common.version`` answer.
    """
    wanted = list(dict.fromkeys([*models, *with_data, *await _custom_models(client)]))
    known = await _models_info(client, wanted)
    missing = [m for m in wanted if m not in known]
    if missing:
        from zenoo_etl.errors import ConfigError

        raise ConfigError(
            f"schema pull: the target has no model {', '.join(map(repr, missing))}; "
            "check the model names (zenoo-etl validate lists the ones the project uses)."
        )
    schema: dict[str, Any] = {}
    for model in wanted:
        schema[model] = await _describe(client, model, known[model])
    neighbours = {
        desc["relation"]
        for model in list(schema)
        for desc in schema[model]["fields"].values()
        if desc.get("type") in _NEIGHBOUR_TYPES and desc.get("relation")
    } - set(schema)
    neighbour_info = await _models_info(client, neighbours)
    for model, info in sorted(neighbour_info.items()):
        if not info.get("transient"):
            schema[model] = await _describe(client, model, info)
    infos = {**known, **neighbour_info}
    reference = {}
    for model in with_data:
        reference[model] = {"records": await _records(client, model, schema[model]["fields"])}
    return {
        "format": FORMAT,
        "common_version": version,
        "pulled": True,
        "models": {
            name: {
                "name": info.get("name") or name,
                "transient": bool(info.get("transient")),
                "abstract": False,
                "state": info.get("state") or "base",
                "order": info.get("order") or "id",
                "rec_name": "name" if "name" in schema.get(name, {}).get("fields", {}) else None,
                "inherits": {},
                "table": name.replace(".", "_"),
            }
            for name, info in sorted(infos.items())
        },
        "schema": dict(sorted(schema.items())),
        "reference": reference,
    }


__all__ = ["FORMAT", "pull_schema"]
