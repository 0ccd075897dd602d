"""The ORM core: create, write, unlink and read on SQLite, the way Odoo does them.

An :class:`Env` lives for one RPC call, inside one SQLite transaction that the
caller commits or rolls back. It validates values against the declarations
(unknown fields, selection values, required columns, CHECK and UNIQUE
constraints, many2one targets), applies defaults and x2many commands, handles
``_inherits`` delegation and ``ondelete`` rules, and formats read results.
Search and the domain language are in :mod:`zenoo_etl.sandbox.domain`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from zenoo_etl.sandbox import domain as domain_mod
from zenoo_etl.sandbox import reading, x2many
from zenoo_etl.sandbox.exceptions import (
    PythonError,
    UserError,
    ValidationError,
    fk_error,
    invalid_field,
    missing,
    not_null_error,
    value_error,
)
from zenoo_etl.sandbox.fields import MAGIC_FIELDS, Field, ModelDef, XmlidDefault
from zenoo_etl.sandbox.reading import read_value
from zenoo_etl.sandbox.registry import Registry, Slot
from zenoo_etl.sandbox.storage import CHUNK, Sequences, placeholders

Converter = Callable[[Any], Any]

#: required columns that Odoo's ``create()`` overrides fill although the
#: recording classifies them ``caller``; the sandbox leaves them empty
ORM_FILLED = {
    ("stock.warehouse", "wh_input_stock_loc_id"),
    ("stock.warehouse", "wh_output_stock_loc_id"),
    ("stock.warehouse", "wh_pack_stock_loc_id"),
    ("stock.warehouse", "wh_qc_stock_loc_id"),
    ("res.company", "partner_id"),
    ("hr.employee", "version_id"),
    ("project.project", "alias_id"),
    ("crm.team", "alias_id"),
    ("account.journal", "alias_id"),
    ("hr.department", "alias_id"),
    ("project.project", "alias_model_id"),
    ("crm.team", "alias_model_id"),
    ("account.journal", "alias_model_id"),
}


def sequence_next(env: Env, code: str) -> str | None:
    """``ir.sequence.next_by_code``: the next formatted number, None without a sequence."""
    row = env.cr.execute(
        "SELECT id, prefix, suffix, padding, number_next, number_increment FROM ir_sequence "
        "WHERE code = ? AND active = 1 ORDER BY company_id IS NULL, id LIMIT 1",
        (code,),
    ).fetchone()
    if row is None:
        return None
    seq_id, prefix, suffix, padding, number, step = row
    number = int(number or 1)
    env.cr.execute(
        "UPDATE ir_sequence SET number_next = ? WHERE id = ?", (number + int(step or 1), seq_id)
    )
    now = env.now
    parts = {
        "year": now[:4], "y": now[2:4], "month": now[5:7], "day": now[8:10],
        "h24": now[11:13], "min": now[14:16], "sec": now[17:19],
    }  # fmt: skip

    def interpolate(text: Any) -> str:
        try:
            return str(text or "") % parts
        except (KeyError, ValueError, TypeError):
            return str(text or "")

    return f"{interpolate(prefix)}{number:0{int(padding or 0)}d}{interpolate(suffix)}"


def _to_text(value: Any) -> Any:
    if value is None or value is False or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _to_int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError) as exc:
        raise value_error(str(exc)) from exc


def _to_float(value: Any) -> float:
    try:
        return float(value or 0.0)
    except (TypeError, ValueError) as exc:
        raise value_error(str(exc)) from exc


def _to_bool(value: Any) -> int:
    return 1 if value else 0


def _to_date(value: Any) -> Any:
    if not value:
        return None
    text = str(value)
    if len(text) < 10 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        raise value_error(f"time data {text!r} does not match format '%Y-%m-%d'")
    return text[:10]


def _to_datetime(value: Any) -> Any:
    if not value:
        return None
    text = str(value).replace("T", " ")
    if len(text) == 10:
        text += " 00:00:00"
    if len(text) < 19 or text[4] != "-" or text[13] != ":":
        raise value_error(f"time data {value!r} does not match format '%Y-%m-%d %H:%M:%S'")
    return text[:19]


def _to_m2o(value: Any) -> Any:
    if value is None or value is False or value == 0:
        return None
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise PythonError("TypeError", f"unhashable or invalid many2one value: {value!r}")
    return value


def _to_json(value: Any) -> Any:
    if value is None or value is False:
        return None
    return json.dumps(value)


_CONVERTERS: dict[str, Converter] = {
    "reference": _to_text,
    "json": _to_json,
    "properties": _to_json,
    "properties_definition": _to_json,
    "char": _to_text,
    "text": _to_text,
    "html": _to_text,
    "binary": _to_text,
    "integer": _to_int,
    "many2one_reference": _to_int,
    "float": _to_float,
    "monetary": _to_float,
    "boolean": _to_bool,
    "date": _to_date,
    "datetime": _to_datetime,
    "many2one": _to_m2o,
}


class Env:
    """One RPC call's view of the database: user, context, and the ORM methods."""

    def __init__(
        self,
        cr: sqlite3.Connection,
        registry: Registry,
        sequences: Sequences,
        uid: int,
        context: dict[str, Any] | None = None,
        now: str = "1970-01-01 00:00:00",
    ) -> None:
        self.cr = cr
        self.registry = registry
        self.sequences = sequences
        self.uid = uid
        self.context: dict[str, Any] = dict(context or {})
        self.now = now
        self.flags: set[str] = set()
        self._xmlid_cache: dict[str, int | None] = {}

    # ----------------------------------------------------------------- helpers

    def model(self, name: str) -> ModelDef:
        mdef = self.registry.models.get(name)
        if mdef is None:
            raise UserError(f"Object {name} doesn't exist")
        return mdef

    def slots(self, model: str) -> dict[str, Slot]:
        return self.registry.slots[model]

    def existing(self, model: str, ids: Iterable[int]) -> set[int]:
        wanted = list({i for i in ids if isinstance(i, int)})
        found: set[int] = set()
        table = self.registry.models[model].table
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            found.update(
                r[0]
                for r in self.cr.execute(
                    f'SELECT id FROM "{table}" WHERE id IN ({placeholders(len(chunk))})', chunk
                )
            )
        return found

    def check_exist(self, model: str, ids: list[int]) -> None:
        found = self.existing(model, ids)
        lost = [i for i in dict.fromkeys(ids) if i not in found]
        if lost:
            raise missing(model, lost, self.uid)

    def xmlid_to_res_id(self, xmlid: str) -> int | None:
        if xmlid not in self._xmlid_cache:
            module, _, name = xmlid.partition(".")
            row = self.cr.execute(
                "SELECT res_id FROM ir_model_data WHERE module = ? AND name = ?", (module, name)
            ).fetchone()
            self._xmlid_cache[xmlid] = row[0] if row else None
        return self._xmlid_cache[xmlid]

    def _check_fields(self, mdef: ModelDef, names: Iterable[str]) -> None:
        slots = self.registry.slots[mdef.name]
        for name in names:
            if name not in slots:
                raise invalid_field(self.registry.version, name, mdef.name)

    def _default(self, fname: str, fdef: Field) -> tuple[bool, Any]:
        key = f"default_{fname}"
        if key in self.context:
            return True, self.context[key]
        default = fdef.default
        if default is None:
            return False, None
        if isinstance(default, XmlidDefault):
            return True, self.xmlid_to_res_id(default.xmlid) or False
        if callable(default):
            return True, default(self)
        return True, default

    def default_values(self, mdef: ModelDef, names: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        slots = self.registry.slots[mdef.name]
        for name in names:
            slot = slots.get(name)
            if slot is None or name in MAGIC_FIELDS:
                continue
            found, value = self._default(name, slot.field)
            if found:
                out[name] = value
        return out

    # ----------------------------------------------------------------- create

    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        mdef = self.model(model)
        if not vals_list:
            return []
        for vals in vals_list:
            if not isinstance(vals, dict):
                raise PythonError("TypeError", f"'{type(vals).__name__}' object is not a mapping")
            self._check_fields(mdef, vals)
        vals_list = [dict(v) for v in vals_list]
        slots = self.registry.slots[model]
        own_defaults = {n: f for n, f in mdef.fields.items() if f.store and (f.default is not None)}
        for n in mdef.fields:
            if f"default_{n}" in self.context and n not in own_defaults:
                own_defaults[n] = mdef.fields[n]
        defaults: dict[str, Any] = {}
        for vals in vals_list:
            for n, f in own_defaults.items():
                if n not in vals:
                    if n not in defaults or callable(f.default):
                        defaults[n] = self._default(n, f)[1]
                    vals[n] = defaults[n]
        if mdef.prepare_vals:
            mdef.prepare_vals(self, vals_list)
        if mdef.prepare_create:
            mdef.prepare_create(self, vals_list)
        # delegation: values of the parents' fields create (or update) the parent records
        for parent_name, via in mdef.inherits.items():
            parent_vals: list[dict[str, Any]] = []
            for vals in vals_list:
                pv = {
                    k: vals.pop(k)
                    for k in list(vals)
                    if slots[k].via == via and k not in mdef.fields
                }
                parent_vals.append(pv)
            to_create = [i for i, v in enumerate(vals_list) if not v.get(via)]
            if to_create:
                self.flags.add("no_variant")
                try:
                    new_ids = self.create(parent_name, [parent_vals[i] for i in to_create])
                finally:
                    self.flags.discard("no_variant")
                for i, pid in zip(to_create, new_ids, strict=True):
                    vals_list[i][via] = pid
            for i, pv in enumerate(parent_vals):
                if pv and i not in to_create:
                    self.write(parent_name, [vals_list[i][via]], pv)
        if mdef.sequence_code:
            self._name_from_sequence(mdef, vals_list)
        columns = [
            n
            for n, f in mdef.fields.items()
            if f.is_column and n not in MAGIC_FIELDS and any(n in v for v in vals_list)
        ]
        rows: list[list[Any]] = []
        m2o_targets: dict[str, set[int]] = {}
        relational: list[tuple[int, str, Any]] = []
        for index, vals in enumerate(vals_list):
            row: list[Any] = []
            for n in columns:
                fdef = mdef.fields[n]
                value = self._convert(mdef, n, fdef, vals.get(n))
                if value is not None and fdef.type == "many2one":
                    m2o_targets.setdefault(n, set()).add(value)
                row.append(value)
            for n, value in vals.items():
                xdef = mdef.fields.get(n)
                if xdef is not None and self.is_x2many(xdef):
                    relational.append((index, n, value))
            rows.append(row)
        # like PostgreSQL: the ids are drawn before the row checks, so a failed
        # create leaves a gap in the sequence (the NOT NULL, FOREIGN KEY and
        # CHECK constraints are checked at INSERT time)
        ids = self.sequences.next(model, len(rows))
        self._check_required(mdef, columns, rows)
        self._check_targets(mdef, m2o_targets)
        self._run_checks(mdef, columns, rows)
        all_cols = ["id", *columns, "create_uid", "create_date", "write_uid", "write_date"]
        stamp = (self.uid, self.now, self.uid, self.now)
        col_sql = ", ".join('"' + c + '"' for c in all_cols)
        sql = f'INSERT INTO "{mdef.table}" ({col_sql}) VALUES ({placeholders(len(all_cols))})'
        try:
            self.cr.executemany(sql, [(i, *r, *stamp) for i, r in zip(ids, rows, strict=True)])
        except sqlite3.IntegrityError as exc:
            raise self._integrity_error(mdef, exc) from exc
        for index, fname, value in relational:
            x2many.write_x2many(self, mdef, fname, [ids[index]], value)
        if mdef.after_create:
            for start in range(0, len(ids), CHUNK):
                end = start + CHUNK
                mdef.after_create(self, ids[start:end], vals_list[start:end])
        return ids

    def _convert(self, mdef: ModelDef, fname: str, fdef: Field, value: Any) -> Any:
        if fdef.type == "selection":
            if value is None or value is False:
                return None
            keys = {k for k, _ in fdef.selection or ()}
            if value not in keys:
                raise value_error(f"Wrong value for {mdef.name}.{fname}: {value!r}")
            return value
        return _CONVERTERS[fdef.type](value)

    def is_x2many(self, fdef: Field) -> bool:
        """A one2many/many2many the sandbox stores (its comodel is served too)."""
        return (
            fdef.type in ("one2many", "many2many")
            and fdef.store
            and fdef.relation in self.registry.models
            and (
                fdef.type == "one2many"
                or (
                    bool(fdef.relation_table)
                    and fdef.relation_table not in self.registry.model_tables
                )
            )
        )

    def _name_from_sequence(self, mdef: ModelDef, vals_list: list[dict[str, Any]]) -> None:
        """``name`` left at ``New`` / ``/``: the next number of the model's ir.sequence."""
        default = mdef.fields["name"].default
        for vals in vals_list:
            if vals.get("name", default) == default:
                number = sequence_next(self, str(mdef.sequence_code))
                if number is not None:
                    vals["name"] = number

    def _check_required(self, mdef: ModelDef, columns: list[str], rows: list[list[Any]]) -> None:
        for n, fdef in mdef.fields.items():
            if not (fdef.enforced and fdef.is_column) or n in MAGIC_FIELDS:
                continue
            if (mdef.name, n) in ORM_FILLED:
                continue
            if n not in columns:
                bad = bool(rows)
            else:
                pos = columns.index(n)
                bad = any(r[pos] is None for r in rows)
            if bad:
                raise self.not_null(mdef, n)

    def not_null(self, mdef: ModelDef, fname: str) -> ValidationError:
        fdef = mdef.fields[fname]
        return not_null_error(
            self.registry.version, mdef.description, mdef.name, fdef.string, fname
        )

    def _check_targets(self, mdef: ModelDef, targets: dict[str, set[int]]) -> None:
        for fname, ids in targets.items():
            relation = mdef.fields[fname].relation
            if relation not in self.registry.models:
                continue  # a transient or abstract comodel: not served, not checked
            assert relation is not None
            found = self.existing(relation, ids)
            lost = sorted(ids - found)
            if not lost:
                continue
            if fname in mdef.prefetched or mdef.inherits.get(relation) == fname:
                # the ORM reads the target before the INSERT (a precomputed or
                # dotted dependency): MissingError, like Odoo
                raise missing(relation, lost, self.uid)
            fdef = mdef.fields[fname]
            raise fk_error(self.registry.version, mdef.description, mdef.name, fname, fdef.string)

    def _run_checks(self, mdef: ModelDef, columns: list[str], rows: list[list[Any]]) -> None:
        for check in mdef.checks:
            for row in rows:
                if not check.predicate(dict(zip(columns, row, strict=True))):
                    raise ValidationError(f"The operation cannot be completed: {check.message}")

    def _integrity_error(self, mdef: ModelDef, exc: sqlite3.IntegrityError) -> ValidationError:
        text = str(exc)
        for name, _expr, message in mdef.sql_checks:
            if text == f"CHECK constraint failed: {name}":
                return ValidationError(f"The operation cannot be completed: {message}")
        for name, definition, message in mdef.sql_uniques:
            inside = definition.split("(", 1)[1].split(")", 1)[0]
            cols = ", ".join(f"{mdef.table}.{c.strip().strip(chr(34))}" for c in inside.split(","))
            if text == f"UNIQUE constraint failed: {cols}" or text.endswith(f"index '{name}'"):
                return ValidationError(f"The operation cannot be completed: {message}")
        for unique in mdef.uniques:
            cols = ", ".join(f"{mdef.table}.{c}" for c in unique.columns)
            if cols in text:
                return ValidationError(f"The operation cannot be completed: {unique.message}")
        return ValidationError(f"The operation cannot be completed: {text}")

    # ------------------------------------------------------------------ write

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
        mdef = self.model(model)
        if not isinstance(vals, dict):
            raise PythonError("TypeError", f"'{type(vals).__name__}' object is not a mapping")
        ids = self._ids(ids)
        self._check_fields(mdef, vals)
        self.check_exist(model, ids)
        if len(ids) > CHUNK:  # stay under SQLite's limit of bound parameters
            for start in range(0, len(ids), CHUNK):
                self.write(model, ids[start : start + CHUNK], vals)
            return True
        if not ids:
            return True
        vals = dict(vals)
        if mdef.prepare_vals:
            box = [vals]
            mdef.prepare_vals(self, box)
            vals = box[0]
        slots = self.registry.slots[model]
        for via in mdef.inherits.values():
            pv = {k: vals.pop(k) for k in list(vals) if slots[k].via == via}
            if pv:
                parent = slots[next(iter(pv))].owner.name
                marks = placeholders(len(ids))
                pids = [
                    r[0]
                    for r in self.cr.execute(
                        f'SELECT DISTINCT "{via}" FROM "{mdef.table}" WHERE id IN ({marks})', ids
                    )
                ]
                self.flags.add("from_variant")
                try:
                    self.write(parent, pids, pv)
                finally:
                    self.flags.discard("from_variant")
        columns: list[str] = []
        values: list[Any] = []
        relational_vals: list[tuple[str, Any]] = []
        for n, value in vals.items():
            fdef = mdef.fields.get(n)
            if fdef is None or not fdef.store or n in MAGIC_FIELDS:
                continue
            if fdef.type in ("one2many", "many2many"):
                if self.is_x2many(fdef):
                    relational_vals.append((n, value))
                continue
            converted = self._convert(mdef, n, fdef, value)
            if converted is None and fdef.required:
                raise self.not_null(mdef, n)
            if converted is not None and fdef.type == "many2one":
                self._check_targets(mdef, {n: {converted}})
                if n == mdef.parent_field:
                    self._check_recursion(mdef, ids, converted)
            columns.append(n)
            values.append(converted)
        if columns:
            assignments = ", ".join(f'"{c}" = ?' for c in [*columns, "write_uid", "write_date"])
            id_marks = placeholders(len(ids))
            try:
                self.cr.execute(
                    f'UPDATE "{mdef.table}" SET {assignments} WHERE id IN ({id_marks})',
                    [*values, self.uid, self.now, *ids],
                )
            except sqlite3.IntegrityError as exc:
                raise self._integrity_error(mdef, exc) from exc
            self._recheck(mdef, ids, columns)
        for n, value in relational_vals:
            x2many.write_x2many(self, mdef, n, ids, value)
        if mdef.after_write:
            mdef.after_write(self, ids, vals)
        return True

    def _recheck(self, mdef: ModelDef, ids: list[int], written: list[str]) -> None:
        for check in mdef.checks:
            if not set(check.columns) & set(written):
                continue
            cols = ",".join(f'"{c}"' for c in check.columns)
            rows = self.cr.execute(
                f'SELECT {cols} FROM "{mdef.table}" WHERE id IN ({placeholders(len(ids))})', ids
            ).fetchall()
            self._run_checks(mdef, list(check.columns), [list(r) for r in rows])

    def _check_recursion(self, mdef: ModelDef, ids: list[int], parent: int) -> None:
        seen = set(ids)
        current: int | None = parent
        while current is not None:
            if current in seen:
                raise ValidationError(mdef.recursion_message)
            seen.add(current)
            row = self.cr.execute(
                f'SELECT "{mdef.parent_field}" FROM "{mdef.table}" WHERE id = ?', (current,)
            ).fetchone()
            current = row[0] if row else None

    @staticmethod
    def _ids(ids: Any) -> list[int]:
        if isinstance(ids, int) and not isinstance(ids, bool):
            return [ids]
        if not isinstance(ids, list | tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise PythonError("TypeError", f"Invalid record ids: {ids!r}")
        return list(dict.fromkeys(ids))

    # ----------------------------------------------------------------- unlink

    def unlink(self, model: str, ids: list[int]) -> bool:
        mdef = self.model(model)
        ids = self._ids(ids)
        self.check_exist(model, ids)
        if mdef.before_unlink is not None:
            mdef.before_unlink(self, ids)
        for start in range(0, len(ids), CHUNK):
            self._unlink(mdef, ids[start : start + CHUNK])
        return True

    def _unlink(self, mdef: ModelDef, ids: list[int]) -> None:
        if not ids:
            return
        marks = placeholders(len(ids))
        parents: list[tuple[str, list[int]]] = []
        for parent_name, via in mdef.inherits.items():
            pids = [
                r[0]
                for r in self.cr.execute(
                    f'SELECT "{via}" FROM "{mdef.table}" WHERE id IN ({marks})', ids
                )
            ]
            parents.append((parent_name, pids))
        for ref_model, fname, fdef in self.registry.referrers[mdef.name]:
            dependents = [
                r[0]
                for r in self.cr.execute(
                    f'SELECT id FROM "{ref_model.table}" WHERE "{fname}" IN ({marks})', ids
                )
                if not (ref_model is mdef and r[0] in ids)
            ]
            if not dependents:
                continue
            if fdef.ondelete == "cascade":
                self._unlink(ref_model, dependents)
            elif fdef.ondelete == "restrict" or fdef.required:
                raise fk_error(
                    self.registry.version,
                    ref_model.description,
                    ref_model.name,
                    fname,
                    fdef.string,
                )
            else:
                self.cr.execute(
                    f'UPDATE "{ref_model.table}" SET "{fname}" = NULL WHERE "{fname}" IN ({marks})',
                    ids,
                )
        for other in self.registry.models.values():
            for fdef in other.fields.values():
                if fdef.type != "many2many" or not self.is_x2many(fdef):
                    continue
                if other is mdef:
                    self.cr.execute(
                        f'DELETE FROM "{fdef.relation_table}" WHERE "{fdef.column1}" IN ({marks})',
                        ids,
                    )
                elif fdef.relation == mdef.name:
                    self.cr.execute(
                        f'DELETE FROM "{fdef.relation_table}" WHERE "{fdef.column2}" IN ({marks})',
                        ids,
                    )
        self.cr.execute(
            f"DELETE FROM ir_model_data WHERE model = ? AND res_id IN ({marks})", [mdef.name, *ids]
        )
        self.cr.execute(f'DELETE FROM "{mdef.table}" WHERE id IN ({marks})', ids)
        # a product variant takes its template along when it was the last variant
        for parent_name, pids in parents:
            if parent_name == "product.template":
                orphans = [
                    p
                    for p in set(pids)
                    if not self.cr.execute(
                        "SELECT 1 FROM product_product WHERE product_tmpl_id = ?", (p,)
                    ).fetchone()
                ]
                self._unlink(self.registry.models[parent_name], orphans)

    # ------------------------------------------------------------------- read

    def read(
        self, model: str, ids: list[int], fields: list[str] | None = None
    ) -> list[dict[str, Any]]:
        return reading.read(self, model, ids, fields)

    def raw_rows(
        self, mdef: ModelDef, ids: list[int], names: list[str]
    ) -> dict[int, dict[str, Any]]:
        return reading.raw_rows(self, mdef, ids, names)

    def display_names(self, model: str, ids: list[int]) -> dict[int, str]:
        return reading.display_names(self, model, ids)

    # ----------------------------------------------------------------- search

    def search(
        self,
        model: str,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        count: bool = False,
    ) -> Any:
        mdef = self.model(model)
        return domain_mod.search(self, mdef, domain, offset, limit, order, count)


__all__ = ["Env", "read_value"]
