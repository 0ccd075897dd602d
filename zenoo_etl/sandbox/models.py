"""The models the sandbox serves, declared as data, and their few behaviours.

Adding a model is a ``ModelDef`` in :func:`declare_models` (fields with type,
string, required, selection, default, relation, ondelete; constraints) and,
only if it needs one, a hook. Field strings and model descriptions follow
Odoo 18 so that error messages and ``fields_get`` read the same.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.exceptions import UserError
from zenoo_etl.sandbox.fields import Check, Field, ModelDef, Unique, ValsHook, XmlidDefault
from zenoo_etl.sandbox.snapshot import generic_models
from zenoo_etl.sandbox.storage import hash_key, placeholders

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

_EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _char(string: str, **kw: Any) -> Field:
    return Field("char", string, **kw)


def _bool(string: str, default: bool = False, **kw: Any) -> Field:
    return Field("boolean", string, default=default, **kw)


def _m2o(relation: str, string: str, **kw: Any) -> Field:
    return Field("many2one", string, relation=relation, **kw)


def _active() -> Field:
    return Field("boolean", "Active", default=True)


# --------------------------------------------------------------------------- hooks


def _normalize_email(value: Any) -> Any:
    if not isinstance(value, str) or not _EMAIL_RE.match(value.strip()):
        return False
    return value.strip().lower()


def _partner_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    for vals in vals_list:
        if "email" in vals:
            vals["email_normalized"] = _normalize_email(vals["email"])
        if "company_type" in vals:
            vals["is_company"] = vals.pop("company_type") == "company"


def _walk_down(
    env: Env,
    table: str,
    ids: list[int],
    store: Callable[[list[int]], None],
    parent: str = "parent_id",
) -> None:
    """Call ``store`` on ids, then on their children, level by level down the tree."""
    todo = list(ids)
    seen: set[int] = set()
    while todo:
        batch = [i for i in todo if i not in seen]
        seen.update(batch)
        if not batch:
            break
        store(batch)
        todo = [
            r[0]
            for r in env.cr.execute(
                f'SELECT id FROM "{table}" WHERE "{parent}" IN ({placeholders(len(batch))})', batch
            ).fetchall()
        ]


def _partner_complete_names(env: Env, ids: list[int]) -> None:
    """Store ``complete_name`` ("Company, Contact") for ids and their descendants."""

    def store(batch: list[int]) -> None:
        rows = env.cr.execute(
            "SELECT c.id, c.name, c.is_company, c.type, p.complete_name, p.name FROM res_partner c "
            "LEFT JOIN res_partner p ON p.id = c.parent_id "
            f"WHERE c.id IN ({placeholders(len(batch))})",
            batch,
        ).fetchall()
        updates = []
        for pid, name, is_company, ptype, parent_complete, parent_name in rows:
            full = name or ""
            if not full and parent_name is not None and ptype != "contact":
                full = dict(_PARTNER_TYPES).get(ptype, "")  # an unnamed address
            if parent_name is not None and not is_company:
                # the commercial entity's name: the parent's own "Company" part
                company = (parent_complete or parent_name).split(", ")[0]
                full = f"{company}, {full}"
            updates.append((full or None, pid))
        env.cr.executemany("UPDATE res_partner SET complete_name = ? WHERE id = ?", updates)

    _walk_down(env, "res_partner", ids, store)


def _partner_after_create(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
    _partner_complete_names(env, ids)


def _partner_after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if {"name", "parent_id", "is_company", "company_type"} & vals.keys():
        _partner_complete_names(env, ids)


def _complete_names(table: str, parent: str, separator: str) -> Callable[[Env, list[int]], None]:
    """Stores ``complete_name`` ("Parent / Child") for ids and their descendants."""

    def store_all(env: Env, ids: list[int]) -> None:
        def store(batch: list[int]) -> None:
            rows = env.cr.execute(
                f'SELECT c.id, c.name, p.complete_name FROM "{table}" c '
                f'LEFT JOIN "{table}" p ON p.id = c."{parent}" '
                f"WHERE c.id IN ({placeholders(len(batch))})",
                batch,
            ).fetchall()
            env.cr.executemany(
                f'UPDATE "{table}" SET complete_name = ? WHERE id = ?',
                [(f"{up}{separator}{name}" if up else name, cid) for cid, name, up in rows],
            )

        _walk_down(env, table, ids, store, parent)

    return store_all


def _complete_name_hooks(mdef: ModelDef) -> ModelDef:
    """A hierarchy (``parent_id`` + stored ``complete_name``) names its records by path."""
    parent = mdef.parent_field
    assert parent is not None
    separator = "/" if mdef.name == "stock.location" else " / "
    store = _complete_names(mdef.table, parent, separator)

    def after_create(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
        store(env, ids)

    def after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if {"name", parent} & vals.keys():
            store(env, ids)

    # shown by their path, whatever their _rec_name (stock.location in 19.0: "WH/Stock")
    return replace(
        mdef,
        after_create=after_create,
        after_write=after_write,
        display=_name_of("complete_name"),
        display_fields=("complete_name",),
    )


def _template_after_create(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
    # Creating a template creates its single variant, unless the variant is the caller.
    if "no_variant" in env.flags:
        return
    marks = placeholders(len(ids))
    rows = env.cr.execute(
        f"SELECT id, default_code, barcode FROM product_template WHERE id IN ({marks})", ids
    ).fetchall()
    env.create(
        "product.product",
        [{"product_tmpl_id": tid, "default_code": code, "barcode": bc} for tid, code, bc in rows],
    )


def _template_after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    marks = placeholders(len(ids))
    if "active" in vals and "from_variant" not in env.flags:
        # archiving (or restoring) a template does the same to its variants
        env.cr.execute(
            f"UPDATE product_product SET active = ? WHERE product_tmpl_id IN ({marks})",
            [1 if vals["active"] else 0, *ids],
        )
    if "default_code" in vals and "from_variant" not in env.flags:
        env.cr.execute(
            f"UPDATE product_product SET default_code = ? WHERE product_tmpl_id IN ({marks})",
            [vals["default_code"] or None, *ids],
        )


def _variant_sync_code(env: Env, ids: list[int]) -> None:
    marks = placeholders(len(ids))
    env.cr.execute(
        "UPDATE product_template SET default_code = (SELECT v.default_code FROM product_product v"
        " WHERE v.product_tmpl_id = product_template.id ORDER BY v.id LIMIT 1) WHERE id IN"
        f" (SELECT product_tmpl_id FROM product_product WHERE id IN ({marks}))",
        ids,
    )


def _variant_after_create(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
    _variant_sync_code(env, ids)


def _variant_after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if "default_code" in vals:
        _variant_sync_code(env, ids)


_DRAFT_LABELS = {
    "out_invoice": "Draft Invoice",
    "out_refund": "Draft Credit Note",
    "in_invoice": "Draft Bill",
    "in_refund": "Draft Vendor Credit Note",
    "out_receipt": "Draft Sales Receipt",
    "in_receipt": "Draft Purchase Receipt",
    "entry": "Draft Entry",
}
_JOURNAL_TYPES = {"out": "sale", "in": "purchase", "entry": "general"}


def _move_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    """What account.move computes on create: journal by move type, its currency, date."""
    for vals in vals_list:
        if not vals.get("journal_id"):
            kind = _JOURNAL_TYPES[str(vals.get("move_type") or "entry").split("_")[0]]
            row = env.cr.execute(
                "SELECT id FROM account_journal WHERE type = ? AND active = 1 "
                "ORDER BY sequence, id",
                (kind,),
            ).fetchone()
            if row is not None:
                vals["journal_id"] = row[0]
        if not vals.get("currency_id"):
            row = env.cr.execute(
                "SELECT COALESCE(j.currency_id, c.currency_id) FROM res_company c "
                "LEFT JOIN account_journal j ON j.id = ? WHERE c.id = COALESCE(j.company_id, 1)",
                (vals.get("journal_id"),),
            ).fetchone()
            if row is not None:
                vals["currency_id"] = row[0]
        vals.setdefault("date", env.now[:10])
        vals.setdefault("name", "/")


def _move_display(row: Mapping[str, Any]) -> str:
    """``_get_move_display_name``: "Draft Invoice", "INV/2026/00001" ..."""
    name = (
        _DRAFT_LABELS.get(row.get("move_type") or "entry", "")
        if row.get("state") == "draft"
        else ""
    )
    if row.get("name") and row["name"] != "/":
        name = f"{name} {row['name']}".strip()
    return name


def _account_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    for vals in vals_list:
        if "code" in vals:
            vals["code_store"] = vals.pop("code")


def _country_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    for vals in vals_list:
        if isinstance(vals.get("code"), str):
            vals["code"] = vals["code"].upper()


def _company_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    # res.company.partner_id is required: Odoo creates the partner on the fly.
    for vals in vals_list:
        if not vals.get("partner_id") and vals.get("name"):
            vals["partner_id"] = env.create(
                "res.partner", [{"name": vals["name"], "is_company": True}]
            )[0]


def _users_unlink_guard(env: Env, ids: list[int]) -> None:
    """``res.users._unlink_except_master_data``: the superuser, admin and the templates stay."""
    if 1 in ids:
        raise UserError(
            "You can not remove the admin user as it is used internally for resources created "
            "by Odoo (updates, module installation, ...)"
        )
    if env.xmlid_to_res_id("base.user_admin") in ids:
        raise UserError(
            "You cannot delete the admin user because it is utilized in various places (such "
            "as security configurations,...). Instead, archive it."
        )
    templates = {env.xmlid_to_res_id("base.template_portal_user_id")}
    templates.add(env.xmlid_to_res_id("base.default_user"))
    if templates & set(ids):
        raise UserError(
            "Deleting the template users is not allowed. Deleting this profile will compromise "
            "critical functionalities."
        )


def _users_prepare(env: Env, vals_list: list[dict[str, Any]]) -> None:
    for vals in vals_list:
        if vals.get("password"):
            vals["password"] = hash_key(str(vals["password"]))


def _tag_paths(env: Env, ids: list[int]) -> dict[int, str]:
    """Partner tags read as their path: "Parent / Child"."""
    rows = {
        r[0]: (r[1], r[2])
        for r in env.cr.execute("SELECT id, name, parent_id FROM res_partner_category")
    }
    out = {}
    for tid in ids:
        names, current, seen = [], tid, set()
        while current in rows and current not in seen:
            seen.add(current)
            names.append(rows[current][0] or "")
            current = rows[current][1]
        if tid in rows:
            out[tid] = " / ".join(reversed(names))
    return out


def _state_names(env: Env, ids: list[int]) -> dict[int, str]:
    """Country states read as "California (US)"."""
    marks = placeholders(len(ids))
    sql = (
        "SELECT s.id, s.name, c.code FROM res_country_state s "
        f"JOIN res_country c ON c.id = s.country_id WHERE s.id IN ({marks})"
    )
    return {sid: f"{name} ({code})" for sid, name, code in env.cr.execute(sql, ids)}


def _product_display(row: Mapping[str, Any]) -> str:
    name = row.get("name") or ""
    code = row.get("default_code")
    return f"[{code}] {name}" if code else name


def _name_of(key: str) -> Any:
    def display(row: Mapping[str, Any]) -> str:
        value = row.get(key)
        return value if isinstance(value, str) else ""

    return display


# ---------------------------------------------------------------------- declarations

_PARTNER_TYPES = (
    ("contact", "Contact"),
    ("invoice", "Invoice Address"),
    ("delivery", "Delivery Address"),
    ("other", "Other Address"),
)


def declare_models(version: str = "18.0", schema_file: Path | None = None) -> list[ModelDef]:
    """Every model of the sandbox: the snapshot's generic ones with the hooks below."""
    models = generic_models(version, schema_file)
    for hand in _hand_written():
        base = models.get(hand.name)
        models[hand.name] = hand if base is None else _overlay(base, hand)
    for mdef in list(models.values()):
        complete = mdef.fields.get("complete_name")
        if (
            complete is not None
            and complete.is_column
            and mdef.parent_field
            and "name" in mdef.fields
            and mdef.after_create is None
            and mdef.name != "res.partner"
        ):
            mdef = models[mdef.name] = _complete_name_hooks(mdef)
        if "mail.alias" in mdef.inherits:
            models[mdef.name] = replace(
                mdef, prepare_vals=_chain(_alias_model(mdef.name), mdef.prepare_vals)
            )
    if "account.move" in models:
        # the recorded default journal is the one of a move without a type; the
        # journal of a move follows its type (computed in _move_prepare)
        move = models["account.move"]
        fields = {**move.fields, "journal_id": replace(move.fields["journal_id"], default=None)}
        models["account.move"] = replace(move, fields=fields)
    creating = (("hr.employee", _employee_resource), ("stock.warehouse", _warehouse_locations))
    for name, hook in creating:
        if name in models:
            models[name] = replace(
                models[name], prepare_create=_chain(hook, models[name].prepare_create)
            )
    if "hr.version" in models.get("hr.employee", ModelDef("", "", {})).inherits:
        models["hr.employee"] = replace(models["hr.employee"], after_create=_employee_version)
    for name in ("sale.order.line", "purchase.order.line", "account.move.line"):
        if name in models:
            models[name] = replace(models[name], prepare_create=_line_name_from_product)
    return list(models.values())


