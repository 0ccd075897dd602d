"""Experiment only: ``zenoo-etl`` with prototype patches, to measure a proposed fix.

    python bench/experiments/patched_cli.py fast-render|ledger-normal apply --project P ...

* ``fast-render`` — templates that are literal text around one ``{{ row.col }}``
  with ``trim``/``lower``/``upper``/``title`` filters, or ``{{ row.col ==
  'literal' }}``, become Python closures instead of Jinja (the fix proposed in
  PERFORMANCE.md, bounds item 1; a sketch, not the compiler's semantics in
  every corner: ``str.title`` is not Jinja's ``title`` for every input);
* ``ledger-normal`` — the SQLite ledger at ``synchronous=NORMAL`` (item 2).

Nothing here is imported by zenoo_etl; it monkeypatches the installed package
in this process only.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

_PLAIN = re.compile(
    r"^(?P<pre>[^{}]*)\{\{\s*row\.(?P<col>\w+)\s*(?P<filters>(\|\s*\w+\s*)*)\}\}(?P<post>[^{}]*)$"
)
_EQUALS = re.compile(r"^\{\{\s*row\.(?P<col>\w+)\s*==\s*'(?P<lit>[^']*)'\s*\}\}$")
_FILTERS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
}


def _fast_render() -> None:
    import zenoo_etl.compiler.render as render

    original = render.compile_text

    def cell(cells: Mapping[str, Any], column: str) -> Any:
        try:
            return cells[column]
        except KeyError:
            raise render.RenderError(f"no column '{column}' in this row", column=column) from None

    def compile_text(text: str) -> Any:
        if match := _EQUALS.match(text):
            col, lit = match["col"], match["lit"]
            return lambda cells, ctx: cell(cells, col) == lit
        match = _PLAIN.match(text)
        names = [f.strip() for f in match["filters"].split("|") if f.strip()] if match else []
        if match is None or any(n not in _FILTERS for n in names):
            return original(text)
        pre, post, col = match["pre"], match["post"], match["col"]
        filters = [_FILTERS[n] for n in names]

        def fast(cells: Mapping[str, Any], ctx: Any) -> Any:
            value = cell(cells, col)
            text = "" if value is None else str(value)
            for f in filters:
                text = f(text)
            out = pre + text + post
            return out if out != "" else False

        return fast

    render.compile_text = compile_text  # compile_value looks it up at call time


def _ledger_normal() -> None:
    import zenoo_etl.ledger.sqlite as sqlite

    sqlite.SqliteDriver.__init__ = functools.partialmethod(  # type: ignore[method-assign]
        sqlite.SqliteDriver.__init__, synchronous="NORMAL"
    )


PATCHES = {"fast-render": _fast_render, "ledger-normal": _ledger_normal}

if __name__ == "__main__":
    PATCHES[sys.argv.pop(1)]()
    from zenoo_etl.cli import main

    sys.argv[0] = "zenoo-etl"
    main()
