"""The async Odoo RPC client (DESIGN.md section 2, layer 1).

::

    async with ZenooClient("localhost", port=8069) as client:   # or ZenooClient(url=...)
        await client.login("etl", "admin", "admin")             # or api_key=...
        ids = await client.search("res.partner", [["is_company", "=", True]])
        await client.model("res.partner").filter(id=ids[0]).delete()

Modules: ``client`` (ZenooClient, LoadResult), ``errors`` (the exception
hierarchy), ``transport`` (the one-method HTTP transport and its aiohttp and
mock implementations), ``retry`` (the retry policy), ``protocol`` (encoding,
version parsing, JSON-2 arguments), ``model`` (the query API).
"""

from zenoo_etl.client.client import LoadResult, ZenooClient
from zenoo_etl.client.errors import (
    AccessError,
    AuthenticationError,
    BadResponseError,
    ClientClosedError,
    ClientError,
    ConcurrencyError,
    ConnectError,
    ConnectionLostError,
    MissingRecordError,
    OdooError,
    OdooUserError,
    OutcomeUnknownError,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
)
from zenoo_etl.client.model import ModelQuery
from zenoo_etl.client.retry import RetryPolicy
from zenoo_etl.client.transport import (
    AiohttpTransport,
    CountingTransport,
    MockTransport,
    Request,
    Response,
    Transport,
)

__all__ = [
    "AccessError",
    "AiohttpTransport",
    "AuthenticationError",
    "BadResponseError",
    "ClientClosedError",
    "ClientError",
    "ConcurrencyError",
    "ConnectError",
    "ConnectionLostError",
    "CountingTransport",
    "LoadResult",
    "MissingRecordError",
    "MockTransport",
    "ModelQuery",
    "OdooError",
    "OdooUserError",
    "OutcomeUnknownError",
    "Request",
    "RequestTimeout",
    "Response",
    "RetryPolicy",
    "ServerError",
    "Transport",
    "TransportError",
    "ValidationError",
    "ZenooClient",
]
