"""What a fresh Odoo database holds, from the snapshot's reference records.

Every reference record of the version's snapshot (250 countries, their
states, 169 currencies, 92 languages, units, product categories, the company,
its partners and users, the generic chart of accounts, journals, the
warehouse and its locations, sequences, stages ...) is inserted under its
recorded id, with its external ids in ``ir.model.data``, so ids and xmlids
resolve as on a fresh real Odoo of that version (admin is uid 2, its partner
3; the first partner a client creates is 7). Values are written as recorded:
no hook runs, no default is added.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.snapshot import load_snapshot, reference_records
from zenoo_etl.sandbox.storage import hash_key

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

SUPERUSER_ID = 1
ADMIN_UID = 2
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"  # the sandbox's documented default credentials, never a real secret

_SKIP = {"id", "xmlid", "noupdate", "display_name"}


def _xmlids(record: dict[str, Any]) -> list[str]:
    xmlid = record.get("xmlid")
    if isinstance(xmlid, list):
        return [x for x in xmlid if isinstance(x, str)]
    return [xmlid] if isinstance(xmlid, str) else []


def seed(env: Env, version: str) -> None:
    """Insert the version's reference records and their xmlids (inside a transaction)."""
    registry = env.registry
    records = {
        m: rows
        for m, rows in reference_records(version, env.registry.schema_file).items()
        if m in registry.models
    }
    by_xmlid: dict[str, int] = {}
    present: set[tuple[str, int]] = set()
    for model, rows in records.items():
        for rec in rows:
            present.add((model, rec["id"]))
            for xmlid in _xmlids(rec):
                by_xmlid[xmlid] = rec["id"]

    def target(comodel: str | None, value: Any) -> int | None:
        if isinstance(value, str):
            value = by_xmlid.get(value)
        if isinstance(value, int) and (comodel, value) in present:
            return value
        return None

    data_rows: list[tuple[Any, ...]] = []
    for model, rows in records.items():
        mdef = registry.models[model]
        columns = mdef.column_fields()
        names = [n for n in dict.fromkeys(k for r in rows for k in r) if n in columns]
        links: list[tuple[str, str, str, int, int]] = []
        values = []
        for rec in rows:
            row: list[Any] = [rec["id"]]
            for n in names:
                fdef = columns[n]
                value = rec.get(n)
                if fdef.type == "many2one":
                    value = target(fdef.relation, value)
                elif fdef.type == "boolean":
                    value = 1 if value else 0
                elif fdef.type in ("json", "properties", "properties_definition"):
                    value = None if value is False or value is None else json.dumps(value)
                elif value is False and fdef.type not in ("integer", "float", "monetary"):
                    value = None
                row.append(value)
            values.append(row)
            for n, value in rec.items():
                link = mdef.fields.get(n)
                if link is None or n in _SKIP or not isinstance(value, list):
                    continue
                if link.type == "many2many" and env.is_x2many(link):
                    for item in value:
                        tid = target(link.relation, item)
                        if tid is not None:
                            links.append(
                                (str(link.relation_table), str(link.column1), str(link.column2),
                                 rec["id"], tid)
                            )  # fmt: skip
            for xmlid in _xmlids(rec):
                module, _, name = xmlid.partition(".")
                data_rows.append((module, name, model, rec["id"], 1 if rec.get("noupdate") else 0))
        stamps = ["create_uid", "create_date", "write_uid", "write_date"]
        cols = ", ".join(['"id"', *(f'"{n}"' for n in [*names, *stamps])])
        marks = ", ".join("?" * (len(names) + 5))
        stamp = [SUPERUSER_ID, env.now, SUPERUSER_ID, env.now]  # installed by OdooBot
        env.cr.executemany(
            f'INSERT INTO "{mdef.table}" ({cols}) VALUES ({marks})', [[*v, *stamp] for v in values]
        )
        for table, c1, c2, left, right in links:
            env.cr.execute(
                f'INSERT OR IGNORE INTO "{table}" ("{c1}", "{c2}") VALUES (?, ?)', (left, right)
            )
    ids = env.sequences.next("ir.model.data", len(data_rows))
    env.cr.executemany(
        "INSERT INTO ir_model_data (id, module, name, model, res_id, noupdate) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(i, *row) for i, row in zip(ids, data_rows, strict=True)],
    )
    env.cr.execute(
        "UPDATE res_users SET password = ? WHERE id = ?", (hash_key(ADMIN_PASSWORD), ADMIN_UID)
    )
    _seed_ir_model(env, version)


def _insert(env: Env, model: str, rows: list[dict[str, Any]]) -> None:
    columns = env.registry.models[model].column_fields()
    names = [n for n in rows[0] if n in columns]
    cols = ", ".join(f'"{n}"' for n in names)
    table = env.registry.models[model].table
    env.cr.executemany(
        f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(names))})',
        [[r[n] for n in names] for r in rows],
    )


def _seed_ir_model(env: Env, version: str) -> None:
    """``ir.model`` (every model, abstract and transient included) and ``ir.model.fields``
    (every field of the served models), as clients such as odooly list them."""
    if "ir.model" not in env.registry.models or "ir.model.fields" not in env.registry.models:
        return
    snap = load_snapshot(version, env.registry.schema_file)
    infos = snap["models"]
    names = sorted(infos)
    model_ids = dict(zip(names, env.sequences.next("ir.model", len(names)), strict=True))
    _insert(
        env,
        "ir.model",
        [
            {
                "id": model_ids[m],
                "model": m,
                "name": infos[m].get("name") or m,
                "state": infos[m].get("state") or "base",
                "transient": 1 if infos[m].get("transient") else 0,
                "abstract": 1 if infos[m].get("abstract") else 0,
                "order": infos[m].get("order") or "id",
            }
            for m in names
        ],
    )
    rows = []
    for model, entry in sorted(snap["schema"].items()):
        for fname in entry.get("field_order") or entry["fields"]:
            desc = entry["fields"].get(fname)
            if desc is None:
                continue
            translate = (entry.get("orm") or {}).get(fname, {}).get("translate")
            rows.append(
                {
                    "model": model,
                    "model_id": model_ids.get(model),
                    "name": fname,
                    "field_description": desc.get("string") or fname,
                    "help": desc.get("help"),
                    "ttype": desc["type"],
                    "relation": desc.get("relation"),
                    "relation_field": desc.get("relation_field"),
                    "required": 1 if desc.get("required") else 0,
                    "readonly": 1 if desc.get("readonly") else 0,
                    "store": 1 if desc.get("store") else 0,
                    "state": "manual" if desc.get("manual") else "base",
                    "translate": _translate(version, translate),
                    "company_dependent": 1 if desc.get("company_dependent") else 0,
                    "size": desc.get("size"),
                }
            )
    ids = env.sequences.next("ir.model.fields", len(rows))
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    _insert(env, "ir.model.fields", rows)


def _translate(version: str, value: Any) -> Any:
    """A boolean in 18.0; a selection (standard, html_translate ...) in 19.0."""
    if version < "19":
        return 1 if value else 0
    if not value:
        return None
    return value if isinstance(value, str) else "standard"


__all__ = ["ADMIN_LOGIN", "ADMIN_PASSWORD", "ADMIN_UID", "seed"]
