"""``load(fields, data)``: Odoo's import API, all-or-nothing, with xmlid upserts.

Cells arrive as strings and are converted per field type; ``id`` is the
record's external id (created on first load, the record updated on the next),
``.id`` a database id, ``field/id`` and ``field/.id`` relations by xmlid or id,
a bare relational column a name to look up. Conversion and record errors are
reported as messages ``{rows, type, record, field?, message, ...}``; any error
rolls the whole batch back and answers ``ids: false``. An unknown column is a
hard ``ValueError``, as in Odoo.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.exceptions import SandboxRpcError, ValidationError, value_error
from zenoo_etl.sandbox.fields import ModelDef

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

_TRUES = {"1", "true", "yes"}
_FALSES = {"", "0", "false", "no"}


class _Repeated(SandboxRpcError):
    """An xmlid appears twice in one batch (never reported: rows are retried one by one)."""

    def __init__(self) -> None:
        super().__init__("repeated external id")


class _CellError(Exception):
    def __init__(self, message: str, moreinfo: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.moreinfo = moreinfo


def _split_path(column: str) -> list[str]:
    fixed = re.sub(r"([^/])\.id", r"\1/.id", column)
    return re.sub(r"([^/]):id", r"\1/id", fixed).split("/")


def _possible_values(res_model: str, domain: list[Any]) -> dict[str, Any]:
    return {
        "name": "Possible Values",
        "type": "ir.actions.act_window",
        "target": "new",
        "view_mode": "list,form",
        "views": [[False, "list"], [False, "form"]],
        "context": {"create": False},
        "help": "See all possible values",
        "res_model": res_model,
        "domain": domain,
    }


def full_xmlid(env: Env, value: str) -> str:
    return value if "." in value else f"{env.context.get('module', '__import__')}.{value}"


class _Loader:
    def __init__(self, env: Env, mdef: ModelDef, fields: list[str]) -> None:
        self.env = env
        self.mdef = mdef
        self.slots = env.registry.slots[mdef.name]
        self.paths = [_split_path(f) for f in fields]
        for path in self.paths:
            head = path[0]
            if head in ("id", ".id"):
                if len(path) > 1:
                    raise value_error(f"Invalid field name {'/'.join(path)!r}")
                continue
            if head not in self.slots:
                raise value_error(f"Invalid field name {head!r}")
            if len(path) > 2 or (len(path) == 2 and path[1] not in ("id", ".id")):
                raise value_error(f"Invalid field name {'/'.join(path)!r}")
        self.messages: list[dict[str, Any]] = []
        #: (comodel, xmlid) -> res_id of the relation cells resolved so far (one lookup each)
        self._xmlid_targets: dict[tuple[str, str], int] = {}

    def _error(self, index: int, message: str, field: str | None = None, **extra: Any) -> None:
        msg: dict[str, Any] = {"rows": {"from": index, "to": index}, "type": "error"}
        msg["record"] = index
        if field is not None:
            msg["field"] = field
        msg["message"] = message
        msg.update(extra)
        self.messages.append(msg)

    # ------------------------------------------------------------ conversion

    def convert_row(
        self, index: int, row: list[Any]
    ) -> tuple[str | None, int | None, dict[str, Any]] | None:
        xmlid: str | None = None
        dbid: int | None = None
        vals: dict[str, Any] = {}
        ok = True
        for path, cell in zip(self.paths, row, strict=False):
            text = "" if cell is None or cell is False else str(cell)
            head = path[0]
            if head == "id":
                xmlid = full_xmlid(self.env, text) if text else None
                continue
            if head == ".id":
                if text:
                    try:
                        dbid = int(text)
                    except ValueError:
                        self._error(index, f"Invalid database id '{text}'")
                        ok = False
                continue
            slot = self.slots[head]
            try:
                vals[head] = self.convert_cell(head, path[1] if len(path) > 1 else None, text)
            except _CellError as exc:
                extra: dict[str, Any] = {}
                if exc.moreinfo is not None:
                    extra["moreinfo"] = exc.moreinfo
                extra["field_name"] = slot.field.string
                self._error(index, exc.message % {"field": slot.field.string}, head, **extra)
                ok = False
        return (xmlid, dbid, vals) if ok else None

    def convert_cell(self, name: str, sub: str | None, text: str) -> Any:
        fdef = self.slots[name].field
        ftype = fdef.type
        if ftype in ("many2one", "many2many", "one2many"):
            if not text:
                return False
            ids = [
                self._resolve(fdef.relation or "", sub, part.strip())
                for part in self._parts(ftype, text)
            ]
            return ids[0] if ftype == "many2one" else [[6, 0, ids]]
        if text == "" and ftype != "boolean":
            return False
        if ftype == "boolean":
            low = text.lower()
            if low in _TRUES:
                return True
            if low in _FALSES:
                return False
            raise _CellError(
                f"Unknown value '{text}' for boolean field '%(field)s'",
                "Use '1' for yes and '0' for no",
            )
        if ftype in ("integer", "many2one_reference"):
            try:
                return int(text)
            except ValueError:
                raise _CellError(
                    f"'{text}' does not seem to be an integer for field '%(field)s'"
                ) from None
        if ftype in ("float", "monetary"):
            try:
                return float(text)
            except ValueError:
                raise _CellError(
                    f"'{text}' does not seem to be a number for field '%(field)s'"
                ) from None
        if ftype == "selection":
            for key, label in fdef.selection or ():
                if text == key or text.lower() == label.lower():
                    return key
            raise _CellError(
                f"Value '{text}' not found in selection field '%(field)s'",
                [label for _, label in fdef.selection or ()],
            )
        if ftype in ("date", "datetime"):
            pattern = r"\d{4}-\d{2}-\d{2}" + (
                r"( \d{2}:\d{2}:\d{2})?" if ftype == "datetime" else ""
            )
            if not re.fullmatch(pattern, text):
                kind = "date" if ftype == "date" else "datetime"
                raise _CellError(
                    f"'{text}' does not seem to be a valid {kind} for field '%(field)s'"
                )
            return text
        return text

    @staticmethod
    def _parts(ftype: str, text: str) -> list[str]:
        return [text] if ftype == "many2one" else [p for p in text.split(",") if p.strip()]

    def _resolve(self, comodel: str, sub: str | None, value: str) -> int:
        env = self.env
        if sub == "id":
            xmlid = full_xmlid(env, value)
            cached = self._xmlid_targets.get((comodel, xmlid))
            if cached is not None:
                return cached
            module, _, name = xmlid.partition(".")
            row = env.cr.execute(
                "SELECT res_id FROM ir_model_data WHERE module = ? AND name = ? AND model = ?",
                (module, name, comodel),
            ).fetchone()
            if row is None or not env.existing(comodel, [row[0]]):
                raise _CellError(
                    f"No matching record found for external id '{xmlid}' in field '%(field)s'",
                    _possible_values("ir.model.data", [["model", "=", comodel]]),
                )
            self._xmlid_targets[comodel, xmlid] = int(row[0])
            return int(row[0])
        if sub == ".id":
            try:
                rid = int(value)
            except ValueError:
                raise _CellError(
                    f"Invalid database id '{value}' for the field '%(field)s'"
                ) from None
            if not env.existing(comodel, [rid]):
                raise _CellError(
                    f"No matching record found for database id '{value}' in field '%(field)s'",
                    _possible_values(comodel, []),
                )
            return rid
        cmdef = env.registry.models[comodel]
        found = env.search(comodel, [[cmdef.rec_name, "=ilike", value]], limit=1)
        if not found:
            raise _CellError(
                f"No matching record found for name '{value}' in field '%(field)s'",
                _possible_values(comodel, []),
            )
        return int(found[0])

    # ---------------------------------------------------------------- saving

    def lookup_xmlids(self, xmlids: list[str]) -> dict[str, tuple[int, str, int]]:
        """xmlid -> (ir.model.data id, model, res_id) for the rows that exist."""
        out: dict[str, tuple[int, str, int]] = {}
        for start in range(0, len(xmlids), 400):
            chunk = xmlids[start : start + 400]
            pairs = [x.partition(".") for x in chunk]
            where = " OR ".join(["(module = ? AND name = ?)"] * len(chunk))
            params = [v for m, _, n in pairs for v in (m, n)]
            for did, module, name, model, res_id in self.env.cr.execute(
                f"SELECT id, module, name, model, res_id FROM ir_model_data WHERE {where}", params
            ):
                out[f"{module}.{name}"] = (did, model, res_id)
        return out

    def save(self, items: list[tuple[int, str | None, int | None, dict[str, Any]]]) -> list[int]:
        """Create or update every row; raises on the first failure (caller retries per row)."""
        env, model = self.env, self.mdef.name
        xmlids = [x for _, x, _, _ in items if x]
        if len(set(xmlids)) != len(xmlids):
            # a repeated xmlid updates the record its first row made: go row by row
            raise _Repeated()
        known = self.lookup_xmlids(xmlids)
        live = env.existing(model, [r for _, m, r in known.values() if m == model])
        ids: list[int | None] = []
        creates: list[tuple[int, str | None, dict[str, Any]]] = []
        for pos, (_, xmlid, dbid, vals) in enumerate(items):
            target = dbid
            if xmlid and xmlid in known:
                did, xmodel, res_id = known[xmlid]
                if xmodel != model:
                    raise ValidationError(
                        f"For external id {xmlid} when trying to create/update a record of model "
                        f"{model} found record of different model {xmodel} ({res_id})"
                    )
                if res_id in live:
                    target = res_id
                else:
                    env.cr.execute("DELETE FROM ir_model_data WHERE id = ?", (did,))
            if target is not None:
                if dbid is not None and not env.existing(model, [dbid]):
                    raise SandboxRpcError(f"Unknown database identifier '{dbid}'")
                if vals:
                    env.write(model, [target], vals)
                ids.append(target)
            else:
                ids.append(None)
                creates.append((pos, xmlid, vals))
        if creates:
            new_ids = env.create(model, [v for _, _, v in creates])
            data_rows = []
            for (pos, xmlid, _), new_id in zip(creates, new_ids, strict=True):
                ids[pos] = new_id
                if xmlid:
                    module, _, name = xmlid.partition(".")
                    data_rows.append((module, name, new_id))
            self._insert_xmlids(data_rows)
        return [i for i in ids if i is not None]

    def _insert_xmlids(self, rows: list[tuple[str, str, int]]) -> None:
        if not rows:
            return
        env = self.env
        for _, name, _ in rows:
            if " " in name:
                raise ValidationError(
                    "The operation cannot be completed: External IDs cannot contain spaces"
                )
        new = env.sequences.next("ir.model.data", len(rows))
        try:
            env.cr.executemany(
                "INSERT INTO ir_model_data (id, module, name, model, res_id, noupdate, create_uid,"
                " create_date, write_uid, write_date) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                [
                    (did, module, name, self.mdef.name, res_id, env.uid, env.now, env.uid, env.now)
                    for did, (module, name, res_id) in zip(new, rows, strict=True)
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise ValidationError(f"The operation cannot be completed: {exc}") from exc

    def row_error(self, index: int, exc: SandboxRpcError) -> None:
        """Report a failed record the way load() words database errors."""
        text = exc.message
        prefix = "The operation cannot be completed: "
        if text.startswith(prefix + "\n") or "a mandatory field is not set" in text:
            match = re.search(r"Field: (.*) \((\w+)\)$", text)
            if match:
                self._error(
                    index,
                    f"Missing required value for the field '{match.group(1)}' ({match.group(2)})",
                    match.group(2),
                )
                return
        if text.startswith(prefix) and "\n" not in text:
            text = text[len(prefix) :]
            if self.env.registry.version < "19":
                text = repr(text)  # 18.0 quotes the constraint message, 19.0 does not
        msg: dict[str, Any] = {"rows": {"from": index, "to": index}, "record": index}
        msg.update({"type": "error", "message": text})
        self.messages.append(msg)


def load(env: Env, mdef: ModelDef, fields: Any, data: Any) -> dict[str, Any]:
    """Import ``data`` (rows of strings) into ``fields`` of model ``mdef``."""
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise value_error(f"Invalid fields: {fields!r}")
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise value_error("load() data must be a list of rows (lists of strings)")
    loader = _Loader(env, mdef, fields)
    items: list[tuple[int, str | None, int | None, dict[str, Any]]] = []
    for index, row in enumerate(data):
        converted = loader.convert_row(index, row)
        if converted is not None:
            items.append((index, *converted))
    cr = env.cr
    cr.execute("SAVEPOINT load_batch")
    ids: list[int] = []
    try:
        ids = loader.save(items)
    except SandboxRpcError:
        # like Odoo: retry one record at a time to name every failing row
        cr.execute("ROLLBACK TO load_batch")
        ids = []
        for item in items:
            cr.execute("SAVEPOINT load_row")
            try:
                ids += loader.save([item])
                cr.execute("RELEASE load_row")
            except SandboxRpcError as exc:
                cr.execute("ROLLBACK TO load_row")
                cr.execute("RELEASE load_row")
                loader.row_error(item[0], exc)
    if loader.messages:
        cr.execute("ROLLBACK TO load_batch")
        cr.execute("RELEASE load_batch")
        return {"ids": False, "messages": loader.messages, "nextrow": 0}
    cr.execute("RELEASE load_batch")
    return {"ids": ids, "messages": [], "nextrow": 0}


__all__ = ["full_xmlid", "load"]
