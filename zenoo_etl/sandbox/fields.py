"""Field and model declarations: the plain data the sandbox ORM interprets.

A model is a :class:`ModelDef` holding :class:`Field` objects, SQL-like
constraints and a few optional hooks; :mod:`zenoo_etl.sandbox.models` declares
the concrete ones. Nothing here touches SQLite: ``fields_get`` and
:func:`zenoo_etl.sandbox.schema` are computed from these declarations alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env


@dataclass(frozen=True)
class XmlidDefault:
    """A default value given as the xmlid of a record (``uom.product_uom_unit``)."""

    xmlid: str


Default = Any  # a constant, an XmlidDefault, or a callable taking the Env


@dataclass(frozen=True)
class Field:
    """One field of a model, with exactly the attributes ``fields_get`` reports."""

    type: str
    string: str
    required: bool = False
    readonly: bool = False
    selection: tuple[tuple[str, str], ...] | None = None
    default: Default = None
    relation: str | None = None
    #: one2many: the many2one field on ``relation`` pointing back here
    inverse_name: str | None = None
    #: many2many: the link table and its two columns (this side first)
    relation_table: str | None = None
    column1: str | None = None
    column2: str | None = None
    #: many2one: what happens to this record when the target is deleted
    ondelete: str = "set null"
    #: False for computed fields; they are readable but never written
    store: bool = True
    #: non-stored fields: computed from the stored values named in ``depends``
    compute: Callable[[Mapping[str, Any]], Any] | None = None
    depends: tuple[str, ...] = ()
    help: str | None = None
    #: how a create that omits a required field gets a value (the snapshot's
    #: ``required_how``: ``caller`` must be given; ``compute``, ``inherits``,
    #: ``x2many``, ``parent:...`` are filled by the ORM; None: hand-declared)
    required_how: str | None = None
    #: the recorded ``fields_get`` entry (all attributes), reported as is
    description: Mapping[str, Any] | None = None

    @property
    def enforced(self) -> bool:
        """True when a stored NULL is refused (Odoo's NOT NULL on required columns)."""
        if not self.required:
            return False
        how = self.required_how
        return how is None or how in ("caller", "default", "default_empty")

    @property
    def is_column(self) -> bool:
        """True when the value lives in a column of the model's own table."""
        return self.store and self.type not in ("one2many", "many2many")


@dataclass(frozen=True)
class Check:
    """A row-level CHECK constraint, evaluated on the stored row after create/write."""

    name: str
    predicate: Callable[[Mapping[str, Any]], bool]
    message: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Unique:
    """A UNIQUE constraint, enforced by a SQLite unique index named ``name``."""

    name: str
    columns: tuple[str, ...]
    message: str


ValsHook = Callable[["Env", list[dict[str, Any]]], None]


@dataclass
class ModelDef:
    """A model: its fields, order, delegation (``_inherits``) and behaviours."""

    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    #: ``_inherits``: parent model name -> the required many2one field holding it
    inherits: dict[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    uniques: tuple[Unique, ...] = ()
    #: recursion check on this many2one, with its error message
    parent_field: str | None = None
    recursion_message: str = "Recursion Detected."
    #: turns a read row (with ``display_fields``) into the display name
    display: Callable[[Mapping[str, Any]], str] | None = None
    display_fields: tuple[str, ...] = ()
    #: for names built from other records: ids -> display names, replaces ``display``
    display_names: Callable[[Env, list[int]], dict[int, str]] | None = None
    #: rewrites values before they are validated (e.g. upper-casing a code)
    prepare_vals: ValsHook | None = None
    #: SQL CHECK constraints (name, SQLite expression, message) and UNIQUE
    #: indexes (name, index definition, message) recorded on the real server
    sql_checks: tuple[tuple[str, str, str], ...] = ()
    sql_uniques: tuple[tuple[str, str, str], ...] = ()
    #: the archive field (``active``), None when the model has none
    active_name: str | None = None
    #: ``fields_get`` order of the recorded model (its own and delegated fields)
    field_order: tuple[str, ...] = ()
    #: the ir.sequence code that names new records whose ``name`` is left at
    #: its default (``New`` / ``/``): ``sale.order`` -> S00001
    sequence_code: str | None = None
    #: many2one fields whose target Odoo reads before inserting (a precomputed
    #: or dotted dependency): a missing target is a MissingError, not an FK error
    prefetched: frozenset[str] = frozenset()
    #: ``_rec_names_search``: the fields ``name_search`` looks in
    rec_names_search: tuple[str, ...] = ()
    #: like ``prepare_vals``, for create only (what Odoo computes on new records)
    prepare_create: ValsHook | None = None
    #: runs before records are deleted (raise to refuse, like ``@api.ondelete``)
    before_unlink: Callable[[Env, list[int]], None] | None = None
    #: runs after rows were inserted / updated, with the touched ids
    after_create: Callable[[Env, list[int], list[dict[str, Any]]], None] | None = None
    after_write: Callable[[Env, list[int], dict[str, Any]], None] | None = None

    @property
    def table(self) -> str:
        return self.name.replace(".", "_")

    def column_fields(self) -> dict[str, Field]:
        return {n: f for n, f in self.fields.items() if f.is_column and n not in MAGIC_FIELDS}


MAGIC_FIELDS: dict[str, Field] = {
    "id": Field("integer", "ID", readonly=True),
    "display_name": Field("char", "Display Name", readonly=True, store=False),
    "create_uid": Field("many2one", "Created by", readonly=True, relation="res.users"),
    "create_date": Field("datetime", "Created on", readonly=True),
    "write_uid": Field("many2one", "Last Updated by", readonly=True, relation="res.users"),
    "write_date": Field("datetime", "Last Updated on", readonly=True),
}


def field_description(name: str, fdef: Field, attributes: list[str] | None) -> dict[str, Any]:
    """``fields_get`` entry for one field, keys sorted like Odoo's JSON output."""
    if fdef.description is not None:
        recorded = dict(fdef.description)
        if attributes is not None:
            wanted = set(attributes)
            recorded = {k: v for k, v in recorded.items() if k in wanted}
        return recorded
    desc: dict[str, Any] = {
        "name": name,
        "readonly": fdef.readonly,
        "required": fdef.required,
        "string": fdef.string,
        "type": fdef.type,
    }
    if fdef.relation:
        desc["relation"] = fdef.relation
    if fdef.selection is not None:
        desc["selection"] = [list(pair) for pair in fdef.selection]
    if fdef.type == "one2many" and fdef.inverse_name:
        desc["relation_field"] = fdef.inverse_name
    if fdef.help:
        desc["help"] = fdef.help
    desc["store"] = fdef.store
    desc["sortable"] = fdef.is_column
    desc["searchable"] = fdef.store or fdef.type in ("one2many", "many2many")
    if attributes is not None:
        wanted = set(attributes)
        desc = {k: v for k, v in desc.items() if k in wanted}
    return dict(sorted(desc.items()))
