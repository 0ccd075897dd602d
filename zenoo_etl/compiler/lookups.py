"""Mapping tables for templates: ``lookup('data/country_map.csv', row.country, 'iso')``.

A lookup file is any row source the project can read (CSV, Excel, JSON
Lines, JSON list), chosen by its extension; its **first column** is the key.
Each file is read once per project load, on first use, and kept as a dict of
``key -> row`` (mapping tables are small: a few thousand codes, not the
million-row data itself).

A mapping table may also be declared once in ``zenoo.toml`` as
``[lookups.<name>]`` (file, key column, value column, default) and called by
name: ``lookup('countries', row.country)``. Names never contain ``.`` or
``/``, so a literal is a declared name or a file path, never both.

The file name (or table name) must be written as a literal string in the migration file:
that is how :func:`lookup_files` finds it, so its bytes enter the migration's
checksum (editing a mapping table after apply is drift, like editing data).
Keys are compared as stripped text, so an Excel cell holding the number 32
matches the key ``"32"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.config import LookupTable
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

    def __init__(self, root: Path, named: Mapping[str, LookupTable] | None = None) -> None:
        self._root = root
        self._named = dict(named or {})
        self._allowed: set[str] = set()
        self._tables: dict[tuple[str, str | None], tuple[str, dict[str, dict[str, Any]]]] = {}

    @property
    def named(self) -> Mapping[str, LookupTable]:
        """The ``[lookups.<name>]`` tables of zenoo.toml."""
        return self._named

    def allow(self, files: Iterable[str]) -> None:
        """Declare files (or table names) named literally in a migration (the only ones
        lookup() reads)."""
        self._allowed.update(files)

    def __call__(
        self, file: str, key: Any, column: str | None = None, default: Any = _NO_DEFAULT
    ) -> Any:
        """The ``column`` of the row whose key column is ``key`` (the whole row if None).

        ``file`` is a file of the project (its first column is the key) or the name
        of a ``[lookups.<name>]`` table (its ``key`` / ``value`` / ``default``, which
        ``column`` and ``default`` given here override).
        """
        if file not in self._allowed:
            raise RenderError(
                f"lookup({file!r}, ...): write the file name as a literal string in the "
                "migration file, so its bytes enter the checksum"
            )
        declared = self._named.get(file)
        if declared is not None:
            if column is None:
                column = declared.value
            if default is _NO_DEFAULT and declared.default is not None:
                default = declared.default
            where = f"lookup table '{file}' ({declared.declared_at})"
            hint = f"or set default in [lookups.{file}]"
            key_column, table = self._table(declared.file, declared.key, where)
            path = declared.file
        else:
            hint = f"or give a default: lookup({file!r}, ..., default='')"
            key_column, table = self._table(file, None, "lookup")
            path = file
        wanted = "" if key is None or key is False else str(key).strip()
        row = table.get(wanted)
        if row is None:
            if default is not _NO_DEFAULT:
                return default
            shown = f"lookup table '{file}'" if declared is not None else "lookup"
            raise RenderError(
                f"{shown}: {wanted!r} is not in {path} (column '{key_column}'); add it to the "
                f"mapping table {hint}"
            )
        if column is None:
            return dict(row)
        if column not in row:
            raise RenderError(
                f"lookup: {path} has no column '{column}'; its columns are {', '.join(row)}"
            )
        value = row[column]
        if (value is None or value == "") and default is not _NO_DEFAULT:
            return default
        return value

    def _table(
        self, file: str, key_column: str | None, who: str
    ) -> tuple[str, dict[str, dict[str, Any]]]:
        """The table of ``file`` keyed by ``key_column`` (None: its first column), read once."""
        cached = self._tables.get((file, key_column))
        if cached is not None:
            return cached
        try:
            resolve_inside(self._root, file)
        except ValueError as exc:
            raise RenderError(f"lookup: {exc}") from None
        table: dict[str, dict[str, Any]] = {}
        chosen = key_column or ""
        try:
            for _index, line, cells in iter_source(_source_for(file), self._root, Path(file)):
                if not chosen:
                    chosen = next(iter(cells), "")
                elif not table and chosen not in cells:
                    raise RenderError(
                        f"{who}: {file} has no column '{chosen}' to take keys from; its "
                        f"columns are {', '.join(cells)}"
                    )
                raw = cells.get(chosen)
                key = "" if raw is None else str(raw).strip()
                if key in table:
                    raise RenderError(
                        f"{who}: key {key!r} appears twice in {file} (line {line}); "
                        f"the key column ('{chosen}') of a mapping table must be unique"
                    )
                table[key] = cells
        except MigrationFileError as exc:
            raise RenderError(f"{who}: {exc}") from None
        self._tables[(file, key_column)] = (chosen, table)
        return chosen, table


__all__ = ["Lookups", "lookup_files"]
