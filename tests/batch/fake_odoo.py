"""A tiny in-memory Odoo answering JSON-RPC execute_kw, for the batch layer's unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from zenoo_etl.client import Request, Response


class FakeOdoo:
    """JSON-RPC execute_kw on dict "tables"; one call is all-or-nothing like Odoo.

    A record value ``{"name": "FAIL"}`` makes create/write raise ValidationError.
    ``delay`` makes each call take that long, to observe parallelism.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.tables: dict[str, dict[int, dict[str, Any]]] = {}
        self.next_id = 100
        self.calls: list[tuple[str, str, list[Any]]] = []
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0

    def _error(self, name: str, message: str) -> Response:
        data = {
            "name": name,
            "message": message,
            "arguments": [message],
            "context": {},
            "debug": "",
        }
        return Response(
            200,
            orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": 200, "message": "Odoo Server Error", "data": data},
                }
            ),
        )

    def _ok(self, result: Any) -> Response:
        return Response(200, orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result}))

    async def __call__(self, request: Request) -> Response:
        params = orjson.loads(request.content or b"{}")["params"]
        if params["service"] == "common":
            return self._ok({"server_serie": "18.0"} if params["method"] == "version" else 2)
        _db, _uid, _pw, model, method, args, *rest = params["args"]
        self.calls.append((model, method, args))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return self._dispatch(model, method, args, rest[0] if rest else {})
        finally:
            self.in_flight -= 1

    def _dispatch(self, model: str, method: str, args: list[Any], kw: dict[str, Any]) -> Response:
        table = self.tables.setdefault(model, {})
        if method == "create":
            vals_list = args[0] if isinstance(args[0], list) else [args[0]]
            if any(v.get("name") == "FAIL" for v in vals_list):
                return self._error("odoo.exceptions.ValidationError", "name may not be FAIL")
            ids = []
            for vals in vals_list:
                self.next_id += 1
                table[self.next_id] = dict(vals)
                ids.append(self.next_id)
            return self._ok(ids if isinstance(args[0], list) else ids[0])
        if method in ("write", "unlink"):
            ids = args[0]
            missing = [i for i in ids if i not in table]
            if missing:
                return self._error(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted. ({missing})",
                )
            if method == "write":
                if args[1].get("name") == "FAIL":
                    return self._error("odoo.exceptions.ValidationError", "name may not be FAIL")
                for i in ids:
                    table[i].update(args[1])
            else:
                for i in ids:
                    del table[i]
            return self._ok(True)
        if method == "search":
            domain = args[0]
            ids = sorted(table)
            for field, op, value in domain:
                assert field == "id" and op == "in"
                ids = [i for i in ids if i in value]
            return self._ok(ids)
        raise AssertionError(f"FakeOdoo has no {method}")
