"""Plain-Python evaluation of the simple field templates most steps are made of.

Rendering through Jinja costs a context per template per row; the common
templates (``{{ row.name | trim }}``, ``LEG-{{ row.id }}``,
``{{ row.kind == 'company' }}``) need none of it. This module walks the
template's Jinja AST once and, when every node is in a small whitelist, builds
a closure that computes the same value with dict lookups and the
environment's own filter functions.

Exactness rule: a fast renderer only ever returns what Jinja would. Anything
outside the whitelist is left to Jinja, and a fast renderer that raises (a
missing column, a filter refusing its input) is never trusted for the error:
the caller re-renders that row through Jinja so the message is Jinja's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.environment import Environment

FastFn = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""``fn(cells, ctx)``: the raw value of the template for one row (before ``to_native``)."""

# Filters that are plain functions of their input (no context, no arguments).
_FILTERS = frozenset({"trim", "lower", "upper", "title", "capitalize", "string"})
_DICT_ATTRS = frozenset(dir(dict))


def compile_fast(env: Environment, text: str, *, lone: bool) -> FastFn | None:
    """A closure equivalent to the template, or None when Jinja must render it.

    ``lone`` says the template is exactly one ``{{ expr }}``, whose value is
    returned natively; otherwise the parts are joined as text, as Jinja does.
    """
    try:
        tree = env.parse(text)
    except Exception:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    parts = tree.body[0].nodes
    if lone:
        if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
            return None
        return _expression(env, parts[0])
    compiled: list[FastFn] = []
    for part in parts:
        if isinstance(part, nodes.TemplateData):
            compiled.append(_constant(part.data))
            continue
        fn = _expression(env, part)
        if fn is None:
            return None
        compiled.append(fn)
    return _joined(compiled)


def _constant(value: Any) -> FastFn:
    def constant(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return value

    return constant


def _joined(parts: list[FastFn]) -> FastFn:
    def joined(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return "".join([str(part(cells, ctx)) for part in parts])

    return joined


def _expression(env: Environment, node: nodes.Node) -> FastFn | None:
    """The closure for one expression node, or None if it is not whitelisted."""
    match node:
        case nodes.Const(value=value) if isinstance(value, str | int | float | bool) or (
            value is None
        ):
            return _constant(value)
        case nodes.Getattr(node=nodes.Name(name="row"), attr=attr) if not attr.startswith("_"):
            return _cell(attr)
        case nodes.Getitem(node=nodes.Name(name="row"), arg=nodes.Const(value=str() as key)):
            return _cell(key)
        case nodes.Getattr(node=nodes.Name(name="vars"), attr=attr) if (
            not attr.startswith("_") and attr not in _DICT_ATTRS
        ):
            return _var(attr)
        case nodes.Filter(
            node=inner, name=name, args=[], kwargs=[], dyn_args=None, dyn_kwargs=None
        ) if name in _FILTERS and inner is not None:
            return _filtered(env, name, inner)
        case nodes.Compare(expr=left, ops=[nodes.Operand(op=("eq" | "ne") as op, expr=right)]):
            return _compared(env, left, op, right)
        case nodes.Concat(nodes=parts):
            compiled = [_expression(env, part) for part in parts]
            if any(fn is None for fn in compiled):
                return None
            return _joined([fn for fn in compiled if fn is not None])
    return None


def _cell(column: str) -> FastFn:
    def cell(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return cells[column]  # KeyError: the caller lets Jinja word the error

    return cell


def _var(name: str) -> FastFn:
    def var(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return ctx["vars"][name]

    return var


def _filtered(env: Environment, name: str, inner: nodes.Node) -> FastFn | None:
    function = env.filters[name]
    if getattr(function, "jinja_pass_arg", None) is not None:
        return None  # needs a context or environment argument
    source = _expression(env, inner)
    if source is None:
        return None

    def filtered(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return function(source(cells, ctx))

    return filtered


def _compared(env: Environment, left: nodes.Node, op: str, right: nodes.Node) -> FastFn | None:
    first, second = _expression(env, left), _expression(env, right)
    if first is None or second is None:
        return None
    if op == "eq":

        def equal(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
            return first(cells, ctx) == second(cells, ctx)

        return equal

    def not_equal(cells: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
        return first(cells, ctx) != second(cells, ctx)

    return not_equal


__all__ = ["FastFn", "compile_fast"]
