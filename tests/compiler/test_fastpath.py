"""The plain-Python fast path gives exactly what Jinja gives, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler.fastpath import compile_fast
from zenoo_etl.compiler.render import (
    RenderError,
    _expression_runner,
    _text_runner,
    _wrap,
    compile_text,
    make_environment,
    row_context,
    to_native,
)

ENV = make_environment()
BASE = {"vars": {"company": "Acme", "items": "x"}, "target": {"name": "local"}}

FAST_TEMPLATES = [
    "{{ row.name }}",
    "{{ row.name | trim }}",
    "{{ row.email | lower }}",
    "{{ row.city | title }}",
    "{{ row.city | upper | trim }}",
    "{{ row.kind == 'company' }}",
    "{{ row.kind != 'company' }}",
    "LEG-{{ row.id }}",
    "{{ row['name'] }} ({{ row.city | capitalize }})",
    "{{ row.id ~ '-' ~ row.kind }}",
    "{{ vars.company }}",
    "{{ vars.company }} / {{ row.name | string }}",
    "{{ 3 }}",
    "{{ row.missing }}",
]
SLOW_TEMPLATES = [
    "{{ row.name | replace('a', 'b') }}",
    "{{ row.id | int + 1 }}",
    "{% if row.kind %}x{% endif %}",
    "{{ vars.items }}",  # dict attribute: Jinja's getattr rules apply
    "{{ row.__class__ }}",
]


def jinja_only(text: str) -> Any:
    lone = text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1
    if lone:
        expression = ENV.compile_expression(text[2:-2].strip(), undefined_to_none=False)
        return _wrap(_expression_runner(expression._template), text)
    return _wrap(_text_runner(ENV.from_string(text)), text)


def outcome(render: Any, cells: dict[str, Any]) -> tuple[str, Any]:
    try:
        return ("ok", render(cells, row_context(cells, BASE)))
    except RenderError as exc:
        return ("error", str(exc))


cell_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["company", "  Jean  O'neil ", "", "ÉCOLE", "{{ 7*7 }}"]),
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
)
rows = st.fixed_dictionaries(
    {},
    optional={k: cell_values for k in ("name", "email", "city", "kind", "id")},
)


@pytest.mark.parametrize("text", FAST_TEMPLATES)
def test_simple_templates_take_the_fast_path(text: str) -> None:
    lone = text.count("{{") == 1 and text.startswith("{{") and text.endswith("}}")
    assert compile_fast(ENV, text, lone=lone) is not None


@pytest.mark.parametrize("text", SLOW_TEMPLATES)
def test_other_templates_are_left_to_jinja(text: str) -> None:
    lone = text.count("{{") == 1 and text.startswith("{{") and text.endswith("}}")
    assert compile_fast(ENV, text, lone=lone) is None


@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(FAST_TEMPLATES + SLOW_TEMPLATES[:-1]), cells=rows)
def test_fast_and_jinja_renderings_are_identical(text: str, cells: dict[str, Any]) -> None:
    """Same value, or the same error message, for any row."""
    assert outcome(compile_text(text), cells) == outcome(jinja_only(text), cells)


def test_row_data_is_never_evaluated_on_the_fast_path() -> None:
    render = compile_text("{{ row.name | trim }}")
    cells = {"name": " {{ 7*7 }} "}
    assert render(cells, row_context(cells, BASE)) == "{{ 7*7 }}"
    assert to_native("") is False
