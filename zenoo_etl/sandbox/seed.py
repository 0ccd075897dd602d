"""What a fresh Odoo database holds, recreated once per sandbox database.

Ids follow a fresh Odoo 18 (base + contacts + product): company 1 with
partner 1, OdooBot (partner 2, user 1), admin (partner 3, uid 2), so the
first partner a client creates is id 7 as in the recordings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env

ADMIN_UID = 2
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"  # the sandbox's documented default credentials, never a real secret

COUNTRIES: list[tuple[str, str, int, str]] = [
    ("AR", "Argentina", 54, "USD"),
    ("AT", "Austria", 43, "EUR"),
    ("AU", "Australia", 61, "USD"),
    ("BE", "Belgium", 32, "EUR"),
    ("BR", "Brazil", 55, "USD"),
    ("CA", "Canada", 1, "USD"),
    ("CH", "Switzerland", 41, "EUR"),
    ("CN", "China", 86, "USD"),
    ("DE", "Germany", 49, "EUR"),
    ("DK", "Denmark", 45, "EUR"),
    ("ES", "Spain", 34, "EUR"),
    ("FR", "France", 33, "EUR"),
    ("GB", "United Kingdom", 44, "EUR"),
    ("IE", "Ireland", 353, "EUR"),
    ("IN", "India", 91, "USD"),
    ("IT", "Italy", 39, "EUR"),
    ("JP", "Japan", 81, "USD"),
    ("LU", "Luxembourg", 352, "EUR"),
    ("MX", "Mexico", 52, "USD"),
    ("NL", "Netherlands", 31, "EUR"),
    ("NO", "Norway", 47, "EUR"),
    ("PL", "Poland", 48, "EUR"),
    ("PT", "Portugal", 351, "EUR"),
    ("SE", "Sweden", 46, "EUR"),
    ("US", "United States", 1, "USD"),
]


def _xmlids(env: Env, model: str, pairs: list[tuple[str, int]]) -> None:
    rows = []
    for xmlid, res_id in pairs:
        module, _, name = xmlid.partition(".")
        rows.append(
            {"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": True}
        )
    env.create("ir.model.data", rows)


def seed(env: Env) -> None:
    """Insert the base records and their xmlids (runs inside a transaction)."""
    usd, eur = env.create(
        "res.currency", [{"name": "USD", "symbol": "$"}, {"name": "EUR", "symbol": "€"}]
    )
    _xmlids(env, "res.currency", [("base.USD", usd), ("base.EUR", eur)])
    partners: list[dict[str, Any]] = [
        {"name": "My Company", "is_company": True},
        {"name": "OdooBot", "active": False, "email": "odoobot@example.com"},
        {"name": "Administrator", "email": "admin@example.com"},
        {"name": "Public user", "active": False},
        {"name": "Default User Template", "active": False},
        {"name": "Portal User Template", "active": False},
    ]
    pids = env.create("res.partner", partners)
    company = env.create(
        "res.company", [{"name": "My Company", "partner_id": pids[0], "currency_id": usd}]
    )[0]
    env.write("res.partner", [pids[0], pids[2]], {"company_id": company})
    users = env.create(
        "res.users",
        [
            {"login": "__system__", "partner_id": pids[1], "active": False},
            {"login": ADMIN_LOGIN, "partner_id": pids[2], "password": ADMIN_PASSWORD},
            {"login": "public", "partner_id": pids[3], "active": False, "share": True},
            {"login": "default", "partner_id": pids[4], "active": False},
            {"login": "portaltemplate", "partner_id": pids[5], "active": False, "share": True},
        ],
    )
    assert users[1] == ADMIN_UID
    _xmlids(
        env,
        "res.partner",
        [
            ("base.main_partner", pids[0]),
            ("base.partner_root", pids[1]),
            ("base.partner_admin", pids[2]),
            ("base.public_partner", pids[3]),
        ],
    )
    _xmlids(env, "res.company", [("base.main_company", company)])
    _xmlids(
        env,
        "res.users",
        [
            ("base.user_root", users[0]),
            ("base.user_admin", users[1]),
            ("base.public_user", users[2]),
            ("base.default_user", users[3]),
            ("base.template_portal_user_id", users[4]),
        ],
    )
    currency = {"USD": usd, "EUR": eur}
    cids = env.create(
        "res.country",
        [
            {"code": code, "name": name, "phone_code": phone, "currency_id": currency[cur]}
            for code, name, phone, cur in COUNTRIES
        ],
    )
    _xmlids(
        env,
        "res.country",
        [(f"base.{code.lower()}", cid) for (code, *_), cid in zip(COUNTRIES, cids, strict=True)],
    )
    by_code = dict(zip((c[0] for c in COUNTRIES), cids, strict=True))
    states = [
        ("state_us_5", "US", "CA", "California"),
        ("state_us_27", "US", "NY", "New York"),
        ("state_us_44", "US", "TX", "Texas"),
        ("state_de_by", "DE", "BY", "Bayern (Bavaria)"),
        ("state_de_be", "DE", "BE", "Berlin"),
    ]
    sids = env.create(
        "res.country.state",
        [{"country_id": by_code[cc], "code": code, "name": name} for _, cc, code, name in states],
    )
    _xmlids(
        env,
        "res.country.state",
        [(f"base.{xid}", sid) for (xid, *_), sid in zip(states, sids, strict=True)],
    )
    uoms = env.create(
        "uom.uom",
        [
            {"name": "Units"},
            {"name": "Dozens", "factor": 1 / 12, "uom_type": "bigger"},
            {"name": "kg"},
            {"name": "g", "factor": 1000.0, "uom_type": "smaller"},
            {"name": "Hours"},
        ],
    )
    _xmlids(
        env,
        "uom.uom",
        [
            ("uom.product_uom_unit", uoms[0]),
            ("uom.product_uom_dozen", uoms[1]),
            ("uom.product_uom_kgm", uoms[2]),
            ("uom.product_uom_gram", uoms[3]),
            ("uom.product_uom_hour", uoms[4]),
        ],
    )
    everything = env.create("product.category", [{"name": "All"}])[0]
    saleable, expenses = env.create(
        "product.category",
        [
            {"name": "Saleable", "parent_id": everything},
            {"name": "Expenses", "parent_id": everything},
        ],
    )
    _xmlids(
        env,
        "product.category",
        [
            ("product.product_category_all", everything),
            ("product.product_category_1", saleable),
            ("product.cat_expense", expenses),
        ],
    )


__all__ = ["ADMIN_LOGIN", "ADMIN_PASSWORD", "ADMIN_UID", "seed"]
