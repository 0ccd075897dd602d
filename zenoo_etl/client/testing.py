"""Test helpers shipped with the client: replaying recorded Odoo exchanges.

A recording is one JSON file ``{request: {method, url, headers, json},
status, response_headers, response}`` as in ``odoo-wire/18.0/``.
:class:`ReplayTransport` answers a request with the recording whose request
JSON is equal to it (the JSON-RPC ``id`` aside, and the answer echoes the
caller's id), so a test proves both that the client *sends* what a real
client sent and that it *reads* what real Odoo answered. A request with no
matching recording fails the test loudly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from zenoo_etl.client.transport import Request, Response


@dataclass(frozen=True)
class Recording:
    """One recorded exchange."""

    name: str
    method: str
    path: str
    request_json: Any
    status: int
    response: Any
    response_headers: Mapping[str, str]

    @classmethod
    def from_file(cls, path: Path) -> Recording:
        raw = json.loads(path.read_text(encoding="utf-8"))
        request = raw["request"]
        return cls(
            name=path.stem,
            method=request["method"],
            path=urlsplit(request["url"]).path,
            request_json=request.get("json"),
            status=int(raw["status"]),
            response=raw["response"],
            response_headers=dict(raw.get("response_headers") or {}),
        )

    @property
    def params(self) -> dict[str, Any]:
        """The JSON-RPC ``params`` of the request (empty for other requests)."""
        if isinstance(self.request_json, dict):
            params = self.request_json.get("params")
            if isinstance(params, dict):
                return params
        return {}


def load_recordings(directory: Path) -> dict[str, Recording]:
    """Every ``*.json`` recording of ``directory`` (``_index.json`` excluded), by name."""
    return {
        p.stem: Recording.from_file(p)
        for p in sorted(directory.glob("*.json"))
        if not p.name.startswith("_")
    }


def _key(method: str, path: str, body: Any) -> str:
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "id"}
    return f"{method} {path} " + json.dumps(body, sort_keys=True)


class ReplayTransport:
    """Answers requests from recordings; records what it was asked in ``requests``."""

    def __init__(self, recordings: Iterable[Recording]) -> None:
        self._by_key: dict[str, Recording] = {}
        for rec in recordings:
            # Later recordings of the same request (e.g. unlink twice) win only
            # when selected explicitly with ``only``; keep the first.
            self._by_key.setdefault(_key(rec.method, rec.path, rec.request_json), rec)
        self.requests: list[Request] = []
        self.used: list[str] = []

    @classmethod
    def only(cls, *recordings: Recording) -> ReplayTransport:
        """A transport knowing just these recordings (later ones override earlier)."""
        transport = cls([])
        for rec in recordings:
            transport._by_key[_key(rec.method, rec.path, rec.request_json)] = rec
        return transport

    async def handle(self, request: Request) -> Response:
        self.requests.append(request)
        body = orjson.loads(request.content) if request.content else None
        path = urlsplit(request.url).path
        rec = self._by_key.get(_key(request.method, path, body))
        if rec is None:
            raise AssertionError(
                f"No recording matches {request.method} {path} {body!r}; known: "
                + ", ".join(r.name for r in self._by_key.values())
            )
        self.used.append(rec.name)
        response = rec.response
        if isinstance(response, dict) and isinstance(body, dict) and "id" in response:
            response = {**response, "id": body.get("id")}
        # a text answer (an HTML error page) goes back as it was, not as a JSON string
        content = response.encode() if isinstance(response, str) else orjson.dumps(response)
        return Response(rec.status, content, dict(rec.response_headers))

    async def aclose(self) -> None:
        return None


__all__ = ["Recording", "ReplayTransport", "load_recordings"]
