"""Plain-Python evaluation of the simple field templates most steps are made of.

Rendering through Jinja costs a context per template per row; the common
templates (``{{ row.name | trim }}``, ``LEG-{{ row.id }}``,
``{{ row.kind == 'company' }}``) need none of it. This module walks the
template's Jinja AST once and, when every node is in a small whitelist, writes
one Python expression that computes the same value with dict lookups and the
environment's own filter functions (``str`` methods for ``trim``, ``lower`` and
``upper`` of a text value, which is what those filters do with one).
:mod:`.rowcode` puts these expressions into one function per step.

Exactness rule: a fast renderer only ever returns what Jinja would. Anything
outside the whitelist is left to Jinja, and a fast renderer that raises (a
missing column, a filter refusing its input) is never trusted for the error:
the caller re-renders that row through Jinja so the message is Jinja's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from jinja2 import filters as jinja_filters
from jinja2 import nodes
from jinja2.environment import Environment
from markupsafe import soft_str

FastFn = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""``fn(cells, ctx)``: the raw value of the template for one row (before ``to_native``)."""

# Filters that are plain functions of their input (no context, no arguments).
_FILTERS = frozenset({"trim", "lower", "upper", "title", "capitalize", "string"})
# What Jinja's own filter does with a str (soft_str(s) is s): the same str method.
_STR_METHODS = {
    "trim": (jinja_filters.do_trim, "strip"),
    "lower": (jinja_filters.do_lower, "lower"),
    "upper": (jinja_filters.do_upper, "upper"),
}
_DICT_ATTRS = frozenset(dir(dict))


class CodeGen:
    """Names and source text of generated code: constants and functions go into
    the namespace the code is compiled in, never into its text."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self._count = 0

    def name(self, value: Any, prefix: str = "_k") -> str:
        """A name bound to ``value`` in the generated code's namespace."""
        self._count += 1
        name = f"{prefix}{self._count}"
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        """A fresh local variable name."""
        self._count += 1
        return f"_t{self._count}"

    def compile(self, params: str, body: str, filename: str) -> Any:
        """The function ``def _fn(params): body`` (``body`` is indented statements)."""
        source = f"def _fn({params}):\n{body}"
        exec(compile(source, filename, "exec"), self.namespace)  # our own code, no row data in it
        return self.namespace["_fn"]


def _output_parts(env: Environment, text: str, *, lone: bool) -> list[nodes.Expr] | None:
    """The parts of a template that is one output (text and ``{{ }}`` expressions), or
    None for anything else (a tag, a syntax error); ``lone``: exactly one expression."""
    try:
        tree = env.parse(text)
    except Exception:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    parts: list[nodes.Expr] = tree.body[0].nodes
    if lone and (len(parts) != 1 or isinstance(parts[0], nodes.TemplateData)):
        return None
    return parts


def template_code(gen: CodeGen, env: Environment, text: str, *, lone: bool) -> str | None:
    """A Python expression of ``cells`` and ``ctx`` computing the template's raw value,
    or None when Jinja must render it.

    ``lone`` says the template is exactly one ``{{ expr }}``, whose value is
    returned natively; otherwise the parts are joined as text, as Jinja does.
    """
    parts = _output_parts(env, text, lone=lone)
    if parts is None:
        return None
    if lone:
        return _expression(gen, env, parts[0])
    compiled: list[str] = []
    for part in parts:
        if isinstance(part, nodes.TemplateData):
            compiled.append(gen.name(part.data))  # already text: str() of it is itself
            continue
        code = _expression(gen, env, part)
        if code is None:
            return None
        compiled.append(f"str({code})")
    return _joined(compiled)


def compile_fast(env: Environment, text: str, *, lone: bool) -> FastFn | None:
    """A function equivalent to the template, or None when Jinja must render it."""
    gen = CodeGen()
    code = template_code(gen, env, text, lone=lone)
    if code is None:
        return None
    fn: FastFn = gen.compile("cells, ctx", f"    return {code}\n", "<zenoo fast template>")
    return fn


def _joined(parts: list[str]) -> str:
    return f"''.join(({', '.join(parts)},))"


def _expression(gen: CodeGen, env: Environment, node: nodes.Node) -> str | None:
    """The code of one expression node, or None if it is not whitelisted."""
    match node:
        case nodes.Const(value=value) if isinstance(value, str | int | float | bool) or (
            value is None
        ):
            return gen.name(value)
        case nodes.Getattr(node=nodes.Name(name="row"), attr=attr) if not attr.startswith("_"):
            return f"cells[{gen.name(attr)}]"  # KeyError: the caller lets Jinja word the error
        case nodes.Getitem(node=nodes.Name(name="row"), arg=nodes.Const(value=str() as key)):
            return f"cells[{gen.name(key)}]"
        case nodes.Getattr(node=nodes.Name(name="vars"), attr=attr) if (
            not attr.startswith("_") and attr not in _DICT_ATTRS
        ):
            return f"ctx['vars'][{gen.name(attr)}]"
        case nodes.Filter(
            node=inner, name=name, args=[], kwargs=[], dyn_args=None, dyn_kwargs=None
        ) if name in _FILTERS and inner is not None:
            return _filtered(gen, env, name, inner)
        case nodes.Compare(expr=left, ops=[nodes.Operand(op=("eq" | "ne") as op, expr=right)]):
            first, second = _expression(gen, env, left), _expression(gen, env, right)
            if first is None or second is None:
                return None
            return f"({first} {'==' if op == 'eq' else '!='} {second})"
        case nodes.Concat(nodes=parts):
            compiled = [_expression(gen, env, part) for part in parts]
            if any(code is None for code in compiled):
                return None
            return _joined([f"str({code})" for code in compiled])
    return None


