"""Fault injection for the sandbox: latency, 5xx bursts, 429, resets, lost answers.

Off by default. Every request to an RPC route asks :meth:`FaultInjector.decide`
for a :class:`Decision`; the decision consumes a fixed number of draws from a
``random.Random(seed)``, so the same seed and the same sequence of requests
give the same faults. ``history`` records what was decided, in order.

Kinds, in the order they are drawn for each request:

* ``reset`` — the connection is reset before the request is processed;
* ``throttle`` — HTTP 429 with ``Retry-After``, not processed;
* ``error`` — starts a burst of ``error_burst`` answers with a status drawn
  from ``error_statuses`` (502/503/504), not processed;
* ``drop`` — processed and committed, then the connection is closed (FIN) without
  an answer (the client cannot know the outcome).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class FaultSettings(BaseModel):
    """What to inject; also the JSON body of ``POST /__sandbox__/faults``."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(0.0, ge=0)
    reset_rate: float = Field(0.0, ge=0, le=1)
    throttle_rate: float = Field(0.0, ge=0, le=1)
    retry_after: int = Field(1, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    error_status: int | None = None
    error_statuses: list[int] = Field(default_factory=lambda: [502, 503, 504])
    error_burst: int = Field(1, ge=1)
    drop_after_commit_rate: float = Field(0.0, ge=0, le=1)
    seed: int | None = None


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    kind: str  # "ok" | "reset" | "throttle" | "error" | "drop"
    latency_ms: float = 0.0
    status: int = 200
    retry_after: int = 0


class FaultInjector:
    """Seeded, reproducible fault decisions; ``configure`` replaces all settings."""

    def __init__(self) -> None:
        self.settings = FaultSettings()
        self._rng = random.Random(0)
        self._burst_left = 0
        self._burst_status = 502
        self.history: list[str] = []

    @property
    def enabled(self) -> bool:
        s = self.settings
        return bool(
            s.latency_ms
            or s.reset_rate
            or s.throttle_rate
            or s.error_rate
            or s.drop_after_commit_rate
        )

    def configure(self, **settings: object) -> FaultSettings:
        """Set the faults (unknown names are refused) and restart the seeded sequence."""
        self.settings = FaultSettings.model_validate(settings)
        self._rng = random.Random(self.settings.seed)
        self._burst_left = 0
        self.history = []
        return self.settings

    def clear(self) -> None:
        """No faults any more."""
        self.configure()

    def decide(self) -> Decision:
        s = self.settings
        if not self.enabled:
            return Decision("ok")
        # always four draws, so one request's outcome never shifts the next ones
        r_reset, r_throttle, r_error, r_drop = (self._rng.random() for _ in range(4))
        r_status = self._rng.random()
        latency = s.latency_ms
        if self._burst_left > 0:
            self._burst_left -= 1
            decision = Decision("error", latency, self._burst_status)
        elif r_reset < s.reset_rate:
            decision = Decision("reset", latency)
        elif r_throttle < s.throttle_rate:
            decision = Decision("throttle", latency, 429, s.retry_after)
        elif r_error < s.error_rate:
            statuses = [s.error_status] if s.error_status else s.error_statuses or [502]
            self._burst_status = statuses[int(r_status * len(statuses))]
            self._burst_left = s.error_burst - 1
            decision = Decision("error", latency, self._burst_status)
        elif r_drop < s.drop_after_commit_rate:
            decision = Decision("drop", latency)
        else:
            decision = Decision("ok", latency)
        self.history.append(
            f"{decision.kind}:{decision.status}" if decision.kind == "error" else decision.kind
        )
        return decision


__all__ = ["Decision", "FaultInjector", "FaultSettings"]
