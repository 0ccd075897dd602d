"""Chunk size and concurrency tuned by measurement while a step runs.

``chunk_size = "auto"`` and ``concurrency = "auto"`` (the defaults) start a
step at the ``start`` values and let a :class:`Tuner` move them within the
bounds of the configuration (``{ min, max, start }``, :mod:`..compiler.config`).
What it sees, per chunk: how many records it did and how long its answer took,
and the faults the client retried meanwhile (HTTP 429/502/503/504, Odoo's
concurrency errors, timeouts and lost connections) plus answers the runner
lost. What it does:

* It measures each setting over a *period* of chunks cut with it (chunks
  still in flight from an earlier setting do not count) and estimates the
  step's speed as records per second per call times the calls in flight
  (Little's law: ``concurrency × records / answer time``), the median of the
  period, so one slow answer does not decide.
* **Chunk size**: from ``start`` it grows by half while a period is at least
  :data:`GAIN` faster than the best so far and the answers stay well under
  the client's timeout (:data:`SLOW` of it); a size measured slower than the
  best steps back to it, one not clearly faster stays. Then the size stays.
* **Shrinking**: an answer slower than :data:`SLOW` × timeout, a timeout or a
  lost answer halves the size at once, and the size never grows back above
  the halved one during the step (a lost answer costs a reconciliation); at
  the smallest size, timeouts halve the calls in flight instead.
* **Concurrency**: 503/429/502/504 answers and Odoo's concurrency errors
  (lock contention on the server) halve the calls in flight at once; after
  :data:`RECOVER` clean periods one more call is allowed again, up to where it
  was. Once the size settled it probes one more call in flight (``max``
  above the current) or else one fewer (``min`` below it), and keeps going
  that way only while each is :data:`GAIN` faster: a threaded Odoo answers
  fewer calls faster (its requests share one interpreter lock), a server with
  workers answers more.

A fixed setting (a number, or ``min = max``) is never changed. Decisions only
change what the *next* chunks are cut with: which rows go together, their
keys, row numbers and ledger entries do not depend on the sizes chosen.
Everything here is synchronous and deterministic given the fed timings, so
tests drive it with made-up answers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import median

from zenoo_etl.compiler.config import Bounds

log = logging.getLogger("zenoo_etl.runner")

PERIOD = 3  # chunks measured per setting (at least; or as many as are in flight)
GROW = 1.5  # chunk size growth per step
GAIN = 0.05  # faster by this much: worth growing again
SLOW = 0.25  # answers above this share of the client timeout are too slow
RECOVER = 3  # clean periods before one more call in flight after contention

# What the client counts per retried fault (ZenooClient.faults) and the kind of
# trouble each one tells about: the server being busy or locked (fewer calls in
# flight help) or calls taking too long (smaller chunks help).
BUSY = "busy"
TIMEOUT = "timeout"
FAULT_KINDS = {
    "HTTP 429": BUSY,
    "HTTP 502": BUSY,
    "HTTP 503": BUSY,
    "HTTP 504": TIMEOUT,
    "concurrency conflict": BUSY,
    "RequestTimeout": TIMEOUT,
    "ConnectionLostError": TIMEOUT,
    "lost answer": TIMEOUT,
}


@dataclass(frozen=True)
class Change:
    """One decision of a tuner: why, and the setting from then on."""

    reason: str
    size: int
    concurrency: int


class Tuner:
    """Chooses the size and the calls in flight of a step's next chunks.

    ``faults`` returns the counts so far of retried faults by reason (the
    client's counter, :data:`FAULT_KINDS` names the reasons that matter);
    the tuner looks at what changed since the previous answer.
    """

    def __init__(
        self,
        size: Bounds,
        concurrency: Bounds,
        *,
        timeout: float,
        faults: Callable[[], Mapping[str, int]] | None = None,
        name: str = "",
    ) -> None:
        self.size_bounds = size
        self.concurrency_bounds = concurrency
        self.size = size.start
        self.concurrency = concurrency.start
        self.slow = timeout * SLOW
        self.name = name
        self.changes: list[Change] = []
        self._faults = faults
        self._seen: dict[str, int] = dict(faults()) if faults is not None else {}
        self._generation = 0
        self._rates: list[float] = []  # records/s x calls in flight, of the current setting
        self._slowest = 0.0  # the slowest answer of the current setting
        self._best: tuple[float, int] | None = None  # (rate, size) at this concurrency
        self._phase = "size" if not size.fixed else "concurrency"
        self._size_ceiling = size.high
        self._probe_base: float | None = None  # rate before one more/fewer call in flight
        self._probe_step = 1  # +1: probing one more call in flight, -1: one fewer
        self._recover_to = concurrency.start  # calls in flight before contention lowered them
        self._clean = 0

    @property
    def tuned(self) -> bool:
        """Whether anything may change (not both settings fixed)."""
        return not (self.size_bounds.fixed and self.concurrency_bounds.fixed)

    def sent(self) -> int:
        """A chunk cut with the current setting leaves: its token for :meth:`observe`."""
        return self._generation

    def observe(self, token: int, records: int, seconds: float) -> None:
        """A chunk sent with ``token`` did ``records`` records in ``seconds``."""
        busy, late = self._new_faults()
        if token != self._generation:
            return  # cut with an earlier setting (its faults were answered already)
        if late and self.size > self.size_bounds.low:
            self._shrink("timeout or lost answer")
            return
        if (busy or late) and self.concurrency > self.concurrency_bounds.low:
            # (timeouts at the smallest size: the server is overloaded, not the chunks big)
            self._recover_to = max(self._recover_to, self.concurrency)
            self._set(
                self.size,
                max(self.concurrency_bounds.low, (self.concurrency + 1) // 2),
                "server busy or locked (503, 429 or concurrency error)"
                if busy
                else "timeouts at the smallest chunk size",
            )
            self._clean = 0
            self._best = None  # rates at another concurrency do not compare
            if self._phase == "concurrency":  # probing more calls in flight: no more
                self._phase, self._probe_base = "settled", None
            return
        if seconds > self.slow and self.size > self.size_bounds.low:
            self._shrink(f"answer took {seconds:.1f}s")
            return
        if records <= 0 or seconds <= 0:
            return
        self._rates.append(self.concurrency * records / seconds)
        self._slowest = max(self._slowest, seconds)
        if len(self._rates) >= max(PERIOD, self.concurrency):
            self._period(median(self._rates), self._slowest)

    # ------------------------------------------------------------------ decisions

    def _period(self, rate: float, answer: float) -> None:
        self._rates, self._slowest = [], 0.0
        self._clean += 1
        if self._phase == "size":
            self._tune_size(rate, answer)
        elif self._phase == "concurrency":
            self._tune_concurrency(rate)
        elif self.concurrency < self._recover_to and self._clean >= RECOVER:
            self._clean = 0
            self._best = None
            self._set(self.size, self.concurrency + 1, "no contention lately")

    def _tune_size(self, rate: float, answer: float) -> None:
        best = self._best
        if best is None or rate >= best[0] * (1 + GAIN):
            self._best = (rate, self.size)
            grown = min(self._size_ceiling, math.ceil(self.size * GROW))
            if grown > self.size and answer * GROW < self.slow:
                self._set(grown, self.concurrency, "faster per record")
                return
        elif rate < best[0]:
            # slower than the best size (by more than the noise, or within it: then the
            # measured best is still the better bet)
            self._phase = "concurrency"
            self._set(best[1], self.concurrency, "slower per record: back to the best size")
            return
        self._phase = "concurrency"

    def _tune_concurrency(self, rate: float) -> None:
        low, high = self.concurrency_bounds.low, self.concurrency_bounds.high
        if self._probe_base is None:
            if self.concurrency < self._recover_to:
                self._phase = "settled"  # lowered by contention: recovery brings it back
            elif self.concurrency < high:
                self._probe(rate, +1)
            elif self.concurrency > low:
                self._probe(rate, -1)
            else:
                self._phase = "settled"
            return
        # kept only when clearly faster: within the noise the calls in flight stay
        if rate >= self._probe_base * (1 + GAIN):
            after = self.concurrency + self._probe_step
            if low <= after <= high:
                self._probe(rate, self._probe_step)
                return
        else:
            more = self._probe_step > 0
            self._set(
                self.size,
                self.concurrency - self._probe_step,
                f"no faster with one {'more' if more else 'fewer'} call in flight",
            )
        self._recover_to = self.concurrency
        self._phase = "settled"

    def _probe(self, base: float, step: int) -> None:
        self._probe_base, self._probe_step = base, step
        self._set(
            self.size,
            self.concurrency + step,
            f"probing one {'more' if step > 0 else 'fewer'} call in flight",
        )

    def _shrink(self, why: str) -> None:
        smaller = max(self.size_bounds.low, self.size // 2)
        self._size_ceiling = smaller  # never grow back to a size that was too slow
        self._phase = "settled" if self._phase == "size" else self._phase
        self._best = None
        self._set(smaller, self.concurrency, why)

    def _set(self, size: int, concurrency: int, reason: str) -> None:
        self._generation += 1
        self._rates, self._slowest = [], 0.0
        if (size, concurrency) == (self.size, self.concurrency):
            return
        what = []
        if size != self.size:
            what.append(f"chunk size {self.size} -> {size}")
        if concurrency != self.concurrency:
            what.append(f"calls in flight {self.concurrency} -> {concurrency}")
        log.info("step %s: %s (%s)", self.name, ", ".join(what), reason)
        self.size, self.concurrency = size, concurrency
        self.changes.append(Change(reason, size, concurrency))

    def _new_faults(self) -> tuple[int, int]:
        """Faults retried since the previous answer: (busy, late)."""
        if self._faults is None:
            return 0, 0
        now = self._faults()
        busy = late = 0
        for reason, count in now.items():
            new = count - self._seen.get(reason, 0)
            if new > 0:
                kind = FAULT_KINDS.get(reason)
                busy += new if kind == BUSY else 0
                late += new if kind == TIMEOUT else 0
        self._seen = dict(now)
        return busy, late


__all__ = ["FAULT_KINDS", "Change", "Tuner"]
