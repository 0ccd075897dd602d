"""Opening a ledger from its url: ``sqlite:///rel/path``, ``sqlite:////abs/path``, ``postgresql://``.

A relative SQLite path is relative to the project root, so ``zenoo-etl``
finds the same ledger whatever the current folder. ``sqlite:///:memory:``
is a private in-memory ledger (tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from zenoo_etl.errors import ConfigError
from zenoo_etl.ledger.driver import Driver
from zenoo_etl.ledger.keys import mask_url
from zenoo_etl.ledger.schema import ensure_schema
from zenoo_etl.ledger.sql import SqlLedger

DEFAULT_LEDGER_URL = "sqlite:///.zenoo/ledger.db"


def sqlite_path(url: str, project_root: Path) -> Path | str:
    """The file a ``sqlite:///`` url names (``:memory:`` stays a string)."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(
            f"Ledger url {url!r} is not a SQLite url: write sqlite:///relative/path "
            "(relative to the project folder) or sqlite:////absolute/path."
        )
    rest = rest[1:]
    if rest == ":memory:":
        return rest
    path = Path(rest)
    return path if path.is_absolute() else Path(project_root) / path


async def connect_driver(url: str, project_root: Path) -> Driver:
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        from zenoo_etl.ledger.sqlite import SqliteDriver

        return SqliteDriver(sqlite_path(url, project_root))
    if scheme in ("postgresql", "postgres"):
        from zenoo_etl.ledger.postgres import PostgresDriver

        return await PostgresDriver.connect(url)
    raise ConfigError(
        f"Unsupported ledger url {mask_url(url)!r}: use sqlite:///.zenoo/ledger.db (default) "
        "or postgresql://user@host:5432/dbname in [ledger] url or ZENOO_LEDGER_URL."
    )


@asynccontextmanager
async def open_ledger(url: str, project_root: Path) -> AsyncIterator[SqlLedger]:
    """Open (creating or upgrading its tables) the ledger at ``url``; close it on exit."""
    driver = await connect_driver(url, project_root)
    try:
        async with driver.session(write=True) as conn:
            version, instance = await ensure_schema(conn, driver.dialect, driver.display_url)
    except BaseException:
        await driver.close()
        raise
    ledger = SqlLedger(driver, version, instance)
    try:
        yield ledger
    finally:
        await ledger.close()


__all__ = ["DEFAULT_LEDGER_URL", "connect_driver", "open_ledger", "sqlite_path"]
