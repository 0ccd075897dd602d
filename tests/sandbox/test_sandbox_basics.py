"""The sandbox starts fast, serves the seeded data and basic CRUD over /jsonrpc."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sandbox_wire import Wire

from zenoo_etl.sandbox import SandboxServer, schema, serve_sandbox


@pytest.fixture
async def wire(sandbox: SandboxServer) -> AsyncIterator[Wire]:
    async with aiohttp.ClientSession() as session:
        yield Wire(sandbox, session)


async def test_startup_gives_url_credentials_and_key() -> None:
    # (how long it takes is measured by bench/sandbox_start.py, not asserted here)
    async with serve_sandbox() as sb:
        assert sb.port > 0 and sb.url == f"http://127.0.0.1:{sb.port}"
        assert (sb.database, sb.username, sb.password) == ("etl", "admin", "admin")
        assert len(sb.api_key) == 40


async def test_seed_matches_a_fresh_odoo(wire: Wire) -> None:
    assert await wire.call("ir.model.data", "check_object_reference", "base", "user_admin") == [
        "res.users",
        2,
    ]
    assert await wire.call("ir.model.data", "check_object_reference", "base", "main_partner") == [
        "res.partner",
        1,
    ]
    be = await wire.call("ir.model.data", "check_object_reference", "base", "be")
    rows = await wire.call("res.country", "read", [be[1]], fields=["code", "name"])
    assert rows == [{"id": be[1], "code": "BE", "name": "Belgium"}]
    unit = await wire.call("ir.model.data", "check_object_reference", "uom", "product_uom_unit")
    assert unit[0] == "uom.uom"


@pytest.mark.parametrize(
    ("version", "counts"),
    [
        ("18.0", {"res.country": 250, "res.country.state": 1776, "res.currency": 169}),
        ("19.0", {"res.country": 251, "res.country.state": 1977, "res.currency": 170}),
    ],
)
async def test_reference_data_is_the_real_one(version: str, counts: dict[str, int]) -> None:
    """What the snapshot of a fresh real Odoo holds, under the same external ids."""
    async with serve_sandbox(version=version) as sb, aiohttp.ClientSession() as session:
        wire = Wire(sb, session)
        inactive = {"context": {"active_test": False}}
        for model, count in counts.items():
            assert await wire.call(model, "search_count", [], **inactive) == count, model
        assert await wire.call("res.lang", "search_count", [], **inactive) == 92
        assert await wire.call("res.lang", "search", [["active", "=", True]]) != []
        for module, name, model in [
            ("base", "vn", "res.country"),
            ("base", "uk", "res.country"),
            ("base", "EUR", "res.currency"),
            ("base", "lang_en", "res.lang"),
            ("base", "main_company", "res.company"),
            ("uom", "product_uom_dozen", "uom.uom"),
            ("account", "1_sale", "account.journal"),
            ("stock", "warehouse0", "stock.warehouse"),
            ("sale", "seq_sale_order", "ir.sequence"),
        ]:
            found = await wire.call("ir.model.data", "check_object_reference", module, name)
            assert found[0] == model, (module, name)
        vn = await wire.call("ir.model.data", "check_object_reference", "base", "vn")
        [row] = await wire.call("res.country", "read", [vn[1]], fields=["name", "currency_id"])
        assert row["name"] == "Vietnam" and row["currency_id"][1] == "VND"
        categories = await wire.call(
            "product.category", "search_read", [], fields=["display_name"], order="id"
        )
        names = [c["display_name"] for c in categories]
        assert names == (
            ["All", "All / Saleable", "All / Expenses"]
            if version == "18.0"
            else ["Goods", "Expenses", "Services"]
        ), names


async def test_create_read_write_unlink_roundtrip(wire: Wire) -> None:
    company = await wire.call("res.partner", "create", {"name": "Acme", "is_company": True})
    child = await wire.call("res.partner", "create", {"name": "Bob", "parent_id": company})
    assert company == 7 and child == 8
    rows = await wire.call(
        "res.partner", "read", [child], fields=["display_name", "parent_id", "email"]
    )
    assert rows == [
        {"id": child, "display_name": "Acme, Bob", "parent_id": [company, "Acme"], "email": False}
    ]
    assert await wire.call("res.partner", "write", [company], {"name": "Acme Corp"}) is True
    rows = await wire.call("res.partner", "read", [child], fields=["display_name"])
    assert rows[0]["display_name"] == "Acme Corp, Bob"
    assert await wire.call("res.partner", "unlink", [child]) is True
    assert await wire.call("res.partner", "read", [child], fields=["name"]) == []


async def test_product_variant_and_template_are_created_together(wire: Wire) -> None:
    tmpl = await wire.call("product.template", "create", {"name": "Chair", "default_code": "CH"})
    variants = await wire.call("product.product", "search", [["product_tmpl_id", "=", tmpl]])
    assert len(variants) == 1
    variant = await wire.call(
        "product.product", "create", {"name": "Desk", "list_price": 99.0, "type": "service"}
    )
    [row] = await wire.call(
        "product.product",
        "read",
        [variant],
        fields=["name", "list_price", "type", "uom_id", "categ_id", "sale_ok", "display_name"],
    )
    assert row["uom_id"] == [1, "Units"] and row["categ_id"] == [1, "All"]
    assert (row["list_price"], row["type"], row["sale_ok"]) == (99.0, "service", True)
    await wire.call(
        "product.product", "write", [variant], {"name": "Big Desk", "default_code": "D1"}
    )
    [row] = await wire.call("product.product", "read", [variant], fields=["display_name"])
    assert row["display_name"] == "[D1] Big Desk"
    found = await wire.call("product.product", "search", [["name", "=", "Big Desk"]])
    assert found == [variant]


def test_schema_needs_no_server() -> None:
    models = schema()
    assert {"res.partner", "product.product", "ir.model.data", "uom.uom"} <= models.keys()
    assert models["product.template"]["uom_id"]["required"] is True
    assert models["res.partner"]["type"]["selection"][0] == ["contact", "Contact"]
    # required but filled by the server: flagged like the compiler flags real targets
    assert models["product.template"]["uom_id"].get("has_default") is True
    assert models["product.product"]["product_tmpl_id"].get("has_default") is True
    assert "has_default" not in models["product.template"]["name"]


def test_public_names() -> None:
    import zenoo_etl.sandbox as package

    assert set(package.__all__) >= {"SandboxServer", "serve_sandbox", "schema", "FaultInjector"}
    for name in package.__all__:
        assert getattr(package, name) is not None
