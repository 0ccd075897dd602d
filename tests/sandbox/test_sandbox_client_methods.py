"""The methods scripts and clients call beyond CRUD answer as real Odoo 18 / 19 do.

Every expected value below is what the real servers answered to the same call
on admin's partner (id 3) of a fresh database (``/tmp/i12_methods.py`` in
the closing note of issue 12); timestamps are compared by shape.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_wire import Wire

from zenoo_etl.sandbox import serve_sandbox

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(params=["18.0", "19.0"])
async def wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    async with serve_sandbox(version=request.param) as sb, aiohttp.ClientSession() as session:
        yield Wire(sb, session)


async def test_read_with_load_gives_bare_many2one_ids(wire: Wire) -> None:
    fields = ["parent_id", "company_id", "category_id"]
    rows = await wire.call("res.partner", "read", [3], fields, load="_classic_write")
    assert rows == [{"id": 3, "parent_id": False, "company_id": 1, "category_id": []}]
    for load in (None, "nope"):
        assert await wire.call("res.partner", "read", [3], ["company_id"], load=load) == [
            {"id": 3, "company_id": 1}
        ]
    assert await wire.call("res.partner", "read", [3], ["company_id"]) == [
        {"id": 3, "company_id": [1, "My Company"]}
    ]


async def test_read_group(wire: Wire) -> None:
    domain = [["id", "<=", 3]]
    groups = await wire.call("res.partner", "read_group", domain, ["company_id"], ["company_id"])
    assert groups == [
        {
            "company_id": [1, "My Company"],
            "company_id_count": 1,
            "__domain": ["&", ["id", "<=", 3], ["company_id", "=", 1]],
        },
        {
            "company_id": False,
            "company_id_count": 1,
            "__domain": ["&", ["id", "<=", 3], ["company_id", "=", False]],
        },
    ]
    flat = await wire.call(
        "res.partner", "read_group", domain, ["id:count"], ["company_id", "type"], lazy=False
    )
    assert flat[0] == {
        "company_id": [1, "My Company"],
        "type": "contact",
        "__count": 1,
        "id": 1,
        "__domain": ["&", "&", ["id", "<=", 3], ["company_id", "=", 1], ["type", "=", "contact"]],
    }
    assert len(flat) == 2


async def test_read_group_array_agg_without_groupby(wire: Wire) -> None:
    """Rollback's change check: three arrays in id order, one group even of nothing.

    Real 18 and 19 answered ``[{"__count": 2, "id": [a, b], "create_date": [..],
    "write_date": [..], "__domain": domain}]``, and for no match the same with
    ``__count`` 0 and empty arrays (``/tmp/i17c/rg.py``, issue 17).
    """
    fields = ["id:array_agg", "create_date:array_agg", "write_date:array_agg"]
    domain = [["id", "in", [3, 1, 999_999]]]
    found = await wire.call("res.partner", "read_group", domain, fields, [], lazy=False)
    assert [sorted(g) for g in found] == [
        ["__count", "__domain", "create_date", "id", "write_date"]
    ]
    group = found[0]
    assert group["__count"] == 2 and group["id"] == [1, 3] and group["__domain"] == domain
    assert all(_STAMP.match(v) for v in group["create_date"] + group["write_date"])
    read = await wire.call("res.partner", "read", [1, 3], ["create_date", "write_date"])
    assert group["create_date"] == [r["create_date"] for r in read]
    assert group["write_date"] == [r["write_date"] for r in read]
    none = await wire.call("res.partner", "read_group", [["id", "=", 0]], fields, [], lazy=False)
    assert none == [
        {
            "__count": 0,
            "id": [],
            "create_date": [],
            "write_date": [],
            "__domain": [["id", "=", 0]],
        }
    ]


async def test_web_search_read_and_web_read(wire: Wire) -> None:
    spec = {"name": {}, "company_id": {"fields": {"display_name": {}}}}
    assert await wire.call("res.partner", "web_search_read", [["id", "=", 3]], spec) == {
        "length": 1,
        "records": [
            {
                "id": 3,
                "name": "Administrator",
                "company_id": {"id": 1, "display_name": "My Company"},
            }
        ],
    }
    assert await wire.call(
        "res.partner", "web_search_read", [["id", "=", 3]], {"company_id": {}}, limit=1
    ) == {"length": 1, "records": [{"id": 3, "company_id": 1}]}
    spec = {
        "name": {},
        "company_id": {"fields": {"name": {}}},
        "category_id": {"fields": {"display_name": {}}},
    }
    assert await wire.call("res.partner", "web_read", [3], spec) == [
        {
            "id": 3,
            "name": "Administrator",
            "company_id": {"id": 1, "name": "My Company"},
            "category_id": [],
        }
    ]


async def test_access_checks(wire: Wire) -> None:
    assert await wire.call("res.partner", "has_access", [3], "write") is True
    missing = await wire.fail("res.partner", "has_access", "write")
    assert (missing["name"], missing["message"]) == (
        "builtins.TypeError",
        "BaseModel.has_access() missing 1 required positional argument: 'operation'",
    )
    # None when allowed: the envelope has no "result" (zenoo-rpc relies on no error)
    envelope = await wire._execute_kw("res.partner", "check_access_rights", ["write"], {})
    assert "result" not in envelope and "error" not in envelope
    kwargs = {"raise_exception": False}
    assert await wire.call("res.partner", "check_access_rights", "unlink", **kwargs) is True
    if wire.server.version == "19.0":
        for name in ("check_access", "search_fetch"):
            refused = await wire.fail("res.partner", name, "write")
            assert refused["name"] == "odoo.exceptions.AccessError"
            assert refused["message"] == (
                f"Private methods (such as 'res.partner.{name}') cannot be called remotely."
            )
    else:
        assert await wire.call("res.partner", "search_fetch", [["id", "=", 3]], ["name"]) == [3]


async def test_get_metadata_export_data_copy_data(wire: Wire) -> None:
    [meta] = await wire.call("res.partner", "get_metadata", [3])
    assert _STAMP.match(meta.pop("create_date")) and _STAMP.match(meta.pop("write_date"))
    assert meta == {
        "id": 3,
        "create_uid": [1, "OdooBot"],
        "write_uid": [1, "OdooBot"],
        "xmlid": "base.partner_admin",
        "noupdate": True,
        "xmlids": [{"xmlid": "base.partner_admin", "noupdate": True}],
    }
    exported = await wire.call(
        "res.partner", "export_data", [1, 3], ["name", "company_id", "company_id/id", "id"]
    )
    assert exported == {
        "datas": [
            ["My Company", "", "", "base.main_partner"],
            ["Administrator", "My Company", "base.main_company", "base.partner_admin"],
        ]
    }
    new = await wire.call("res.partner", "create", {"name": "No xmlid"})
    [[xmlid]] = (await wire.call("res.partner", "export_data", [new], ["id"]))["datas"]
    assert re.match(rf"^__export__\.res_partner_{new}_[0-9a-f]{{8}}$", xmlid)
    again = await wire.call("res.partner", "export_data", [new], ["id"])
    assert again == {"datas": [[xmlid]]}  # made once, then reused
    [vals] = await wire.call("res.partner", "copy_data", [3])
    [admin] = await wire.call("res.partner", "read", [3], ["email"])
    assert vals["name"] == "Administrator (copy)" and vals["email"] == admin["email"]
    assert vals["company_id"] == 1 and vals["category_id"] == [[6, 0, []]]


async def test_web_routes_clients_probe(wire: Wire) -> None:
    async with wire.session.head(wire.server.url + "/", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, "/odoo")
    async with wire.session.get(wire.server.url + "/odoo", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, "/web/login?redirect=%2Fodoo%3F")
    status, body = await wire.post("/web/database/list", {})
    assert (status, body) == (200, {"jsonrpc": "2.0", "id": None, "result": ["etl"]})
    domain = [["model", "=", "sale.order"]]
    listed: Any = await wire.call("ir.model", "search_read", domain, ["name"])
    assert [row["name"] for row in listed] == ["Sales Order"]
