"""Jinja for field templates: compiled once per step, rendered per row to native values.

Security rule: row data is never evaluated. Templates come from migration
files only; they are compiled once per step in an ``ImmutableSandboxedEnvironment``
with ``StrictUndefined`` and rendered per row with ``row``, ``vars`` and
``target`` in scope. Native values come from evaluating a lone ``{{ expr }}``
as an expression (``compile_expression``), never from ``literal_eval`` of
rendered text, so a CSV cell ``{{ 7*7 }}`` or ``[1, 2]`` stays a string.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from zenoo_etl.compiler.fastpath import FastFn, compile_fast
from zenoo_etl.compiler.values import FieldValue, Ref, SearchRef, XmlidRef

_SYNTAX = ("{{", "{%", "{#")
# \Z, not $: "{{ 3 }}\n" is text ("3\n"), not the integer 3.
_LONE_EXPR = re.compile(r"\A\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%|\{#).)*)\}\}\Z", re.DOTALL)
_ROW_ATTR = re.compile(
    r"\A\{\{-?\s*row(?:\.(?P<attr>[A-Za-z_][A-Za-z0-9_]*)|\[\s*(?P<q>['\"])(?P<item>[^'\"]*)(?P=q)\s*\])\s*-?\}\}\Z"
)


class RenderError(Exception):
    """A template failed for one row; the caller adds file, step and row."""

    def __init__(self, detail: str, *, column: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.column = column


class SpecError(Exception):
    """A field specification in a migration file is malformed (load time)."""

    def __init__(self, detail: str, key: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.key = key


class MissingColumn(Exception):
    """Raised by :class:`RowView` so Jinja cannot turn it into an undefined."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


class RowView:
    """The ``row`` object templates see: ``row.col`` / ``row['col']``, nothing else.

    No public methods, so a column called ``items`` or ``get`` is still a column;
    a missing column raises instead of rendering as undefined.
    """

    __slots__ = ("_cells",)

    def __init__(self, cells: Mapping[str, Any]) -> None:
        self._cells = cells

    def __getitem__(self, name: str) -> Any:
        try:
            return self._cells[name]
        except KeyError:
            raise MissingColumn(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._cells


MAX_PRODUCT = 1_000_000  # longest string or list `*` may build in a template
MAX_POWER_BITS = 4_096  # largest integer `**` may build


def bounded_binop(operator: str, left: Any, right: Any) -> Any:
    """``left <operator> right`` for ``*`` and ``**``, refusing memory bombs.

    The sandbox blocks attribute escapes but not ``'x' * 10**9`` (a 1 GB string)
    or ``9**9**9``. This guards the obvious one-step bombs only: a chain of
    allowed steps (``.replace`` of a long string, ``ljust``, a ``join`` of a
    repeated list) can still build hundreds of MB. Templates come from
    migration files, i.e. from people who can commit to the project; a hard
    limit would need rendering under a memory cap.
    """
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(count, int)
                and len(seq) * count > MAX_PRODUCT
            ):
                raise SecurityError(
                    f"the template builds a sequence of {len(seq) * count} items; "
                    f"the limit is {MAX_PRODUCT}"
                )
        return left * right
    if operator == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and right * abs(left).bit_length() > MAX_POWER_BITS
        ):
            raise SecurityError(
                f"{left} ** {right} is too large for a template (over {MAX_POWER_BITS} bits)"
            )
        return left**right
    if operator == "%":
        if isinstance(left, str):
            check_format_widths(left)
        return left % right
    raise SecurityError(f"operator {operator!r} is not intercepted")  # pragma: no cover


_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\d+)")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)[^{}]*\}")


def check_format_widths(fmt: str) -> None:
    """Refuse ``'%1000000000s'`` / ``'{:>1000000000}'``: padding is a memory bomb too."""
    for pattern in (_PERCENT_WIDTH, _BRACE_WIDTH):
        for match in pattern.finditer(fmt):
            if int(match.group(1)) > MAX_PRODUCT:
                raise SecurityError(f"a format width of {match.group(1)} is over the limit")


