"""Streaming a step's rows through chunks with bounded concurrency.

Rows are read lazily from ``iter_rows`` and cut into chunks of
``chunk_size``; at most ``concurrency`` chunks are in flight (a free slot is
awaited BEFORE the next chunk is cut, so memory holds at most
``concurrency + 1`` chunks whatever the size of the source: a million rows
cost what a few chunks cost). Both may change between chunks: with
``"auto"`` a :class:`.tuning.Tuner` chooses them from the answers so far.
On the first failing chunk nothing more is dispatched, the chunks already
in flight finish (their ledger bookkeeping must land so rollback or resume
sees them), and the first error is raised.
When ``stop()`` turns true (SIGTERM, :mod:`.stop`) the same happens without
an error: the caller checks the flag afterwards. Cancelling the pipeline
cancels its in-flight chunks too.

With ``groups``, a chunk naming a group (a parent record, :mod:`.ordering`)
that a chunk in flight also names waits until that chunk is done: Odoo locks
and recomputes a parent for each call that touches its children, so two such
calls at once only wait for each other on the server.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from itertools import islice
from typing import Protocol, TypeVar

T = TypeVar("T")


class ChunkTimer(Protocol):
    """Told when a chunk leaves and how long its work took (:class:`.tuning.Tuner`)."""

    def sent(self) -> int: ...

    def observe(self, token: int, records: int, seconds: float) -> None: ...


def chunked(items: Iterable[T], size: int | Callable[[], int]) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter); a callable
    ``size`` is asked again for each list, when it is cut."""
    iterator = iter(items)
    if not callable(size):
        while batch := list(islice(iterator, size)):
            yield batch
        return
    while batch := list(islice(iterator, max(1, size()))):
        yield batch


async def run_chunks(
    chunks: Iterator[T],
    work: Callable[[T], Awaitable[int]],
    *,
    concurrency: int | Callable[[], int],
    on_done: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
    groups: Callable[[T], frozenset[Hashable]] | None = None,
    timer: ChunkTimer | None = None,
) -> None:
    """Run ``work`` on every chunk, up to ``concurrency`` at once; first error wins.

    A callable ``concurrency`` is asked before each chunk is cut (a tuner may
    lower or raise it while the step runs); ``timer`` hears each chunk leave
    and how long its work took, with the records it did.
    """
    limit = concurrency if callable(concurrency) else (lambda: concurrency)
    in_flight: set[asyncio.Task[None]] = set()
    errors: list[BaseException] = []
    busy: Counter[Hashable] = Counter()  # groups of the chunks in flight

    def halted() -> bool:
        return bool(errors) or (stop is not None and stop())

    async def one(chunk: T, names: frozenset[Hashable], token: int) -> None:
        started = time.monotonic()
        try:
            done = await work(chunk)
            if timer is not None:
                timer.observe(token, done, time.monotonic() - started)
            if on_done is not None:
                on_done(done)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            errors.append(exc)
        finally:
            for name in names:
                busy[name] -= 1
                if not busy[name]:
                    del busy[name]  # stays as small as the chunks in flight

    try:
        while not halted():
            # a free slot BEFORE the next chunk is cut: memory holds the chunks in flight + 1
            while len(in_flight) >= max(1, limit()):
                await asyncio.wait(list(in_flight), return_when=asyncio.FIRST_COMPLETED)
            # the flag may have been set while we waited for a free slot
            if halted():
                break
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            names = groups(chunk) if groups is not None else frozenset()
            while in_flight and any(name in busy for name in names):
                await asyncio.wait(list(in_flight), return_when=asyncio.FIRST_COMPLETED)
            if halted():
                break
            busy.update(names)
            token = timer.sent() if timer is not None else 0
            task = asyncio.ensure_future(one(chunk, names, token))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*list(in_flight), return_exceptions=True)
    except BaseException:
        # Reading the source failed, or we are being cancelled: stop everything
        # in flight, but let it unwind before propagating.
        for task in list(in_flight):
            task.cancel()
        if in_flight:
            await asyncio.gather(*list(in_flight), return_exceptions=True)
        raise
    if errors:
        raise errors[0]


__all__ = ["ChunkTimer", "chunked", "run_chunks"]
