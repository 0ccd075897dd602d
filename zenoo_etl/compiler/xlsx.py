"""Reading an Excel workbook row by row with memory that stays flat in its size.

openpyxl's read-only mode streams a worksheet, with three things that grow with
the file (``bench/plan_memory.py`` measured ~100 MiB per million rows):

* opening a read-only sheet looks for its ``<dimension>`` element and, when
  the file has none (openpyxl's own write-only files, some exporters), parses
  the whole sheet into a tree to find out — before a single row is read;
* its row parser clears each ``<row>`` element after use but leaves it in
  ``<sheetData>``, so a million empty elements pile up;
* it reads the workbook's *shared strings table* (where Excel stores each
  distinct cell text; cells hold an index) whole into a Python list, and a
  customer list has about as many distinct texts as cells.

:func:`open_workbook` is openpyxl's ``load_workbook`` with the strings table
parsed incrementally and spilled to two temporary files (the UTF-8 texts and
their offsets) read back through ``mmap``; :func:`iter_sheet_rows` runs
openpyxl's own row and cell parser (types, dates, formulas' cached values)
but drops each row from the tree once parsed; sheets are opened without the
dimension scan (rows are read to the end anyway). This leans on openpyxl's
``ExcelReader.read_strings``/``read_worksheets`` and
``WorkSheetParser.parse_row`` (stable since openpyxl 3.0) and the read-only
sheet's ``_get_source``.
"""

from __future__ import annotations

import mmap
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

_SI = f"{{{SHEET_MAIN_NS}}}si"
_ROW = f"{{{SHEET_MAIN_NS}}}row"
_SHEET_DATA = f"{{{SHEET_MAIN_NS}}}sheetData"
_OFFSET = struct.Struct("<q")


class SpilledStrings:
    """A read-only sequence of strings kept in temporary files, not in memory."""

    def __init__(self, source: IO[bytes]) -> None:
        # Held open for the sequence's life and closed by close(): not a with-block.
        self._texts = tempfile.TemporaryFile()  # noqa: SIM115
        self._offsets = tempfile.TemporaryFile()  # noqa: SIM115
        self._count = 0
        position = 0
        pending: list[bytes] = []
        root: Any = None
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node  # <sst>: emptied after each string so parsed nodes do not pile up
                continue
            if event != "end" or node.tag != _SI:
                continue
            text = str(Text.from_tree(node).content).replace("x005F_", "").encode("utf-8")
            root.clear()
            self._texts.write(text)
            pending.append(_OFFSET.pack(position))
            position += len(text)
            self._count += 1
            if len(pending) >= 8192:
                self._offsets.write(b"".join(pending))
                pending.clear()
        pending.append(_OFFSET.pack(position))
        self._offsets.write(b"".join(pending))
        self._texts.flush()
        self._offsets.flush()
        self._text_map = _map(self._texts)
        self._offset_map = _map(self._offsets)

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        start, end = struct.unpack_from("<qq", self._offset_map, index * _OFFSET.size)
        return bytes(self._text_map[start:end]).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        for index in range(self._count):
            yield self[index]

    def close(self) -> None:
        for view in (self._text_map, self._offset_map):
            if isinstance(view, mmap.mmap):
                view.close()
        self._texts.close()
        self._offsets.close()


def _map(handle: IO[bytes]) -> mmap.mmap | bytes:
    size = handle.seek(0, 2)
    if size == 0:
        return b""  # mmap refuses empty files
    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class _UnsizedSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """A read-only sheet opened without the dimension scan (see the module docstring)."""

    def _get_size(self) -> None:
        return None


class _SpillingReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's reader, with the shared strings table spilled to disk."""

    shared_strings: Any

    def read_worksheets(self) -> None:
        # openpyxl's read-only branch of read_worksheets, with _UnsizedSheet.
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is None:
            self.shared_strings = []
            return
        with self.archive.open(part.PartName[1:]) as source:
            self.shared_strings = SpilledStrings(source)


def open_workbook(path: Path) -> tuple[Any, SpilledStrings | None]:
    """The workbook at ``path`` in read-only, values-only mode, and its spilled strings
    (close them with the workbook)."""
    reader = _SpillingReader(str(path), read_only=True, data_only=True)
    reader.read()
    strings = reader.shared_strings
    return reader.wb, strings if isinstance(strings, SpilledStrings) else None


def iter_sheet_rows(sheet: Any, min_row: int) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of a read-only worksheet from ``min_row`` on, rows
    without any cell skipped, each row's values placed by column (gaps are None)."""
    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        parent: Any = None
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == _SHEET_DATA:
                    parent = element
                continue
            if element.tag != _ROW:
                continue
            number, cells = parser.parse_row(element)
            element.clear()
            if parent is not None:
                parent.clear()  # the parsed rows leave the tree: memory stays flat
            if number < min_row:
                continue
            values: list[Any] = []
            for cell in cells:
                column = int(cell["column"])
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = cell["value"]
            yield number, values


__all__ = ["SpilledStrings", "iter_sheet_rows", "open_workbook"]
