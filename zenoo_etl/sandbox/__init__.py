"""The embedded Odoo-compatible sandbox server (aiohttp.web + SQLite).

It speaks Odoo's wire protocols (``/jsonrpc``, the session routes, JSON-2 in
version 19.0) with the envelopes and errors of a real Odoo 18 server, over
models declared as data (:mod:`zenoo_etl.sandbox.models`). Layout:

* ``server`` — routes, envelopes, sessions, JSON-2, fault middleware;
* ``service`` — authentication, method dispatch, one transaction per call;
* ``orm`` / ``reading`` / ``x2many`` / ``domain`` / ``load`` / ``methods`` — the ORM;
* ``fields`` / ``models`` / ``registry`` — declarations; ``storage`` / ``seed`` — SQLite;
* ``faults`` — reproducible fault injection.

Usage::

    async with serve_sandbox() as sb:
        sb.url, sb.database, sb.username, sb.password, sb.api_key, sb.faults
"""

from __future__ import annotations

from typing import Any

from zenoo_etl.sandbox.faults import FaultInjector, FaultSettings
from zenoo_etl.sandbox.models import declare_models
from zenoo_etl.sandbox.registry import Registry
from zenoo_etl.sandbox.server import VERSIONS, SandboxServer, serve_sandbox


def schema() -> dict[str, dict[str, dict[str, Any]]]:
    """``{model: fields_get()}`` for every sandbox model, without starting a server."""
    registry = Registry(declare_models())
    return {name: registry.fields_get(name) for name in registry.models}


__all__ = [
    "VERSIONS",
    "FaultInjector",
    "FaultSettings",
    "SandboxServer",
    "schema",
    "serve_sandbox",
]
