"""Streaming a step's rows through chunks with bounded concurrency.

Rows are read lazily from ``iter_rows`` and cut into chunks of
``chunk_size``; at most ``concurrency`` chunks are in flight (a semaphore is
taken BEFORE the next chunk is cut, so memory holds at most
``concurrency + 1`` chunks whatever the size of the source: a million rows
cost what a few chunks cost). On the first failing chunk nothing more is
dispatched, the chunks already in flight finish (their ledger bookkeeping
must land so rollback or resume sees them), and the first error is raised.
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
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


async def run_chunks(
    chunks: Iterator[T],
    work: Callable[[T], Awaitable[int]],
    *,
    concurrency: int,
    on_done: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
    groups: Callable[[T], frozenset[Hashable]] | None = None,
) -> None:
    """Run ``work`` on every chunk, up to ``concurrency`` at once; first error wins."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    in_flight: set[asyncio.Task[None]] = set()
    errors: list[BaseException] = []
    busy: Counter[Hashable] = Counter()  # groups of the chunks in flight

    async def one(chunk: T, names: frozenset[Hashable]) -> None:
        try:
            done = await work(chunk)
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
            semaphore.release()

    try:
        while not errors and not (stop is not None and stop()):
            await semaphore.acquire()
            # the flag may have been set while we waited for a free slot
            if errors or (stop is not None and stop()):
                semaphore.release()
                break
            try:
                chunk = next(chunks)
            except StopIteration:
                semaphore.release()
                break
            except BaseException:
                semaphore.release()
                raise
            names = groups(chunk) if groups is not None else frozenset()
            while in_flight and any(name in busy for name in names):
                await asyncio.wait(list(in_flight), return_when=asyncio.FIRST_COMPLETED)
            if errors or (stop is not None and stop()):
                semaphore.release()
                break
            busy.update(names)
            task = asyncio.ensure_future(one(chunk, names))
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


__all__ = ["chunked", "run_chunks"]
