"""Turning rendered row values into what Odoo expects, per target field type.

Templates render native Python values, but a CSV cell is always a string and a
reference resolves to an id; Odoo wants ints for many2one, set commands for
x2many, real booleans. :func:`compile_converters` builds ONE small function per
field of a step from the model's ``fields_get`` (fetched once per run), so the
per-row cost is a dict lookup and a call. Two targets exist: RPC values for
``create``/``write`` (:func:`rpc_converter`) and ``load()``'s string cells
(:func:`load_converter`, with the column name it needs: ``field/.id`` for
relations).

Comparison helpers (:func:`normalise_read`) bring ``read`` results into the
same shape, so an upsert can tell which fields really differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from zenoo_etl.compiler.fastpath import CodeGen

Converter = Callable[[Any], Any]

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on", "x"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off", "none", "null"})


class CoercionError(ValueError):
    """A value cannot be converted to its field's type (message names both)."""


def _empty(value: Any) -> bool:
    return value is None or value is False or value == ""


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise CoercionError(f"{value!r} is not a boolean (use true/false, 1/0, yes/no)")


def to_int(value: Any) -> int | bool:
    if _empty(value):
        return False
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CoercionError(f"{value!r} is not a whole number")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                raise CoercionError(f"{value!r} is not an integer") from None
            if number.is_integer():
                return int(number)
            raise CoercionError(f"{value!r} is not a whole number") from None
    raise CoercionError(f"{value!r} is not an integer")


def to_float(value: Any) -> float | bool:
    if _empty(value):
        return False
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "")) if value.strip() else False
        except ValueError:
            raise CoercionError(f"{value!r} is not a number") from None
    raise CoercionError(f"{value!r} is not a number")


def to_id(value: Any) -> int | bool:
    if type(value) is int:  # a resolved reference, the common case
        return value
    if _empty(value):
        return False
    if isinstance(value, bool):
        raise CoercionError(f"{value!r} is not a record id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():  # what int() reads ("¹" is not)
        return int(value.strip())
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], int):
        return value[0]  # a read() many2one pair
    raise CoercionError(f"{value!r} is not a record id (use a ref, xmlid or search reference)")


def to_ids(value: Any) -> list[int]:
    """Record ids of an x2many value, each once, in first-seen order.

    A repeated id sets nothing more, but costs Odoo's ``load()`` one
    ``exists()`` query per repetition, so repeats are dropped here.
    """
    if _empty(value):
        return []
    if isinstance(value, (list, tuple)):
        ids: dict[int, None] = {}
        for item in value:
            one = to_id(item)
            if one is not False:
                ids[int(one)] = None
        return list(ids)
    one = to_id(value)
    return [] if one is False else [int(one)]


def _is_commands(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, (list, tuple)) and len(item) == 3 for item in value)
        and all(isinstance(item[0], int) and 0 <= item[0] <= 6 for item in value)
    )


def to_set_command(value: Any) -> list[Any]:
    if type(value) is list and all(type(item) is int for item in value):
        return [(6, 0, list(dict.fromkeys(value)))]  # resolved references: as to_ids does
    if _is_commands(value):
        return list(value)
    return [(6, 0, to_ids(value))]


def to_text(value: Any) -> str | bool:
    if type(value) is str:
        return value or False  # "" is empty: False, as below
    if _empty(value):
        return False
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return str(value)
    raise CoercionError(f"{value!r} is not text")


def _passthrough(value: Any) -> Any:
    return False if value is None else value


_RPC: dict[str, Converter] = {
    "boolean": to_bool,
    "integer": to_int,
    "float": to_float,
    "monetary": to_float,
    "many2one": to_id,
    "many2one_reference": to_int,
    "many2many": to_set_command,
    "one2many": to_set_command,
    "char": to_text,
    "text": to_text,
    "html": to_text,
    "selection": to_text,
    "date": to_text,
    "datetime": to_text,
}


