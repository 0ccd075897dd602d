"""Fixtures of the batch tests: an in-memory Odoo and a client logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_odoo import FakeOdoo

from zenoo_etl.client import MockTransport, ZenooClient


@pytest.fixture
def fake_odoo() -> FakeOdoo:
    return FakeOdoo()


@pytest.fixture
async def fake_client(fake_odoo: FakeOdoo) -> AsyncIterator[ZenooClient]:
    async with ZenooClient(
        url="http://fake", protocol="jsonrpc", web_session=False, transport=MockTransport(fake_odoo)
    ) as client:
        await client.login("etl", "admin", "admin")
        yield client
