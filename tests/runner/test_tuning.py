"""The chunk tuner, driven by made-up answer times: what it grows, shrinks and keeps.

Each scenario is a model of a server (seconds for a chunk of n records with c
calls in flight) fed to :class:`Tuner` one chunk at a time, so every decision
is deterministic; the pipeline and apply tests check that its choices reach
the wire.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from zenoo_etl.compiler.config import Bounds
from zenoo_etl.runner.tuning import GROW, PERIOD, RECOVER, Tuner

Server = Callable[[int, int], float]  # (records, calls in flight) -> seconds

AUTO_SIZE = Bounds(20, 200, 1000)
AUTO_CALLS = Bounds(1, 4, 4)


def drive(tuner: Tuner, server: Server, chunks: int) -> list[tuple[int, int]]:
    """Send ``chunks`` chunks one after the other; the (size, calls) each was sent with."""
    sent = []
    for _ in range(chunks):
        token = tuner.sent()
        size, calls = tuner.size, tuner.concurrency
        sent.append((size, calls))
        tuner.observe(token, size, server(size, calls))
    return sent


def overhead_server(per_call: float, per_record: float) -> Server:
    """Each call costs a fixed overhead plus a cost per record; calls in flight share
    the server, so an answer takes ``calls`` times as long."""
    return lambda n, c: c * (per_call + n * per_record)


def test_fixed_settings_never_change() -> None:
    tuner = Tuner(Bounds(500, 500, 500), Bounds(2, 2, 2), timeout=120)
    assert not tuner.tuned
    sent = drive(tuner, overhead_server(0.5, 0.001), 40)
    assert set(sent) == {(500, 2)} and tuner.changes == []


def test_size_grows_by_half_while_each_step_is_faster_per_record_up_to_max() -> None:
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)
    assert tuner.tuned
    drive(tuner, overhead_server(0.5, 0.001), 60)  # the call overhead dominates
    sizes = [c.size for c in tuner.changes if c.reason == "faster per record"]
    assert sizes == [300, 450, 675, 1000]  # x1.5 each period, capped at max
    assert tuner.size == 1000 and tuner.concurrency == 4
    # then one fewer call in flight was tried: no faster (calls share the server), back to 4
    assert [(c.concurrency, c.reason) for c in tuner.changes[4:]] == [
        (3, "probing one fewer call in flight"),
        (4, "no faster with one fewer call in flight"),
    ]


def test_size_stays_where_growing_stops_paying() -> None:
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)
    sent = drive(tuner, overhead_server(0.0, 0.002), 40)  # cost per record only: flat
    # one try at 300 (no gain, not slower): kept, no further growth; 3 calls no faster
    assert [(c.size, c.concurrency) for c in tuner.changes] == [(300, 4), (300, 3), (300, 4)]
    assert sent[-1] == (300, 4)


def test_a_size_that_is_slower_per_record_steps_back_to_the_best() -> None:
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)

    def contended(n: int, c: int) -> float:  # bigger chunks hold locks longer: superlinear
        return c * n * 0.002 * (n / 200)

    sent = drive(tuner, contended, 40)
    assert [c.size for c in tuner.changes] == [300, 200, 200, 200]
    assert tuner.changes[1].reason == "slower per record: back to the best size"
    assert sent[-1] == (200, 4)


def test_slow_answers_halve_the_size_at_once_and_it_never_grows_back() -> None:
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)  # slow: over 30 s

    def slow(n: int, c: int) -> float:
        return n * 0.2  # 200 records: 40 s

    sent = drive(tuner, slow, 30)
    assert sent[:2] == [(200, 4), (100, 4)]  # the first slow answer halved the size
    assert tuner.size == 100  # 20 s answers: fine, and no growth back towards the slow size
    assert set(sent[1:]) == {(100, 4)}

    def slower(n: int, c: int) -> float:
        return n * 0.7  # every answer over 30 s down to 40 records

    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)
    sent = drive(tuner, slower, 10)
    assert [size for size, _ in sent[:4]] == [200, 100, 50, 25]
    assert tuner.size == 25


def test_a_timeout_or_lost_answer_halves_the_size_and_caps_it() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120, faults=lambda: faults)
    server = overhead_server(0.5, 0.001)  # would grow to 1000 without the fault
    drive(tuner, server, 2 * PERIOD * 4)
    grown = tuner.size
    assert grown > 200
    faults["lost answer"] += 1  # the runner settled a create whose answer was lost
    drive(tuner, server, 1)
    assert tuner.size == grown // 2
    assert tuner.changes[-1].reason == "timeout or lost answer"
    drive(tuner, server, 40)
    assert tuner.size == grown // 2  # capped: a lost answer costs a reconciliation
    faults["RequestTimeout"] += 1  # a retried read timed out
    drive(tuner, server, 1)
    assert tuner.size == grown // 4


def test_busy_answers_halve_the_calls_in_flight_then_they_recover_step_by_step() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(Bounds(200, 200, 200), AUTO_CALLS, timeout=120, faults=lambda: faults)
    server = overhead_server(0.1, 0.001)
    drive(tuner, server, 8)
    faults["HTTP 503"] += 2
    drive(tuner, server, 1)
    assert tuner.concurrency == 2
    assert tuner.changes[-1].reason.startswith("server busy or locked")
    # then clean periods: one more call in flight after each RECOVER periods, up to 4
    sent = drive(tuner, server, 60)
    # (before the 503s, one fewer call in flight was tried and found no faster)
    assert [c.concurrency for c in tuner.changes] == [3, 4, 2, 3, 4]
    first_3 = next(i for i, (_, calls) in enumerate(sent) if calls == 3)
    assert first_3 >= RECOVER * max(PERIOD, 2)  # waited RECOVER clean periods
    assert sent[-1] == (200, 4)


def test_concurrency_errors_count_as_contention_and_never_go_below_min() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(Bounds(200, 200, 200), Bounds(2, 4, 4), timeout=120, faults=lambda: faults)
    server = overhead_server(0.1, 0.001)
    for _ in range(3):
        faults["concurrency conflict"] += 1
        drive(tuner, server, 1)
    assert tuner.concurrency == 2  # min = 2


def test_answers_of_chunks_cut_with_an_older_setting_do_not_decide() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120, faults=lambda: faults)
    tokens = [tuner.sent() for _ in range(4)]  # four chunks in flight at once
    faults["HTTP 503"] += 4  # the same burst hit all four
    for token in tokens:
        tuner.observe(token, 200, 1.0)
    assert tuner.concurrency == 2  # halved once, not 4 -> 2 -> 1
    # a slow answer of an old chunk does not shrink the new size either
    tuner.observe(tokens[0], 200, 500.0)
    assert tuner.size == 200


def test_more_calls_in_flight_are_probed_only_up_to_max_and_kept_when_faster() -> None:
    tuner = Tuner(Bounds(200, 200, 200), Bounds(1, 2, 8), timeout=120)

    def saturating(n: int, c: int) -> float:  # 5 workers: more calls in flight help up to 5
        return n * 0.001 * max(1.0, c / 5)

    sent = drive(tuner, saturating, 80)
    assert [c.concurrency for c in tuner.changes] == [3, 4, 5, 6, 5]
    assert tuner.changes[-1].reason == "no faster with one more call in flight"
    assert sent[-1] == (200, 5)


def test_bounds_hold_whatever_the_answers() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(Bounds(50, 100, 150), Bounds(1, 3, 3), timeout=10, faults=lambda: faults)
    drive(tuner, overhead_server(0.5, 0.0001), 30)
    assert tuner.size == 150  # grew (x1.5 = 150), not beyond max
    for _ in range(5):
        faults["RequestTimeout"] += 1
        faults["HTTP 503"] += 1
        drive(tuner, overhead_server(0.5, 0.0001), 1)
    assert (tuner.size, tuner.concurrency) == (50, 1)
    assert tuner.changes[-1].reason.startswith("server busy")


def test_timeouts_at_the_smallest_size_lower_the_calls_in_flight() -> None:
    faults: Counter[str] = Counter()
    tuner = Tuner(Bounds(50, 50, 400), Bounds(1, 4, 4), timeout=120, faults=lambda: faults)
    drive(tuner, overhead_server(0.0, 0.001), 1)
    faults["RequestTimeout"] += 1
    drive(tuner, overhead_server(0.0, 0.001), 1)
    assert (tuner.size, tuner.concurrency) == (50, 2)
    assert tuner.changes[-1].reason == "timeouts at the smallest chunk size"
    assert all(50 <= c.size <= 150 and 1 <= c.concurrency <= 3 for c in tuner.changes)


def test_growth_stops_before_answers_would_get_slow() -> None:
    tuner = Tuner(Bounds(20, 200, 100_000), AUTO_CALLS, timeout=120)
    server = overhead_server(1.0, 0.002)
    drive(tuner, server, 80)
    # still faster per record, but the next size's answers would pass 30 s (SLOW x timeout)
    answer = server(tuner.size, 4)
    assert answer < 30 <= answer * GROW
    assert tuner.size == 2280


def test_a_size_measured_a_little_slower_also_steps_back() -> None:
    tuner = Tuner(AUTO_SIZE, AUTO_CALLS, timeout=120)

    def mild(n: int, c: int) -> float:  # 300 records 3 % slower per record than 200
        return c * n * 0.002 * (1.03 if n > 200 else 1.0)

    sent = drive(tuner, mild, 30)
    assert [c.size for c in tuner.changes] == [300, 200, 200, 200]  # then 3 calls: no faster
    assert sent[-1] == (200, 4)


def test_fewer_calls_in_flight_are_kept_when_the_server_answers_them_clearly_faster() -> None:
    """A threaded Odoo runs its requests under one interpreter lock: on real 18, 10,000
    plain contacts went 1,969 rec/s with 1 call in flight, 1,951 with 2, 1,681 with 4."""
    tuner = Tuner(Bounds(500, 500, 500), AUTO_CALLS, timeout=120)

    def interpreter_lock(n: int, c: int) -> float:  # each extra call costs everyone 10 %
        return c * n * 0.001 * (1 + 0.1 * (c - 1))

    sent = drive(tuner, interpreter_lock, 60)
    assert [c.concurrency for c in tuner.changes] == [3, 2, 1]
    assert all(c.reason == "probing one fewer call in flight" for c in tuner.changes)
    assert sent[-1] == (500, 1)


def test_fewer_calls_in_flight_that_are_slower_go_back_at_once() -> None:
    tuner = Tuner(Bounds(500, 500, 500), AUTO_CALLS, timeout=120)

    def workers(n: int, c: int) -> float:  # one worker per call: calls do not slow each other
        return 0.05 + n * 0.001

    sent = drive(tuner, workers, 60)
    assert [(c.concurrency, c.reason) for c in tuner.changes] == [
        (3, "probing one fewer call in flight"),
        (4, "no faster with one fewer call in flight"),
    ]
    assert sent[-1] == (500, 4)
    assert sum(1 for _, calls in sent if calls == 3) == max(PERIOD, 3)  # one period only