def _filtered(gen: CodeGen, env: Environment, name: str, inner: nodes.Node) -> str | None:
    function = env.filters[name]
    if getattr(function, "jinja_pass_arg", None) is not None:
        return None  # needs a context or environment argument
    source = _expression(gen, env, inner)
    if source is None:
        return None
    original, method = _STR_METHODS.get(name, (None, ""))
    if function is original:
        value, slow = gen.temp(), gen.name(function)
        return f"({value}.{method}() if type({value} := {source}) is str else {slow}({value}))"
    if function is jinja_filters.do_title:
        value, cached, slow = gen.temp(), gen.name(_title), gen.name(function)
        return f"({cached}({value}) if type({value} := {source}) is str else {slow}({value}))"
    return f"{gen.name(function)}({source})"


@dataclass(frozen=True)
class Shape:
    """What a field renders for EVERY row of a CSV source with given columns (its
    cells are text, each row has every column), proven from the spec alone; the
    renderer never raises for such a row.

    ``kind``: ``text`` (a str or False), ``bool``, ``const`` (always ``value``),
    ``xmlid`` (an XmlidRef), ``ref`` (a Ref of step ``step``), ``list`` (``items``).
    For ``text``, ``constant`` is the template's literal text around its
    expressions (so the value is never empty when it is not, and holds what it holds).
    """

    kind: Literal["text", "bool", "const", "xmlid", "ref", "list"]
    value: Any = None
    constant: str = ""
    step: str = ""
    items: tuple[Shape, ...] = ()


def template_shape(
    env: Environment, text: str, *, lone: bool, columns: frozenset[str]
) -> Shape | None:
    """The :class:`Shape` of the template's raw value (before ``to_native``; ``const``
    holds the raw constant) for rows with text cells in ``columns``, or None when it
    cannot be proven (anything but cells, constants, the text filters, == and ~)."""
    parts = _output_parts(env, text, lone=lone)
    if parts is None:
        return None
    if lone:
        return _shape(env, parts[0], columns)
    constant = ""
    for part in parts:
        if isinstance(part, nodes.TemplateData):
            constant += part.data
        elif _shape(env, part, columns) is None:
            return None
    return Shape("text", constant=constant)


def _shape(env: Environment, node: nodes.Node, columns: frozenset[str]) -> Shape | None:
    """The shape of one expression node over text cells, as :func:`_expression` computes it."""
    match node:
        case nodes.Const(value=value) if isinstance(value, str | int | float | bool) or (
            value is None
        ):
            return Shape("const", value)
        case nodes.Getattr(node=nodes.Name(name="row"), attr=attr) if not attr.startswith("_"):
            return Shape("text") if attr in columns else None
        case nodes.Getitem(node=nodes.Name(name="row"), arg=nodes.Const(value=str() as key)):
            return Shape("text") if key in columns else None
        case nodes.Filter(
            node=inner, name=name, args=[], kwargs=[], dyn_args=None, dyn_kwargs=None
        ) if name in _TEXT_FILTERS and inner is not None:
            if env.filters[name] is not _TEXT_FILTERS[name]:
                return None  # not Jinja's own filter: nothing known of what it gives
            source = _shape(env, inner, columns)
            if source is None or (source.kind == "const" and not isinstance(source.value, str)):
                return None
            return Shape("text")  # the filter of a str is a str
        case nodes.Compare(expr=left, ops=[nodes.Operand(op="eq" | "ne", expr=right)]):
            if _shape(env, left, columns) is None or _shape(env, right, columns) is None:
                return None
            return Shape("bool")  # == of str and builtin constants is a bool
        case nodes.Concat(nodes=parts):
            if any(_shape(env, part, columns) is None for part in parts):
                return None
            return Shape("text")
    return None


# Jinja's filters that turn a str into a str and never raise on one.
_TEXT_FILTERS: dict[str, Any] = {
    "trim": jinja_filters.do_trim,
    "lower": jinja_filters.do_lower,
    "upper": jinja_filters.do_upper,
    "title": jinja_filters.do_title,
    "capitalize": jinja_filters.do_capitalize,
    "string": soft_str,
}


@lru_cache(maxsize=4096)
def _title(text: str) -> str:
    """Jinja's ``title`` of a str, remembered: columns such as a city repeat a lot."""
    return jinja_filters.do_title(text)


__all__ = ["CodeGen", "FastFn", "Shape", "compile_fast", "template_code", "template_shape"]
