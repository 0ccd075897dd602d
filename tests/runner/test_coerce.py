"""Rendered values become what Odoo expects for each field type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenoo_etl.runner.coerce import (
    CoercionError,
    compile_converters,
    equal_values,
    load_converter,
    load_row_converter,
    rpc_converter,
    rpc_row_converter,
    to_bool,
    to_id,
    to_rpc_value,
    to_set_command,
    to_text,
)

FIELDS = {
    "name": {"type": "char"},
    "is_company": {"type": "boolean"},
    "color": {"type": "integer"},
    "list_price": {"type": "float"},
    "country_id": {"type": "many2one", "relation": "res.country"},
    "category_id": {"type": "many2many", "relation": "res.partner.category"},
}


def test_rpc_converters_cast_strings_from_csv_cells() -> None:
    conv = compile_converters("res.partner", list(FIELDS), FIELDS)
    assert conv["is_company"]("True") is True
    assert conv["is_company"]("no") is False
    assert conv["color"]("7") == 7
    assert conv["list_price"]("12.50") == 12.5
    assert conv["country_id"]("21") == 21
    assert conv["country_id"](None) is False
    assert conv["category_id"]([3, 4]) == [(6, 0, [3, 4])]
    assert conv["category_id"](5) == [(6, 0, [5])]
    assert conv["category_id"](False) == [(6, 0, [])]
    assert conv["name"]("") is False
    assert conv["name"](42) == "42"


def test_bad_values_raise_a_message_naming_the_value() -> None:
    with pytest.raises(CoercionError, match="'maybe' is not a boolean"):
        rpc_converter("boolean")("maybe")
    with pytest.raises(CoercionError, match="not an integer"):
        rpc_converter("integer")("seven")
    with pytest.raises(CoercionError, match="no field 'nme'"):
        compile_converters("res.partner", ["nme"], FIELDS)


def test_a_digit_int_cannot_read_is_refused_not_a_crash() -> None:
    """'¹' is a digit to str.isdigit but not to int(): refused like any other text."""
    with pytest.raises(CoercionError, match="is not a record id"):
        rpc_converter("many2one")("¹")
    assert rpc_converter("many2one")(" ٣ ") == 3  # an Arabic-Indic 3: int() reads it


def test_load_converters_produce_strings_and_id_columns() -> None:
    assert load_converter("country_id", "many2one")[0] == "country_id/.id"
    assert load_converter("country_id", "many2one")[1](21) == "21"
    assert load_converter("country_id", "many2one")[1](None) == ""
    assert load_converter("category_id", "many2many")[1]([3, 4]) == "3,4"
    assert load_converter("is_company", "boolean")[1](True) == "1"
    assert load_converter("is_company", "boolean")[1](False) == "0"
    assert load_converter("list_price", "float")[1]("2.5") == "2.5"
    assert load_converter("name", "char")[1](None) == ""


def test_equal_values_compares_read_shapes_with_written_shapes() -> None:
    assert equal_values("many2one", [21, "Belgium"], 21)
    assert not equal_values("many2one", [21, "Belgium"], 22)
    assert equal_values("many2many", [4, 3], [(6, 0, [3, 4])])
    assert equal_values("char", False, False)
    assert not equal_values("char", "a", "b")
    assert equal_values("float", 1.0, 1.0000000001)
    assert to_rpc_value("many2one", [5, "X"]) == 5
    assert to_rpc_value("many2many", [1, 2]) == [(6, 0, [1, 2])]


class _Text(str):
    """A str the exact-type fast paths do not take: the converters' general code runs."""


class _Int(int):
    pass


class _List(list):  # type: ignore[type-arg]
    pass


def _general(value: Any) -> Any:
    """``value`` in a form the exact-type fast paths step aside for."""
    if type(value) is str:
        return _Text(value)
    if type(value) is int:
        return _Int(value)
    if type(value) is list:
        return _List(_general(v) for v in value)
    return value


def _outcome(convert: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("ok", convert(value))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


_VALUES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", " 7 ", "yes", "off", "12.5", "x"]),
    st.integers(-3, 10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(-2, 9), max_size=4),
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 3), st.lists(st.integers(0, 9), max_size=3)),
        max_size=2,
    ),
    st.lists(st.one_of(st.integers(0, 9), st.text(max_size=3)), max_size=3),
)
_CONVERTERS = [to_text, to_id, to_set_command, to_bool] + [
    load_converter("f", kind)[1]
    for kind in ("char", "boolean", "integer", "float", "many2one", "many2many")
]


# values each field's converter mostly takes (else the first refusal hides the rest)
_FITTING = {
    "name": st.one_of(st.text(max_size=4), st.none(), st.integers()),
    "is_company": st.one_of(st.booleans(), st.sampled_from(["yes", "no", ""])),
    "color": st.one_of(st.integers(), st.sampled_from(["7", ""])),
    "list_price": st.one_of(st.floats(allow_nan=False), st.integers()),
    "country_id": st.one_of(st.integers(0, 9), st.none(), st.just(False)),
    "category_id": st.one_of(st.lists(st.integers(0, 9), max_size=3), st.integers(0, 9)),
}


@settings(max_examples=400, deadline=None)
@given(value=_VALUES)
def test_fast_paths_give_what_the_general_code_gives(value: Any) -> None:
    """Same result, or the same refusal, for the exact types and for subclasses of them."""
    for convert in _CONVERTERS:
        assert _outcome(convert, value) == _outcome(convert, _general(value)), convert


@settings(max_examples=300, deadline=None)
@given(
    values=st.one_of(
        st.fixed_dictionaries({name: _FITTING[name] for name in FIELDS}),
        st.fixed_dictionaries({}, optional={name: _VALUES for name in FIELDS}),
    )
)
def test_one_function_per_row_gives_the_converters_cells(values: dict[str, Any]) -> None:
    convs = [(name, load_converter(name, str(FIELDS[name]["type"]))[1]) for name in FIELDS]
    cells = load_row_converter(convs)

    def one_by_one(resolved: dict[str, Any]) -> list[str]:
        return [conv(resolved.get(name, False)) for name, conv in convs]

    assert _outcome(cells, values) == _outcome(one_by_one, values)


@settings(max_examples=300, deadline=None)
@given(
    values=st.one_of(
        st.fixed_dictionaries({name: st.one_of(_FITTING[name], _VALUES) for name in FIELDS}),
        st.fixed_dictionaries({name: _FITTING[name] for name in FIELDS}),
        st.fixed_dictionaries({}, optional={name: _VALUES for name in FIELDS}),
    )
)
def test_one_function_per_row_gives_the_converters_values(values: dict[str, Any]) -> None:
    convs = [(name, rpc_converter(str(FIELDS[name]["type"]))) for name in FIELDS]
    row = rpc_row_converter(convs)

    def one_by_one(resolved: dict[str, Any]) -> dict[str, Any]:
        return {name: dict(convs)[name](value) for name, value in resolved.items()}

    got = _outcome(row, values)
    if list(values) != list(FIELDS):
        assert got == ("ok", None)  # other names, or another order: field by field
        return
    assert got == _outcome(one_by_one, values)
    if got[0] == "ok":
        assert list(got[1]) == list(FIELDS)