def _employee_resource(env: Env, vals_list: list[dict[str, Any]]) -> None:
    """``resource.mixin``: an employee gets its resource (name, company) on create."""
    for vals in vals_list:
        if not vals.get("resource_id"):
            resource = {"name": vals.get("name") or "", "resource_type": "user"}
            if vals.get("company_id"):
                resource["company_id"] = vals["company_id"]
            vals["resource_id"] = env.create("resource.resource", [resource])[0]


def _warehouse_locations(env: Env, vals_list: list[dict[str, Any]]) -> None:
    """``stock.warehouse.create``: its view location (the code) and ``<code>/Stock``."""
    for vals in vals_list:
        code = vals.get("code")
        if not isinstance(code, str) or vals.get("view_location_id"):
            continue
        view = env.create("stock.location", [{"name": code, "usage": "view"}])[0]
        vals["view_location_id"] = view
        if not vals.get("lot_stock_id"):
            stock = {"name": "Stock", "usage": "internal", "location_id": view}
            vals["lot_stock_id"] = env.create("stock.location", [stock])[0]


def _employee_version(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
    """19.0: the version an employee is created with belongs to that employee."""
    env.cr.execute(
        "UPDATE hr_version SET employee_id = (SELECT e.id FROM hr_employee e "
        "WHERE e.version_id = hr_version.id) "
        f"WHERE id IN (SELECT version_id FROM hr_employee WHERE id IN ({placeholders(len(ids))}))",
        ids,
    )


def _chain(first: ValsHook, then: ValsHook | None) -> ValsHook:
    def both(env: Env, vals_list: list[dict[str, Any]]) -> None:
        first(env, vals_list)
        if then is not None:
            then(env, vals_list)

    return both


def _alias_model(model: str) -> ValsHook:
    """``mail.alias.mixin``: the alias a record gets is bound to the record's model."""

    def hook(env: Env, vals_list: list[dict[str, Any]]) -> None:
        row = env.cr.execute("SELECT id FROM ir_model WHERE model = ?", (model,)).fetchone()
        for vals in vals_list:
            if row is not None and not vals.get("alias_id"):
                vals.setdefault("alias_model_id", row[0])

    return hook


def _line_name_from_product(env: Env, vals_list: list[dict[str, Any]]) -> None:
    """Order and invoice lines describe their product when no text is given (Odoo's
    ``_compute_name``: the product's display name)."""
    products = [v["product_id"] for v in vals_list if v.get("product_id") and not v.get("name")]
    valid = [p for p in products if isinstance(p, int) and not isinstance(p, bool)]
    names = env.display_names("product.product", list(env.existing("product.product", valid)))
    for vals in vals_list:
        if not vals.get("name") and vals.get("product_id") in names:
            vals["name"] = names[vals["product_id"]]


def _overlay(base: ModelDef, hand: ModelDef) -> ModelDef:
    """The recorded model with a hand-written model's behaviours on top.

    The recording says which fields exist and how ``fields_get`` describes
    them; the hand-written declaration adds what it computes (``compute``),
    stores beyond the recording (``password``), a default the recording lacks,
    and its hooks (values preparation, after create/write, display names,
    Python checks).
    """
    fields = dict(base.fields)
    for fname, mine in hand.fields.items():
        recorded = fields.get(fname)
        if recorded is None:
            continue  # a field this Odoo version does not have
        changes: dict[str, Any] = {}
        if mine.compute is not None:
            changes.update(store=False, compute=mine.compute, depends=mine.depends)
        elif mine.store and not recorded.store:
            changes["store"] = True
        if recorded.default is None and mine.default is not None:
            changes["default"] = mine.default
        fields[fname] = replace(recorded, **changes) if changes else recorded
    covered = {frozenset(_columns(u[1])) for u in base.sql_uniques}
    return replace(
        base,
        fields=fields,
        checks=hand.checks,
        uniques=tuple(u for u in hand.uniques if frozenset(u.columns) not in covered),
        parent_field=base.parent_field or hand.parent_field,
        recursion_message=hand.recursion_message,
        display=hand.display,
        display_fields=hand.display_fields,
        display_names=hand.display_names,
        prepare_vals=hand.prepare_vals,
        after_create=hand.after_create,
        after_write=hand.after_write,
        prepare_create=hand.prepare_create,
        before_unlink=hand.before_unlink,
    )


def _columns(index_sql: str) -> list[str]:
    inside = index_sql.split("(", 1)[1].split(")", 1)[0]
    return [c.strip().strip('"') for c in inside.split(",")]


def _hand_written() -> list[ModelDef]:
    """The models whose behaviour goes beyond the generic one, in their own terms."""
    partner = ModelDef(
        "res.partner",
        "Contact",
        {
            "name": _char("Name"),
            "complete_name": _char("Complete Name", readonly=True),
            "parent_id": _m2o("res.partner", "Related Company"),
            "child_ids": Field(
                "one2many", "Contact", relation="res.partner", inverse_name="parent_id"
            ),
            "ref": _char("Reference"),
            "lang": Field(
                "selection", "Language", selection=(("en_US", "English (US)"),), default="en_US"
            ),
            "user_id": _m2o("res.users", "Salesperson"),
            "vat": _char("Tax ID"),
            "company_registry": _char("Company ID"),
            "website": _char("Website Link"),
            "comment": Field("html", "Notes"),
            "category_id": Field(
                "many2many",
                "Tags",
                relation="res.partner.category",
                relation_table="res_partner_res_partner_category_rel",
                column1="partner_id",
                column2="category_id",
            ),
            "active": _active(),
            "employee": _bool("Employee"),
            "function": _char("Job Position"),
            "type": Field("selection", "Address Type", selection=_PARTNER_TYPES, default="contact"),
            "street": _char("Street"),
            "street2": _char("Street2"),
            "zip": _char("Zip"),
            "city": _char("City"),
            "state_id": _m2o("res.country.state", "State", ondelete="restrict"),
            "country_id": _m2o("res.country", "Country", ondelete="restrict"),
            "partner_latitude": Field("float", "Geo Latitude"),
            "partner_longitude": Field("float", "Geo Longitude"),
            "email": _char("Email"),
            "email_normalized": _char("Normalized Email", readonly=True),
            "phone": _char("Phone"),
            "mobile": _char("Mobile"),
            "is_company": _bool("Is a Company"),
            "company_type": Field(
                "selection",
                "Company Type",
                selection=(("person", "Individual"), ("company", "Company")),
                store=False,
                compute=lambda row: "company" if row.get("is_company") else "person",
                depends=("is_company",),
            ),
            "company_id": _m2o("res.company", "Company"),
            "color": Field("integer", "Color Index"),
            "user_ids": Field("one2many", "Users", relation="res.users", inverse_name="partner_id"),
            "company_name": _char("Company Name"),
            "barcode": _char("Barcode"),
        },
        order="complete_name ASC, id DESC",
        rec_name="complete_name",
        checks=(
            Check(
                "res_partner_check_name",
                lambda r: r.get("type") != "contact" or bool(r.get("name")),
                "Contacts require a name",
                ("type", "name"),
            ),
        ),
        parent_field="parent_id",
        recursion_message="You cannot create recursive Partner hierarchies.",
        display=_name_of("complete_name"),
        display_fields=("complete_name",),
        prepare_vals=_partner_prepare,
        after_create=_partner_after_create,
        after_write=_partner_after_write,
    )
    category = ModelDef(
        "res.partner.category",
        "Partner Tags",
        {
            "name": _char("Name", required=True),
            "color": Field("integer", "Color", default=lambda env: random.randint(1, 11)),
            "parent_id": _m2o("res.partner.category", "Category", ondelete="cascade"),
            "child_ids": Field(
                "one2many",
                "Child Tags",
                relation="res.partner.category",
                inverse_name="parent_id",
            ),
            "active": _active(),
            "partner_ids": Field(
                "many2many",
                "Partners",
                relation="res.partner",
                relation_table="res_partner_res_partner_category_rel",
                column1="category_id",
                column2="partner_id",
            ),
        },
        order="name",
        parent_field="parent_id",
        recursion_message="You can not create recursive tags.",
        display_names=_tag_paths,
    )
    currency = ModelDef(
        "res.currency",
        "Currency",
        {
            "name": _char("Currency", required=True),
            "symbol": _char("Symbol", required=True),
            "active": _active(),
        },
        order="active desc, name",
        uniques=(Unique("unique_name", ("name",), "The currency code must be unique!"),),
        display=_name_of("name"),
        display_fields=("name",),
    )
    country = ModelDef(
        "res.country",
        "Country",
        {
            "name": _char("Country Name", required=True),
            "code": _char("Country Code", required=True),
            "phone_code": Field("integer", "Country Calling Code"),
            "currency_id": _m2o("res.currency", "Currency"),
        },
        order="name",
        uniques=(
            Unique("res_country_name_uniq", ("name",), "The name of the country must be unique!"),
            Unique("res_country_code_uniq", ("code",), "The code of the country must be unique!"),
        ),
        display=_name_of("name"),
        display_fields=("name",),
        prepare_vals=_country_prepare,
    )
    state = ModelDef(
        "res.country.state",
        "Country state",
        {
            "country_id": _m2o("res.country", "Country", required=True),
            "name": _char("State Name", required=True),
            "code": _char("State Code", required=True),
        },
        order="code",
        uniques=(
            Unique(
                "res_country_state_name_code_uniq",
                ("country_id", "code"),
                "The code of the state must be unique by country!",
            ),
        ),
        display_names=_state_names,
    )
    company = ModelDef(
        "res.company",
        "Companies",
        {
            "name": _char("Company Name", required=True),
            "partner_id": _m2o("res.partner", "Partner", required=True, ondelete="restrict"),
            "currency_id": _m2o(
                "res.currency", "Currency", required=True, default=XmlidDefault("base.USD")
            ),
            "parent_id": _m2o("res.company", "Parent Company"),
            "email": _char("Email"),
            "phone": _char("Phone"),
            "active": _active(),
        },
        order="name",
        uniques=(Unique("res_company_name_uniq", ("name",), "The company name must be unique!"),),
        display=_name_of("name"),
        display_fields=("name",),
        prepare_vals=_company_prepare,
    )
    users = ModelDef(
        "res.users",
        "User",
        {
            "login": _char("Login", required=True),
            "partner_id": _m2o(
                "res.partner", "Related Partner", required=True, ondelete="restrict"
            ),
            "password": _char("Password"),
            "active": _active(),
            "share": _bool("Share User", readonly=True),
            "company_id": _m2o("res.company", "Company", required=True, default=1),
        },
        order="name, login",
        inherits={"res.partner": "partner_id"},
        uniques=(
            Unique(
                "res_users_login_key", ("login",), "You can not have two users with the same login!"
            ),
        ),
        display=_name_of("name"),
        display_fields=("name",),
        prepare_vals=_users_prepare,
        before_unlink=_users_unlink_guard,
    )
    apikeys = ModelDef(
        "res.users.apikeys",
        "Users API Keys",
        {
            "name": _char("Description", required=True, readonly=True),
            "user_id": _m2o("res.users", "User", required=True, readonly=True, ondelete="cascade"),
            "scope": _char("Scope", readonly=True),
            "expiration_date": Field("datetime", "Expiration Date", readonly=True),
        },
        display=_name_of("name"),
        display_fields=("name",),
    )
    uom = ModelDef(
        "uom.uom",
        "Product Unit of Measure",
        {
            "name": _char("Unit", required=True),
            "factor": Field("float", "Ratio", default=1.0),
            "rounding": Field("float", "Rounding Precision", default=0.01),
            "uom_type": Field(
                "selection",
                "Type",
                selection=(
                    ("bigger", "Bigger than the reference Unit of Measure"),
                    ("reference", "Reference Unit of Measure for this category"),
                    ("smaller", "Smaller than the reference Unit of Measure"),
                ),
                default="reference",
            ),
            "active": _active(),
        },
        order="factor DESC, id",
        display=_name_of("name"),
        display_fields=("name",),
    )
    product_category = ModelDef(
        "product.category",
        "Product Category",
        {
            "name": _char("Name", required=True),
            "complete_name": _char("Complete Name", readonly=True),
            "parent_id": _m2o("product.category", "Parent Category", ondelete="cascade"),
            "child_id": Field(
                "one2many",
                "Child Categories",
                relation="product.category",
                inverse_name="parent_id",
            ),
        },
        order="complete_name",
        rec_name="complete_name",
        parent_field="parent_id",
        recursion_message="You cannot create recursive categories.",
        display=_name_of("complete_name"),
        display_fields=("complete_name",),
    )
    template = ModelDef(
        "product.template",
        "Product",
        {
            "name": _char("Name", required=True),
            "description": Field("html", "Description"),
            "description_sale": Field("text", "Sales Description"),
            "list_price": Field("float", "Sales Price", default=1.0),
            "standard_price": Field("float", "Cost"),
            "default_code": _char("Internal Reference"),
            "barcode": _char("Barcode"),
            "categ_id": _m2o(
                "product.category",
                "Product Category",
                default=XmlidDefault("product.product_category_all"),
            ),
            "type": Field(
                "selection",
                "Product Type",
                selection=(("combo", "Combo"), ("service", "Service"), ("consu", "Goods")),
                default="consu",
            ),
            "active": _active(),
            "sale_ok": _bool("Sales", default=True),
            "purchase_ok": _bool("Purchase", default=True),
            "uom_id": _m2o(
                "uom.uom",
                "Unit of Measure",
                required=True,
                default=XmlidDefault("uom.product_uom_unit"),
            ),
            "uom_po_id": _m2o(
                "uom.uom",
                "Purchase Unit",
                required=True,
                default=XmlidDefault("uom.product_uom_unit"),
            ),
            "company_id": _m2o("res.company", "Company"),
            "weight": Field("float", "Weight"),
            # fields_get on a real 18.0: {'type': 'binary', 'string': 'Image', 'store': True}
            "image_1920": Field("binary", "Image"),
            "volume": Field("float", "Volume"),
            "product_variant_ids": Field(
                "one2many",
                "Products",
                relation="product.product",
                inverse_name="product_tmpl_id",
            ),
        },
        order="name, id",
        display=_product_display,
        display_fields=("name", "default_code"),
        after_create=_template_after_create,
        after_write=_template_after_write,
    )
    product = ModelDef(
        "product.product",
        "Product Variant",
        {
            "product_tmpl_id": _m2o(
                "product.template", "Product Template", required=True, ondelete="cascade"
            ),
            "default_code": _char("Internal Reference"),
            "barcode": _char("Barcode"),
            "active": _active(),
        },
        order="default_code, name, id",
        inherits={"product.template": "product_tmpl_id"},
        display=_product_display,
        display_fields=("name", "default_code"),
        after_create=_variant_after_create,
        after_write=_variant_after_write,
    )
    model_data = ModelDef(
        "ir.model.data",
        "Model Data",
        {
            "name": _char("External Identifier", required=True),
            "complete_name": Field(
                "char",
                "Complete ID",
                readonly=True,
                store=False,
                compute=lambda row: f"{row.get('module')}.{row.get('name')}",
                depends=("module", "name"),
            ),
            "model": _char("Model Name", required=True),
            "module": _char("Module", required=True, default=""),
            "res_id": Field("many2one_reference", "Record ID"),
            "noupdate": _bool("Non Updatable"),
        },
        order="module, model, name",
        checks=(
            Check(
                "ir_model_data_name_nospaces",
                lambda r: " " not in (r.get("name") or ""),
                "External IDs cannot contain spaces",
                ("name",),
            ),
        ),
        uniques=(
            Unique(
                "ir_model_data_module_name_uniq_index",
                ("module", "name"),
                "An external identifier must be unique per module",
            ),
        ),
        display=_name_of("name"),
        display_fields=("name",),
    )
    account = ModelDef(
        "account.account",
        "Account",
        {
            # company-dependent: read and written through the stored ``code_store``
            "code": Field(
                "char",
                "Code",
                store=False,
                compute=lambda row: row.get("code_store") or False,
                depends=("code_store",),
            ),
        },
        prepare_vals=_account_prepare,
        display=lambda row: " ".join(str(row[k]) for k in ("code_store", "name") if row.get(k)),
        display_fields=("code_store", "name"),
    )
    key_description = ModelDef(
        "res.users.apikeys.description",
        "API Key Description",
        {
            "name": _char("Description", required=True),
            "duration": Field(
                "selection",
                "Duration",
                selection=(
                    ("1", "1 Day"),
                    ("7", "1 Week"),
                    ("30", "1 Month"),
                    ("90", "3 Months"),
                    ("180", "6 Months"),
                    ("365", "1 Year"),
                    ("0", "Persistent Key"),
                    ("-1", "Custom Date"),
                ),
                default="0",
            ),
            "expiration_date": Field("datetime", "Expiration Date"),
        },
        display=_name_of("name"),
        display_fields=("name",),
    )
    identity_check = ModelDef(
        "res.users.identitycheck",
        "Password Check Wizard",
        {
            "request": _char("Request"),
            "res_id": Field("integer", "Record"),
            "password": _char("Password"),
        },
    )
    move = ModelDef(
        "account.move",
        "Journal Entry",
        {},
        prepare_create=_move_prepare,
        display=_move_display,
        display_fields=("state", "move_type", "name"),
    )
    return [
        key_description,
        identity_check,
        account,
        move,
        partner,
        category,
        currency,
        country,
        state,
        company,
        users,
        apikeys,
        uom,
        product_category,
        template,
        product,
        model_data,
    ]


__all__ = ["declare_models"]
