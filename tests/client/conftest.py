"""Fixtures of the client tests: an embedded sandbox server over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from zenoo_etl.client import ZenooClient


@pytest.fixture
async def sb() -> AsyncIterator[Any]:
    """A fresh sandbox (temporary database ``etl``) with fault injection enabled."""
    from zenoo_etl.sandbox import serve_sandbox

    async with serve_sandbox(fault_control=True) as server:
        yield server


@pytest.fixture
async def sb_client(sb: Any) -> AsyncIterator[ZenooClient]:
    """A client logged in to ``sb`` as admin over JSON-RPC, fast retries."""
    async with ZenooClient(url=sb.url, retry_base_delay=0.01, timeout=10) as client:
        await client.login(sb.database, sb.username, sb.password)
        yield client