def _bounded_width(name: str, filter_fn: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(value: Any, width: Any = 80, *args: Any, **kwargs: Any) -> Any:
        size = width if isinstance(width, int) else len(str(width))
        if size * max(1, str(value).count("\n") + 1) > MAX_PRODUCT:
            raise SecurityError(f"the {name} filter width {size} is over the limit")
        return filter_fn(value, width, *args, **kwargs)

    return bounded


def harden(env: SandboxedEnvironment) -> None:
    """Bound the filters that pad or repeat (``center``, ``indent``, ``format``)."""
    for name in ("center", "indent"):
        env.filters[name] = _bounded_width(name, env.filters[name])
    original_format = env.filters["format"]

    def bounded_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        check_format_widths(str(value))
        return original_format(value, *args, **kwargs)

    env.filters["format"] = bounded_format


class _Bounded:
    """Sandbox mixin: ``*``, ``**``, ``%`` and ``str.format`` refuse one-step memory bombs."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped: Callable[..., str] | None = super().wrap_str_format(value)  # type: ignore[misc]
        if wrapped is None:
            return None
        fmt = str(value.__self__)

        def checked(*args: Any, **kwargs: Any) -> str:
            check_format_widths(fmt)
            return wrapped(*args, **kwargs)

        return checked


class BoundedSandbox(_Bounded, ImmutableSandboxedEnvironment):
    """The immutable sandbox of field templates, with memory bombs refused."""


class BoundedFileSandbox(_Bounded, SandboxedEnvironment):
    """The sandbox of whole ``.toml.j2`` files: may mutate its own locals
    (``{% set _ = xs.append(1) %}``), never ``vars``; memory bombs refused."""


def make_environment() -> ImmutableSandboxedEnvironment:
    """The one Jinja environment flavour zenoo-etl uses for field templates."""
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    harden(env)
    return env


_ENV = make_environment()


def has_template_syntax(text: str) -> bool:
    return any(marker in text for marker in _SYNTAX)


# --- native values ---------------------------------------------------------------------------


def to_native(value: Any) -> FieldValue:
    """Normalise an expression result to a ``FieldValue``; empty means False."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None:
        return False
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value) if value != "" else False
    if isinstance(value, Ref | XmlidRef | SearchRef):
        return value
    if isinstance(value, list | tuple):
        return [_inner(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return _date_text(value)
    raise RenderError(f"the expression produced a {type(value).__name__}, not a field value")


def _date_text(value: dt.date | dt.time) -> str:
    """Odoo's text for a date, datetime (``YYYY-MM-DD HH:MM:SS``) or time."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def _inner(value: Any) -> FieldValue:
    if value is None:
        return None
    return to_native(value)


Context = dict[str, Any]
Renderer = Callable[[Mapping[str, Any], Context], FieldValue]


def _wrap(fn: Callable[[Context], Any], source: str) -> Renderer:
    def render(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        try:
            return to_native(fn(ctx))
        except RenderError:
            raise
        except MissingColumn as exc:
            raise RenderError(f"no column '{exc.column}' in this row", column=exc.column) from None
        except SecurityError as exc:
            raise RenderError(f"template {source!r} is refused by the sandbox: {exc}") from None
        except TemplateError as exc:
            raise RenderError(f"template {source!r} failed: {exc}") from None
        except Exception as exc:  # user expressions can raise anything (1/0, int('x'))
            raise RenderError(f"template {source!r} failed: {type(exc).__name__}: {exc}") from None

    return render


def compile_text(text: str) -> Renderer:
    """Compile one string spec: literal, ``{{ row.col }}`` fast path, expression, or text."""
    if not has_template_syntax(text):
        literal: FieldValue = text if text != "" else False

        def constant(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return literal

        return constant

    fast = _ROW_ATTR.match(text)
    if fast:
        column = fast.group("attr") or fast.group("item") or ""

        def lookup(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            try:
                value = cells[column]
            except KeyError:
                raise RenderError(f"no column '{column}' in this row", column=column) from None
            if value is None or value == "":
                return False
            if isinstance(value, str):
                return value
            return to_native(value)

        return lookup

    try:
        lone = _LONE_EXPR.match(text)
        if lone:
            expr_source = lone.group("expr").strip().removeprefix("-").removesuffix("-").strip()
            expression = _ENV.compile_expression(expr_source, undefined_to_none=False)
            slow = _wrap(_expression_runner(expression._template), text)
        else:
            slow = _wrap(_text_runner(_ENV.from_string(text)), text)
    except TemplateSyntaxError as exc:
        raise SpecError(f"Jinja syntax error in {text!r}: {exc.message}") from None
    quick = compile_fast(_ENV, text, lone=lone is not None)
    return slow if quick is None else _fast_then_jinja(quick, slow)


def _fast_then_jinja(fast: FastFn, slow: Renderer) -> Renderer:
    """Render with the plain-Python closure; any failure is re-rendered by Jinja,
    so errors read exactly as Jinja words them."""

    def render(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        try:
            value = fast(cells, ctx)
        except Exception:
            return slow(cells, ctx)
        return to_native(value)

    return render


# Jinja's Template.render / TemplateExpression.__call__ rebuild the context from
# a ChainMap of globals on every call, which was 60% of planning time. These
# runners flatten the globals once per template and build the per-row context
# directly (what jinja2.runtime.new_context does, minus the ChainMap walk).


def _context_factory(template: Template) -> Callable[[Context], JinjaContext]:
    env = template.environment
    base = dict(template.globals)
    name, blocks, context_class = template.name, template.blocks, env.context_class

    def make(ctx: Context) -> JinjaContext:
        parent = base.copy()
        parent.update(ctx)
        return context_class(env, parent, name, blocks, globals=base)

    return make


def _expression_runner(template: Template) -> Callable[[Context], Any]:
    make, root = _context_factory(template), template.root_render_func

    def run(ctx: Context) -> Any:
        context = make(ctx)
        for _ in root(context):
            pass
        return context.vars["result"]

    return run


def _text_runner(template: Template) -> Callable[[Context], Any]:
    make, root = _context_factory(template), template.root_render_func
    concat = template.environment.concat

    def run(ctx: Context) -> Any:
        return concat(root(make(ctx)))

    return run


def _as_key(value: FieldValue, what: str) -> str:
    if value is False or value is None:
        raise RenderError(f"the {what} renders empty")
    if isinstance(value, bool | int | float | str):
        return str(value)
    raise RenderError(f"the {what} must render to text, got {type(value).__name__}")


def compile_value(spec: Any, path: str) -> Renderer:
    """Compile a field spec from TOML (string, number, bool, date, reference, list)."""
    if isinstance(spec, str):
        return compile_text(spec)
    if isinstance(spec, bool | int | float):
        native: FieldValue = spec

        def constant(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return native

        return constant
    if isinstance(spec, dt.date | dt.time):
        return compile_value(_date_text(spec), path)
    if isinstance(spec, list):
        parts = [compile_value(item, f"{path}[{i}]") for i, item in enumerate(spec)]

        def many(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return [part(cells, ctx) for part in parts]

        return many
    if isinstance(spec, dict):
        return _compile_reference(spec, path)
    raise SpecError(f"'{path}' has an unsupported value of type {type(spec).__name__}", path)


def _compile_reference(spec: dict[str, Any], path: str) -> Renderer:
    keys = set(spec)
    if "ref" in keys:
        if keys - {"ref", "key"} or "key" not in keys:
            raise SpecError(f'\'{path}\': a step reference is {{ ref = "STEP", key = "..." }}')
        step = spec["ref"]
        if not isinstance(step, str) or not step:
            raise SpecError(f"'{path}': 'ref' must name a step id")
        key_r = compile_value(spec["key"], f"{path}.key")

        def ref(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return Ref(step, _as_key(key_r(cells, ctx), f"key of the reference in '{path}'"))

        return ref
    if "xmlid" in keys:
        if keys != {"xmlid"} or not isinstance(spec["xmlid"], str):
            raise SpecError(f"'{path}': an external id reference is {{ xmlid = \"module.name\" }}")
        xmlid_r = compile_text(spec["xmlid"])

        def xmlid(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            value = _as_key(xmlid_r(cells, ctx), f"xmlid in '{path}'")
            if "." not in value:
                raise RenderError(f"'{path}': external id {value!r} is not 'module.name'")
            return XmlidRef(value)

        return xmlid
    if "search" in keys:
        model = spec.get("model")
        if keys != {"search", "model"} or not isinstance(model, str) or not model:
            raise SpecError(
                f"'{path}': a search reference is {{ search = [[...]], model = \"res.country\" }}"
            )
        if not isinstance(spec["search"], list):
            raise SpecError(f"'{path}': 'search' must be a domain (a list)")
        for term in spec["search"]:
            if term not in ("&", "|", "!") and not (
                isinstance(term, list) and len(term) == 3 and isinstance(term[0], str)
            ):
                raise SpecError(
                    f"'{path}': search term {term!r} is not [field, operator, value]; write "
                    'search = [["code", "=", "..."]] (a list of lists)'
                )
        domain_r = compile_domain(spec["search"], f"{path}.search")

        def search(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return SearchRef(model, domain_r(cells, ctx))

        return search
    raise SpecError(
        f"'{path}' is a table but not a reference; use {{ ref, key }}, {{ xmlid }} "
        "or { search, model }, or quote the value as a string"
    )


def compile_domain(spec: list[Any], path: str) -> Callable[[Mapping[str, Any], Context], list[Any]]:
    """Compile a domain (or args list): strings with template syntax are rendered."""

    def build(node: Any, where: str) -> Callable[[Mapping[str, Any], Context], Any]:
        if isinstance(node, list):
            kids = [build(item, f"{where}[{i}]") for i, item in enumerate(node)]
            return lambda cells, ctx: [kid(cells, ctx) for kid in kids]
        if isinstance(node, dict):
            items = {k: build(v, f"{where}.{k}") for k, v in node.items()}
            return lambda cells, ctx: {k: v(cells, ctx) for k, v in items.items()}
        if isinstance(node, str) and has_template_syntax(node):
            return compile_text(node)
        if isinstance(node, dt.date | dt.time):
            text = _date_text(node)
            return lambda cells, ctx: text
        return lambda cells, ctx: node

    root: Callable[[Mapping[str, Any], Context], list[Any]] = build(spec, path)
    return root


def collect_refs(spec: Any) -> list[str]:
    """Step ids named by ``{ ref = ... }`` anywhere inside a field spec."""
    found: list[str] = []
    if isinstance(spec, dict):
        if isinstance(spec.get("ref"), str):
            found.append(spec["ref"])
    elif isinstance(spec, list):
        for item in spec:
            found.extend(collect_refs(item))
    return found


def row_context(cells: Mapping[str, Any], base: Context) -> Context:
    """The Jinja context for one row: ``row`` plus the step-wide ``vars``/``target``."""
    ctx = dict(base)
    ctx["row"] = RowView(cells)
    return ctx


__all__ = [
    "BoundedFileSandbox",
    "BoundedSandbox",
    "MissingColumn",
    "RenderError",
    "Renderer",
    "RowView",
    "SpecError",
    "bounded_binop",
    "check_format_widths",
    "collect_refs",
    "compile_domain",
    "compile_text",
    "compile_value",
    "harden",
    "has_template_syntax",
    "make_environment",
    "row_context",
    "to_native",
]
