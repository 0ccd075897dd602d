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
from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.fields import Check, Field, ModelDef, Unique, XmlidDefault
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


def _walk_down(env: Env, table: str, ids: list[int], store: Callable[[list[int]], None]) -> None:
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
                f"SELECT id FROM {table} WHERE parent_id IN ({placeholders(len(batch))})", batch
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


def _category_complete_names(env: Env, ids: list[int]) -> None:
    """Store ``complete_name`` ("Parent / Child") for ids and their descendants."""

    def store(batch: list[int]) -> None:
        rows = env.cr.execute(
            "SELECT c.id, c.name, p.complete_name FROM product_category c "
            "LEFT JOIN product_category p ON p.id = c.parent_id "
            f"WHERE c.id IN ({placeholders(len(batch))})",
            batch,
        ).fetchall()
        env.cr.executemany(
            "UPDATE product_category SET complete_name = ? WHERE id = ?",
            [(f"{parent} / {name}" if parent else name, cid) for cid, name, parent in rows],
        )

    _walk_down(env, "product_category", ids, store)


def _category_after_create(env: Env, ids: list[int], vals_list: list[dict[str, Any]]) -> None:
    _category_complete_names(env, ids)


def _category_after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if {"name", "parent_id"} & vals.keys():
        _category_complete_names(env, ids)


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


def declare_models() -> list[ModelDef]:
    """Every model of the sandbox, in dependency-free order."""
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
        after_create=_category_after_create,
        after_write=_category_after_write,
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
    return [
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
