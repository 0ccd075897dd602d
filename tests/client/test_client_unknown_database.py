"""A wrong database name says so, and how to find the right one (issue 14).

The 19.0 exchange was recorded from a real Odoo 19 (tests/client/wire_issue14/):
JSON-2 with an unknown ``X-Odoo-Database`` answers werkzeug's HTML 404 page,
and ``db.list`` names the databases there are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.client.errors import BadResponseError, UnknownDatabaseError
from zenoo_etl.client.testing import Recording, ReplayTransport
from zenoo_etl.sandbox import serve_sandbox

WIRE = Path(__file__).parent / "wire_issue14"


def _rec(name: str) -> Recording:
    return Recording.from_file(WIRE / f"{name}.json")


async def test_real_19_json2_unknown_database_names_the_ones_there_are() -> None:
    page = _rec("odoo19_json2_context_get_unknown_db")
    assert page.status == 404 and "No database is selected" in page.response
    transport = ReplayTransport.only(_rec("odoo19_web_version"), page, _rec("odoo19_db_list"))
    async with ZenooClient(url="http://127.0.0.1:28069", transport=transport) as client:
        with pytest.raises(UnknownDatabaseError) as info:
            await client.login("nosuchdb", "admin", api_key="recorded-elsewhere")
    assert client.protocol == "json2"
    assert info.value.databases == ["etl19"]
    assert info.value.message == (
        "database 'nosuchdb' does not exist on the server at http://127.0.0.1:28069 "
        "(the server lists: etl19)"
    )
    assert isinstance(info.value.__cause__, BadResponseError)
    assert "HTTP 404" not in str(info.value)


@pytest.mark.parametrize("version", ["18.0", "19.0"])
async def test_sandbox_unknown_database_over_both_protocols(version: str) -> None:
    async with serve_sandbox(version=version) as sb:
        secrets = [{"password": sb.password}, {"api_key": sb.api_key}]
        for secret in secrets:
            async with ZenooClient(url=sb.url) as client:
                with pytest.raises(UnknownDatabaseError) as info:
                    await client.login("nosuchdb", sb.username, **secret)
            assert info.value.databases == [sb.database]
            assert "database 'nosuchdb' does not exist on the server at" in str(info.value)
