"""ORM behaviour over /jsonrpc: load() upserts, conversions, x2many commands,
defaults, archiving, atomic calls and concurrent clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sandbox_wire import Wire

from zenoo_etl.sandbox import SandboxServer, serve_sandbox


@pytest.fixture
async def wire(sandbox: SandboxServer) -> AsyncIterator[Wire]:
    async with aiohttp.ClientSession() as session:
        yield Wire(sandbox, session)


async def test_load_twice_upserts_the_same_ids(wire: Wire) -> None:
    fields = ["id", "name", "email", "is_company", "country_id/id", "color"]
    rows = [
        ["__zenoo__.c1", "One", "one@x.com", "True", "base.be", "3"],
        ["c2", "Two", "", "no", "base.fr", "0"],
    ]
    first = await wire.call("res.partner", "load", fields, rows)
    assert first["messages"] == [] and first["nextrow"] == 0
    rows[0][1] = "One renamed"
    second = await wire.call("res.partner", "load", fields, rows)
    assert second["ids"] == first["ids"]
    read = await wire.call(
        "res.partner", "read", first["ids"], ["name", "email", "is_company", "country_id", "color"]
    )
    assert [r["name"] for r in read] == ["One renamed", "Two"]
    assert read[0]["is_company"] is True and read[1]["is_company"] is False
    assert read[1]["email"] is False and read[0]["color"] == 3
    assert read[0]["country_id"][1] == "Belgium"
    xmlids = await wire.call(
        "ir.model.data",
        "search_read",
        [["model", "=", "res.partner"], ["res_id", "in", first["ids"]]],
        fields=["module", "name", "complete_name"],
    )
    assert sorted(x["complete_name"] for x in xmlids) == ["__import__.c2", "__zenoo__.c1"]


async def test_load_relations_by_db_id_name_and_many2many(wire: Wire) -> None:
    tags = await wire.call(
        "res.partner.category", "load", ["id", "name"], [["t1", "A"], ["t2", "B"]]
    )
    result = await wire.call(
        "res.partner",
        "load",
        ["name", "parent_id/.id", "category_id/id", "country_id"],
        [["Kid", "1", "t1,t2", "Germany"]],
    )
    [row] = await wire.call(
        "res.partner", "read", result["ids"], ["parent_id", "category_id", "country_id"]
    )
    assert row["parent_id"][0] == 1 and row["category_id"] == tags["ids"]
    assert row["country_id"][1] == "Germany"


async def test_load_reports_every_bad_cell_and_keeps_nothing(wire: Wire) -> None:
    before = await wire.call("res.partner", "search_count", [])
    result = await wire.call(
        "res.partner",
        "load",
        ["id", "name", "is_company", "color", "type"],
        [
            ["ok1", "Fine", "1", "1", "contact"],
            ["bad1", "Bad bool", "maybe", "1", "contact"],
            ["bad2", "Bad int", "0", "x", "Invoice Address"],
            ["bad3", "Bad sel", "0", "1", "nope"],
        ],
    )
    assert result["ids"] is False
    assert [(m["record"], m["field"], m["type"]) for m in result["messages"]] == [
        (1, "is_company", "error"),
        (2, "color", "error"),
        (3, "type", "error"),
    ]
    assert (
        result["messages"][1]["message"]
        == "'x' does not seem to be an integer for field 'Color Index'"
    )
    assert await wire.call("res.partner", "search_count", []) == before


async def test_load_unknown_column_is_a_hard_error(wire: Wire) -> None:
    error = await wire.fail("res.partner", "load", ["name", "nope/id"], [["x", "y"]])
    assert (error["name"], error["message"]) == ("builtins.ValueError", "Invalid field name 'nope'")


async def test_load_required_field_message(wire: Wire) -> None:
    result = await wire.call("product.template", "load", ["id", "name"], [["p", ""]])
    assert result["ids"] is False
    assert result["messages"][0]["message"] == "Missing required value for the field 'Name' (name)"
    assert result["messages"][0]["field"] == "name"


async def test_x2many_commands(wire: Wire) -> None:
    a, b, c = await wire.call(
        "res.partner.category", "create", [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    )
    pid = await wire.call("res.partner", "create", {"name": "P", "category_id": [[6, 0, [a, b]]]})

    async def tags() -> list[int]:
        [row] = await wire.call("res.partner", "read", [pid], ["category_id"])
        return list(row["category_id"])

    assert await tags() == [a, b]
    await wire.call("res.partner", "write", [pid], {"category_id": [[3, a, 0], [4, c, 0]]})
    assert await tags() == [b, c]
    await wire.call("res.partner", "write", [pid], {"category_id": [[0, 0, {"name": "new"}]]})
    assert len(await tags()) == 3
    await wire.call("res.partner", "write", [pid], {"category_id": [a]})
    assert await tags() == [a]
    await wire.call("res.partner", "write", [pid], {"category_id": False})
    assert await tags() == []
    await wire.call(
        "res.partner", "write", [pid], {"child_ids": [[0, 0, {"name": "Child", "type": "invoice"}]]}
    )
    [row] = await wire.call("res.partner", "read", [pid], ["child_ids"])
    [child] = await wire.call(
        "res.partner", "read", row["child_ids"], ["display_name", "parent_id"]
    )
    assert child["display_name"] == "P, Child" and child["parent_id"][0] == pid
    error = await wire.fail("res.partner", "write", [pid], {"category_id": [[4, 9999, 0]]})
    assert error["name"] == "odoo.exceptions.MissingError"


async def test_defaults_and_context_defaults(wire: Wire) -> None:
    defaults = await wire.call("product.template", "default_get", ["list_price", "type", "uom_id"])
    assert defaults == {"list_price": 1.0, "type": "consu", "uom_id": 1}
    pid = await wire.call(
        "res.partner", "create", {"name": "Ctx"}, context={"default_type": "delivery"}
    )
    [row] = await wire.call("res.partner", "read", [pid], ["type", "active", "lang"])
    assert (row["type"], row["active"], row["lang"]) == ("delivery", True, "en_US")


async def test_archiving_hides_records_from_search_only(wire: Wire) -> None:
    pid = await wire.call("res.partner", "create", {"name": "Old"})
    await wire.call("res.partner", "write", [pid], {"active": False})
    assert await wire.call("res.partner", "search", [["name", "=", "Old"]]) == []
    assert await wire.call(
        "res.partner", "search", [["name", "=", "Old"]], context={"active_test": False}
    ) == [pid]
    assert (await wire.call("res.partner", "read", [pid], ["active"]))[0]["active"] is False
    assert await wire.call("res.partner", "name_search", "Old") == []


async def test_restrict_and_cascade_on_unlink(wire: Wire) -> None:
    error = await wire.fail("res.partner", "unlink", [1])  # the company's partner
    assert error["name"] == "odoo.exceptions.ValidationError"
    assert "another model requires the record being deleted" in error["message"]
    parent = await wire.call("product.category", "create", {"name": "Parent"})
    child = await wire.call("product.category", "create", {"name": "Child", "parent_id": parent})
    [row] = await wire.call("product.category", "read", [child], ["display_name"])
    assert row["display_name"] == "Parent / Child"
    await wire.call("product.category", "unlink", [parent])
    assert await wire.call("product.category", "read", [child], ["name"]) == []


async def test_a_failing_call_leaves_nothing_behind(wire: Wire) -> None:
    before = await wire.call("res.partner", "search_count", [], context={"active_test": False})
    error = await wire.fail(
        "res.partner", "create", [{"name": f"ok{i}"} for i in range(50)] + [{"type": "contact"}]
    )
    assert error["message"] == "The operation cannot be completed: Contacts require a name"
    pid = await wire.call("res.partner", "create", {"name": "keep"})
    error = await wire.fail("res.partner", "write", [pid, 99999], {"name": "changed"})
    assert error["name"] == "odoo.exceptions.MissingError"
    assert (await wire.call("res.partner", "read", [pid], ["name"]))[0]["name"] == "keep"
    after = await wire.call("res.partner", "search_count", [], context={"active_test": False})
    assert after == before + 1


async def test_ids_are_never_reused_after_a_rollback(wire: Wire) -> None:
    first = await wire.call("res.partner", "create", {"name": "a"})
    await wire.fail("res.partner", "create", [{"name": "b"}, {"name": "c", "parent_id": 424242}])
    await wire.fail("res.partner", "create", [{"name": "d"}, {"type": "contact"}])
    second = await wire.call("res.partner", "create", {"name": "e"})
    assert second > first


async def test_concurrent_clients_are_serialised_and_all_land(sandbox: SandboxServer) -> None:
    async def worker(n: int) -> list[int]:
        async with aiohttp.ClientSession() as session:
            wire = Wire(sandbox, session)
            created: list[int] = []
            for chunk in range(5):
                vals = [{"name": f"w{n}-{chunk}-{i}", "ref": f"W{n}"} for i in range(20)]
                created += await wire.call("res.partner", "create", vals)
                await wire.call("res.partner", "write", created[-20:], {"email": f"w{n}@x.com"})
            return created

    results = await asyncio.gather(*(worker(n) for n in range(8)))
    all_ids = [i for ids in results for i in ids]
    assert len(all_ids) == len(set(all_ids)) == 800
    async with aiohttp.ClientSession() as session:
        wire = Wire(sandbox, session)
        for n in range(8):
            assert (
                await wire.call("res.partner", "search_count", [["email", "=", f"w{n}@x.com"]])
                == 100
            )


async def test_a_database_file_persists_and_is_seeded_once(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = tmp_path / "sb.db"
    async with serve_sandbox(db_path=db) as sb, aiohttp.ClientSession() as session:
        pid = await Wire(sb, session).call("res.partner", "create", {"name": "Persisted"})
    async with serve_sandbox(db_path=db) as sb, aiohttp.ClientSession() as session:
        wire = Wire(sb, session)
        assert await wire.call("res.partner", "search", [["name", "=", "Persisted"]]) == [pid]
        assert await wire.call("res.company", "search_count", []) == 1
        assert await wire.call("res.partner", "create", {"name": "Next"}) == pid + 1


async def test_copy_returns_a_list_and_marks_the_name(wire: Wire) -> None:
    tag = await wire.call("res.partner.category", "create", {"name": "T"})
    pid = await wire.call("res.partner", "create", {"name": "Orig", "category_id": [tag]})
    [copy_id] = await wire.call("res.partner", "copy", [pid])
    [row] = await wire.call("res.partner", "read", [copy_id], ["name", "category_id"])
    assert row == {"id": copy_id, "name": "Orig (copy)", "category_id": [tag]}


async def test_positional_execute_and_variant_unlink_takes_the_template(wire: Wire) -> None:
    body = await wire.rpc(
        "object", "execute", "etl", 2, "admin", "product.product", "create", {"name": "Solo"}
    )
    variant = body["result"]
    [row] = await wire.call("product.product", "read", [variant], ["product_tmpl_id"])
    template = row["product_tmpl_id"][0]
    assert await wire.call("product.product", "unlink", [variant]) is True
    assert await wire.call("product.template", "read", [template], ["name"]) == []


async def test_recursion_and_unique_constraints(wire: Wire) -> None:
    pid = await wire.call("res.partner", "create", {"name": "Loop"})
    kid = await wire.call("res.partner", "create", {"name": "Kid", "parent_id": pid})
    error = await wire.fail("res.partner", "write", [pid], {"parent_id": kid})
    assert error["name"] == "odoo.exceptions.ValidationError"
    error = await wire.fail("res.country", "create", {"name": "Belgium bis", "code": "be"})
    assert (
        error["message"]
        == "The operation cannot be completed: The code of the country must be unique!"
    )


async def test_load_with_a_repeated_xmlid_updates_the_first_row(wire: Wire) -> None:
    result = await wire.call(
        "res.partner", "load", ["id", "name"], [["dup", "First"], ["dup", "Second"], ["x", "X"]]
    )
    assert result["messages"] == []
    first, second, other = result["ids"]
    assert first == second != other
    assert (await wire.call("res.partner", "read", [first], ["name"]))[0]["name"] == "Second"


async def test_display_names_of_tags_states_and_products(wire: Wire) -> None:
    parent = await wire.call("res.partner.category", "create", {"name": "Region"})
    child = await wire.call(
        "res.partner.category", "create", {"name": "North", "parent_id": parent}
    )
    state = (await wire.call("ir.model.data", "check_object_reference", "base", "state_us_5"))[1]
    pid = await wire.call(
        "res.partner", "create", {"name": "P", "category_id": [child], "state_id": state}
    )
    [row] = await wire.call("res.partner", "read", [pid], ["state_id"])
    assert row["state_id"] == [state, "California (US)"]
    assert await wire.call("res.partner.category", "name_search", "North") == [
        [child, "Region / North"]
    ]


async def test_load_by_database_id_and_selection_labels(wire: Wire) -> None:
    pid = await wire.call("res.partner", "create", {"name": "A"})
    assert (await wire.call("res.partner", "load", [".id", "name"], [[str(pid), "A2"]]))["ids"] == [
        pid
    ]
    assert (await wire.call("res.partner", "read", [pid], ["name"]))[0]["name"] == "A2"
    missing = await wire.call("res.partner", "load", [".id", "name"], [["424242", "Z"]])
    assert missing["ids"] is False
    assert missing["messages"][0]["message"] == "Unknown database identifier '424242'"
    loaded = await wire.call(
        "product.product",
        "load",
        ["id", "name", "categ_id/id", "list_price", "type"],
        [["w1", "W", "product.product_category_1", "2.5", "Service"]],
    )
    [row] = await wire.call(
        "product.product", "read", loaded["ids"], ["categ_id", "list_price", "type"]
    )
    assert (row["categ_id"][1], row["list_price"], row["type"]) == (
        "All / Saleable",
        2.5,
        "service",
    )


async def test_archiving_a_template_archives_its_variants(wire: Wire) -> None:
    tmpl = await wire.call("product.template", "create", {"name": "Old stock"})
    await wire.call("product.template", "write", [tmpl], {"active": False})
    assert await wire.call("product.product", "search", [["product_tmpl_id", "=", tmpl]]) == []
    await wire.call("product.template", "write", [tmpl], {"active": True})
    assert len(await wire.call("product.product", "search", [["product_tmpl_id", "=", tmpl]])) == 1


async def test_an_unnamed_address_reads_as_its_type(wire: Wire) -> None:
    company = await wire.call("res.partner", "create", {"name": "Acme", "is_company": True})
    address = await wire.call("res.partner", "create", {"type": "invoice", "parent_id": company})
    [row] = await wire.call("res.partner", "read", [address], ["display_name", "name"])
    assert row == {"id": address, "display_name": "Acme, Invoice Address", "name": False}


async def test_name_create(wire: Wire) -> None:
    new_id, label = await wire.call("res.partner.category", "name_create", "Quick")
    assert label == "Quick"
    assert await wire.call("res.partner.category", "name_search", "Quick") == [[new_id, "Quick"]]


async def test_action_archive_and_unarchive_toggle_active(wire: Wire) -> None:
    """Odoo's BaseModel.action_archive / action_unarchive, callable on records."""
    ids = await wire.call("res.partner", "create", [{"name": "A1"}, {"name": "A2"}])
    envelope = await wire._execute_kw("res.partner", "action_archive", [ids], {})
    assert envelope == {"jsonrpc": "2.0", "id": envelope["id"]}  # None: no "result" key
    assert await wire.call("res.partner", "search", [["id", "in", ids]]) == []
    await wire.call("res.partner", "action_unarchive", ids[:1])
    assert await wire.call("res.partner", "search", [["id", "in", ids]]) == ids[:1]
    missing = await wire.fail("res.partner", "action_archive", [99999])
    assert missing["name"] == "odoo.exceptions.MissingError"
    no_active = await wire.fail("res.country", "action_archive", [1])
    assert no_active["name"] == "builtins.AssertionError"


async def test_renaming_a_parent_renames_its_descendants(wire: Wire) -> None:
    """complete_name is stored, so a rename walks down the tree: partners and categories."""
    acme = await wire.call("res.partner", "create", {"name": "Acme", "is_company": True})
    team = await wire.call("res.partner", "create", {"name": "Team", "parent_id": acme})
    bob = await wire.call("res.partner", "create", {"name": "Bob", "parent_id": team})
    await wire.call("res.partner", "write", [acme], {"name": "Acme Corp"})
    rows = await wire.call("res.partner", "read", [team, bob], ["complete_name"])
    assert [r["complete_name"] for r in rows] == ["Acme Corp, Team", "Acme Corp, Bob"]

    top = await wire.call("product.category", "create", {"name": "Top"})
    mid = await wire.call("product.category", "create", {"name": "Mid", "parent_id": top})
    leaf = await wire.call("product.category", "create", {"name": "Leaf", "parent_id": mid})
    await wire.call("product.category", "write", [top], {"name": "Root"})
    rows = await wire.call("product.category", "read", [mid, leaf], ["complete_name"])
    assert [r["complete_name"] for r in rows] == ["Root / Mid", "Root / Mid / Leaf"]
