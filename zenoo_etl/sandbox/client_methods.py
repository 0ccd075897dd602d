"""The ORM methods third-party clients and scripts call beyond CRUD.

``read_group``, ``web_search_read`` / ``web_read``, ``has_access``,
``check_access_rights``, ``get_metadata``, ``export_data``, ``copy_data``,
with the shapes a real Odoo 18 / 19 answers (checked on the real servers:
see the closing note of issue 12). Registered in
:mod:`zenoo_etl.sandbox.methods`.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox import access
from zenoo_etl.sandbox.exceptions import PythonError, value_error
from zenoo_etl.sandbox.fields import MAGIC_FIELDS

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

_OPERATIONS = ("read", "write", "create", "unlink")
_NUMERIC = ("integer", "float", "monetary")
_AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "sum": sum,
    "min": min,
    "max": max,
    "avg": lambda values: sum(values) / len(values) if values else 0,
    "count": len,
    "count_distinct": lambda values: len(set(values)),
    "bool_and": all,
    "bool_or": any,
    "array_agg": list,  # ARRAY_AGG(field ORDER BY id): every member, NULLs included
}


def _and(*domains: list[Any]) -> list[Any]:
    """``expression.AND``: each domain normalised, joined under leading ``&``."""
    parts: list[list[Any]] = []
    for domain in domains:
        items = list(domain or [])
        if not items:
            continue
        if not any(i in ("&", "|", "!") for i in items) and len(items) > 1:
            items = ["&"] * (len(items) - 1) + items
        parts.append(items)
    if not parts:
        return []
    return ["&"] * (len(parts) - 1) + [leaf for part in parts for leaf in part]


# ----------------------------------------------------------------- read_group


def _date_group(value: Any, granularity: str) -> tuple[Any, str, str]:
    """(label, start, end) of the period a date/datetime falls in."""
    text = str(value)
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if granularity == "year":
        return str(year), f"{year}-01-01", f"{year + 1}-01-01"
    if granularity == "quarter":
        q = (month - 1) // 3
        start = f"{year}-{q * 3 + 1:02d}-01"
        end = f"{year + (q == 3)}-{(q * 3 + 3) % 12 + 1:02d}-01"
        return f"Q{q + 1} {year}", start, end
    if granularity == "day":
        label = f"{day:02d} {calendar.month_abbr[month]} {year}"
        nxt = _next_day(year, month, day)
        return label, f"{year}-{month:02d}-{day:02d}", nxt
    nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
    label = f"{calendar.month_name[month]} {year}"
    return label, f"{year}-{month:02d}-01", f"{nxt_year}-{nxt_month:02d}-01"


def _next_day(year: int, month: int, day: int) -> str:
    if day < calendar.monthrange(year, month)[1]:
        return f"{year}-{month:02d}-{day + 1:02d}"
    if month < 12:
        return f"{year}-{month + 1:02d}-01"
    return f"{year + 1}-01-01"


def _parse_aggregates(env: Env, model: str, fields: list[str]) -> list[tuple[str, str, str]]:
    """``fields`` entries as (output name, field, function); counts are left out."""
    slots = env.registry.slots[model]
    out = []
    for spec in fields:
        name, _, func = spec.partition(":")
        name = name.strip()
        field = name
        if "(" in func:
            func, _, rest = func.partition("(")
            field = rest.rstrip(")")
        if name == "__count" or (func == "count" and field == "id"):
            if name != "__count":
                out.append((name, "id", "count"))
            continue
        slot = slots.get(field)
        if slot is None:
            raise value_error(f"Invalid field {field!r} on model {model!r}")
        if not func:
            if slot.field.type not in _NUMERIC or field == "id":
                continue
            func = (slot.field.description or {}).get("aggregator") or "sum"
        if func not in _AGGREGATES:
            raise value_error(f"Invalid aggregation function {func!r}.")
        out.append((name, field, func))
    return out


def read_group(
    env: Env,
    model: str,
    domain: Any,
    fields: Any,
    groupby: Any,
    offset: int = 0,
    limit: Any = None,
    orderby: Any = False,
    lazy: bool = True,
) -> list[dict[str, Any]]:
    """``read_group``: groups with their count and aggregates, as Odoo 18/19 answer."""
    mdef = env.model(model)
    slots = env.registry.slots[model]
    groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if lazy:
        groupbys = groupbys[:1]
    keys: list[tuple[str, str, str | None]] = []  # (spec, field, granularity)
    for spec in groupbys:
        field, _, granularity = spec.partition(":")
        if field not in slots:
            raise value_error(f"Invalid field {field!r} on model {model!r}")
        ftype = slots[field].field.type
        if ftype in ("date", "datetime"):
            keys.append((spec, field, granularity or "month"))
        else:
            keys.append((spec, field, None))
    aggregates = _parse_aggregates(env, model, list(fields or []))
    ids = env.search(model, domain or [], order=orderby or None)
    names = list(dict.fromkeys([k[1] for k in keys] + [a[1] for a in aggregates if a[1] != "id"]))
    raw = env.raw_rows(mdef, ids, names) if ids else {}
    groups: dict[tuple[Any, ...], list[int]] = {}
    for rid in ids:
        parts: list[Any] = []
        for _spec, field, granularity in keys:
            value = raw[rid][field]
            if granularity and value:
                value = _date_group(value, granularity)
            parts.append(value)
        groups.setdefault(tuple(parts), []).append(rid)
    if not keys:
        groups.setdefault((), [])  # no groupby: Odoo answers one group, even of nothing
    ordered = sorted(groups, key=lambda k: [(v is None, _sort_key(v)) for v in k])
    if limit:
        ordered = ordered[int(offset or 0) : int(offset or 0) + int(limit)]
    elif offset:
        ordered = ordered[int(offset) :]
    result = []
    for key in ordered:
        members = groups[key]
        row: dict[str, Any] = {}
        leaves: list[list[Any]] = []
        for (spec, field, granularity), value in zip(keys, key, strict=True):
            ftype = slots[field].field.type
            if granularity:
                row[spec] = value[0] if value else False
                leaves.append(
                    ["&", [field, ">=", value[1]], [field, "<", value[2]]]
                    if value
                    else [[field, "=", False]]
                )
                continue
            if ftype == "many2one" and value:
                relation = slots[field].field.relation or ""
                row[spec] = [value, env.display_names(relation, [value]).get(value, "")]
            elif ftype == "boolean":
                row[spec] = bool(value)
            else:
                row[spec] = value if value is not None else False
            leaves.append([[field, "=", row[spec] if ftype != "many2one" else (value or False)]])
        count_key = f"{groupbys[0]}_count" if lazy and groupbys else "__count"
        row[count_key] = len(members)
        for name, field, func in aggregates:
            if func == "count" and field == "id":
                row[name] = len(members)
                continue
            if func == "array_agg":
                # Odoo: ARRAY_AGG(expr ORDER BY id), NULLs kept; no rows -> []
                by_id = sorted(members)
                row[name] = [m if field == "id" else raw[m][field] for m in by_id]
                continue
            values = [raw[m][field] for m in members if raw[m][field] is not None]
            row[name] = _AGGREGATES[func](values) if values or func == "count" else False
        row["__domain"] = _and(list(domain or []), *leaves)
        if lazy and len(list(groupby if not isinstance(groupby, str) else [groupby])) > 1:
            row["__context"] = {"group_by": list(groupby)[1:]}
        result.append(row)
    return result


def _sort_key(value: Any) -> Any:
    if isinstance(value, tuple):
        return value[1]
    return value if value is not None else 0


# ------------------------------------------------------------------ web_read


def web_read(env: Env, model: str, ids: Any, specification: Any) -> list[dict[str, Any]]:
    """``web_read``: fields as the specification asks, relational ones nested."""
    if not isinstance(specification, dict):
        raise PythonError("TypeError", "specification must be a dictionary")
    ids = env._ids(ids)
    names = list(specification)
    if names:
        rows = env.read(model, ids, names)
    else:
        found = env.existing(model, ids)
        rows = [{"id": i} for i in ids if i in found]
    slots = env.registry.slots[model]
    for name in names:
        fdef = slots[name].field
        sub = specification[name] or {}
        if fdef.type == "many2one":
            wanted = sub.get("fields")
            for row in rows:
                value = row[name]
                if not value:
                    row[name] = False
                elif wanted is None:
                    row[name] = value[0]
                else:
                    nested = web_read(env, str(fdef.relation), [value[0]], wanted)
                    row[name] = nested[0] if nested else {"id": value[0]}
        elif fdef.type in ("one2many", "many2many") and sub.get("fields") is not None:
            for row in rows:
                row[name] = web_read(env, str(fdef.relation), row[name], sub["fields"])
    return rows


def web_search_read(
    env: Env,
    model: str,
    domain: Any,
    specification: Any,
    offset: int = 0,
    limit: Any = None,
    order: Any = None,
    count_limit: Any = None,
) -> dict[str, Any]:
    """``web_search_read``: ``{"length": total, "records": web_read(...)}``."""
    ids = env.search(model, domain or [], int(offset or 0), limit, order)
    records = web_read(env, model, ids, specification)
    length = int(offset or 0) + len(records)
    if limit and len(records) == limit:
        length = env.search(model, domain or [], count=True, limit=count_limit)
    return {"length": length, "records": records}


# ------------------------------------------------------------ access, metadata


def has_access(env: Env, model: str, ids: Any, operation: str) -> bool:
    """``has_access(operation)`` on records: the user's model access right (the sandbox
    keeps no record rules)."""
    _check_operation(operation)
    return access.allowed(env.uid, model, operation)


def check_access_rights(
    env: Env, model: str, operation: str, raise_exception: bool = True
) -> bool | None:
    """``check_access_rights`` (18.0, deprecated; still in 19): None when allowed and
    raising, else whether allowed; a refusal raises Odoo's AccessError."""
    _check_operation(operation)
    if raise_exception:
        access.require(env.registry.version, env.uid, model, operation)
        return None
    return access.allowed(env.uid, model, operation)


