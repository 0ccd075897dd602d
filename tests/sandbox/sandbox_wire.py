"""Tiny raw-HTTP helpers for the sandbox tests (deliberately not the project's client)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from zenoo_etl.sandbox import SandboxServer


class Wire:
    """Sends JSON-RPC calls to a sandbox with a plain aiohttp session."""

    def __init__(self, server: SandboxServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self._id = 0

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        async with self.session.post(self.server.url + path, json=payload) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def rpc(self, service: str, method: str, *args: Any) -> dict[str, Any]:
        """The whole JSON-RPC envelope of ``service.method(*args)``."""
        self._id += 1
        params = {"service": service, "method": method, "args": list(args)}
        status, body = await self.post(
            "/jsonrpc", {"jsonrpc": "2.0", "method": "call", "params": params, "id": self._id}
        )
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    async def _execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The envelope of ``execute_kw`` as admin (uid 2, password admin)."""
        db = self.server.database
        return await self.rpc("object", "execute_kw", db, 2, "admin", model, method, args, kwargs)

    async def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``execute_kw`` as admin; returns the result or raises AssertionError on an error."""
        body = await self._execute_kw(model, method, list(args), kwargs)
        assert "error" not in body, body["error"]["data"]["message"]
        return body.get("result")  # Odoo leaves "result" out when a method returns None

    async def fail(self, model: str, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``execute_kw`` expected to fail; returns ``error.data``."""
        body = await self._execute_kw(model, method, list(args), kwargs)
        assert "error" in body, f"expected an error, got {body.get('result')!r}"
        data: dict[str, Any] = body["error"]["data"]
        return data


async def new_api_key(wire: Wire, name: str, password: str = "admin") -> str:
    """An API key for admin, made the way Odoo 18/19 make one without the web UI:
    description.create -> make_key (identity check) -> run_check with the password."""
    description = await wire.call(
        "res.users.apikeys.description", "create", {"name": name, "duration": "0"}
    )
    check = await wire.call("res.users.apikeys.description", "make_key", [description])
    shown = await wire.call(
        "res.users.identitycheck", "run_check", [check["res_id"]], context={"password": password}
    )
    key: str = shown["context"]["default_key"]
    return key


# Shared by the conformance replays of the Odoo 18 and 19 recordings.
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_RECORD = re.compile(r"\b([a-z_.]+)\((\d+),\)")


class IdMap:
    """Recorded id -> sandbox id, per model (identity until a create says otherwise)."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[int, int]] = {}

    def learn(self, model: str, recorded: Any, actual: Any) -> None:
        if isinstance(recorded, int) and not isinstance(recorded, bool):
            recorded, actual = [recorded], [actual]
        if isinstance(recorded, list) and isinstance(actual, list):
            assert len(recorded) == len(actual), (recorded, actual)
            for r, a in zip(recorded, actual, strict=True):
                self.ids.setdefault(model, {})[r] = a

    def __call__(self, model: str, rid: Any) -> Any:
        if isinstance(rid, int) and not isinstance(rid, bool):
            return self.ids.get(model, {}).get(rid, rid)
        return rid

    def text(self, message: str) -> str:
        """Rewrites ``res.partner(10,)`` in an error text with the sandbox id."""
        return _RECORD.sub(lambda m: f"{m[1]}({self(m[1], int(m[2]))},)", message)


def translate_rows(
    schema: dict[str, Any], idmap: IdMap, model: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Maps the ids inside read/search_read rows (record ids, many2one, x2many, res_id),
    with the field types of ``schema`` (the sandbox schema of the recorded version)."""
    fields = schema[model]
    out = []
    for row in rows:
        new = {}
        for key, value in row.items():
            ftype = fields.get(key, {}).get("type")
            relation = fields.get(key, {}).get("relation")
            if key == "id":
                value = idmap(model, value) if model != "ir.model.data" else "<id>"
            elif ftype == "many2one" and value:
                value = [idmap(relation, value[0]), value[1]]
            elif ftype in ("one2many", "many2many"):
                value = [idmap(relation, v) for v in value]
            elif key == "res_id" and "model" in row:
                value = idmap(row["model"], value)
            elif isinstance(value, str) and STAMP.match(value):
                value = "<datetime>"
            new[key] = value
        out.append(new)
    return out
