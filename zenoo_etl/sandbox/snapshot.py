"""The recorded schema of a real Odoo, turned into sandbox model declarations.

A snapshot (``data/odoo-<version>.json.gz``, built by
``scripts/build_sandbox_snapshot.py`` from a recording made on a real server
with contacts, sale, purchase, account, stock, crm, project and hr installed)
holds, for every concrete model, the exact ``fields_get`` answer, the
``default_get`` values (relational ones as external ids), how each required
field gets its value (``required_how``), the SQL constraints, ``_order``,
``_rec_name`` and ``_inherits``; and the reference records of a fresh
database under their external ids. :func:`generic_models` makes one
:class:`~zenoo_etl.sandbox.fields.ModelDef` per concrete model from it; the
hand-written behaviours of :mod:`zenoo_etl.sandbox.models` are layered on top.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenoo_etl.errors import UsageError
from zenoo_etl.sandbox.fields import Field, ModelDef, XmlidDefault

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

DATA = Path(__file__).with_name("data")
VERSIONS = ("18.0", "19.0")

#: field types the sandbox stores; others (none recorded so far) are read-only
_TYPES = {
    "char", "text", "html", "binary", "integer", "float", "monetary", "boolean", "date",
    "datetime", "selection", "many2one", "one2many", "many2many", "many2one_reference",
    "reference", "json", "properties", "properties_definition",
}  # fmt: skip
_UNIQUE = re.compile(r"^\s*unique\s*(?:index\s*)?\((?P<cols>[^)]*)\)\s*(?P<where>where .*)?$", re.I)
_CHECK = re.compile(r"^\s*check\s*(?P<expr>\(.*\))\s*$", re.I | re.S)


def snapshot_path(version: str) -> Path:
    return DATA / f"odoo-{version}.json.gz"


@lru_cache(maxsize=8)
def load_snapshot(version: str, schema_file: Path | None = None) -> dict[str, Any]:
    """The bundled snapshot of one Odoo version (parsed once per process), with the
    models of a pulled schema file (``zenoo-etl schema pull``) laid over it."""
    path = snapshot_path(version)
    if not path.is_file():
        raise UsageError(
            f"Sandbox version {version!r} has no recorded schema ({path} is missing); "
            f"use one of {', '.join(VERSIONS)}."
        )
    data: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    if schema_file is not None:
        data = merge_pulled(data, read_pulled(schema_file))
    return data


def read_pulled(schema_file: Path) -> dict[str, Any]:
    """A pulled schema file, or a clear error naming it."""
    try:
        pulled: Any = json.loads(schema_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"The schema file {schema_file} cannot be read: {exc}. Record it again with "
            "'zenoo-etl schema pull --target NAME'."
        ) from exc
    if not isinstance(pulled, dict) or not isinstance(pulled.get("schema"), dict):
        raise UsageError(
            f"The schema file {schema_file} is not a pulled schema (no 'schema' object). "
            "Record it again with 'zenoo-etl schema pull --target NAME'."
        )
    return pulled


#: where ``zenoo-etl schema pull`` writes a project's schema, relative to its root
PROJECT_SCHEMA = Path("schema") / "odoo.json"


def project_schema_file(root: Path) -> Path | None:
    """The project's pulled schema, when it has one."""
    path = root / PROJECT_SCHEMA
    return path.resolve() if path.is_file() else None


def pulled_version(schema_file: Path) -> str:
    """The Odoo series a pulled schema was recorded on (``18.0`` ...)."""
    serie = str(read_pulled(schema_file).get("common_version", {}).get("server_serie", ""))
    if serie not in VERSIONS:
        raise UsageError(
            f"The schema file {schema_file} was pulled from Odoo {serie or '(unknown)'}; the "
            f"sandbox serves {', '.join(VERSIONS)}."
        )
    return serie


