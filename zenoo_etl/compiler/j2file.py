"""Whole-file rendering of ``.toml.j2`` migrations (before TOML parsing).

A ``.toml.j2`` file is rendered once with ``vars``, ``target`` and
``env(NAME)``, but the per-row field templates inside it must reach the TOML
parser untouched. :func:`protect_row_templates` wraps, in ``{% raw %}``,
every ``{{ ... }}`` and every ``{% if/for/with ... %}...{% end... %}``
region that uses the ``row`` variable, editing the original text in place so
line numbers (which error messages quote) do not move. Explicit
``{% raw %}`` blocks keep working.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError

from zenoo_etl.compiler.render import BoundedFileSandbox, RenderError, harden

_TEMPLATE_NAME = "<zenoo-file>"


_FILE_ENV = BoundedFileSandbox(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)
harden(_FILE_ENV)

_PIECE = re.compile(
    r"(?P<raw>\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})"
    r"|(?P<comment>\{#.*?#\})"
    r"|(?P<var>\{\{.*?\}\})"
    r"|(?P<tag>\{%-?\s*(?P<name>\w+)(?P<args>.*?)-?%\})",
    re.DOTALL,
)
_OPENERS = {"if", "for", "with", "filter", "macro", "call", "block", "autoescape"}


def _mentions_row(snippet: str) -> bool:
    """Whether a Jinja snippet uses the variable ``row`` (not an attribute ``x.row``)."""
    try:
        tokens = list(_FILE_ENV.lex(snippet))
    except TemplateSyntaxError:
        return False
    previous = ""
    for _, kind, value in tokens:
        if kind == "name" and value == "row" and previous != ".":
            return True
        if kind != "whitespace":
            previous = value
    return False


def _opens(name: str, args: str) -> bool:
    # ``{% set x %}...{% endset %}`` is a block; ``{% set x = 1 %}`` is not.
    return name in _OPENERS or (name == "set" and "=" not in args)


def protect_row_templates(text: str) -> str:
    """``text`` with its per-row Jinja wrapped in ``{% raw %}`` (same line numbers)."""
    spans: list[tuple[int, int]] = []
    region_start: int | None = None
    region_ok = True
    depth = 0
    for match in _PIECE.finditer(text):
        kind = match.lastgroup
        if region_start is not None:
            if kind == "raw":
                region_ok = False  # raw cannot nest: leave the region to the user
            elif kind == "tag":
                name, args = match.group("name"), match.group("args")
                if _opens(name, args):
                    depth += 1
                elif name.startswith("end") and _opens(name[3:], ""):
                    depth -= 1
                    if depth == 0:
                        if region_ok:
                            spans.append((region_start, match.end()))
                        region_start = None
            continue
        if kind == "var" and _mentions_row(match.group(0)):
            spans.append((match.start(), match.end()))
        elif (
            kind == "tag"
            and _opens(match.group("name"), match.group("args"))
            and _mentions_row(match.group(0))
        ):
            region_start, region_ok, depth = match.start(), True, 1
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in spans:
        piece = text[start:end]
        # Keep the piece's own whitespace control working at file level.
        opening = "{%- raw %}" if piece.startswith(("{{-", "{%-")) else "{% raw %}"
        closing = "{% endraw -%}" if piece.endswith(("-}}", "-%}")) else "{% endraw %}"
        out.append(text[last:start])
        out.append(f"{opening}{piece}{closing}")
        last = end
    out.append(text[last:])
    return "".join(out)


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_file(
    text: str,
    *,
    vars: Mapping[str, Any],
    target: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> str:
    """Render a whole ``.toml.j2`` file; errors are ``RenderError`` with ``line:`` prefix.

    ``env(NAME)`` reads an environment variable; a missing one is an error
    unless a default is given (``env('X', 'fallback')``).
    """
    source_env = os.environ if environ is None else environ
    missing = object()

    def env(name: str, default: Any = missing) -> Any:
        value = source_env.get(name)
        if value is None:
            if default is missing:
                raise RenderError(f"environment variable {name} is not set")
            return default
        return value

    try:
        code = _FILE_ENV.compile(protect_row_templates(text), name=None, filename=_TEMPLATE_NAME)
        template = _FILE_ENV.template_class.from_code(
            _FILE_ENV, code, _FILE_ENV.make_globals(None), None
        )
        return template.render(vars=dict(vars), target=dict(target), env=env)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{exc.lineno}: Jinja syntax error: {exc.message}") from exc
    except RenderError as exc:
        line = _template_line(exc.__traceback__)
        raise RenderError(f"{line}: {exc.detail}" if line else exc.detail) from exc
    except Exception as exc:  # a user's template can raise anything; report it with its line
        line = _template_line(exc.__traceback__)
        detail = str(exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
        if "'row' is undefined" in detail:
            detail += (
                "; a per-row {% ... %} statement in a .toml.j2 file must be wrapped in "
                "{% raw %}...{% endraw %} so it survives the whole-file render"
            )
        raise RenderError(f"{line}: {detail}" if line else detail) from exc


__all__ = ["protect_row_templates", "render_file"]
