"""Rendered values become what Odoo expects for each field type."""

from __future__ import annotations

import pytest

from zenoo_etl.runner.coerce import (
    CoercionError,
    compile_converters,
    equal_values,
    load_converter,
    rpc_converter,
    to_rpc_value,
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