def check_access(env: Env, model: str, ids: Any, operation: str) -> None:
    """``check_access(operation)`` (18.0; private in 19.0): None when allowed."""
    _check_operation(operation)
    access.require(env.registry.version, env.uid, model, operation)


def _check_operation(operation: Any) -> None:
    if operation not in _OPERATIONS:
        raise value_error(f"Invalid access mode {operation!r}")


def get_metadata(env: Env, model: str, ids: Any) -> list[dict[str, Any]]:
    """Creation and update stamps and external ids of each record."""
    ids = env._ids(ids)
    rows = env.read(model, ids, ["create_uid", "create_date", "write_uid", "write_date"])
    for row in rows:
        xmlids = [
            {"xmlid": f"{module}.{name}", "noupdate": bool(noupdate)}
            for module, name, noupdate in env.cr.execute(
                "SELECT module, name, noupdate FROM ir_model_data WHERE model = ? AND res_id = ? "
                "ORDER BY id",
                (model, row["id"]),
            )
        ]
        row["xmlid"] = xmlids[0]["xmlid"] if xmlids else ""
        row["noupdate"] = xmlids[0]["noupdate"] if xmlids else False
        row["xmlids"] = xmlids
    return rows


# ----------------------------------------------------------------- export_data


def _xmlid_of(env: Env, model: str, rid: int) -> str:
    """The record's external id; an ``__export__`` one is made when it has none."""
    row = env.cr.execute(
        "SELECT module, name FROM ir_model_data WHERE model = ? AND res_id = ? ORDER BY id",
        (model, rid),
    ).fetchone()
    if row is not None:
        return f"{row[0]}.{row[1]}"
    name = f"{env.registry.models[model].table}_{rid}_{secrets.token_hex(4)}"
    env.create(
        "ir.model.data",
        [{"module": "__export__", "name": name, "model": model, "res_id": rid}],
    )
    return f"__export__.{name}"


