"""Mapping tables for templates: ``lookup('data/country_map.csv', row.country, 'iso')``.

A lookup file is any row source the project can read (CSV, Excel, JSON
Lines, JSON list), chosen by its extension; its **first column** is the key.
Each file is read once per project load, on first use, and kept as a dict of
``key -> row`` (mapping tables are small: a few thousand codes, not the
million-row data itself).

The file name must be written as a literal string in the migration file:
that is how :func:`lookup_files` finds it, so its bytes enter the migration's
checksum (editing a mapping table after apply is drift, like editing data).
Keys are compared as stripped text, so an Excel cell holding the number 32
matches the key ``"32"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.render import RenderError
from zenoo_etl.compiler.sources import (
    CsvSource,
    JsonlSource,
    JsonSource,
    Source,
    XlsxSource,
    iter_source,
    resolve_inside,
)
from zenoo_etl.errors import MigrationFileError

# lookup('path', ...) or lookup("path", ...): the literal file name of each call.
_CALL = re.compile(r"""\blookup\(\s*(?P<q>['"])(?P<path>[^'"]+)(?P=q)""")
_NO_DEFAULT = object()


def lookup_files(text: str) -> list[tuple[str, int]]:
    """(file, line) of every ``lookup('file', ...)`` call in a migration's text."""
    found: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _CALL.finditer(line):
            found.append((match.group("path"), number))
    return found


def _source_for(relative: str) -> Source:
    suffix = Path(relative).suffix.lower()
    if suffix == ".xlsx":
        return XlsxSource(xlsx=relative)
    if suffix == ".jsonl":
        return JsonlSource(jsonl=relative)
    if suffix == ".json":
        return JsonSource.model_validate({"json": relative})
    return CsvSource(csv=relative)


class Lookups:
    """The ``lookup()`` function templates call; one instance per loaded project."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._allowed: set[str] = set()
        self._tables: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {}

    def allow(self, files: Iterable[str]) -> None:
        """Declare files named literally in a migration (the only ones lookup() reads)."""
        self._allowed.update(files)

    def __call__(
        self, file: str, key: Any, column: str | None = None, default: Any = _NO_DEFAULT
    ) -> Any:
        """The ``column`` of the row whose first column is ``key`` (the whole row if None)."""
        if file not in self._allowed:
            raise RenderError(
                f"lookup({file!r}, ...): write the file name as a literal string in the "
                "migration file, so its bytes enter the checksum"
            )
        key_column, table = self._table(file)
        wanted = "" if key is None or key is False else str(key).strip()
        row = table.get(wanted)
        if row is None:
            if default is not _NO_DEFAULT:
                return default
            raise RenderError(
                f"lookup: {wanted!r} is not in {file} (column '{key_column}'); add it to the "
                f"mapping table or give a default: lookup({file!r}, ..., default='')"
            )
        if column is None:
            return dict(row)
        if column not in row:
            raise RenderError(
                f"lookup: {file} has no column '{column}'; its columns are {', '.join(row)}"
            )
        value = row[column]
        if (value is None or value == "") and default is not _NO_DEFAULT:
            return default
        return value

    def _table(self, file: str) -> tuple[str, dict[str, dict[str, Any]]]:
        cached = self._tables.get(file)
        if cached is not None:
            return cached
        try:
            resolve_inside(self._root, file)
        except ValueError as exc:
            raise RenderError(f"lookup: {exc}") from None
        table: dict[str, dict[str, Any]] = {}
        key_column = ""
        try:
            for _index, line, cells in iter_source(_source_for(file), self._root, Path(file)):
                if not key_column:
                    key_column = next(iter(cells), "")
                raw = cells.get(key_column)
                key = "" if raw is None else str(raw).strip()
                if key in table:
                    raise RenderError(
                        f"lookup: key {key!r} appears twice in {file} (line {line}); "
                        "the first column of a mapping table must be unique"
                    )
                table[key] = cells
        except MigrationFileError as exc:
            raise RenderError(f"lookup: {exc}") from None
        self._tables[file] = (key_column, table)
        return key_column, table


__all__ = ["Lookups", "lookup_files"]
