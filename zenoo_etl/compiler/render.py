"""Jinja for field templates: compiled once per step, rendered per row to native values.

Security rule: row data is never evaluated. Templates come from migration
files only; they are compiled once per step in an ``ImmutableSandboxedEnvironment``
with ``StrictUndefined`` and rendered per row with ``row``, ``vars`` and
``target`` in scope. Native values come from evaluating a lone ``{{ expr }}``
as an expression (``compile_expression``), never from ``literal_eval`` of
rendered text, so a CSV cell ``{{ 7*7 }}`` or ``[1, 2]`` stays a string.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from zenoo_etl.compiler.fastpath import (
    CodeGen,
    FastFn,
    Shape,
    compile_fast,
    template_code,
    template_shape,
)
from zenoo_etl.compiler.sources import resolve_inside
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
    cls = type(value)
    if cls is str:  # most values: what the str branch below does, sooner
        return value if value != "" else False
    if cls is bool or cls is int or cls is float:  # what the bool | int | float branch does
        number: FieldValue = value
        return number
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
            if type(value) is str:  # what _cell_value gives a str
                return value or False
            return _cell_value(value)

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


def _cell_value(value: Any) -> FieldValue:
    """What ``{{ row.col }}`` renders for a cell holding ``value``."""
    if type(value) is str:  # what the two tests below give a str
        return value or False
    if value is None or value == "":
        return False
    if isinstance(value, str):
        return value
    return to_native(value)


def text_code(gen: CodeGen, text: str) -> str | None:
    """A Python expression of ``cells`` and ``ctx`` with the value :func:`compile_text`
    renders for ``text``, or None where its renderer must be called (Jinja).

    The expression may raise where the renderer raises, or where Jinja words the
    error: the caller then renders the row with the renderers themselves.
    """
    if not has_template_syntax(text):
        return gen.name(text if text != "" else False)
    value = gen.temp()
    fast = _ROW_ATTR.match(text)
    if fast:
        column = gen.name(fast.group("attr") or fast.group("item") or "")
        rest = gen.name(_cell_value)
        cell = f"cells[{column}]"
        return f"(({value} or False) if type({value} := {cell}) is str else {rest}({value}))"
    code = template_code(gen, _ENV, text, lone=_LONE_EXPR.match(text) is not None)
    if code is None:
        return None
    native = gen.name(to_native)
    return f"(({value} or False) if type({value} := {code}) is str else {native}({value}))"


def text_shape(text: str, columns: frozenset[str]) -> Shape | None:
    """The :class:`Shape` of what :func:`compile_text` renders for ``text`` on every
    row of a CSV source with ``columns``, or None when it is not proven."""
    if not has_template_syntax(text):
        return Shape("const", text if text != "" else False)
    fast = _ROW_ATTR.match(text)
    if fast:
        column = fast.group("attr") or fast.group("item") or ""
        return Shape("text") if column in columns else None  # a cell: its text, or False
    lone = _LONE_EXPR.match(text) is not None
    shape = template_shape(_ENV, text, lone=lone, columns=columns)
    if shape is None or not lone:
        return shape  # joined parts: a str, so to_native gives it or False
    if shape.kind == "const":
        return Shape("const", to_native(shape.value))
    return shape


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


class SkipRow(Exception):
    """A cell asked for its row to be left out (``missing = "skip-row"``).

    Not a :class:`RenderError`: the row is filtered, not wrong. The caller
    counts it as filtered, like a row whose ``when`` is false.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Missing = str  # "error" | "null" | "skip-row"
MISSING_CHOICES = ("error", "null", "skip-row")
MAX_FILE_BYTES = 10 * 1024 * 1024  # default size limit of a binary field read from a file


def _missing_policy(spec: dict[str, Any], path: str) -> Missing:
    policy = spec.get("missing", "error")
    if policy not in MISSING_CHOICES:
        raise SpecError(
            f'\'{path}\': missing = {policy!r} is not one of "error", "null", "skip-row"'
        )
    return str(policy)


def _when_missing(policy: Missing, why: str) -> FieldValue:
    """What an empty cell becomes under ``policy`` (``error`` raises ``why``)."""
    if policy == "null":
        return False
    if policy == "skip-row":
        raise SkipRow(why)
    raise RenderError(
        f'{why}; add missing = "null" (no value) or missing = "skip-row" to the '
        "reference if empty cells are expected"
    )


