"""Reading records: ``read`` results, raw stored rows and display names.

Used by :class:`zenoo_etl.sandbox.orm.Env`. Values are shaped as Odoo's
``read`` returns them: many2one as ``[id, display_name]``, x2many as id
lists, NULL as False (0 / 0.0 for numbers).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.exceptions import value_error
from zenoo_etl.sandbox.fields import ModelDef
from zenoo_etl.sandbox.registry import Slot
from zenoo_etl.sandbox.storage import CHUNK, placeholders

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env


def read_value(ftype: str, raw: Any) -> Any:
    """A stored value as Odoo's ``read`` returns it (NULL becomes False, 0, 0.0)."""
    if raw is None:
        if ftype in ("integer", "many2one_reference"):
            return 0
        if ftype in ("float", "monetary"):
            return 0.0
        return False
    if ftype == "boolean":
        return bool(raw)
    if ftype in ("json", "properties", "properties_definition") and isinstance(raw, str):
        return json.loads(raw)
    return raw


def empty_value(ftype: str) -> Any:
    """What ``read`` shows for a field the sandbox does not compute."""
    if ftype in ("one2many", "many2many"):
        return []
    return read_value(ftype, None)


def read(
    env: Env, model: str, ids: list[int], fields: list[str] | None = None
) -> list[dict[str, Any]]:
    mdef = env.model(model)
    ids = env._ids(ids)
    slots = env.registry.slots[model]
    if not fields:
        names = [n for n in slots if n != "password"]
    else:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise value_error(f"Invalid fields: {fields!r}")
        env._check_fields(mdef, fields)
        names = [n for n in dict.fromkeys(fields) if n != "id"]
    names = [n for n in names if n != "id"]
    if not ids:
        return []
    raw = env.raw_rows(mdef, ids, names)
    order = [i for i in ids if i in raw]
    records: list[dict[str, Any]] = [{"id": i} for i in order]
    for name in names:
        slot = slots[name]
        ftype = slot.field.type
        if name == "display_name":
            names_by_id = env.display_names(model, order)
            for rec in records:
                rec[name] = names_by_id.get(rec["id"], False)
        elif not _readable(env, slot):
            for rec in records:
                rec[name] = empty_value(ftype)
        elif ftype == "many2one" and slot.field.store:
            assert slot.field.relation is not None
            targets = {raw[i][name] for i in order if raw[i][name]}
            labels = env.display_names(slot.field.relation, list(targets))
            for rec in records:
                target = raw[rec["id"]][name]
                rec[name] = [target, labels.get(target, "")] if target else False
        elif ftype in ("one2many", "many2many"):
            links = x2many_ids(env, mdef, slot, raw, order)
            for rec in records:
                rec[name] = links.get(rec["id"], [])
        elif name == "password":
            for rec in records:
                rec[name] = False
        else:
            for rec in records:
                rec[name] = read_value(ftype, raw[rec["id"]][name])
    return records


def _readable(env: Env, slot: Slot) -> bool:
    """False for a field the sandbox neither stores nor computes."""
    fdef = slot.field
    if fdef.compute is not None:
        return True
    if fdef.type in ("one2many", "many2many"):
        return env.is_x2many(fdef)
    if fdef.type == "many2one" and fdef.relation not in env.registry.models:
        return False
    return fdef.is_column


def raw_rows(
    env: Env, mdef: ModelDef, ids: list[int], names: list[str]
) -> dict[int, dict[str, Any]]:
    """Stored values (and computed ones) keyed by id, NULLs kept as None."""
    slots = env.registry.slots[mdef.name]
    wanted: list[str] = []
    for n in names:
        slot = slots[n]
        if slot.field.is_column:
            wanted.append(n)
        elif slot.field.compute is not None:
            wanted.extend(slot.field.depends)
        elif slot.field.type in ("one2many", "many2many") and slot.via:
            wanted.append(slot.via)
    wanted = list(dict.fromkeys(wanted))
    for via in mdef.inherits.values():
        if via not in wanted:
            wanted.append(via)
    cols = ", ".join(["t.id", *(slots[n].column for n in wanted)])
    out: dict[int, dict[str, Any]] = {}
    from_sql = env.registry.from_clause(mdef)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in env.cr.execute(
            f"SELECT {cols} FROM {from_sql} WHERE t.id IN ({placeholders(len(chunk))})", chunk
        ):
            out[row[0]] = dict(zip(wanted, row[1:], strict=True))
    for n in names:
        compute = slots[n].field.compute
        if compute is not None:
            for rec in out.values():
                rec[n] = compute(rec)
    return out


def x2many_ids(
    env: Env, mdef: ModelDef, slot: Slot, raw: dict[int, dict[str, Any]], ids: list[int]
) -> dict[int, list[int]]:
    fdef = slot.field
    # owner ids: the record itself, or its delegated parent
    owner_of = {i: (raw[i][slot.via] if slot.via else i) for i in ids}
    owners = list({o for o in owner_of.values() if o})
    if not owners:
        return {}
    if fdef.type == "one2many":
        assert fdef.relation is not None
        table = env.registry.models[fdef.relation].table
        sql = (
            f'SELECT "{fdef.inverse_name}", id FROM "{table}" '
            f'WHERE "{fdef.inverse_name}" IN ({placeholders(len(owners))}) ORDER BY id'
        )
    else:
        sql = (
            f'SELECT "{fdef.column1}", "{fdef.column2}" FROM "{fdef.relation_table}" '
            f'WHERE "{fdef.column1}" IN ({placeholders(len(owners))}) ORDER BY "{fdef.column2}"'
        )
    by_owner: dict[int, list[int]] = {}
    for owner, target in env.cr.execute(sql, owners):
        by_owner.setdefault(owner, []).append(target)
    return {i: by_owner.get(o, []) for i, o in owner_of.items()}


def display_names(env: Env, model: str, ids: list[int]) -> dict[int, str]:
    mdef = env.registry.models[model]
    if not ids:
        return {}
    if mdef.display_names is not None:
        return mdef.display_names(env, ids)
    fields = [f for f in mdef.display_fields if f in env.registry.slots[model]]
    raw = env.raw_rows(mdef, ids, fields)
    display = mdef.display
    if display is not None:
        return {i: display(row) for i, row in raw.items()}
    if not fields or not _readable(env, env.registry.slots[model][fields[0]]):
        return {i: f"{model},{i}" for i in raw}
    slot = env.registry.slots[model][fields[0]]
    if slot.field.type == "many2one" and slot.field.relation:
        targets = display_names(
            env, slot.field.relation, [r[fields[0]] for r in raw.values() if r[fields[0]]]
        )
        return {
            i: targets.get(row[fields[0]], "") if row[fields[0]] else "" for i, row in raw.items()
        }
    return {
        i: (str(row[fields[0]]) if row[fields[0]] not in (None, False) else "")
        for i, row in raw.items()
    }