def _export_value(env: Env, model: str, rid: int | None, path: list[str]) -> Any:
    if rid is None:
        return ""
    head, rest = path[0], path[1:]
    if head == "id":
        return _xmlid_of(env, model, rid)
    if head == ".id":
        return rid
    slot = env.registry.slots[model][head]
    fdef = slot.field
    [row] = env.read(model, [rid], [head])
    value = row[head]
    if fdef.type == "many2one":
        target = value[0] if value else None
        if rest:
            return _export_value(env, str(fdef.relation), target, rest)
        return value[1] if value else ""
    if fdef.type in ("one2many", "many2many"):
        if rest:
            return _export_value(env, str(fdef.relation), value[0] if value else None, rest)
        labels = env.display_names(str(fdef.relation), value)
        return ",".join(labels[v] for v in value if v in labels)
    if fdef.type == "selection":
        return dict(fdef.selection or ()).get(value, "") if value else ""
    if fdef.type in ("boolean", *_NUMERIC):
        return value
    return value if value else ""


def export_data(
    env: Env, model: str, ids: Any, fields_to_export: Any, raw_data: bool = False
) -> dict[str, Any]:
    """``export_data``: one row per record, columns as the field paths say."""
    ids = env._ids(ids)
    paths = [str(f).replace(":id", "/id").split("/") for f in fields_to_export or []]
    slots = env.registry.slots[model]
    for path in paths:
        if path[0] not in ("id", ".id") and path[0] not in slots:
            raise value_error(f"Invalid field {path[0]!r} on model {model!r}")
    found = env.existing(model, ids)
    datas = [
        [_export_value(env, model, rid, path) for path in paths] for rid in ids if rid in found
    ]
    return {"datas": datas}


# ------------------------------------------------------------------- copy_data


def copy_data(env: Env, model: str, ids: Any, default: Any = None) -> list[dict[str, Any]]:
    """The values ``copy`` would create each record with."""
    mdef = env.model(model)
    ids = env._ids(ids)
    slots = env.registry.slots[model]
    names = [
        n
        for n, s in slots.items()
        if s.field.store
        and not s.field.readonly
        and s.field.type != "one2many"
        and n not in ("id", "password")
        and n not in MAGIC_FIELDS
        and n not in mdef.inherits.values()
        and (s.field.type != "many2many" or env.is_x2many(s.field))
    ]
    out = []
    for rec in env.read(model, ids, names):
        vals: dict[str, Any] = {}
        for n in names:
            value = rec[n]
            ftype = slots[n].field.type
            if ftype == "many2one":
                value = value[0] if value else False
            elif ftype == "many2many":
                value = [[6, 0, value]]
            vals[n] = value
        if isinstance(vals.get("name"), str):
            vals["name"] = f"{vals['name']} (copy)"
        vals.update(default or {})
        out.append(vals)
    return out


__all__ = [
    "check_access",
    "check_access_rights",
    "copy_data",
    "export_data",
    "get_metadata",
    "has_access",
    "read_group",
    "web_read",
    "web_search_read",
]
