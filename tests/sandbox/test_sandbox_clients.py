"""Third-party Odoo clients, nobody here wrote them, work against the sandbox.

odoorpc 0.10.1, odooly 2.6.7 and zenoo-rpc 0.2.4 over JSON-RPC (18.0 and
19.0), pyodoo-client 19.0.4 over JSON-2 (19.0); each runs the same scenario
it runs against a real Odoo: login, version, database list, search_read,
read with ``load``, create / write / unlink, fields_get, name_search,
many2one navigation and the ``ir.model`` listing. The synchronous clients run
in a thread while the sandbox serves on the test's event loop.

Where a client's own bug also fails on a real Odoo 19 (pyodoo-client sends a
new record's ``save()`` as ``{"vals_list": [{"vals": ...}]}`` and unwraps a
one-condition domain), the test pins that it fails the same way.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import odooly
import odoorpc
import pytest
from pyodoo_client import OdooClient
from zenoo_rpc import ZenooClient

from zenoo_etl.sandbox import SandboxServer, serve_sandbox

VERSIONS = ["18.0", "19.0"]


def _odoorpc_scenario(sb: SandboxServer) -> dict[str, Any]:
    odoo = odoorpc.ODOO(sb.host, port=sb.port, timeout=30)
    seen: dict[str, Any] = {"version": odoo.version, "dbs": odoo.db.list()}
    odoo.login(sb.database, sb.username, sb.password)
    seen["uid"] = odoo.env.uid
    partners = odoo.env["res.partner"]
    seen["search_read"] = partners.search_read([["id", "=", 3]], ["name"])
    company = partners.create({"name": f"Acme {uuid.uuid4().hex[:6]}", "is_company": True})
    contact = partners.create({"name": "Ann", "parent_id": company})
    record = partners.browse(contact)
    # odoorpc reads with load='_classic_write' and browses the bare many2one id
    seen["parent_name"] = record.parent_id.name
    seen["parent_is_company"] = record.parent_id.is_company
    record.email = "ann@example.com"  # a write through the record
    seen["email"] = partners.read([contact], ["email"])[0]["email"]
    seen["fields"] = partners.fields_get(["name", "parent_id"], ["type", "relation"])
    seen["name_search"] = partners.name_search("Ann")
    seen["models"] = odoo.env["ir.model"].search_count([["model", "=like", "res.%"]])
    seen["unlink"] = partners.unlink([contact, company])
    seen["after_unlink"] = partners.search([["id", "in", [contact, company]]])
    seen["contact"] = contact
    return seen


@pytest.mark.parametrize("version", VERSIONS)
async def test_odoorpc_scenario(version: str) -> None:
    async with serve_sandbox(version=version) as sb:
        seen = await asyncio.to_thread(_odoorpc_scenario, sb)
    assert seen["version"].startswith(version)  # 18.0-20250702, 19.0: the recorded servers'
    assert seen["dbs"] == ["etl"] and seen["uid"] == 2
    assert seen["search_read"] == [{"id": 3, "name": "Administrator"}]
    assert seen["parent_name"].startswith("Acme ") and seen["parent_is_company"] is True
    assert seen["email"] == "ann@example.com"
    assert seen["fields"]["parent_id"] == {"type": "many2one", "relation": "res.partner"}
    assert [seen["contact"], "Acme " + seen["parent_name"][5:] + ", Ann"] in seen["name_search"]
    assert seen["models"] > 20
    assert seen["unlink"] is True and seen["after_unlink"] == []


def _odooly_scenario(sb: SandboxServer) -> dict[str, Any]:
    # no database given: odooly follows HEAD / (303 to /odoo) and then speaks /web/...
    client = odooly.Client(sb.url + "/")
    seen: dict[str, Any] = {"version": client.server_version, "dbs": client.database.list()}
    client.login(sb.username, sb.password, database=sb.database)
    env = client.env
    seen["uid"] = env.uid
    partners = env["res.partner"]
    seen["search_read"] = partners.search_read([("id", "=", 3)], ["name"])
    company = partners.create({"name": "Odooly Co", "is_company": True})
    contact = partners.create({"name": "Bob", "parent_id": company.id})
    seen["parent_name"] = contact.parent_id.name  # many2one navigation
    contact.write({"phone": "+32 2 555 01 01"})
    seen["phone"] = partners.read(contact.id, "phone")
    seen["fields"] = partners.fields_get(["name"], ["type"])
    seen["name_search"] = partners.name_search("Bob")
    seen["models"] = sorted(env.models("res.partner"))  # listed from ir.model
    contact.unlink()
    company.unlink()
    seen["left"] = partners.search([("id", "in", [contact.id, company.id])]).ids
    return seen


@pytest.mark.parametrize("version", VERSIONS)
async def test_odooly_scenario(version: str) -> None:
    async with serve_sandbox(version=version) as sb:
        seen = await asyncio.to_thread(_odooly_scenario, sb)
    assert seen["version"].startswith(version) and seen["dbs"] == ["etl"] and seen["uid"] == 2
    assert seen["search_read"] == [{"id": 3, "name": "Administrator"}]
    assert seen["parent_name"] == "Odooly Co"
    assert seen["phone"] == "+32 2 555 01 01"
    assert seen["fields"] == {"name": {"type": "char"}}
    assert [name for _, name in seen["name_search"]] == ["Odooly Co, Bob"]
    assert {"res.partner", "res.partner.bank", "res.partner.category"} <= set(seen["models"])
    assert seen["left"] == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_zenoo_rpc_scenario(version: str) -> None:
    async with serve_sandbox(version=version) as sb, ZenooClient(sb.url) as client:
        assert (await client.get_server_version())["server_serie"] == version
        assert await client.list_databases() == ["etl"]
        await client.login(sb.database, sb.username, sb.password)
        assert client.uid == 2
        # check_access_rights answers None when allowed: admin may write and delete
        permissions = await client.get_user_permissions("res.partner")
        assert permissions == {"create": True, "read": True, "write": True, "unlink": True}
        rows = await client.search_read("res.partner", [("id", "=", 3)], fields=["name"])
        assert rows == [{"id": 3, "name": "Administrator"}]
        company = await client.create("res.partner", {"name": "Zen Co", "is_company": True})
        contact = await client.create("res.partner", {"name": "Cy", "parent_id": company})
        [row] = await client.read("res.partner", [contact], ["parent_id"])
        assert row["parent_id"] == [company, "Zen Co"]
        assert await client.write("res.partner", [contact], {"email": "cy@example.com"})
        fields = await client.get_model_fields("res.partner")
        assert fields["parent_id"]["relation"] == "res.partner"
        found = await client.execute_kw("res.partner", "name_search", ["Cy"])
        assert found == [[contact, "Zen Co, Cy"]]
        listed = await client.search_read(
            "ir.model", [("model", "=", "sale.order")], fields=["model", "name"]
        )
        assert [(r["model"], r["name"]) for r in listed] == [("sale.order", "Sales Order")]
        read_ids = await client.execute_kw(
            "res.partner", "read", [[contact], ["parent_id"]], {"load": "_classic_write"}
        )
        assert read_ids == [{"id": contact, "parent_id": company}]
        assert await client.unlink("res.partner", [contact, company])
        assert await client.search_count("res.partner", [("id", "=", contact)]) == 0


def _pyodoo_scenario(sb: SandboxServer) -> dict[str, Any]:
    client = OdooClient(sb.url, api_key=sb.api_key, db=sb.database, debug=True)
    seen: dict[str, Any] = {"logged_in": client.logged_in, "uid": client.uid}
    seen["version"] = client.database.server_version()
    seen["dbs"] = client.database.list()
    partners = client.model("res.partner")
    rows = partners.search_read(["|", ["id", "=", 3], ["id", "=", 1]], fields=["name"])
    seen["search_read"] = sorted(dict(r) for r in rows) if False else [r.get_data() for r in rows]
    company = partners.create({"name": "Py Co", "is_company": True})
    contact = partners.create({"name": "Dee", "parent_id": company})
    seen["read"] = [r.get_data() for r in partners.read([contact], fields=["parent_id"])]
    seen["read_load"] = partners.execute(
        "read", {"ids": [contact], "fields": ["parent_id"], "load": "_classic_write"}
    )
    seen["write"] = partners.write([contact], {"email": "dee@example.com"})
    seen["fields"] = partners.fields_get({"allfields": ["name"], "attributes": ["type"]})
    seen["name_search"] = partners.name_search({"name": "Dee"})
    seen["export"] = partners.export_data(
        {"ids": [contact], "fields_to_export": ["name", "parent_id", "parent_id/id"]}
    )
    seen["models"] = client.model("ir.model").search_count({"domain": [["model", "=", "crm.lead"]]})
    seen["unlink"] = partners.unlink([contact, company])
    # the client's own bugs, as they show on a real Odoo 19
    failures = {}
    for name, call in [
        ("save_new", lambda: partners.new().set_data({"name": "Eve"}) or None),
        ("one_leaf_domain", lambda: partners.search_read([["name", "=", "Py Co"]])),
    ]:
        try:
            if name == "save_new":
                entity = partners.new()
                entity.set_data({"name": "Eve"})
                entity.save()
            else:
                call()
        except Exception as exc:
            payload = getattr(exc, "payload", None) or {}
            failures[name] = (getattr(exc, "status_code", None), payload.get("name"),
                              payload.get("message"))  # fmt: skip
    seen["failures"] = failures
    return seen


async def test_pyodoo_client_scenario_over_json2() -> None:
    async with serve_sandbox(version="19.0") as sb:
        seen = await asyncio.to_thread(_pyodoo_scenario, sb)
    assert seen["logged_in"] is True and seen["uid"] == 2
    assert seen["version"] == "19.0" and seen["dbs"] == ["etl"]
    assert sorted(r["name"] for r in seen["search_read"]) == ["Administrator", "My Company"]
    [row] = seen["read"]
    assert row["parent_id"][1] == "Py Co"
    assert seen["read_load"][0]["parent_id"] == row["parent_id"][0]
    assert seen["write"] is True
    assert seen["fields"] == {"name": {"type": "char"}}
    assert [name for _, name in seen["name_search"]] == ["Py Co, Dee"]
    [[name, parent, parent_xmlid]] = seen["export"]["datas"]
    assert (name, parent) == ("Dee", "Py Co") and parent_xmlid.startswith("__export__.")
    assert seen["models"] == 1 and seen["unlink"] is True
    assert seen["failures"] == {
        "save_new": (500, "builtins.ValueError", "Invalid field 'vals' in 'res.partner'"),
        "one_leaf_domain": (
            500,
            "builtins.ValueError",
            "Domain() invalid item in domain: 'Py Co'",
        ),
    }
