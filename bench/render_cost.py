"""What rendering one row of the benchmark's customers step costs, template by template.

Compiles the field specs of ``bench/_harness.py``'s customers migration with
the compiler's own ``compile_value`` and renders N generated rows, exactly as
``iter_rows`` does (a ``RowView`` per row, the compiled renderers in turn);
then renders the same rows with hand-written Python closures of the same
shapes: the floor the compiler's fast path (``compiler/fastpath.py``) is
measured against.

    .venv/bin/python bench/render_cost.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from _harness import CSV_HEADER, customer_row

from zenoo_etl.compiler.render import RowView, compile_value
from zenoo_etl.compiler.values import Ref, XmlidRef

SPECS: dict[str, Any] = {
    "name": "{{ row.name | trim }}",
    "email": "{{ row.email | lower }}",
    "is_company": "{{ row.kind == 'company' }}",
    "ref": "LEG-{{ row.legacy_id }}",
    "phone": "+1 555 {{ row.phone }}",
    "city": "{{ row.city | title }}",
    "country_id": {"xmlid": "base.{{ row.country | lower }}"},
    "category_id": [{"ref": "tags", "key": "{{ row.tag }}"}],
}

Render = Callable[[dict[str, Any], dict[str, Any]], Any]

NATIVE: dict[str, Render] = {
    "name": lambda c, x: c["name"].strip() or False,
    "email": lambda c, x: c["email"].lower() or False,
    "is_company": lambda c, x: c["kind"] == "company",
    "ref": lambda c, x: "LEG-" + c["legacy_id"],
    "phone": lambda c, x: "+1 555 " + c["phone"],
    "city": lambda c, x: c["city"].title() or False,
    "country_id": lambda c, x: XmlidRef("base." + c["country"].lower()),
    "category_id": lambda c, x: [Ref("tags", c["tag"])],
}


def per_row_us(renderers: dict[str, Render], rows: list[dict[str, Any]]) -> float:
    ctx: dict[str, Any] = {"vars": {}, "target": {}}
    start = time.perf_counter()
    for cells in rows:
        ctx["row"] = RowView(cells)
        for render in renderers.values():
            render(cells, ctx)
    return (time.perf_counter() - start) / len(rows) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    rows = [
        dict(zip(CSV_HEADER, customer_row(i), strict=True)) for i in range(parser.parse_args().rows)
    ]
    compiled = {name: compile_value(spec, name) for name, spec in SPECS.items()}
    # the same results, or the comparison means nothing
    probe = {"vars": {}, "target": {}, "row": RowView(rows[1])}
    for name in SPECS:
        assert compiled[name](rows[1], probe) == NATIVE[name](rows[1], probe), name
    for name, render in compiled.items():
        print(f"  {name:<12} {per_row_us({name: render}, rows):6.2f} µs/row")
    jinja, native = per_row_us(compiled, rows), per_row_us(NATIVE, rows)
    print(f"  {'all (today)':<12} {jinja:6.2f} µs/row")
    print(f"  {'all, native':<12} {native:6.2f} µs/row  (closures of the same shapes)")


if __name__ == "__main__":
    main()
