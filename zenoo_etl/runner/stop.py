"""Graceful stop of a run (SIGTERM): finish in-flight chunks, write the ledger, exit.

The CLI edge installs :func:`stop_on_signals` around a run; a first SIGTERM
(or SIGINT) sets the run's stop flag. The runner polls :func:`stop_requested`
before cutting each chunk, before each step, migration and rollback page, so
nothing new is sent while everything already sent lands in the ledger. The
migration is then marked ``failed`` (never rolled back: the operator asked to
stop, not to undo) and :class:`RunInterrupted` is raised (exit 143, the
conventional "terminated" code); a later ``apply`` resumes it. A second
signal cancels the run outright (chunks in flight are abandoned; their
intents are reconciled on the next run, exactly as after a crash).

The flag lives in a :class:`contextvars.ContextVar`, so the library API
(``zenoo_etl.api``) needs no new parameter and concurrent runs in one
process (tests) do not see each other's signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import signal
from collections.abc import Iterator

from zenoo_etl.errors import ZenooError
from zenoo_etl.runner.results import RunFailed, RunResult

log = logging.getLogger("zenoo_etl.runner")

EXIT_TERMINATED = 143

_STOP: contextvars.ContextVar[asyncio.Event | None] = contextvars.ContextVar(
    "zenoo_etl_stop", default=None
)


class RunInterrupted(RunFailed):
    """The run stopped on request; what was sent is in the ledger; rerun to resume."""

    exit_code = EXIT_TERMINATED

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message, result)


class StopRequested(ZenooError):
    """Raised inside the runner where it notices the stop flag; apply/rollback convert it."""

    exit_code = EXIT_TERMINATED


def stop_requested() -> bool:
    """Whether the current run was asked to stop."""
    event = _STOP.get()
    return event is not None and event.is_set()


def request_stop() -> None:
    """Ask the current run to stop after its in-flight chunks (tests call it directly)."""
    event = _STOP.get()
    if event is not None:
        event.set()


@contextlib.contextmanager
def stop_scope() -> Iterator[asyncio.Event]:
    """A fresh stop flag for the code run inside (and the tasks it creates)."""
    event = asyncio.Event()
    token = _STOP.set(event)
    try:
        yield event
    finally:
        _STOP.reset(token)


@contextlib.contextmanager
def stop_on_signals(
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM,),
) -> Iterator[asyncio.Event]:
    """Inside a running loop: first signal stops gracefully, a second cancels the task."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    with stop_scope() as event:

        def handle(sig: signal.Signals) -> None:
            if event.is_set():
                log.warning("%s again: cancelling the run now", sig.name)
                if task is not None:
                    task.cancel()
                return
            log.warning(
                "%s received: finishing the chunks in flight, then stopping "
                "(send it again to stop at once)",
                sig.name,
            )
            event.set()

        installed: list[signal.Signals] = []
        for sig in signals:
            try:
                loop.add_signal_handler(sig, handle, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        try:
            yield event
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
                if event.is_set():
                    # we are stopping because of a signal: another one while the process
                    # writes its last lines must not kill it with a bare -SIGTERM
                    signal.signal(sig, signal.SIG_IGN)


__all__ = [
    "EXIT_TERMINATED",
    "RunInterrupted",
    "StopRequested",
    "request_stop",
    "stop_on_signals",
    "stop_requested",
    "stop_scope",
]
