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

from pathlib import Path
from typing import Any

from zenoo_etl.sandbox.faults import FaultInjector, FaultSettings
from zenoo_etl.sandbox.orm import ORM_FILLED
from zenoo_etl.sandbox.server import VERSIONS, SandboxServer, serve_sandbox
from zenoo_etl.sandbox.service import registry_for


def schema(
    version: str = "18.0", schema_file: Path | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{model: fields_get()}`` for every sandbox model, without starting a server.

    Required fields the server fills by itself carry ``"has_default": True``, as
    the compiler marks them on real targets after ``default_get``: fields with a
    default, computed ones, and the many2one to a delegated or auto-created
    parent record (``product.product.product_tmpl_id``, ``res.company.partner_id``
    ...). Every required field also carries the recording's ``required_how``.
    """
    registry = registry_for(version, schema_file.resolve() if schema_file else None)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for name, mdef in registry.models.items():
        fields = registry.fields_get(name)
        for fname, slot in registry.slots[name].items():
            fdef = slot.field
            if not fdef.required or fname not in fields:
                continue
            auto = fname in mdef.inherits.values() or (name, fname) in ORM_FILLED
            if fdef.default is not None or auto or not fdef.enforced:
                fields[fname]["has_default"] = True
            if fdef.required_how:
                fields[fname]["required_how"] = fdef.required_how
        result[name] = fields
    return result


__all__ = [
    "VERSIONS",
    "FaultInjector",
    "FaultSettings",
    "SandboxServer",
    "schema",
    "serve_sandbox",
]
