"""One generated Python function per step that renders all of a row's fields at once.

Rendering field by field calls a renderer per field, and each renderer a few
closures of its own (the fast path, ``to_native``, the reference's checks):
per row that is most of what reading and rendering a CSV costs. For the
specs the fast path covers (literals, ``{{ row.col }}``, whitelisted
templates, ``{ ref, key }`` and ``{ xmlid }`` on those, lists of them),
:func:`compile_row` writes the same computations as straight-line code in one
function; any other spec is a call of its own renderer from that function.

Exactness rule, as in :mod:`.fastpath`: the row function returns exactly the
dict the renderers return, in the same order, or raises. It raises for any
row the renderers would word an error for, skip (``SkipRow``) or render
through Jinja after the fast path gave up; the caller then renders that row
with the renderers (:func:`render_fields`), so every message is theirs. It has
no side effects, so running the renderers after it is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.fastpath import CodeGen, Shape
from zenoo_etl.compiler.render import (
    Context,
    Renderer,
    compile_value,
    step_ref_finisher,
    text_code,
    text_shape,
    xmlid_finisher,
)
from zenoo_etl.compiler.values import FieldValue, Ref, XmlidRef

RowFn = Callable[[Mapping[str, Any], Context], dict[str, FieldValue]]
_CACHED = 4096  # references remembered per field spec


def compile_row(
    fields: Mapping[str, Any], renderers: Mapping[str, Renderer], root: Path | None
) -> RowFn | None:
    """The row function of a step's ``fields`` (their specs as written), or None when
    none of them is simpler than its renderer (calling the renderers is as fast)."""
    gen = CodeGen()
    body: list[str] = []
    out: list[str] = []
    inlined = False
    for name, render in renderers.items():
        code = _value_code(gen, fields[name], name, root)
        if code is None:
            code = _call(gen, render)
        else:
            inlined = True
        var = gen.temp()
        body.append(f"    {var} = {code}\n")
        out.append(f"{name!r}: {var}")
    if not inlined:
        return None
    body.append(f"    return {{{', '.join(out)}}}\n")
    fn: RowFn = gen.compile("cells, ctx", "".join(body), "<zenoo row renderer>")
    return fn


def _call(gen: CodeGen, render: Renderer) -> str:
    """The expression calling a field's own renderer (a spec not written inline)."""
    return f"{gen.name(render, '_r')}(cells, ctx)"


def _value_code(gen: CodeGen, spec: Any, path: str, root: Path | None) -> str | None:
    """The expression of one field spec (as :func:`.render.compile_value` reads it), or
    None where its renderer must be called."""
    if isinstance(spec, str):
        return text_code(gen, spec)
    if isinstance(spec, bool | int | float):
        return gen.name(spec)
    if isinstance(spec, list):
        parts = []
        for i, item in enumerate(spec):
            where = f"{path}[{i}]"
            code = _value_code(gen, item, where, root)
            if code is None:
                code = _call(gen, compile_value(item, where, root=root))
            parts.append(code)
        return f"[{', '.join(parts)}]"
    if isinstance(spec, dict):
        return _reference_code(gen, spec, path, root)
    return None  # dates and anything new: the renderer


def _reference_code(gen: CodeGen, spec: dict[str, Any], path: str, root: Path | None) -> str | None:
    keys = set(spec)
    value = gen.temp()
    if "ref" in keys and not keys - {"ref", "key", "missing"} and "key" in keys:
        # The renderer returns Ref(step, key) for a key rendered as text, else its
        # finisher decides (an empty key: the missing policy; another type: an error).
        key = _value_code(gen, spec["key"], f"{path}.key", root)
        if key is None:
            key = _call(gen, compile_value(spec["key"], f"{path}.key"))
        step = str(spec["ref"])
        cache, made = _made(lambda text: Ref(step, text), step_ref_finisher(spec, path))
    elif "xmlid" in keys and "split" not in keys and isinstance(spec["xmlid"], str):
        key = text_code(gen, spec["xmlid"])
        if key is None:
            return None
        finish = xmlid_finisher(spec, path)
        cache, made = _made(lambda text: XmlidRef(text) if "." in text else finish(text), finish)
    else:
        return None
    hit, miss = gen.name(cache), gen.name(made)
    known = f"type({value} := {key}) is str and {value} in {hit}"
    return f"({hit}[{value}] if {known} else {miss}({value}))"


def _made(
    make: Callable[[str], FieldValue], finish: Callable[[FieldValue], FieldValue]
) -> tuple[dict[str, FieldValue], Callable[[FieldValue], FieldValue]]:
    """A cache of the references made from rendered text (rows repeat the same few
    countries, tags, parents) and the function that fills it: ``make`` for text,
    ``finish`` for anything else. References are frozen values: sharing one is safe."""
    cache: dict[str, FieldValue] = {}

    def made(rendered: FieldValue) -> FieldValue:
        if type(rendered) is not str:
            return finish(rendered)
        ref = make(rendered)
        if len(cache) >= _CACHED:
            cache.clear()  # memory stays flat whatever the number of distinct keys
        cache[rendered] = ref
        return ref

    return cache, made


def csv_shape(spec: Any, columns: frozenset[str], path: str = "") -> Shape | None:
    """The :class:`Shape` of what a field spec renders on every row of a CSV source with
    ``columns`` (as :func:`.render.compile_value` reads it), or None when not proven.

    Proven: literals, cells, the whitelisted templates, ``{ ref, key }`` whose key
    template has literal text (never empty), ``{ xmlid }`` whose template's literal
    text holds the dot (``base.{{ row.country | lower }}``), lists of those.
    """
    if isinstance(spec, str):
        return text_shape(spec, columns)
    if isinstance(spec, bool | int | float):
        return Shape("const", spec)
    if isinstance(spec, list):
        items = [csv_shape(item, columns, f"{path}[{i}]") for i, item in enumerate(spec)]
        if any(item is None for item in items):
            return None
        return Shape("list", items=tuple(item for item in items if item is not None))
    if not isinstance(spec, dict):
        return None
    keys = set(spec)
    if "ref" in keys and not keys - {"ref", "key", "missing"} and "key" in keys:
        key = csv_shape(spec["key"], columns, f"{path}.key")
        if key is not None and key.kind == "text" and key.constant:
            return Shape("ref", step=str(spec["ref"]))
        if key is not None and key.kind == "const":
            return _constant(step_ref_finisher(spec, path), key.value)
        return None
    if "xmlid" in keys and "split" not in keys and isinstance(spec["xmlid"], str):
        text = text_shape(spec["xmlid"], columns)
        if text is not None and text.kind == "text" and "." in text.constant:
            return Shape("xmlid")
        if text is not None and text.kind == "const":
            return _constant(xmlid_finisher(spec, path), text.value)
    return None


def _constant(finish: Callable[[FieldValue], FieldValue], rendered: Any) -> Shape | None:
    """A reference rendered from a constant: the same on every row (unless it raises)."""
    try:
        return Shape("const", finish(rendered))
    except Exception:
        return None


__all__ = ["RowFn", "compile_row", "csv_shape"]
