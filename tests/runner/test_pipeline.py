"""Chunks stream with bounded concurrency; the first error stops dispatching."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from zenoo_etl.runner.pipeline import chunked, run_chunks


def test_chunked_cuts_consecutive_lists() -> None:
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


async def test_at_most_concurrency_chunks_in_flight_and_source_read_lazily() -> None:
    produced = 0
    in_flight = 0
    peak = 0
    peak_ahead = 0

    def source() -> Iterator[int]:
        nonlocal produced
        for i in range(40):
            produced += 1
            yield i

    finished = 0

    async def work(chunk: int) -> int:
        nonlocal in_flight, peak, finished, peak_ahead
        in_flight += 1
        peak = max(peak, in_flight)
        # the source is never read more than concurrency chunks ahead of the work
        peak_ahead = max(peak_ahead, produced - finished)
        await asyncio.sleep(0.001)
        in_flight -= 1
        finished += 1
        return 1

    done: list[int] = []
    await run_chunks(source(), work, concurrency=3, on_done=done.append)
    assert peak == 3
    assert peak_ahead <= 3
    assert sum(done) == 40


async def test_first_error_stops_dispatch_and_lets_in_flight_finish() -> None:
    started: list[int] = []
    finished: list[int] = []

    async def work(chunk: int) -> int:
        started.append(chunk)
        if chunk == 2:
            raise ValueError("chunk 2 failed")
        await asyncio.sleep(0.01)
        finished.append(chunk)
        return 1

    with pytest.raises(ValueError, match="chunk 2"):
        await run_chunks(iter(range(100)), work, concurrency=2)
    assert len(started) < 10  # stopped dispatching soon after the failure
    assert sorted(finished) == sorted(c for c in started if c != 2)  # in-flight ones finished


async def test_cancelling_the_pipeline_cancels_in_flight_chunks() -> None:
    cancelled = 0

    async def work(chunk: int) -> int:
        nonlocal cancelled
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return 1

    task = asyncio.ensure_future(run_chunks(iter(range(10)), work, concurrency=4))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled == 4


def test_chunked_asks_a_callable_size_again_for_each_chunk() -> None:
    sizes = iter([2, 5, 1, 3, 3, 3])
    assert list(chunked(range(10), lambda: next(sizes))) == [
        [0, 1],
        [2, 3, 4, 5, 6],
        [7],
        [8, 9],
    ]


async def test_a_callable_concurrency_is_followed_as_it_changes() -> None:
    limit = 4
    finished = 0
    cuts: list[tuple[int, int]] = []  # (chunks running when the next was cut, the limit then)

    def source() -> Iterator[int]:
        for i in range(50):
            cuts.append((i - finished, limit))
            yield i

    async def work(chunk: int) -> int:
        nonlocal limit, finished
        await asyncio.sleep(0.002)
        finished += 1
        if chunk == 10:
            limit = 1  # a tuner lowered the calls in flight
        if chunk == 30:
            limit = 3
        return 1

    class Timer:
        def __init__(self) -> None:
            self.sent_n = 0
            self.seen: list[tuple[int, int]] = []

        def sent(self) -> int:
            self.sent_n += 1
            return self.sent_n

        def observe(self, token: int, records: int, seconds: float) -> None:
            assert seconds >= 0.002
            self.seen.append((token, records))

    timer = Timer()
    await run_chunks(source(), work, concurrency=lambda: limit, timer=timer)
    # a chunk is cut only when fewer chunks than the limit of that moment are running
    assert all(running < lim for running, lim in cuts)
    assert {lim for _, lim in cuts} == {4, 1, 3}
    assert max(running for running, lim in cuts if lim == 4) == 3  # 4 were in flight
    assert max(running for running, lim in cuts if lim == 3) == 2
    assert sorted(t for t, _ in timer.seen) == list(range(1, 51))  # every chunk, its token
