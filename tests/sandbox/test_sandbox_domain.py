"""Domain evaluation over /jsonrpc: operators, prefix logic, paths, False, active_test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_wire import Wire

from zenoo_etl.sandbox import SandboxServer


@pytest.fixture
async def data(sandbox: SandboxServer) -> AsyncIterator[tuple[Wire, dict[str, int]]]:
    async with aiohttp.ClientSession() as session:
        wire = Wire(sandbox, session)
        be = (await wire.call("res.country", "search", [["code", "=", "BE"]]))[0]
        fr = (await wire.call("res.country", "search", [["code", "=", "FR"]]))[0]
        vip, eu = await wire.call(
            "res.partner.category", "create", [{"name": "VIP"}, {"name": "EU"}]
        )
        ids = await wire.call(
            "res.partner",
            "create",
            [
                {"name": "Alpha", "email": "a@x.com", "country_id": be, "category_id": [vip, eu]},
                {"name": "beta", "country_id": fr, "is_company": True, "category_id": [[4, eu]]},
                {"name": "Gamma_1", "ref": "G1", "color": 3},
                {"name": "Delta", "active": False, "country_id": be},
            ],
        )
        names = dict(zip(["alpha", "beta", "gamma", "delta"], ids, strict=True))
        names.update(be=be, fr=fr, vip=vip, eu=eu)
        yield wire, names


async def ids_of(wire: Wire, domain: list[Any], **kw: Any) -> set[int]:
    found = await wire.call("res.partner", "search", domain, **kw)
    return {i for i in found if i > 6}  # ignore the seeded partners


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ([["name", "=", "Alpha"]], {"alpha"}),
        ([["name", "!=", "Alpha"]], {"beta", "gamma"}),
        ([["name", "ilike", "ALP"]], {"alpha"}),
        ([["name", "like", "ALP"]], set()),
        ([["name", "like", "Alp"]], {"alpha"}),
        ([["name", "not ilike", "a"]], set()),
        ([["name", "=like", "Gamma\\_%"]], {"gamma"}),
        # Odoo wraps like/ilike values in % without escaping them: wildcards work
        ([["name", "like", "Al%a"]], {"alpha"}),
        ([["name", "ilike", "g_mma"]], {"gamma"}),
        ([["name", "like", "a\\_1"]], {"gamma"}),
        ([["name", "=ilike", "BETA"]], {"beta"}),
        ([["name", "in", ["Alpha", "beta"]]], {"alpha", "beta"}),
        ([["name", "not in", ["Alpha", "beta"]]], {"gamma"}),
        ([["email", "=", False]], {"beta", "gamma"}),
        ([["email", "!=", False]], {"alpha"}),
        ([["ref", "in", [False, "G1"]]], {"alpha", "beta", "gamma"}),
        ([["color", ">", 2]], {"gamma"}),
        ([["color", "<=", 0]], {"alpha", "beta"}),
        ([["is_company", "=", True]], {"beta"}),
        ([["is_company", "=", False]], {"alpha", "gamma"}),
        (["|", ["name", "=", "Alpha"], ["name", "=", "beta"]], {"alpha", "beta"}),
        (["!", ["name", "=", "Alpha"]], {"beta", "gamma"}),
        (["&", ["name", "ilike", "a"], ["is_company", "=", True]], {"beta"}),
        ([["name", "ilike", "a"], ["is_company", "=", False]], {"alpha", "gamma"}),
        (["|", "!", ["name", "=", "Alpha"], ["email", "=", "a@x.com"]], {"alpha", "beta", "gamma"}),
        ([["country_id.code", "=", "BE"]], {"alpha"}),
        ([["country_id.name", "ilike", "fran"]], {"beta"}),
        ([["country_id", "=", "Belgium"]], {"alpha"}),
        ([["country_id", "=", False]], {"gamma"}),
        ([["category_id.name", "=", "EU"]], {"alpha", "beta"}),
        ([["category_id", "in", ["VIP"]]], {"alpha"}),
        ([["category_id", "=", False]], {"gamma"}),
        ([["active", "=", False]], {"delta"}),
        ([["active", "in", [True, False]], ["country_id.code", "=", "BE"]], {"alpha", "delta"}),
        ([["name", "=?", False]], {"alpha", "beta", "gamma"}),
        ([[1, "=", 1]], {"alpha", "beta", "gamma"}),
        ([[0, "=", 1]], set()),
    ],
)
async def test_domain_operators(
    data: tuple[Wire, dict[str, int]], domain: list[Any], expected: set[str]
) -> None:
    wire, names = data
    for leaf in domain:
        if isinstance(leaf, list) and leaf[0] == "category_id" and leaf[2] == ["VIP"]:
            leaf[2] = [names["vip"]]
    assert await ids_of(wire, domain) == {names[n] for n in expected}


async def test_active_test_context_includes_archived(data: tuple[Wire, dict[str, int]]) -> None:
    wire, names = data
    everything = await ids_of(wire, [["name", "!=", "x"]], context={"active_test": False})
    assert names["delta"] in everything
    assert await wire.call("res.partner", "search_count", [["country_id", "=", names["be"]]]) == 1


async def test_ids_and_parent_hierarchy(data: tuple[Wire, dict[str, int]]) -> None:
    wire, names = data
    child = await wire.call("res.partner", "create", {"name": "Kid", "parent_id": names["beta"]})
    grandchild = await wire.call("res.partner", "create", {"name": "Grandkid", "parent_id": child})
    assert await ids_of(wire, [["id", "child_of", names["beta"]]]) == {
        names["beta"],
        child,
        grandchild,
    }
    assert await ids_of(wire, [["id", "parent_of", grandchild]]) == {
        names["beta"],
        child,
        grandchild,
    }
    assert await ids_of(wire, [["child_ids", "in", [child]]]) == {names["beta"]}
    assert await ids_of(wire, [["parent_id.name", "=", "beta"]]) == {child}


async def test_offset_limit_and_order(data: tuple[Wire, dict[str, int]]) -> None:
    wire, names = data
    domain = [["id", ">", 6]]
    by_name = await wire.call("res.partner", "search", domain, order="name asc")
    assert by_name == [names["alpha"], names["beta"], names["gamma"]]  # case-insensitive order
    assert await wire.call("res.partner", "search", domain, order="name desc", limit=1) == [
        names["gamma"]
    ]
    assert await wire.call("res.partner", "search", domain, order="id", offset=1, limit=1) == [
        names["beta"]
    ]
    assert await wire.call("res.partner", "search_count", domain, limit=2) == 2


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([["no_such_field", "=", 1]], "Invalid field res.partner.no_such_field in leaf "),
        ([["name", "between", 1]], "Invalid leaf ['name', 'between', 1]"),
        ([["name", "="]], "Invalid leaf ['name', '=']"),
        ([["country_id.nope", "=", 1]], "Invalid field res.country.nope in leaf "),
    ],
)
async def test_bad_domains_raise_odoo_value_errors(
    data: tuple[Wire, dict[str, int]], domain: list[Any], message: str
) -> None:
    wire, _ = data
    error = await wire.fail("res.partner", "search", domain)
    assert error["name"] == "builtins.ValueError"
    assert error["message"].startswith(message)


async def test_bad_order_is_a_value_error(data: tuple[Wire, dict[str, int]]) -> None:
    wire, _ = data
    error = await wire.fail("res.partner", "search", [], order="nope desc")
    assert (error["name"], error["message"]) == (
        "builtins.ValueError",
        "Invalid field 'nope' on model 'res.partner'",
    )