def rpc_converter(field_type: str) -> Converter:
    """Converter for a ``create``/``write`` value of a field of ``field_type``."""
    return _RPC.get(field_type, _passthrough)


def _load_bool(value: Any) -> str:
    if value is True:  # the common values first; to_bool says the rest
        return "1"
    if value is False:
        return "0"
    return "1" if to_bool(value) else "0"


def _load_number(convert: Converter) -> Converter:
    def conv(value: Any) -> str:
        number = convert(value)
        return "" if number is False else str(number)

    return conv


def _load_id(value: Any) -> str:
    if type(value) is int:  # a resolved reference: what to_id keeps as is
        return str(value)
    one = to_id(value)
    return "" if one is False else str(one)


def _load_ids(value: Any) -> str:
    if type(value) is list and all(type(item) is int for item in value):
        # resolved references: to_ids keeps each id once, in order (not commands: no triples)
        return ",".join([str(i) for i in dict.fromkeys(value)])
    if _is_commands(value) and len(value) == 1 and value[0][0] == 6:
        value = list(value[0][2])
    return ",".join(str(i) for i in to_ids(value))


def _load_text(value: Any) -> str:
    if type(value) is str:  # to_text keeps text as is ("" included, as "")
        return value
    text = to_text(value)
    return "" if text is False else str(text)


def load_converter(name: str, field_type: str) -> tuple[str, Converter]:
    """Column name and cell converter for ``load()`` (every cell is a string)."""
    match field_type:
        case "boolean":
            return name, _load_bool
        case "integer":
            return name, _load_number(to_int)
        case "float" | "monetary":
            return name, _load_number(to_float)
        case "many2one":
            return f"{name}/.id", _load_id
        case "many2many" | "one2many":
            return f"{name}/.id", _load_ids
        case _:
            return name, _load_text


def load_row_converter(
    fields: Sequence[tuple[str, Converter]],
) -> Callable[[Mapping[str, Any]], list[str]]:
    """``cells(resolved)``: the ``load()`` cells of a row's resolved values, one per
    ``(name, converter)`` of :func:`load_converter` (an absent value is False).

    One generated function: the values most rows carry (text, a boolean, an id, one
    id in an x2many) are written as they are, anything else goes to its converter;
    a refusal raises its :class:`CoercionError` (the caller names the field).
    """
    gen = CodeGen()
    cells = []
    for name, conv in fields:
        v, slow = gen.temp(), gen.name(conv)
        value = f"{v} := get({name!r}, False)"
        if conv is _load_text:
            cells.append(f"({v} if type({value}) is str else {slow}({v}))")
        elif conv is _load_bool:
            cells.append(f"('1' if ({value}) is True else '0' if {v} is False else {slow}({v}))")
        elif conv is _load_id:
            cells.append(f"(str({v}) if type({value}) is int else {slow}({v}))")
        elif conv is _load_ids:
            one = f"type({value}) is list and len({v}) == 1 and type({v}[0]) is int"
            cells.append(f"(str({v}[0]) if {one} else {slow}({v}))")
        else:
            cells.append(f"{slow}(get({name!r}, False))")
    body = f"    get = resolved.get\n    return [{', '.join(cells)}]\n"
    fn: Callable[[Mapping[str, Any]], list[str]] = gen.compile(
        "resolved", body, "<zenoo load cells>"
    )
    return fn


