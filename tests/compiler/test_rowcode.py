"""A step's generated row function renders exactly what its field renderers render,
or steps aside (raises) so that they render the row and word its error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler.fastpath import Shape
from zenoo_etl.compiler.render import RenderError, SkipRow, compile_value, row_context
from zenoo_etl.compiler.rowcode import compile_row, csv_shape
from zenoo_etl.compiler.values import Ref, XmlidRef

BASE = {"vars": {"company": "Acme"}, "target": {"name": "local"}}
SPECS: list[Any] = [
    "{{ row.name }}",
    "{{ row['name'] }}",
    "{{ row.name | trim }}",
    "{{ row.email | lower }}",
    "{{ row.city | title }}",
    "{{ row.city | upper | trim }}",
    "{{ row.kind == 'company' }}",
    "LEG-{{ row.id }}",
    "{{ row.id ~ '-' ~ row.kind }}",
    "{{ vars.company }}",
    "{{ vars.nothing }}",
    "{{ row.missing }}",
    "plain text",
    "",
    7,
    True,
    2.5,
    dt.date(2026, 12, 1),
    "{{ row.name | replace('a', 'b') }}",  # Jinja only: the renderer is called
    {"ref": "tags", "key": "{{ row.tag }}"},
    {"ref": "tags", "key": "{{ row.tag }}", "missing": "null"},
    {"ref": "tags", "key": "{{ row.tag }}", "missing": "skip-row"},
    {"ref": "tags", "key": "T-{{ row.tag | trim }}"},
    {"ref": "tags", "key": 5},
    {"ref": "tags", "keys": "{{ row.tag }}", "split": ";"},
    {"xmlid": "base.{{ row.country | lower }}"},
    {"xmlid": "{{ row.country }}", "missing": "null"},
    {"xmlid": "{{ row.country }}", "missing": "skip-row"},
    {"xmlid": "{{ row.country }}", "split": ","},
    [{"ref": "tags", "key": "{{ row.tag }}"}, {"xmlid": "base.{{ row.country }}"}],
    {"search": [["code", "=", "{{ row.country }}"]], "model": "res.country"},
]

cell_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["company", "  Jean  O'neil ", "", "ÉCOLE", "us", "a.b", "x;y", " "]),
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
)
rows = st.fixed_dictionaries(
    {},
    optional={k: cell_values for k in ("name", "email", "city", "kind", "id", "tag", "country")},
)


def typed(value: Any) -> Any:
    """``value`` with every leaf's type beside it: False and 0 are not the same render."""
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", [(k, typed(v)) for k, v in value.items()]]
    return [type(value).__name__, value]


def by_renderers(renderers: dict[str, Any], cells: dict[str, Any]) -> Any:
    ctx = row_context(cells, BASE)
    try:
        return typed({name: render(cells, ctx) for name, render in renderers.items()})
    except (RenderError, SkipRow) as exc:
        return [type(exc).__name__, str(exc)]


@settings(max_examples=400, deadline=None)
@given(
    chosen=st.lists(st.integers(0, len(SPECS) - 1), min_size=1, max_size=5),
    cells=rows,
)
def test_row_function_renders_what_the_renderers_render(
    tmp_path_factory: pytest.TempPathFactory, chosen: list[int], cells: dict[str, Any]
) -> None:
    root = Path(tmp_path_factory.getbasetemp())
    fields = {f"f{i}": SPECS[n] for i, n in enumerate(chosen)}
    renderers = {name: compile_value(spec, name, root=root) for name, spec in fields.items()}
    row = compile_row(fields, renderers, root)
    expected = by_renderers(renderers, cells)
    if row is None:
        return
    try:
        got = row(cells, row_context(cells, BASE))
    except Exception:
        return  # steps aside: the renderers render this row (expected above)
    assert typed(got) == expected
    assert list(got) == list(fields)


