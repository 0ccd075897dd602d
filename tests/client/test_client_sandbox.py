"""The client against the embedded sandbox server, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from zenoo_etl.client import (
    AccessError,
    AuthenticationError,
    MissingRecordError,
    OdooUserError,
    ServerError,
    ValidationError,
    ZenooClient,
)


async def test_login_good_sets_uid_version_and_protocol(sb: Any) -> None:
    async with ZenooClient(url=sb.url) as client:
        uid = await client.login(sb.database, sb.username, sb.password)
        assert isinstance(uid, int) and uid == client.uid
        assert client.server_version is not None and client.server_version[0] >= 16
        assert client.protocol == "jsonrpc"


async def test_login_bad_password_is_refused_without_echoing_it(sb: Any) -> None:
    async with ZenooClient(url=sb.url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.login(sb.database, sb.username, "not-the-password")
    assert "not-the-password" not in str(info.value)
    assert sb.database in str(info.value)


async def test_crud_round_trip(sb_client: ZenooClient) -> None:
    c = sb_client
    one = await c.create("res.partner", {"name": "Round One", "email": "one@example.com"})
    many = await c.create("res.partner", [{"name": "Round A"}, {"name": "Round B"}])
    assert isinstance(one, int) and len(many) == 2 and one not in many
    assert await c.write("res.partner", [one], {"phone": "+1 555"}) is True
    rows = await c.read("res.partner", [one, *many], ["name", "phone"])
    assert [r["name"] for r in rows] == ["Round One", "Round A", "Round B"]
    assert rows[0]["phone"] == "+1 555" and rows[1]["phone"] is False
    found = await c.search("res.partner", [["name", "ilike", "Round"]])
    assert set(found) == {one, *many}
    assert await c.search_count("res.partner", [["name", "ilike", "Round"]]) == 3
    sr = await c.search_read(
        "res.partner", [["name", "ilike", "Round"]], ["name"], order="name asc", limit=2
    )
    assert [r["name"] for r in sr] == ["Round A", "Round B"]
    pairs = await c.name_search("res.partner", "Round O")
    assert (one, "Round One") in pairs
    assert await c.unlink("res.partner", [one]) is True
    assert await c.read("res.partner", [one], ["name"]) == []
    with pytest.raises(MissingRecordError):
        await c.unlink("res.partner", [one])
    with pytest.raises(MissingRecordError):
        await c.write("res.partner", [one], {"name": "ghost"})


async def test_fields_get_describes_the_model(sb_client: ZenooClient) -> None:
    fields = await sb_client.fields_get("res.partner", attributes=["type", "relation"])
    assert fields["country_id"] == {"type": "many2one", "relation": "res.country"}


@pytest.mark.parametrize(
    ("model", "method", "args", "cls"),
    [
        ("res.partner", "create", [{}], ValidationError),
        ("res.partner", "create", [{"name": "x", "no_such_field": 1}], ServerError),
        ("no.such.model", "create", [{"name": "x"}], OdooUserError),
        ("res.partner", "no_such_method", [[1]], ServerError),
        ("res.partner", "_private", [[1]], AccessError),
        ("res.partner", "create", [{"name": "x", "parent_id": 99999999}], MissingRecordError),
    ],
)
async def test_sandbox_errors_map_like_real_odoo(
    sb_client: ZenooClient, model: str, method: str, args: list[Any], cls: type[Exception]
) -> None:
    with pytest.raises(cls) as info:
        await sb_client.execute_kw(model, method, args)
    assert info.value.model == model and info.value.method == method


async def test_load_creates_then_updates_by_xmlid_and_is_all_or_nothing(
    sb_client: ZenooClient,
) -> None:
    c = sb_client
    fields = ["id", "name", "email"]
    rows = [["__import__.lp1", "LP1", "lp1@x.com"], ["__import__.lp2", "LP2", "lp2@x.com"]]
    first = await c.load("res.partner", fields, rows)
    assert first.ids is not None and len(first.ids) == 2 and first.messages == []
    again = await c.load("res.partner", fields, rows)
    assert again.ids == first.ids
    bad = await c.load(
        "res.partner", fields, [["__import__.lp3", "LP3", "x"], ["__import__.lp4", "", "y"]]
    )
    assert bad.ids is None and bad.messages[0]["type"] == "error"
    assert await c.search_count("res.partner", [["name", "=", "LP3"]]) == 0


async def test_query_api_against_the_server(sb_client: ZenooClient) -> None:
    partners = sb_client.model("res.partner")
    new_id = await partners.create({"name": "Query Co", "is_company": True})
    rows = await partners.filter(is_company=True, name__ilike="query").read(["name"])
    assert rows == [{"id": new_id, "name": "Query Co"}]
    assert await partners.filter(id=new_id).write({"ref": "Q1"}) == 1
    assert await partners.filter(ref="Q1").count() == 1
    assert await partners.filter(id=new_id).delete() == 1
    assert await partners.filter(id=new_id).count() == 0


async def test_context_is_passed(sb_client: ZenooClient) -> None:
    new_id = await sb_client.create(
        "res.partner", {"name": "Ctx"}, context={"tracking_disable": True}
    )
    await sb_client.write("res.partner", [new_id], {"active": False})
    assert await sb_client.search("res.partner", [["id", "=", new_id]]) == []
    archived = await sb_client.search(
        "res.partner", [["id", "=", new_id]], context={"active_test": False}
    )
    assert archived == [new_id]


async def test_json2_against_a_19_sandbox_with_an_api_key() -> None:
    from zenoo_etl.sandbox import serve_sandbox

    async with serve_sandbox(version="19.0") as sb19:
        async with ZenooClient(url=sb19.url) as client:
            uid = await client.login(sb19.database, api_key=sb19.api_key)
            assert client.protocol == "json2" and client.server_version == (19, 0)
            assert isinstance(uid, int)
            one = await client.create("res.partner", {"name": "J2 One"})
            many = await client.create("res.partner", [{"name": "J2 A"}, {"name": "J2 B"}])
            assert isinstance(one, int) and len(many) == 2
            assert await client.write("res.partner", many, {"ref": "J2"}) is True
            rows = await client.search_read("res.partner", [["ref", "=", "J2"]], ["name"])
            assert sorted(r["name"] for r in rows) == ["J2 A", "J2 B"]
            assert (one, "J2 One") in await client.name_search("res.partner", "J2 O")
            loaded = await client.load("res.partner", ["id", "name"], [["__import__.j2", "J2L"]])
            assert loaded.ids is not None and len(loaded.ids) == 1
            assert await client.unlink("res.partner", [one]) is True
            with pytest.raises(MissingRecordError) as info:
                await client.unlink("res.partner", [one])
            assert info.value.http_status == 404
            with pytest.raises(ValidationError) as verr:
                await client.create("res.partner", {})
            assert verr.value.http_status == 422
        async with ZenooClient(url=sb19.url, protocol="json2") as client:
            with pytest.raises(AuthenticationError):
                await client.login(sb19.database, api_key="not-a-key")
        # With a password, auto keeps JSON-RPC even on 19.
        async with ZenooClient(url=sb19.url) as client:
            await client.login(sb19.database, sb19.username, sb19.password)
            assert client.protocol == "jsonrpc"
            assert await client.search_count("res.partner", [["name", "=", "J2 A"]]) == 1