def merge_pulled(base: dict[str, Any], pulled: dict[str, Any]) -> dict[str, Any]:
    """The bundled snapshot with the pulled models: their fields as the user's server
    describes them (custom ``x_`` fields, its modules' selection values); class facts
    RPC cannot see (``_inherits``, which fields are delegated) stay the bundled ones."""
    out = {**base, "models": dict(base["models"]), "schema": dict(base["schema"])}
    out["reference"] = {**base["reference"], **pulled.get("reference", {})}
    for name, info in pulled.get("models", {}).items():
        if name not in out["models"]:
            out["models"][name] = info
    for name, entry in pulled["schema"].items():
        known = base["schema"].get(name)
        if known is None:
            out["schema"][name] = entry
            continue
        merged = dict(known)
        merged["fields"] = entry["fields"]
        merged["field_order"] = entry.get("field_order") or list(entry["fields"])
        for key in ("defaults", "required_how", "orm", "field_meta", "defaults_refs"):
            mine = dict(known.get(key) or {})
            for field, value in (entry.get(key) or {}).items():
                if field not in known["fields"]:
                    mine[field] = value  # a field the bundled snapshot does not know
            merged[key] = mine
        merged["constraints"] = entry.get("constraints") or known.get("constraints") or []
        out["schema"][name] = merged
    return out


@lru_cache(maxsize=8)
def snapshot_digest(version: str, schema_file: Path | None = None) -> str:
    digest = hashlib.sha256(snapshot_path(version).read_bytes())
    if schema_file is not None:
        digest.update(schema_file.read_bytes())
    return digest.hexdigest()[:16]


def _today(env: Env) -> str:
    return env.now[:10]


def _now(env: Env) -> str:
    return env.now


def _current_user(env: Env) -> int:
    return env.uid


def _default(ftype: str, value: Any, ref: Any) -> Any:
    """The sandbox default for a recorded ``default_get`` value (None: no default)."""
    if ftype in ("one2many", "many2many"):
        return None  # command lists on ids of the recording database: left out
    if ftype == "date" and value:
        return _today
    if ftype == "datetime" and value:
        return _now
    if ftype == "many2one" and value:
        if ref == "base.user_admin":
            return _current_user
        if isinstance(ref, str):
            return XmlidDefault(ref)
        return value[0] if isinstance(value, list) else value
    if value is False and ftype != "boolean":
        return None
    return value


def _field(name: str, desc: dict[str, Any], orm: dict[str, Any], meta: dict[str, Any],
           default: Any, required_how: str | None) -> Field:  # fmt: skip
    ftype = desc["type"]
    store = bool(orm.get("store", desc.get("store", False))) and ftype in _TYPES
    selection = desc.get("selection")
    return Field(
        ftype,
        desc.get("string", name),
        required=bool(desc.get("required")),
        readonly=bool(desc.get("readonly")),
        selection=tuple((str(k), str(v)) for k, v in selection) if selection is not None else None,
        default=default,
        relation=desc.get("relation") or orm.get("comodel"),
        inverse_name=desc.get("relation_field") or orm.get("inverse_name"),
        relation_table=meta.get("relation_table") or orm.get("relation"),
        column1=meta.get("column1") or orm.get("column1"),
        column2=meta.get("column2") or orm.get("column2"),
        ondelete=meta.get("on_delete") or "set null",
        store=store,
        help=desc.get("help"),
        required_how=required_how,
        description=desc,
    )


def _constraints(
    table: str, rows: list[dict[str, Any]]
) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]:
    checks: list[tuple[str, str, str]] = []
    uniques: list[tuple[str, str, str]] = []
    for row in rows:
        definition = row.get("definition") or ""
        message = row.get("message") or ""
        unique = _UNIQUE.match(definition)
        check = _CHECK.match(definition)
        if unique:
            cols = ", ".join(f'"{c.strip()}"' for c in unique["cols"].split(","))
            where = f" {unique['where']}" if unique["where"] else ""
            uniques.append((row["name"], f'"{table}" ({cols}){where}', message))
        elif check:
            checks.append((row["name"], check["expr"], message))
    return tuple(checks), tuple(uniques)