def split_cell(value: FieldValue, separator: str) -> list[str]:
    """The non-empty, stripped, de-duplicated items of a multi-valued cell, in order."""
    if value is False or value is None:
        return []
    if isinstance(value, list):
        pieces = [str(v) for v in value if v not in (None, False, "")]
    elif isinstance(value, bool | int | float | str):
        pieces = str(value).split(separator)
    else:
        raise RenderError(f"a multi-valued cell must render to text, got {type(value).__name__}")
    seen: dict[str, None] = {}
    for piece in pieces:
        item = piece.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def compile_value(spec: Any, path: str, *, root: Path | None = None) -> Renderer:
    """Compile a field spec from TOML (string, number, bool, date, reference, list).

    ``root`` is the project folder, needed by ``{ file = ... }`` values.
    """
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
        parts = [compile_value(item, f"{path}[{i}]", root=root) for i, item in enumerate(spec)]

        def many(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return [part(cells, ctx) for part in parts]

        return many
    if isinstance(spec, dict):
        if "file" in spec:
            return _compile_file(spec, path, root)
        return _compile_reference(spec, path)
    raise SpecError(f"'{path}' has an unsupported value of type {type(spec).__name__}", path)


def _check_split(spec: dict[str, Any], path: str) -> str:
    separator = spec.get("split")
    if not isinstance(separator, str) or not separator:
        raise SpecError(f"'{path}': split must be a non-empty separator such as \";\"")
    if "missing" in spec:
        raise SpecError(
            f"'{path}': missing does not apply with split (an empty cell is an empty list)"
        )
    return separator


def _compile_reference(spec: dict[str, Any], path: str) -> Renderer:
    keys = set(spec)
    if "ref" in keys:
        return _compile_step_ref(spec, path)
    if "xmlid" in keys:
        return _compile_xmlid(spec, path)
    if "search" in keys:
        return _compile_search(spec, path)
    raise SpecError(
        f"'{path}' is a table but not a reference; use {{ ref, key }}, {{ xmlid }}, "
        "{ search, model } or { file }, or quote the value as a string"
    )


def _compile_step_ref(spec: dict[str, Any], path: str) -> Renderer:
    keys = set(spec)
    step = spec["ref"]
    if not isinstance(step, str) or not step:
        raise SpecError(f"'{path}': 'ref' must name a step id")
    if "keys" in keys:
        if keys - {"ref", "keys", "split", "missing"} or "key" in keys:
            raise SpecError(
                f'\'{path}\': a list of step references is {{ ref = "STEP", keys = "...", '
                'split = ";" }'
            )
        separator = _check_split(spec, path)
        keys_r = compile_value(spec["keys"], f"{path}.keys")

        def refs(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return [Ref(step, item) for item in split_cell(keys_r(cells, ctx), separator)]

        return refs
    if keys - {"ref", "key", "missing"} or "key" not in keys:
        raise SpecError(
            f'\'{path}\': a step reference is {{ ref = "STEP", key = "..." }} (optionally '
            'with missing = "null" or "skip-row"), or { ref, keys, split } for several'
        )
    finish = step_ref_finisher(spec, path)  # the policy is checked before the key compiles
    key_r = compile_value(spec["key"], f"{path}.key")

    def ref(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        return finish(key_r(cells, ctx))

    return ref


def step_ref_finisher(spec: dict[str, Any], path: str) -> Callable[[FieldValue], FieldValue]:
    """What a ``{ ref, key }`` renders from its rendered key (``spec`` already checked)."""
    step = str(spec["ref"])
    policy = _missing_policy(spec, path)
    what = f"key of the reference in '{path}'"

    def finish(key: FieldValue) -> FieldValue:
        if key is False or key is None:
            return _when_missing(policy, f"the {what} renders empty")
        return Ref(step, _as_key(key, what))

    return finish


def _compile_xmlid(spec: dict[str, Any], path: str) -> Renderer:
    keys = set(spec)
    if not isinstance(spec["xmlid"], str) or keys - {"xmlid", "missing", "split"}:
        raise SpecError(
            f"'{path}': an external id reference is {{ xmlid = \"module.name\" }} (optionally "
            'with missing = "null" or "skip-row", or split = ";" for several)'
        )
    xmlid_r = compile_text(spec["xmlid"])
    if "split" in keys:
        separator = _check_split(spec, path)
        checked = _xmlid_checker(path)

        def xmlids(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            return [checked(item) for item in split_cell(xmlid_r(cells, ctx), separator)]

        return xmlids
    finish = xmlid_finisher(spec, path)

    def xmlid(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        return finish(xmlid_r(cells, ctx))

    return xmlid


def _xmlid_checker(path: str) -> Callable[[str], XmlidRef]:
    def checked(value: str) -> XmlidRef:
        if "." not in value:
            raise RenderError(f"'{path}': external id {value!r} is not 'module.name'")
        return XmlidRef(value)

    return checked


def xmlid_finisher(spec: dict[str, Any], path: str) -> Callable[[FieldValue], FieldValue]:
    """What an ``{ xmlid }`` (without ``split``) renders from its rendered text."""
    policy = _missing_policy(spec, path)
    checked = _xmlid_checker(path)

    def finish(rendered: FieldValue) -> FieldValue:
        if rendered is False or rendered is None:
            return _when_missing(policy, f"the xmlid in '{path}' renders empty")
        return checked(_as_key(rendered, f"xmlid in '{path}'"))

    return finish


def _compile_search(spec: dict[str, Any], path: str) -> Renderer:
    keys = set(spec)
    model = spec.get("model")
    split = "keys" in keys or "split" in keys
    allowed = {"search", "model", "keys", "split"} if split else {"search", "model", "missing"}
    if keys - allowed or not isinstance(model, str) or not model:
        raise SpecError(
            f"'{path}': a search reference is {{ search = [[...]], model = \"res.country\" }} "
            '(optionally with missing = "null" or "skip-row"), or with keys = "..." and '
            'split = ";" to search once per item (the item is {{ key }} in the domain)'
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
    if split:
        if "keys" not in keys:
            raise SpecError(f"'{path}': split needs keys = \"{{{{ row.column }}}}\" to split")
        separator = _check_split(spec, path)
        keys_r = compile_value(spec["keys"], f"{path}.keys")

        def searches(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
            found: list[FieldValue] = []
            for item in split_cell(keys_r(cells, ctx), separator):
                found.append(SearchRef(model, domain_r(cells, {**ctx, "key": item})))
            return found

        return searches
    policy = _missing_policy(spec, path)
    templated = _templated_leaves(spec["search"])

    def search(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        domain = domain_r(cells, ctx)
        if "missing" in spec and any(
            domain[i][2] in (False, None, "") for i in templated if isinstance(domain[i], list)
        ):
            return _when_missing(policy, f"the search in '{path}' has an empty value")
        return SearchRef(model, domain)

    return search


def _templated_leaves(domain: list[Any]) -> list[int]:
    """Positions of the domain terms whose value is a template (for ``missing``)."""
    return [
        i
        for i, term in enumerate(domain)
        if isinstance(term, list)
        and len(term) == 3
        and isinstance(term[2], str)
        and has_template_syntax(term[2])
    ]


def _compile_file(spec: dict[str, Any], path: str, root: Path | None) -> Renderer:
    """``{ file = "images/{{ row.sku }}.jpg" }``: the file's bytes, base64 (binary fields).

    The path is a template relative to the project folder and must stay inside
    it; ``missing`` applies to an empty path and to a file that does not exist;
    ``max_size`` (bytes, default 10 MiB) refuses files Odoo would choke on.
    """
    keys = set(spec)
    if keys - {"file", "missing", "max_size"} or not isinstance(spec["file"], str):
        raise SpecError(
            f"'{path}': a file value is {{ file = \"images/{{{{ row.sku }}}}.jpg\" }} "
            '(optionally with missing = "null" or "skip-row" and max_size = bytes)'
        )
    if root is None:  # pragma: no cover - every caller in the compiler passes the root
        raise SpecError(f"'{path}': file values are only allowed in migration fields")
    limit = spec.get("max_size", MAX_FILE_BYTES)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise SpecError(f"'{path}': max_size must be a positive number of bytes")
    policy = _missing_policy(spec, path)
    name_r = compile_text(spec["file"])
    base = root

    def read(cells: Mapping[str, Any], ctx: Context) -> FieldValue:
        name = name_r(cells, ctx)
        if name is False or name is None:
            return _when_missing(policy, f"the file name in '{path}' renders empty")
        relative = _as_key(name, f"file name in '{path}'")
        try:
            target = resolve_inside(base, relative)
        except ValueError as exc:
            raise RenderError(f"'{path}': {exc}") from None
        try:
            size = target.stat().st_size
            if not target.is_file():
                raise FileNotFoundError(relative)
        except FileNotFoundError:
            return _when_missing(policy, f"file {relative} does not exist")
        except OSError as exc:
            raise RenderError(f"'{path}': cannot read {relative}: {exc.strerror}") from None
        if size > limit:
            raise RenderError(
                f"file {relative} is {size} bytes, over the limit of {limit}; shrink it or "
                "raise max_size"
            )
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise RenderError(f"'{path}': cannot read {relative}: {exc.strerror}") from None
        return base64.b64encode(data).decode("ascii")

    return read


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
    "SkipRow",
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
    "split_cell",
    "to_native",
]
