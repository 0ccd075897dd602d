"""Odoo as a source: the records of another Odoo target, paged, so that Odoo-to-Odoo and
version-to-version migrations are migrations like any other.

``source = { odoo = "old", model = "res.partner", domain = [...], fields = [...] }``
names a target of ``zenoo.toml`` (its URL, database and credentials, from the
environment as for any target; a ``sandbox:`` target works too). Records come
from ``search_read`` pages of ``page_size`` ordered by id, each page asking for
ids above the last one seen (stable while records are added), with Odoo's own
shapes: a many2one is ``[id, display name]`` (``row.country_id[1]``), an
x2many a list of ids, an empty value ``False``.

Row streaming is synchronous (the compiler's readers are generators), the
client is async: the pages are fetched by a worker thread running its own
event loop and handed over through a queue of at most two pages, so memory
stays flat and a consumer that stops early stops the worker. This module is
the one boundary where the client's errors become ``MigrationFileError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenoo_etl.errors import MigrationFileError, ZenooError

if TYPE_CHECKING:
    from zenoo_etl.compiler.sources import OdooSource, RawRow

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _label(source: OdooSource) -> str:
    return f"odoo:{source.odoo}"


def iter_odoo(source: OdooSource, root: Path) -> Iterator[RawRow]:
    """Stream the records of ``source`` as ``(index, None, {field: value})``."""
    pages: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        # A thread of its own with its own loop: the caller may itself be running
        # inside the apply's event loop, which this generator must not block on.
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_fetch(source, root, pages, stop))
        except BaseException as exc:  # handed to the consumer, raised there
            _put(pages, _Failed(exc), stop)
        finally:
            loop.close()
            _put(pages, _DONE, stop)

    worker = threading.Thread(target=produce, name=f"zenoo-odoo-source-{source.odoo}", daemon=True)
    worker.start()
    index = 0
    try:
        while True:
            item = pages.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise _translate(source, item.error)
            for record in item:
                yield index, None, record
                index += 1
    finally:
        stop.set()
        while worker.is_alive():  # unblock a worker waiting to put a page
            with contextlib.suppress(queue.Empty):
                pages.get(timeout=0.05)
        worker.join()


def _put(pages: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            pages.put(item, timeout=0.05)
            return
        except queue.Full:
            continue


def _translate(source: OdooSource, error: BaseException) -> MigrationFileError:
    if isinstance(error, MigrationFileError):
        return error
    if isinstance(error, ZenooError):
        detail = str(error).splitlines()[0]
    else:
        detail = f"{type(error).__name__}: {error}"
    return MigrationFileError(
        f"reading {source.model} from target '{source.odoo}' failed: {detail}",
        path=_label(source),
    )


async def _fetch(
    source: OdooSource, root: Path, pages: queue.Queue[Any], stop: threading.Event
) -> None:
    from contextlib import AsyncExitStack

    from zenoo_etl.compiler.config import load_config
    from zenoo_etl.compiler.connect import open_client
    from zenoo_etl.errors import ConfigError

    try:
        config, _name, target = load_config(root, target=source.odoo)
    except ConfigError as exc:
        raise MigrationFileError(
            f"source odoo = {source.odoo!r}: {exc}", path=_label(source)
        ) from None
    async with AsyncExitStack() as stack:
        client = await open_client(stack, target, config.runner)
        password, api_key = target.credentials()
        await client.login(target.database, target.username, password, api_key=api_key)
        last = 0
        fields = list(dict.fromkeys(["id", *source.fields]))
        while not stop.is_set():
            after: list[Any] = [["id", ">", last]]
            domain = ["&", *after, *source.domain] if source.domain else after
            page = await client.search_read(
                source.model,
                domain,
                fields,
                limit=source.page_size,
                order="id",
                context=dict(source.context),
            )
            if not page:
                return
            last = max(int(r["id"]) for r in page)
            _put(pages, page, stop)
            if len(page) < source.page_size:
                return


__all__ = ["iter_odoo"]
