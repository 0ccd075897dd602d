"""The sandbox starts fast, serves the seeded data and basic CRUD over /jsonrpc."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sandbox_wire import Wire

from zenoo_etl.sandbox import SandboxServer, schema, serve_sandbox


@pytest.fixture
async def wire(sandbox: SandboxServer) -> AsyncIterator[Wire]:
    async with aiohttp.ClientSession() as session:
        yield Wire(sandbox, session)


async def test_startup_is_cheap() -> None:
    start = time.perf_counter()
    async with serve_sandbox() as sb:
        assert sb.port > 0 and sb.url == f"http://127.0.0.1:{sb.port}"
        assert (sb.database, sb.username, sb.password) == ("etl", "admin", "admin")
        assert len(sb.api_key) == 40
    assert time.perf_counter() - start < 0.2


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
    assert await wire.call("res.country", "search_count", []) >= 20
    unit = await wire.call("ir.model.data", "check_object_reference", "uom", "product_uom_unit")
    assert unit[0] == "uom.uom"


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
