"""An independent HTTP fault proxy between zenoo-etl and the server.

The sandbox's own injector fails where the *server* chooses; this proxy
fails on the wire, where a real network or gateway does, knowing nothing of
Odoo beyond "an HTTP request with a body":

==================  ===========================================================
kind                what the client sees (and what the server did)
==================  ===========================================================
``drop``            the server answered (committed); the proxy closes the
                    connection with a reset instead of answering
``delay``           the server answered (committed); the answer is held past
                    the client's timeout, then sent to nobody
``hold``            the request is held past the client's timeout BEFORE it is
                    forwarded: the server commits it later, after the client
                    gave up (a late commit)
``502_before``      502 Bad Gateway; nothing was forwarded
``504_before``      504 Gateway Timeout; nothing was forwarded
``502_after``       502 after forwarding (the server committed)
``504_after``       504 after forwarding (the server committed)
``truncate``        the answer's headers and half its body, then the connection
                    is closed (Content-Length promised more)
``garbled``         a 200 whose body is HTML, random bytes, half the JSON
                    document or empty (seeded choice) after forwarding
``reset_mid``       headers and part of the body, then a reset
==================  ===========================================================

Which request gets which fault is decided by :class:`Rules`: either scripted
(``Rule(kind, match=b'"load"', nth=1)``: the first request whose body holds
``"load"``) or random at a rate, seeded and deterministic per request body:
the decision is a hash of (seed, body, how many times that exact body was
seen), so a rerun of the same scenario strikes the same requests, and a
resend of an identical body gets a fresh draw instead of the same fault for
ever. ``log`` lists every request with the fault it got.

Every answer goes out with ``Connection: close`` and every request gets a
fresh upstream connection: the proxy stays small and never mixes answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import socket
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

KINDS = (
    "drop",
    "delay",
    "hold",
    "502_before",
    "504_before",
    "502_after",
    "504_after",
    "truncate",
    "garbled",
    "reset_mid",
)
GARBAGE = ("html", "bytes", "half", "empty")
_BEFORE = frozenset({"502_before", "504_before", "hold"})


@dataclass
class Rule:
    """``kind`` for the ``nth`` request (1-based, counted among those matching ``match``)."""

    kind: str
    match: bytes = b""
    nth: int = 1
    times: int = 1  # how many consecutive matching requests from the nth on

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")


@dataclass
class Rules:
    """Scripted rules first, then a seeded random draw at ``rate`` among ``kinds``."""

    scripted: list[Rule] = field(default_factory=list)
    rate: float = 0.0
    kinds: Sequence[str] = KINDS
    match: bytes = b""  # random faults only for bodies holding this (b"": all)
    seed: int = 0
    garbled: str | None = None  # force one garbage variant: html, bytes, half, empty
    _matched: Counter[int] = field(default_factory=Counter)
    _bodies: Counter[bytes] = field(default_factory=Counter)

    def decide(self, body: bytes) -> str | None:
        for index, rule in enumerate(self.scripted):
            if rule.match in body:
                self._matched[index] += 1
                n = self._matched[index]
                if rule.nth <= n < rule.nth + rule.times:
                    return rule.kind
        if self.rate <= 0 or self.match not in body:
            return None
        digest = hashlib.sha256(body).digest()
        self._bodies[digest] += 1
        seen = self._bodies[digest]
        rng = random.Random(f"{self.seed}:{digest.hex()}:{seen}")
        if rng.random() >= self.rate:
            return None
        return rng.choice(list(self.kinds))

    def garbage(self, body: bytes) -> bytes:
        rng = random.Random(f"{self.seed}:garbage:{hashlib.sha256(body).hexdigest()}")
        choice = self.garbled or rng.choice(list(GARBAGE))
        if choice == "html":
            return b"<html><head><title>502</title></head><body>upstream error</body></html>"
        if choice == "bytes":
            return bytes(rng.randrange(256) for _ in range(64))
        if choice == "half":
            return body[: max(1, len(body) // 2)]
        return b""


@dataclass
class Logged:
    """One request through the proxy."""

    method: str
    path: str
    kind: str | None
    forwarded: bool
    body: bytes = b""


class FaultProxy:
    """``async with FaultProxy(upstream_port, rules, timeout=..) as proxy: proxy.url``."""

    def __init__(
        self,
        upstream_port: int,
        rules: Rules | None = None,
        *,
        upstream_host: str = "127.0.0.1",
        late: float = 1.0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rules = rules or Rules()
        self.late = late  # seconds for delay/hold: must exceed the client's timeout
        self.log: list[Logged] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kinds_seen(self) -> Counter[str]:
        return Counter(e.kind for e in self.log if e.kind is not None)

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.settle()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def settle(self) -> None:
        """Wait for held and delayed requests to reach the server (late commits land)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- one connection -------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self._one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = [line for line in lines[1:] if line]
        length = 0
        for line in headers:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = await reader.readexactly(length) if length else b""
        kind = self.rules.decide(body)
        entry = Logged(method, path, kind, forwarded=kind not in _BEFORE, body=body)
        self.log.append(entry)
        if kind in ("502_before", "504_before"):
            await self._answer(writer, int(kind[:3]), b"<html>gateway</html>")
            return
        if kind == "hold":
            # the client gives up meanwhile; the request still reaches the server
            await asyncio.sleep(self.late)
            entry.forwarded = True
            with contextlib.suppress(OSError):
                await self._forward(method, path, headers, body)
            _reset(writer)
            return
        status, answer_headers, answer = await self._forward(method, path, headers, body)
        match kind:
            case None:
                await self._answer(writer, status, answer, answer_headers)
            case "drop":
                _reset(writer)
            case "delay":
                await asyncio.sleep(self.late)
                with contextlib.suppress(ConnectionError):
                    await self._answer(writer, status, answer, answer_headers)
            case "502_after" | "504_after":
                await self._answer(writer, int(kind[:3]), b"<html>gateway</html>")
            case "truncate":
                await self._answer(writer, status, answer, answer_headers, cut=len(answer) // 2)
            case "garbled":
                await self._answer(writer, 200, self.rules.garbage(answer))
            case "reset_mid":
                await self._answer(
                    writer, status, answer, answer_headers, cut=len(answer) // 3, reset=True
                )

    async def _forward(
        self, method: str, path: str, headers: list[str], body: bytes
    ) -> tuple[int, list[str], bytes]:
        reader, writer = await asyncio.open_connection(*self.upstream)
        try:
            kept = [
                h
                for h in headers
                if h.partition(":")[0].strip().lower() not in ("connection", "keep-alive")
            ]
            request = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close"])
            writer.write(request.encode("latin-1") + b"\r\n\r\n" + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        answer_headers = [
            line
            for line in lines[1:]
            if line.partition(":")[0].strip().lower()
            not in ("connection", "content-length", "transfer-encoding", "keep-alive")
        ]
        return status, answer_headers, payload

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        headers: Sequence[str] = ("Content-Type: text/html",),
        *,
        cut: int | None = None,
        reset: bool = False,
    ) -> None:
        head = "\r\n".join(
            [
                f"HTTP/1.1 {status} X",
                *headers,
                f"Content-Length: {len(body)}",
                "Connection: close",
            ]
        )
        writer.write(head.encode("latin-1") + b"\r\n\r\n" + (body if cut is None else body[:cut]))
        await writer.drain()
        if reset:
            _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed gateway or a cut cable does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


__all__ = ["GARBAGE", "KINDS", "FaultProxy", "Logged", "Rule", "Rules"]
