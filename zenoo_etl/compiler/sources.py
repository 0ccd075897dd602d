"""Step sources: where rows come from, kept inside the project, streamed.

``source = { csv = "data/x.csv", delimiter, encoding, quotechar, skip_rows }``,
``{ json = "data/x.json" }`` (a list of objects), ``{ jsonl = "data/x.jsonl" }``,
``{ xlsx = "data/x.xlsx", sheet, header_row }`` (Excel, read with openpyxl in
read-only streaming mode), ``{ sql = "SELECT ...", url_env = "NAME" }`` or
``{ sql = ..., sqlite = "data/legacy.sqlite" }`` (see :mod:`zenoo_etl.compiler.sql`)
or inline ``records = [...]``. Paths are relative to the project root and
must stay inside it after resolving ``..`` and symlinks.

Readers yield ``(index, line, cells)`` one row at a time so that planning a
million-row file keeps memory flat (the JSON list reader is the exception:
the format needs the whole document). ``line`` is the physical line of a
text file, the sheet row of a workbook, None for query rows and inline records.

Checksum rule (what makes an applied migration "drift"): a file source
contributes its bytes; an SQL source its query text (part of the migration
file) plus, when given, the rows of its ``checksum_query``; see
:attr:`checksum_rule`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zenoo_etl.errors import MigrationFileError

RawRow = tuple[int, int | None, dict[str, Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CsvSource(_Strict):
    """``{ csv = path, ... }``."""

    kind: Literal["csv"] = "csv"
    csv: str
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    skip_rows: int = Field(default=0, ge=0)

    @property
    def path(self) -> str:
        return self.csv


class JsonSource(_Strict):
    """``{ json = path }``: a JSON list of objects."""

    kind: Literal["json"] = "json"
    json_path: str = Field(alias="json")
    encoding: str = "utf-8"

    @property
    def path(self) -> str:
        return self.json_path


class JsonlSource(_Strict):
    """``{ jsonl = path }``: one JSON object per line."""

    kind: Literal["jsonl"] = "jsonl"
    jsonl: str
    encoding: str = "utf-8"

    @property
    def path(self) -> str:
        return self.jsonl


class XlsxSource(_Strict):
    """``{ xlsx = path, sheet = "Customers", header_row = 1 }``: one worksheet of a workbook."""

    kind: Literal["xlsx"] = "xlsx"
    xlsx: str
    sheet: str | None = None  # the first sheet when not given
    header_row: int = Field(default=1, ge=1)

    @property
    def path(self) -> str:
        return self.xlsx


class SqlSource(_Strict):
    """``{ sql = "SELECT ...", url_env = "LEGACY_DB_URL" }`` or ``{ sql, sqlite = path }``.

    The connection URL only ever comes from the environment variable named by
    ``url_env`` (it holds passwords), or is an SQLite file inside the project.
    """

    kind: Literal["sql"] = "sql"
    sql: str = Field(min_length=1)
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    sqlite: str | None = None
    checksum_query: str | None = Field(default=None, min_length=1)
    batch_size: int = Field(default=1000, ge=1, le=100_000)

    @property
    def path(self) -> str | None:
        return self.sqlite


class OdooSource(_Strict):
    """``{ odoo = "old", model = "res.partner", domain = [...], fields = [...] }``:
    the records of another target of zenoo.toml (see :mod:`zenoo_etl.compiler.odoo_source`)."""

    kind: Literal["odoo"] = "odoo"
    odoo: str = Field(min_length=1)
    model: str = Field(min_length=1, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    domain: list[Any] = Field(default_factory=list)
    fields: list[str] = Field(min_length=1)
    context: dict[str, Any] = Field(default_factory=dict)
    page_size: int = Field(default=1000, ge=1, le=50_000)

    @property
    def path(self) -> None:
        return None


class RecordsSource(_Strict):
    """Inline ``records = [...]``."""

    kind: Literal["records"] = "records"
    records: list[dict[str, Any]]

    @property
    def path(self) -> None:
        return None


Source = CsvSource | JsonSource | JsonlSource | XlsxSource | SqlSource | OdooSource | RecordsSource
SOURCE_KINDS: dict[str, type[Source]] = {
    "csv": CsvSource,
    "json": JsonSource,
    "jsonl": JsonlSource,
    "xlsx": XlsxSource,
    "sql": SqlSource,
    "odoo": OdooSource,
    "records": RecordsSource,
}


def source_label(source: Source) -> str | None:
    """How messages and plans name a source: its path, or ``sql:<url_env>``."""
    if isinstance(source, SqlSource):
        return f"sql:{source.sqlite or source.url_env}"
    if isinstance(source, OdooSource):
        return f"odoo:{source.odoo}/{source.model}"
    return source.path


def checksum_rule(source: Source) -> str:
    """The documented rule deciding when a change to this source is drift (shown by plan)."""
    if isinstance(source, RecordsSource):
        return "inline records: part of the migration file's bytes"
    if isinstance(source, OdooSource):
        return "model, domain and fields only (the source records are not checksummed)"
    if isinstance(source, SqlSource):
        rule = "query text"
        if source.sqlite:
            rule += f" + bytes of {source.sqlite}"
        if source.checksum_query:
            rule += " + rows of checksum_query"
        elif not source.sqlite:
            rule += " only (database rows are not checksummed; add checksum_query)"
        return rule
    return f"bytes of {source.path}"


def resolve_inside(root: Path, relative: str) -> Path:
    """The real path of ``relative`` under ``root``; ValueError when it escapes.

    Absolute paths and anything that resolves (``..``, symlinks) outside the
    project are refused: a migration must not read arbitrary files.
    """
    if not relative or Path(relative).is_absolute() or relative.startswith(("/", "\\", "~")):
        raise ValueError(f"source path {relative!r} must be relative to the project folder")
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"source path {relative!r} points outside the project folder")
    return target


def iter_source(
    source: Source, root: Path, migration_file: Path, *, cells: bool = True
) -> Iterator[RawRow]:
    """Stream the raw rows of ``source``; errors name the source file and line.

    ``cells=False`` (for counting) leaves a CSV row's cells empty: same rows, same
    errors, without building a dict per row.
    """
    if isinstance(source, RecordsSource):
        for index, record in enumerate(source.records):
            yield index, None, record
        return
    if isinstance(source, SqlSource):
        from zenoo_etl.compiler.sql import iter_query  # SQLAlchemy only when a step needs it

        yield from iter_query(source, root)
        return
    if isinstance(source, OdooSource):
        from zenoo_etl.compiler.odoo_source import iter_odoo

        yield from iter_odoo(source, root)
        return
    path = resolve_inside(root, source.path)
    shown = source.path
    try:
        if isinstance(source, CsvSource):
            yield from _iter_csv(source, path, shown, cells)
        elif isinstance(source, JsonlSource):
            yield from _iter_jsonl(source, path, shown)
        elif isinstance(source, XlsxSource):
            yield from _iter_xlsx(source, path, shown)
        else:
            yield from _iter_json(source, path, shown)
    except FileNotFoundError:
        raise MigrationFileError(
            f"source file {shown} does not exist; create it or fix the path in "
            f"{migration_file.name}",
            path=shown,
        ) from None
    except (OSError, LookupError) as exc:
        raise MigrationFileError(f"cannot read source file: {exc}", path=shown) from None


def _iter_csv(source: CsvSource, path: Path, shown: str, cells: bool = True) -> Iterator[RawRow]:
    with path.open("r", encoding=source.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter, quotechar=source.quotechar)
        header: list[str] | None = None
        index = 0
        last_line = 0
        skipped = 0
        try:
            for record in reader:  # the rows to skip, then the header
                start = last_line + 1
                last_line = reader.line_num
                if skipped < source.skip_rows:
                    skipped += 1
                    continue
                if not record:
                    continue
                header = [name.strip() for name in record]
                dupes = sorted({n for n in header if header.count(n) > 1})
                if dupes:
                    raise MigrationFileError(
                        f"duplicate column name(s) {', '.join(dupes)} in the header",
                        path=shown,
                        line=start,
                    )
                break
            if header is None:
                return
            width = len(header)
            for record in reader:  # the data rows: the same reader, from the header on
                start = last_line + 1
                last_line = reader.line_num
                if not record:
                    continue
                if len(record) != width:
                    raise MigrationFileError(
                        f"this record has {len(record)} fields but the header has "
                        f"{width}; fix the quoting or the delimiter",
                        path=shown,
                        line=start,
                        row=index + 1,
                    )
                # lengths are equal (checked above): strict would check again
                yield index, start, dict(zip(header, record, strict=False)) if cells else {}
                index += 1
        except csv.Error as exc:
            raise MigrationFileError(
                f"invalid CSV: {exc}", path=shown, line=last_line + 1
            ) from None
        except UnicodeDecodeError as exc:
            raise MigrationFileError(
                f"not valid {source.encoding} text ({exc.reason}); set encoding in the source",
                path=shown,
                line=last_line + 1,
            ) from None


def _excel_value(value: Any) -> Any:
    # A date cell is a datetime at midnight in openpyxl: give date fields a date.
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _iter_xlsx(source: XlsxSource, path: Path, shown: str) -> Iterator[RawRow]:
    try:
        from zenoo_etl.compiler.xlsx import iter_sheet_rows, open_workbook
    except ImportError:  # pragma: no cover - depends on the installation
        raise MigrationFileError(
            "reading Excel files needs openpyxl: pip install 'zenoo-etl[xlsx]'", path=shown
        ) from None
    from zipfile import BadZipFile

    if not path.is_file():
        raise FileNotFoundError(str(path))
    try:
        book, strings = open_workbook(path)
    except (BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise MigrationFileError(
            f"not an Excel .xlsx workbook ({type(exc).__name__}: {exc}); save it as .xlsx",
            path=shown,
        ) from None
    try:
        if source.sheet is None:
            sheet = book.worksheets[0]
        elif source.sheet in book.sheetnames:
            sheet = book[source.sheet]
        else:
            raise MigrationFileError(
                f"the workbook has no sheet {source.sheet!r}; its sheets are "
                f"{', '.join(repr(n) for n in book.sheetnames)}",
                path=shown,
            )
        header: list[str] | None = None
        index = 0
        for number, values in iter_sheet_rows(sheet, source.header_row):
            if header is None:
                if number != source.header_row:
                    break  # the header row has no cell at all: reported below
                header = _excel_header(tuple(values), shown, number)
                continue
            if all(v is None or v == "" for v in values):
                continue
            width = len(header)
            extra = [i for i, v in enumerate(values) if i >= width and v not in (None, "")]
            if extra:
                raise MigrationFileError(
                    f"this row has a value in column {extra[0] + 1}, right of the last named "
                    "column; give that column a header",
                    path=shown,
                    line=number,
                    row=index + 1,
                )
            cells = {
                name: _excel_value(values[i]) if i < len(values) else None
                for i, name in enumerate(header)
            }
            yield index, number, cells
            index += 1
        if header is None:
            raise MigrationFileError(
                f"the sheet {sheet.title!r} has no header row at row {source.header_row}",
                path=shown,
            )
    finally:
        book.close()
        if strings is not None:
            strings.close()


def _excel_header(values: tuple[Any, ...], shown: str, number: int) -> list[str]:
    names = [("" if v is None else str(v)).strip() for v in values]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise MigrationFileError(
            "the header row is empty; set header_row to the row holding the column names",
            path=shown,
            line=number,
        )
    if "" in names:
        raise MigrationFileError(
            f"column {names.index('') + 1} of the header row has no name; name every column",
            path=shown,
            line=number,
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MigrationFileError(
            f"duplicate column name(s) {', '.join(dupes)} in the header", path=shown, line=number
        )
    return names


def _iter_jsonl(source: JsonlSource, path: Path, shown: str) -> Iterator[RawRow]:
    index = 0
    with path.open("r", encoding=source.encoding) as handle:
        number = 0
        try:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise MigrationFileError(
                        f"invalid JSON: {exc.msg} (column {exc.colno})", path=shown, line=number
                    ) from None
                except (ValueError, RecursionError) as exc:
                    raise MigrationFileError(_json_limit(exc), path=shown, line=number) from None
                if not isinstance(record, dict):
                    raise MigrationFileError(
                        f"each line must be a JSON object, got {type(record).__name__}",
                        path=shown,
                        line=number,
                    )
                yield index, number, record
                index += 1
        except UnicodeDecodeError as exc:
            raise MigrationFileError(
                f"not valid {source.encoding} text ({exc.reason})", path=shown, line=number + 1
            ) from None


def _json_limit(exc: Exception) -> str:
    # json raises RecursionError on very deep nesting and ValueError on integers
    # longer than Python's int-to-str limit: both are data problems, not bugs.
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply to read; flatten the data"
    return f"the JSON cannot be read ({exc}); fix the value"


def _iter_json(source: JsonSource, path: Path, shown: str) -> Iterator[RawRow]:
    try:
        with path.open("r", encoding=source.encoding) as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise MigrationFileError(f"invalid JSON: {exc.msg}", path=shown, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise MigrationFileError(_json_limit(exc), path=shown) from None
    except UnicodeDecodeError as exc:
        raise MigrationFileError(
            f"not valid {source.encoding} text ({exc.reason})", path=shown
        ) from None
    if not isinstance(data, list):
        raise MigrationFileError(
            "a json source must hold a list of objects; use jsonl for one object per line",
            path=shown,
        )
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise MigrationFileError(
                f"item {index} is a {type(record).__name__}, not an object",
                path=shown,
                row=index + 1,
            )
        yield index, None, record


__all__ = [
    "SOURCE_KINDS",
    "CsvSource",
    "JsonSource",
    "JsonlSource",
    "OdooSource",
    "RawRow",
    "RecordsSource",
    "Source",
    "SqlSource",
    "XlsxSource",
    "checksum_rule",
    "iter_source",
    "resolve_inside",
    "source_label",
]
