"""The registry: every declared model with its fields resolved for SQL.

Resolution adds the magic fields (``id``, ``create_date`` ...) and the fields a
model reaches through ``_inherits`` delegation, and says for each one which
table and SQL alias hold it. ``fields_get`` and :func:`schema` answer from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zenoo_etl.sandbox.fields import MAGIC_FIELDS, Field, ModelDef, field_description


@dataclass(frozen=True)
class Slot:
    """A field as seen from one model: its declaration and where its value lives."""

    name: str
    field: Field
    owner: ModelDef
    #: the delegation many2one of the reading model, None for its own fields
    via: str | None
    alias: str

    @property
    def column(self) -> str:
        return f'{self.alias}."{self.name}"'

    @property
    def id_column(self) -> str:
        """The id of the record that owns the value (for link tables, one2many)."""
        return f"{self.alias}.id"


class Registry:
    """All models, by name, with resolved field slots."""

    def __init__(
        self, models: list[ModelDef], version: str = "18.0", schema_file: Path | None = None
    ) -> None:
        #: the Odoo version whose wording and behaviour the ORM follows
        self.version = version
        #: a pulled schema laid over the bundled snapshot (``zenoo-etl schema pull``)
        self.schema_file = schema_file
        self.models: dict[str, ModelDef] = {m.name: m for m in models}
        #: SQL tables of models: a many2many whose link table is one of them is not served
        self.model_tables = {m.table for m in models}
        self.slots: dict[str, dict[str, Slot]] = {}
        for mdef in models:
            self.slots[mdef.name] = self._resolve(mdef)
        # many2one columns pointing at each model, for unlink's ondelete handling
        self.referrers: dict[str, list[tuple[ModelDef, str, Field]]] = {n: [] for n in self.models}
        for mdef in models:
            for fname, fdef in mdef.fields.items():
                if fdef.type == "many2one" and fdef.store and fdef.relation in self.models:
                    self.referrers[fdef.relation].append((mdef, fname, fdef))

    def _resolve(self, mdef: ModelDef) -> dict[str, Slot]:
        slots: dict[str, Slot] = {}
        for parent_name, via in mdef.inherits.items():
            parent = self.models[parent_name]
            for fname, fdef in self._own_fields(parent).items():
                if fname in MAGIC_FIELDS:
                    continue
                slots[fname] = Slot(fname, fdef, parent, via, f"t_{via}")
        for fname, fdef in self._own_fields(mdef).items():
            slots[fname] = Slot(fname, fdef, mdef, None, "t")
        return slots

    @staticmethod
    def _own_fields(mdef: ModelDef) -> dict[str, Field]:
        own = dict(mdef.fields)
        for name, fdef in MAGIC_FIELDS.items():
            own.setdefault(name, fdef)
        return own

    def from_clause(self, mdef: ModelDef) -> str:
        """``FROM`` text joining the delegated parents under aliases ``t_<via>``."""
        sql = f'"{mdef.table}" t'
        for parent_name, via in mdef.inherits.items():
            parent = self.models[parent_name]
            sql += f' LEFT JOIN "{parent.table}" t_{via} ON t_{via}.id = t."{via}"'
        return sql

    def fields_get(
        self, model: str, allfields: list[str] | None = None, attributes: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        slots = self.slots[model]
        order = self.models[model].field_order
        everything = [n for n in order if n in slots] if order else list(slots)
        names = everything if not allfields else [n for n in allfields if n in slots]
        return {n: field_description(n, slots[n].field, attributes) for n in names}


__all__ = ["Registry", "Slot"]
