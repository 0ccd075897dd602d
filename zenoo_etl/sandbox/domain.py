"""Odoo domains compiled to SQLite ``WHERE`` clauses, and ``search`` itself.

Supports prefix ``&``/``|``/``!`` with implicit ``&``, the comparison and
pattern operators, ``in``/``not in``, ``=?``, ``child_of``/``parent_of``,
dotted paths through many2one and x2many fields, comparisons to False, and
``active_test``. Malformed domains raise the ValueError texts Odoo 18 uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.exceptions import PythonError, value_error
from zenoo_etl.sandbox.fields import ModelDef
from zenoo_etl.sandbox.registry import Slot
from zenoo_etl.sandbox.storage import placeholders

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

OPERATORS = frozenset(
    {"=", "!=", "<>", "<", ">", "<=", ">=", "in", "not in", "like", "not like", "ilike"}
    | {"not ilike", "=like", "=ilike", "=?", "child_of", "parent_of"}
)
NEGATIONS = {
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "=": "!=",
    "!=": "=",
    "<>": "=",
    "in": "not in",
    "not in": "in",
    "like": "not like",
    "not like": "like",
    "ilike": "not ilike",
    "not ilike": "ilike",
}
_TEXT_TYPES = frozenset({"char", "text", "html", "selection"})
_TRUE, _FALSE = "1=1", "0=1"


def _glob_from_like(pattern: str) -> str:
    """A LIKE pattern (``%``/``_``, backslash escapes) as a case-sensitive GLOB pattern."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(f"[{nxt}]" if nxt in "*?[" else nxt)
            i += 2
            continue
        out.append("*" if ch == "%" else "?" if ch == "_" else f"[{ch}]" if ch in "*?[" else ch)
        i += 1
    return "".join(out)


class _Compiler:
    def __init__(self, env: Env, active_test: bool) -> None:
        self.env = env
        self.active_test = active_test
        self.params: list[Any] = []

    @property
    def _leaf_word(self) -> str:
        """Odoo 19 calls a domain leaf a condition."""
        return "condition" if self.env.registry.version >= "19" else "leaf"

    def where(self, mdef: ModelDef, domain: Any) -> str:
        if not isinstance(domain, list | tuple):
            raise value_error(f"Invalid domain: {domain!r}")
        items = list(domain)
        strays = [i for i in items if isinstance(i, str) and i not in ("&", "|", "!")]
        if strays:  # a flat leaf ["name", "=", "x"] instead of [["name", "=", "x"]]
            if self.env.registry.version >= "19":
                raise value_error(f"Domain() invalid item in domain: {strays[-1]!r}")
            raise PythonError("IndexError", "string index out of range")
        pos = 0

        def parse(negate: bool) -> str:
            # '!' is distributed down to the leaves, as Odoo's distribute_not does,
            # so that "not (name = x)" also matches an empty name
            nonlocal pos
            if pos >= len(items):
                raise value_error(f"Invalid domain: {domain!r}")
            item = items[pos]
            pos += 1
            if item == "&" or item == "|":
                conjunction = (item == "&") != negate
                left, right = parse(negate), parse(negate)
                return f"({left} {'AND' if conjunction else 'OR'} {right})"
            if item == "!":
                return parse(not negate)
            return self.negated_leaf(mdef, item) if negate else self.leaf(mdef, item)

        parts = []
        while pos < len(items):
            parts.append(parse(False))
        sql = " AND ".join(parts) if parts else _TRUE
        if self.active_test and "active" in mdef.fields and not _mentions_active(items):
            sql = f"({sql}) AND t.active = 1" if parts else "t.active = 1"
        return sql

    def negated_leaf(self, mdef: ModelDef, leaf: Any) -> str:
        if isinstance(leaf, bool):
            return _FALSE if leaf else _TRUE
        if isinstance(leaf, list | tuple) and len(leaf) == 3 and isinstance(leaf[1], str):
            if leaf[0] in (0, 1) and not isinstance(leaf[0], bool) and leaf[1:] == ["=", 1]:
                return _FALSE if leaf[0] == 1 else _TRUE
            negation = NEGATIONS.get(leaf[1].lower())
            if negation is not None and isinstance(leaf[0], str):
                return self.leaf(mdef, [leaf[0], negation, leaf[2]])
        return f"(NOT {self.leaf(mdef, leaf)})"

    def leaf(self, mdef: ModelDef, leaf: Any) -> str:
        if isinstance(leaf, bool):
            return _TRUE if leaf else _FALSE
        if (
            not isinstance(leaf, list | tuple)
            or len(leaf) != 3
            or not isinstance(leaf[1], str)
            or leaf[1].lower() not in OPERATORS
        ):
            raise value_error(f"Invalid leaf {leaf!r}")
        left, operator, right = leaf[0], leaf[1].lower(), leaf[2]
        if left in (0, 1) and not isinstance(left, bool) and operator == "=" and right == 1:
            return _TRUE if left == 1 else _FALSE
        if not isinstance(left, str):
            raise value_error(f"Invalid leaf {leaf!r}")
        path = left.split(".")
        slots = self.env.registry.slots[mdef.name]
        slot = slots.get(path[0])
        if slot is None:
            raise value_error(
                f"Invalid field {mdef.name}.{path[0]} in {self._leaf_word} {tuple(leaf)!r}"
            )
        if operator == "<>":
            operator = "!="
        if operator == "=?":
            if right is None or right is False:
                return _TRUE
            operator = "="
        if len(path) > 1:
            return self._path(slot, ".".join(path[1:]), operator, right, leaf)
        return self._field(mdef, slot, operator, right, leaf)

    def _sub(self, model: str, domain: list[Any]) -> str:
        comodel = self.env.registry.models[model]
        sub = _Compiler(self.env, self.active_test)
        where = sub.where(comodel, domain)
        self.params.extend(sub.params)
        return f"SELECT t.id FROM {self.env.registry.from_clause(comodel)} WHERE {where}"

    def _path(self, slot: Slot, rest: str, operator: str, right: Any, leaf: Any) -> str:
        fdef = slot.field
        if fdef.relation is None:
            raise value_error(
                f"Invalid field {slot.owner.name}.{leaf[0]} in {self._leaf_word} {tuple(leaf)!r}"
            )
        sub = self._sub(fdef.relation, [[rest, operator, right]])
        return self._relational_in(slot, sub, negate=False)

    def _relational_in(self, slot: Slot, subquery: str, negate: bool) -> str:
        """Records whose field points to (one of) the records of ``subquery``."""
        fdef = slot.field
        neg = "NOT " if negate else ""
        if fdef.type == "many2one":
            if negate:
                return f"({slot.column} IS NULL OR {slot.column} NOT IN ({subquery}))"
            return f"{slot.column} IN ({subquery})"
        if fdef.type == "many2many":
            link = (
                f'SELECT "{fdef.column1}" FROM "{fdef.relation_table}" '
                f'WHERE "{fdef.column2}" IN ({subquery})'
            )
        else:
            assert fdef.relation is not None
            table = self.env.registry.models[fdef.relation].table
            link = f'SELECT "{fdef.inverse_name}" FROM "{table}" WHERE id IN ({subquery})'
        return f"{slot.id_column} {neg}IN ({link})"

    def _field(self, mdef: ModelDef, slot: Slot, op: str, right: Any, leaf: Any) -> str:
        fdef = slot.field
        if slot.name == "display_name":
            slot = self.env.registry.slots[mdef.name][mdef.rec_name]
            fdef = slot.field
        elif not fdef.store:
            raise value_error(f"Non-stored field {mdef.name}.{slot.name} cannot be searched.")
        if op in ("child_of", "parent_of"):
            return self._hierarchy(mdef, slot, op, right)
        if fdef.type in ("many2one", "one2many", "many2many"):
            return self._relational(slot, op, right)
        col = "t.id" if slot.name == "id" else slot.column
        return self._scalar(col, fdef.type, op, right)

    def _scalar(self, col: str, ftype: str, op: str, right: Any) -> str:
        is_text = ftype in _TEXT_TYPES
        if ftype == "boolean" and op in ("=", "!=") and isinstance(right, bool | int | None):
            truth = bool(right) if op == "=" else not bool(right)
            return f"{col} = 1" if truth else f"({col} IS NULL OR {col} = 0)"
        if op in ("=", "!="):
            if right is False or right is None:
                empty = f"({col} IS NULL OR {col} = '')" if is_text else f"{col} IS NULL"
                return empty if op == "=" else f"NOT {empty}"
            self.params.append(right)
            return f"{col} = ?" if op == "=" else f"({col} != ? OR {col} IS NULL)"
        if op in ("<", ">", "<=", ">="):
            if right is False or right is None:
                return _FALSE
            self.params.append(right)
            return f"{col} {op} ?"
        if op in ("in", "not in") and ftype == "boolean":
            values = list(right) if isinstance(right, list | tuple) else [right]
            truths = {bool(v) for v in values}
            if op == "not in":
                truths = {True, False} - truths
            if len(truths) == 2:
                return _TRUE
            if not truths:
                return _FALSE
            return f"{col} = 1" if True in truths else f"({col} IS NULL OR {col} = 0)"
        if op in ("in", "not in"):
            values = list(right) if isinstance(right, list | tuple) else [right]
            real = [v for v in values if v is not False and v is not None]
            has_null = len(real) != len(values)
            parts = []
            if real:
                self.params.extend(real)
                parts.append(f"{col} IN ({placeholders(len(real))})")
            if has_null:
                parts.append(f"{col} IS NULL")
            sql = f"({' OR '.join(parts)})" if parts else _FALSE
            if op == "in":
                return sql
            return f"(NOT {sql} OR {col} IS NULL)" if not has_null else f"NOT {sql}"
        # pattern operators
        text = "" if right is False or right is None else str(right)
        negative = op.startswith("not ")
        base = op[4:] if negative else op
        if base in ("like", "=like"):
            # Like Odoo: the value is wrapped in % but not escaped, so % and _ in
            # it are wildcards (and backslash escapes them, PostgreSQL's default).
            pattern = _glob_from_like(text if base == "=like" else f"%{text}%")
            self.params.append(pattern)
            cond = f"{col} GLOB ?"
        else:
            self.params.append(text if base == "=ilike" else f"%{text}%")
            cond = f"{col} LIKE ? ESCAPE '\\'"
        if negative:
            return f"(NOT ({cond}) OR {col} IS NULL)"
        return cond

    def _relational(self, slot: Slot, op: str, right: Any) -> str:
        fdef = slot.field
        assert fdef.relation is not None
        comodel = self.env.registry.models[fdef.relation]
        values = list(right) if isinstance(right, list | tuple) else [right]
        # names instead of ids: match the comodel's display field like name_search
        if any(isinstance(v, str) for v in values) or op in (
            "like",
            "ilike",
            "not like",
            "not ilike",
            "=like",
            "=ilike",
        ):
            negative = op in ("!=", "not in", "not like", "not ilike")
            positive = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
            sub = self._sub(comodel.name, [[comodel.rec_name, positive.get(op, op), right]])
            return self._relational_in(slot, sub, negate=negative)
        if fdef.type == "many2one":
            return self._scalar(slot.column, "many2one", op, right)
        if op in ("=", "!=") and (right is False or right is None):
            any_link = self._relational_in(slot, f'SELECT id FROM "{comodel.table}"', False)
            return f"NOT {any_link}" if op == "=" else any_link
        if op in ("=", "in", "!=", "not in"):
            ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
            self.params.extend(ids)
            sub = f"SELECT {placeholders(len(ids)) or 'NULL'}"
            sub = f'SELECT id FROM "{comodel.table}" WHERE id IN ({sub})'
            return self._relational_in(slot, sub, negate=op in ("!=", "not in"))
        raise value_error(f"Invalid operator {op!r} for field {slot.name!r}")

    def _hierarchy(self, mdef: ModelDef, slot: Slot, op: str, right: Any) -> str:
        parent_field = mdef.parent_field
        if parent_field is None:
            raise value_error(f"Invalid operator {op!r} on model {mdef.name!r} without parent")
        start = right if isinstance(right, list | tuple) else [right]
        ids = {i for i in start if isinstance(i, int)}
        frontier = set(ids)
        table = mdef.table
        while frontier:
            marks = placeholders(len(frontier))
            if op == "child_of":
                sql = f'SELECT id FROM "{table}" WHERE "{parent_field}" IN ({marks})'
            else:
                sql = f'SELECT "{parent_field}" FROM "{table}" WHERE id IN ({marks})'
            found = {r[0] for r in self.env.cr.execute(sql, list(frontier)) if r[0]}
            frontier = found - ids
            ids |= found
        if slot.name == "id":
            col = "t.id"
        elif slot.field.type == "many2one":
            col = slot.column
        else:
            raise value_error(f"Invalid field for {op}: {slot.name!r}")
        self.params.extend(sorted(ids))
        return f"{col} IN ({placeholders(len(ids)) or 'NULL'})"


def _mentions_active(items: list[Any]) -> bool:
    for item in items:
        if (
            isinstance(item, list | tuple)
            and item
            and isinstance(item[0], str)
            and item[0].split(".")[0] == "active"
        ):
            return True
    return False


def order_by(env: Env, mdef: ModelDef, order: str | None) -> str:
    """``ORDER BY`` text for an Odoo order spec, NULLs placed as PostgreSQL does."""
    spec = order or mdef.order
    slots = env.registry.slots[mdef.name]
    parts = []
    for item in spec.split(","):
        words = item.strip().split()
        if not words:
            continue
        name = words[0]
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if direction not in ("ASC", "DESC") or len(words) > 4:
            raise value_error(f"Invalid order {spec!r}")
        slot = slots.get(name)
        if slot is None or not (slot.field.is_column or name == "id"):
            if order is None:
                continue  # the model's own _order on a field the sandbox does not store
            raise value_error(f"Invalid field {name!r} on model {mdef.name!r}")
        col = "t.id" if name == "id" else slot.column
        collate = " COLLATE NOCASE" if slot.field.type in _TEXT_TYPES else ""
        nulls = "NULLS LAST" if direction == "ASC" else "NULLS FIRST"
        parts.append(f"{col}{collate} {direction} {nulls}")
    if not any(p.startswith("t.id ") for p in parts):
        parts.append("t.id ASC")
    return ", ".join(parts)


def search(
    env: Env,
    mdef: ModelDef,
    domain: Any,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    count: bool = False,
) -> Any:
    """Ids matching ``domain`` (or their number when ``count``)."""
    compiler = _Compiler(env, env.context.get("active_test", True) is not False)
    where = compiler.where(mdef, domain or [])
    from_sql = env.registry.from_clause(mdef)
    if count:
        sql = f"SELECT COUNT(*) FROM {from_sql} WHERE {where}"
        if limit:
            inner = f"SELECT t.id FROM {from_sql} WHERE {where} LIMIT {int(limit)}"
            sql = f"SELECT COUNT(*) FROM ({inner})"
        return int(env.cr.execute(sql, compiler.params).fetchone()[0])
    sql = f"SELECT t.id FROM {from_sql} WHERE {where} ORDER BY {order_by(env, mdef, order)}"
    if limit or offset:
        sql += f" LIMIT {int(limit) if limit else -1} OFFSET {int(offset or 0)}"
    return [r[0] for r in env.cr.execute(sql, compiler.params)]


__all__ = ["OPERATORS", "order_by", "search"]