def test_the_common_specs_are_rendered_without_stepping_aside() -> None:
    """The benchmark's customers step: one call per row, no fallback."""
    fields: dict[str, Any] = {
        "name": "{{ row.name | trim }}",
        "email": "{{ row.email | lower }}",
        "is_company": "{{ row.kind == 'company' }}",
        "ref": "LEG-{{ row.id }}",
        "city": "{{ row.city | title }}",
        "country_id": {"xmlid": "base.{{ row.country | lower }}"},
        "category_id": [{"ref": "tags", "key": "{{ row.tag }}"}],
        "comment": "imported",
    }
    renderers = {name: compile_value(spec, name) for name, spec in fields.items()}
    row = compile_row(fields, renderers, None)
    assert row is not None
    cells = {
        "name": " Ann ",
        "email": "A@X.COM",
        "kind": "company",
        "id": "7",
        "city": "new york",
        "country": "US",
        "tag": "VIP",
    }
    assert row(cells, row_context(cells, BASE)) == {
        "name": "Ann",
        "email": "a@x.com",
        "is_company": True,
        "ref": "LEG-7",
        "city": "New York",
        "country_id": XmlidRef("base.us"),
        "category_id": [Ref("tags", "VIP")],
        "comment": "imported",
    }


def test_steps_aside_for_rows_the_renderers_word_an_error_for() -> None:
    fields = {"name": "{{ row.name | trim }}", "tag": {"ref": "tags", "key": "{{ row.tag }}"}}
    renderers = {name: compile_value(spec, name) for name, spec in fields.items()}
    row = compile_row(fields, renderers, None)
    assert row is not None
    for cells in ({"name": "x"}, {"name": "x", "tag": ""}):
        with pytest.raises(Exception):  # noqa: B017 - any exception: the renderers take over
            row(cells, row_context(cells, BASE))
        assert by_renderers(renderers, cells)[0] == "RenderError"


def test_only_renderer_calls_need_no_row_function() -> None:
    fields = {"name": "{{ row.name | replace('a', 'b') }}"}
    renderers = {name: compile_value(spec, name) for name, spec in fields.items()}
    assert compile_row(fields, renderers, None) is None


COLUMNS = frozenset({"name", "email", "city", "kind", "id", "tag", "country"})
csv_rows = st.fixed_dictionaries(
    {
        k: st.one_of(st.text(max_size=8), st.sampled_from(["", " ", "a.b", "x;y", "US"]))
        for k in COLUMNS
    }
)


def fits(value: Any, shape: Shape) -> bool:
    """Whether a rendered ``value`` is of the proven ``shape``."""
    if shape.kind == "text":
        nonempty = bool(shape.constant)
        return (type(value) is str and (value != "")) or (value is False and not nonempty)
    if shape.kind == "bool":
        return type(value) is bool
    if shape.kind == "const":
        return typed(value) == typed(shape.value)
    if shape.kind == "xmlid":
        return type(value) is XmlidRef and "." in value.xmlid
    if shape.kind == "ref":
        return type(value) is Ref and value.step == shape.step and value.key != ""
    return (
        type(value) is list
        and len(value) == len(shape.items)
        and all(fits(v, s) for v, s in zip(value, shape.items, strict=True))
    )


@settings(max_examples=300, deadline=None)
@given(cells=csv_rows)
def test_a_proven_shape_holds_for_every_csv_row(cells: dict[str, Any]) -> None:
    """A spec csv_shape proves renders, on any row of text cells in those columns, a
    value of that shape and never raises: the CSV row pass may leave it out."""
    proven = 0
    for i, spec in enumerate(SPECS):
        shape = csv_shape(spec, COLUMNS, f"f{i}")
        if shape is None:
            continue
        proven += 1
        render = compile_value(spec, f"f{i}")
        assert fits(render(cells, row_context(cells, BASE)), shape), spec
    assert proven >= 12


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("{{ row.name | trim }}", "text"),
        ("LEG-{{ row.id }}", "text"),
        ("{{ row.kind == 'company' }}", "bool"),
        ({"xmlid": "base.{{ row.country | lower }}"}, "xmlid"),
        ([{"ref": "tags", "key": "T-{{ row.tag }}"}], "list"),
        ("{{ row.nope }}", None),  # not a column: the renderer words an error
        ({"ref": "tags", "key": "{{ row.tag }}"}, None),  # an empty cell: an empty key
        ({"xmlid": "{{ row.country }}"}, None),  # may lack the dot
        ("{{ vars.company }}", None),
        ("{{ row.name | replace('a', 'b') }}", None),
    ],
)
def test_what_is_proven_on_csv_rows(spec: Any, kind: str | None) -> None:
    shape = csv_shape(spec, COLUMNS)
    assert (shape.kind if shape is not None else None) == kind