def rpc_row_converter(
    fields: Sequence[tuple[str, Converter]],
) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    """``values(resolved)``: a row's ``create``/``write`` values, each field through its
    :func:`rpc_converter`, for ``resolved`` holding exactly ``fields``' names in that
    order (else None: the caller converts field by field).

    One generated function: text, booleans, ids and single-id x2many values are
    written as the converters would make them, anything else goes to its converter
    (a refusal raises its :class:`CoercionError`).
    """
    gen = CodeGen()
    names = gen.name(tuple(name for name, _conv in fields))
    values = []
    for name, conv in fields:
        v, slow = gen.temp(), gen.name(conv)
        value = f"{v} := resolved[{name!r}]"
        if conv is to_text:
            code = f"(({v} or False) if type({value}) is str else {slow}({v}))"
        elif conv is to_bool:
            code = f"({v} if type({value}) is bool else {slow}({v}))"
        elif conv is to_id:
            code = f"({v} if type({value}) is int else {slow}({v}))"
        elif conv is to_set_command:
            one = f"type({value}) is list and len({v}) == 1 and type({v}[0]) is int"
            code = f"([(6, 0, [{v}[0]])] if {one} else {slow}({v}))"
        else:
            code = f"{slow}(resolved[{name!r}])"
        values.append(f"{name!r}: {code}")
    body = (
        f"    if tuple(resolved) != {names}:\n        return None\n"
        f"    return {{{', '.join(values)}}}\n"
    )
    fn: Callable[[Mapping[str, Any]], dict[str, Any] | None] = gen.compile(
        "resolved", body, "<zenoo rpc values>"
    )
    return fn


def field_types(fields_get: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    return {name: str(spec.get("type", "char")) for name, spec in fields_get.items()}


def compile_converters(
    model: str, names: list[str], fields_get: Mapping[str, Mapping[str, Any]]
) -> dict[str, Converter]:
    """One RPC converter per field name; unknown fields raise with the model name."""
    converters: dict[str, Converter] = {}
    for name in names:
        spec = fields_get.get(name)
        if spec is None:
            raise CoercionError(f"model '{model}' has no field '{name}'")
        converters[name] = rpc_converter(str(spec.get("type", "char")))
    return converters


def normalise_read(field_type: str, value: Any) -> Any:
    """Bring a ``read()`` value into the shape the RPC converters produce."""
    match field_type:
        case "many2one":
            if isinstance(value, (list, tuple)):
                return value[0] if value else False
            return value or False
        case "many2many" | "one2many":
            return sorted(value or [])
        case "boolean":
            return bool(value)
        case "float" | "monetary":
            return False if value is False or value is None else float(value)
        case _:
            return False if value is None or value == "" else value


def normalise_written(field_type: str, value: Any) -> Any:
    """Bring a converted RPC value into the comparable shape of :func:`normalise_read`."""
    match field_type:
        case "many2many" | "one2many":
            if isinstance(value, list) and len(value) == 1 and value[0][0] == 6:
                return sorted(value[0][2])
            return value
        case "float" | "monetary":
            return False if value is False else float(value)
        case "boolean":
            return bool(value)
        case _:
            return value


_TEXTUAL = frozenset({"char", "text", "html", "selection", "date", "datetime"})


def equal_values(field_type: str, current: Any, new: Any) -> bool:
    """Whether writing ``new`` over ``current`` (a read value) changes nothing."""
    left = normalise_read(field_type, current)
    right = normalise_written(field_type, new)
    if field_type in ("float", "monetary") and left is not False and right is not False:
        return abs(float(left) - float(right)) < 1e-9
    # Odoo reads an empty char as False; an empty render is False too: both mean "no value".
    if field_type in _TEXTUAL and left in (False, "") and right in (False, ""):
        return True
    return bool(left == right)


def to_rpc_value(field_type: str, read_value: Any) -> Any:
    """A value as ``read()`` returned it, in a shape ``create``/``write`` accept."""
    match field_type:
        case "many2one":
            return normalise_read("many2one", read_value)
        case "many2many" | "one2many":
            return [(6, 0, list(read_value or []))]
        case _:
            return read_value


__all__ = [
    "CoercionError",
    "Converter",
    "compile_converters",
    "equal_values",
    "field_types",
    "load_converter",
    "load_row_converter",
    "normalise_read",
    "normalise_written",
    "rpc_converter",
    "rpc_row_converter",
    "to_bool",
    "to_rpc_value",
]
