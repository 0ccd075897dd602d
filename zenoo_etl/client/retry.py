"""Which faults are retried, which calls are idempotent, and how long to wait.

Retries are for *transient* faults only:

* the request was never sent (``ConnectError``) — any method;
* HTTP 503 and 429 (the server refused before doing anything; ``Retry-After``
  is honoured) — any method;
* ``ConcurrencyError`` (Odoo rolled the transaction back) — any method;
* a fault after the request may have reached Odoo (``RequestTimeout``,
  ``ConnectionLostError``, HTTP 502/504 from a proxy) — only for idempotent
  methods (:data:`IDEMPOTENT_METHODS`, plus ``unlink`` handled by the client).
  Any other method raises ``OutcomeUnknownError`` instead of guessing.

Delays are "full jitter" exponential backoff: ``uniform(0, min(cap, base * 2**n))``.
``sleep`` and ``rng`` are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

#: Methods that can be resent after an unknown outcome without changing the result.
#: ``write`` is included because a second write of the same values is a no-op on
#: the data. ``unlink`` is idempotent too, with the client reading a
#: MissingError on the retry as "already gone".
IDEMPOTENT_METHODS: frozenset[str] = frozenset(
    {
        "read",
        "search",
        "search_read",
        "search_count",
        "fields_get",
        "name_search",
        "write",
        "unlink",
        "read_group",
        "default_get",
        "check_object_reference",
        "exists",
        "get_param",  # ir.config_parameter: the database uuid is read at login
        "context_get",
        "version",
        "login",
        "authenticate",
        "has_access",  # read-only: may this user create external ids (runner.identity)
        "check_access_rights",
    }
)

#: Statuses that mean "not processed, try again later".
RETRY_ANY_STATUS: frozenset[int] = frozenset({429, 503})
#: Statuses from a gateway: the request may have reached Odoo.
RETRY_IDEMPOTENT_STATUS: frozenset[int] = frozenset({502, 504})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to back off. ``retries`` counts resends, not tries."""

    retries: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    #: Upper bound for a server's ``Retry-After``, so a bad header cannot stall a run.
    max_retry_after: float = 120.0
    sleep: Sleep = field(default=asyncio.sleep, repr=False)
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before resend number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        return ceiling * self.rng()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max((when - current).total_seconds(), 0.0)


def resendable(method: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None) -> bool:
    """Whether a call whose outcome is unknown may be sent again (see ``retry.py``).

    ``write`` is, unless its values hold an x2many CREATE command ``(0, 0, vals)``,
    which would create the sub-records twice. Only consulted after a fault.
    """
    if method not in IDEMPOTENT_METHODS:
        return False
    if method == "write":
        values = args[1] if len(args) > 1 else (kwargs or {}).get("vals", {})
        if isinstance(values, Mapping):
            for value in values.values():
                if isinstance(value, (list, tuple)) and any(
                    isinstance(cmd, (list, tuple)) and cmd and cmd[0] == 0 for cmd in value
                ):
                    return False
    return True


__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_ANY_STATUS",
    "RETRY_IDEMPOTENT_STATUS",
    "RetryPolicy",
    "Sleep",
    "parse_retry_after",
    "resendable",
]