def _sequence_code(fields: dict[str, Field], sequences: set[str], model: str) -> str | None:
    name = fields.get("name")
    if name is None or model not in sequences:
        return None
    return model if name.default in ("New", "/") else None


def _prefetched(recorded: dict[str, Any], orm: dict[str, Any]) -> frozenset[str]:
    """The many2one fields a create reads before its INSERT (see ModelDef.prefetched).

    Those a precomputed field or a properties field depends on: checked on the
    real servers, res.partner.parent_id (precomputed user_id) and
    product.template.categ_id (product_properties) fail with MissingError,
    res.partner.country_id and res.partner.bank.partner_id with the FK error.
    """
    out = set()
    for fname, desc in recorded.items():
        facts = orm.get(fname, {})
        if not facts.get("store") or not (facts.get("compute") or facts.get("related")):
            continue
        if not (facts.get("precompute") or desc.get("type") == "properties"):
            continue  # computed after the INSERT, when the FOREIGN KEY has already failed
        for dep in desc.get("depends") or ():
            head = dep.split(".", 1)[0]
            if recorded.get(head, {}).get("type") == "many2one":
                out.add(head)
    return frozenset(out)


def generic_models(version: str, schema_file: Path | None = None) -> dict[str, ModelDef]:
    """One declaration per concrete model of the snapshot, keyed by model name."""
    snap = load_snapshot(version, schema_file)
    infos = snap["models"]
    sequences = {
        r.get("code")
        for r in snap["reference"].get("ir.sequence", {}).get("records", [])
        if r.get("code")
    }
    out: dict[str, ModelDef] = {}
    for name, entry in snap["schema"].items():
        info = infos.get(name) or {}
        recorded = entry["fields"]
        orm = entry.get("orm") or {}
        meta = entry.get("field_meta") or {}
        defaults = entry.get("defaults") or {}
        refs = entry.get("defaults_refs") or {}
        how = entry.get("required_how") or {}
        fields: dict[str, Field] = {}
        for fname in entry.get("field_order") or list(recorded):
            desc = recorded.get(fname)
            if desc is None:
                continue
            facts = orm.get(fname, {})
            if facts.get("inherited"):
                continue  # delegated through _inherits: the parent model holds it
            default = _default(desc["type"], defaults[fname], refs.get(fname)) if (
                fname in defaults
            ) else None  # fmt: skip
            fields[fname] = _field(fname, desc, facts, meta.get(fname, {}), default, how.get(fname))
        for via in (info.get("inherits") or {}).values():
            if via in fields and not fields[via].store:
                # hr.employee -> hr.version (19.0) is computed (the current version);
                # the sandbox keeps the link in a column
                fields[via] = replace(fields[via], store=True)
        table = info.get("table") or name.replace(".", "_")
        checks, uniques = _constraints(table, entry.get("constraints") or [])
        rec_name = info.get("rec_name")
        mdef = ModelDef(
            name,
            info.get("name") or name,
            fields,
            order=info.get("order") or "id",
            rec_name=rec_name or "",
            inherits=dict(info.get("inherits") or {}),
            parent_field=info.get("parent_name") if info.get("parent_name") in fields else None,
            sql_checks=checks,
            sql_uniques=uniques,
            active_name=info.get("active_name"),
            field_order=tuple(entry.get("field_order") or recorded),
            rec_names_search=tuple(info.get("rec_names_search") or ()),
            display_fields=(rec_name,) if rec_name else (),
        )
        mdef.sequence_code = _sequence_code(fields, sequences, name)
        mdef.prefetched = _prefetched(recorded, orm)
        out[name] = mdef
    return out


def reference_records(
    version: str, schema_file: Path | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The snapshot's reference records by model (values as recorded)."""
    snap = load_snapshot(version, schema_file)
    return {model: data["records"] for model, data in snap["reference"].items()}


def common_version(version: str) -> dict[str, Any]:
    info: dict[str, Any] = dict(load_snapshot(version)["common_version"])
    return info


__all__ = [
    "VERSIONS",
    "common_version",
    "generic_models",
    "load_snapshot",
    "reference_records",
    "snapshot_digest",
]
