"""The client against every recorded exchange of a real Odoo 18 server.

Each test sends, through ``ZenooClient``, the very call a recording captured;
the replay transport only answers if the client's request JSON equals the
recorded one, so these tests pin both the wire format and the result/error
mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zenoo_etl.client import (
    AccessError,
    AuthenticationError,
    LoadResult,
    MissingRecordError,
    OdooError,
    OdooUserError,
    ServerError,
    ValidationError,
    ZenooClient,
)
from zenoo_etl.client.errors import UnknownDatabaseError
from zenoo_etl.client.testing import Recording, ReplayTransport, load_recordings

WIRE = Path(__file__).with_name("wire") / "18.0"
RECORDINGS = load_recordings(WIRE)

#: The exception each recorded error must become.
EXPECTED_ERRORS: dict[str, type[OdooError]] = {
    "b03_create_empty_dict_missing_name": ValidationError,
    "b04_create_unknown_field": ServerError,
    "b05_create_unknown_model": OdooUserError,
    "b06_unknown_method": ServerError,
    "b07_private_method": AccessError,
    "b08_wrong_password": AuthenticationError,
    "b09_wrong_uid": MissingRecordError,
    "b10_create_bad_many2one_id": MissingRecordError,
    "b11_create_bad_selection": ServerError,
    "b12_create_list_one_bad": ValidationError,
    "c10_unlink_already_deleted": MissingRecordError,
    "c12_write_deleted": MissingRecordError,
    "d06_load_unknown_field": ServerError,
    "e02_xmlid_to_res_id_private": AccessError,
    "e04_check_object_reference_missing": ServerError,
    "f08_product_bad_categ": MissingRecordError,
}

EXECUTE_KW = sorted(
    name
    for name, rec in RECORDINGS.items()
    if rec.path == "/jsonrpc" and rec.params.get("method") == "execute_kw"
)


def test_every_recorded_error_has_an_expected_class() -> None:
    recorded_errors = {name for name in EXECUTE_KW if "error" in RECORDINGS[name].response}
    assert recorded_errors == set(EXPECTED_ERRORS)


async def logged_in(rec: Recording) -> tuple[ZenooClient, ReplayTransport]:
    """A client logged in through the recorded version+authenticate, then replaying ``rec``."""
    db, uid, secret = rec.params["args"][:3]
    transport = ReplayTransport.only(
        RECORDINGS["a01_common_version"], RECORDINGS["a04_common_authenticate_good"], rec
    )
    client = ZenooClient(
        url="http://127.0.0.1:8069", protocol="jsonrpc", web_session=False, transport=transport
    )
    assert await client.login("etl", "admin", "admin") == 2
    # b08/b09 were recorded with credentials a login cannot produce (that is their
    # point); put them in place the way a stale session would hold them.
    client.database, client.uid, client._secret = db, uid, secret
    return client, transport


@pytest.mark.parametrize("name", EXECUTE_KW)
async def test_recorded_execute_kw_call(name: str) -> None:
    rec = RECORDINGS[name]
    _db, _uid, _pw, model, method, args, *rest = rec.params["args"]
    kwargs: dict[str, Any] | None = rest[0] if rest else None
    client, transport = await logged_in(rec)
    async with client:
        if name in EXPECTED_ERRORS:
            with pytest.raises(EXPECTED_ERRORS[name]) as info:
                await client.execute_kw(model, method, args, kwargs)
            data = rec.response["error"]["data"]
            err = info.value
            assert type(err) is EXPECTED_ERRORS[name]
            assert err.odoo_name == data["name"]
            assert err.message == data["message"].strip()
            assert err.arguments == data["arguments"]
            assert (err.model, err.method) == (model, method)
            assert f"{model}.{method}" in str(err)
            assert data["message"].strip().splitlines()[0] in str(err)
        else:
            assert await client.execute_kw(model, method, args, kwargs) == rec.response["result"]
        assert transport.used[-1] == name


async def test_typed_helpers_send_what_a_real_client_sent() -> None:
    """The helpers encode calls exactly as recorded and type the answers."""
    rec = RECORDINGS
    transport = ReplayTransport(rec.values())
    async with ZenooClient(
        url="http://127.0.0.1:8069", protocol="jsonrpc", web_session=False, transport=transport
    ) as client:
        assert await client.login("etl", "admin", "admin") == 2
        assert client.server_version == (18, 0)
        assert client.protocol == "jsonrpc"
        one = await client.create("res.partner", {"name": "Wire One", "email": "one@example.com"})
        assert one == 7
        many = await client.create(
            "res.partner",
            [
                {"name": "Wire A"},
                {"name": "Wire B", "email": "b@example.com"},
                {"name": "Wire C", "is_company": True},
            ],
        )
        assert many == [8, 9, 10]
        assert await client.write("res.partner", [7], {"phone": "+1 555 0100"}) is True
        rows = await client.read(
            "res.partner",
            [7, 8, 9, 10],
            ["name", "email", "phone", "is_company", "parent_id", "create_date"],
        )
        assert [r["id"] for r in rows] == [7, 8, 9, 10]
        assert await client.search("res.partner", [["name", "ilike", "Wire"]]) == [8, 9, 10, 7]
        found = await client.search_read(
            "res.partner",
            [["name", "ilike", "Wire"]],
            ["name", "email"],
            limit=2,
            order="name desc",
        )
        assert found[0] == {"id": 7, "name": "Wire One", "email": "one@example.com"}
        assert await client.search_count("res.partner", [["name", "ilike", "Wire"]]) == 4
        fields = await client.fields_get(
            "res.partner",
            attributes=["type", "required", "readonly", "relation", "string", "selection"],
        )
        assert fields["name"]["type"] == "char"
        assert await client.read("res.partner", [10], ["name"]) == []
        loaded = await client.load(
            "res.partner",
            ["id", "name", "email"],
            [["__import__.p1", "P1", "p1@x.com"], ["__import__.p2", "P2", "p2@x.com"]],
        )
        assert loaded == LoadResult(ids=[14, 15], messages=[])
        ctx = await client.create(
            "res.partner", {"name": "Wire Ctx"}, context={"tracking_disable": True, "lang": "en_US"}
        )
        assert ctx == 24


async def test_load_with_an_error_row_has_no_ids_and_the_messages() -> None:
    rec = RECORDINGS["d05_load_mixed_valid_invalid"]
    client, _ = await logged_in(rec)
    async with client:
        fields, rows = rec.params["args"][5]
        result = await client.load("res.partner", fields, rows)
    assert result.ids is None
    assert result.messages and result.messages[0]["type"] == "error"
    assert result.messages[0]["record"] == 1


async def test_name_search_returns_id_name_pairs() -> None:
    rec = RECORDINGS["c08_name_search"]
    client, _ = await logged_in(rec)
    async with client:
        # The recording passed name/limit by keyword; the helper sends them
        # positionally (portable across 18's "args" and 19's "domain").
        result = await client.execute_kw(
            "res.partner", "name_search", [], {"name": "Wire", "limit": 5}
        )
    assert result[0] == [8, "Wire A"]


@pytest.mark.parametrize(
    ("name", "password"),
    [("a05_common_authenticate_bad", "wrong")],
)
async def test_bad_password_login_raises_authentication_error(name: str, password: str) -> None:
    transport = ReplayTransport.only(RECORDINGS["a01_common_version"], RECORDINGS[name])
    async with ZenooClient(
        url="http://127.0.0.1:8069", protocol="jsonrpc", web_session=False, transport=transport
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.login("etl", "admin", password)
    assert "admin" in str(info.value) and "etl" in str(info.value)
    assert password not in str(info.value)


async def test_unknown_database_login_says_the_database_does_not_exist() -> None:
    """Real 18 lets PostgreSQL's error through, then refuses to list its databases."""
    denied = Recording.from_file(
        Path(__file__).parent / "wire_issue14" / "odoo18_db_list_denied.json"
    )
    transport = ReplayTransport.only(
        RECORDINGS["a01_common_version"], RECORDINGS["a06_common_authenticate_unknown_db"], denied
    )
    async with ZenooClient(
        url="http://127.0.0.1:8069", protocol="jsonrpc", web_session=False, transport=transport
    ) as client:
        with pytest.raises(UnknownDatabaseError) as info:
            await client.login("no_such_db", "admin", "admin")
    assert info.value.database == "no_such_db" and info.value.databases is None
    assert info.value.message == (
        "database 'no_such_db' does not exist on the server at http://127.0.0.1:8069 (it does "
        "not list its databases; ask its administrator for the exact name)"
    )
    assert isinstance(info.value.__cause__, ServerError)
