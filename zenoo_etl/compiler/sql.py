"""SQL sources: rows of a query on a legacy database, streamed through SQLAlchemy Core.

SQLAlchemy is the driver layer: one URL scheme for PostgreSQL, MySQL/MariaDB,
SQL Server, Oracle and SQLite, each through its usual DB-API driver when it is
installed (``psycopg``, ``pymysql``, ``pyodbc`` ...; SQLite needs nothing).
Rows are streamed with a server-side cursor (``stream_results`` +
``yield_per``), so a million-row table keeps memory flat.

Secrets: the URL is read from the environment variable ``url_env`` when the
rows are read, and never shown. Driver messages can quote the URL or its
password, so every message is scrubbed of both before it is raised. An SQLite
file inside the project can be named directly (``sqlite = "data/legacy.sqlite"``):
it is opened read-only and its bytes are part of the migration checksum.

This module is the one boundary where SQLAlchemy exceptions are translated
into :class:`~zenoo_etl.errors.MigrationFileError`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from zenoo_etl.errors import MigrationFileError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zenoo_etl.compiler.sources import RawRow, SqlSource


def _label(source: SqlSource) -> str:
    return f"sql:{source.sqlite or source.url_env}"


def _url(source: SqlSource, root: Path, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The connection URL and the strings that must never be shown (URL, password)."""
    if source.sqlite is not None:
        from zenoo_etl.compiler.sources import resolve_inside

        try:
            path = resolve_inside(root, source.sqlite)
        except ValueError as exc:
            raise MigrationFileError(str(exc), path=source.sqlite) from None
        if not path.is_file():
            raise MigrationFileError(
                f"SQLite database {source.sqlite} does not exist; fix the path",
                path=source.sqlite,
            )
        # Read-only, through SQLite's URI form: a migration never writes its source.
        return f"sqlite:///file:{path.as_posix()}?mode=ro&uri=true", []
    name = source.url_env or ""
    url = environ.get(name, "")
    if not url:
        raise MigrationFileError(
            f"the SQL source reads its database URL from the environment variable {name}, "
            f"which is not set; export {name}=dialect+driver://user:password@host/db",
            path=_label(source),
        )
    secrets = [url]
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
        if password:
            secrets.append(str(password))
    except Exception:  # an unparsable URL is reported by create_engine below
        pass
    return url, secrets


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def _engine(source: SqlSource, root: Path, environ: Mapping[str, str]) -> tuple[Engine, list[str]]:
    try:
        import sqlalchemy
    except ImportError:  # pragma: no cover - depends on the installation
        raise MigrationFileError(
            "SQL sources need SQLAlchemy: pip install 'zenoo-etl[sql]'", path=_label(source)
        ) from None
    url, secrets = _url(source, root, environ)
    try:
        engine = sqlalchemy.create_engine(url)
    except Exception as exc:  # bad URL, driver not installed: say which, never the URL
        detail = _scrub(f"{type(exc).__name__}: {exc}", secrets)
        raise MigrationFileError(
            f"cannot open the SQL source ({detail}); check the URL in {source.url_env} and "
            "that the database driver is installed",
            path=_label(source),
        ) from None
    return engine, secrets


def _failure(
    source: SqlSource, exc: Exception, secrets: list[str], what: str
) -> MigrationFileError:
    orig = getattr(exc, "orig", None)
    detail = f"{type(orig or exc).__name__}: {orig or exc}"
    # SQLAlchemy appends the statement and a help link on new lines: keep the first.
    first = _scrub(detail, secrets).splitlines()[0] if detail else type(exc).__name__
    return MigrationFileError(f"the {what} failed: {first}", path=_label(source))


def iter_query(
    source: SqlSource, root: Path, environ: Mapping[str, str] | None = None
) -> Iterator[RawRow]:
    """Stream the rows of ``source.sql`` as ``(index, None, {column: value})``."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    engine, secrets = _engine(source, root, os.environ if environ is None else environ)
    try:
        with engine.connect() as connection:
            streaming = connection.execution_options(
                stream_results=True, yield_per=source.batch_size
            )
            try:
                result = streaming.execute(text(source.sql))
            except sa_exc.SQLAlchemyError as exc:
                raise _failure(source, exc, secrets, "query") from None
            if not result.returns_rows:
                raise MigrationFileError(
                    "the query returns no rows; an SQL source needs a SELECT", path=_label(source)
                )
            columns = list(result.keys())
            dupes = sorted({c for c in columns if columns.count(c) > 1})
            if dupes:
                raise MigrationFileError(
                    f"the query returns the column name(s) {', '.join(dupes)} twice; give "
                    "them distinct names with AS",
                    path=_label(source),
                )
            try:
                for index, row in enumerate(result):
                    yield index, None, dict(zip(columns, row, strict=True))
            except sa_exc.SQLAlchemyError as exc:
                raise _failure(source, exc, secrets, "query") from None
    except sa_exc.SQLAlchemyError as exc:  # connecting
        raise _failure(source, exc, secrets, "connection") from None
    finally:
        engine.dispose()


def query_checksum(source: SqlSource, root: Path, environ: Mapping[str, str]) -> bytes:
    """SHA-256 of the rows of ``checksum_query`` (e.g. ``SELECT max(write_date) ...``)."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    digest = hashlib.sha256()
    engine, secrets = _engine(source, root, environ)
    try:
        with engine.connect() as connection:
            result = connection.execute(text(source.checksum_query or ""))
            for row in result:
                digest.update(repr(tuple(row)).encode("utf-8") + b"\n")
    except sa_exc.SQLAlchemyError as exc:
        raise _failure(source, exc, secrets, "checksum_query") from None
    finally:
        engine.dispose()
    return digest.digest()


__all__ = ["iter_query", "query_checksum"]
