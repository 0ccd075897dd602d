"""Find where things are in TOML text, and turn pydantic errors into one paragraph.

TOML parsers do not keep line numbers, so error messages find the line of a
key by searching the file text: first inside the table that holds it, then
anywhere. A wrong guess only costs a slightly less precise message, never a
wrong verdict, so a plain line scan is enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _norm_header(name: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in name.split("."))


def key_line(text: str, table: str | None, key: str | None, occurrence: int = 0) -> int | None:
    """1-based line of ``key`` inside ``[table]`` (its ``occurrence``-th instance).

    With ``key=None`` the line of the table header itself. ``table=None`` means
    the top level (before any header). Falls back to any line defining ``key``.
    """
    lines = text.splitlines()
    current: str | None = None
    seen = -1
    header_line: int | None = None
    key_re = (
        re.compile(rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*[=.]")
        if key is not None
        else None
    )
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            current = _norm_header(header.group(1))
            if current == table:
                seen += 1
                if seen == occurrence:
                    header_line = number
                    if key_re is None:
                        return number
            continue
        if key_re is not None and current == table and seen == occurrence and key_re.match(line):
            return number
        if key_re is not None and table is None and current is None and key_re.match(line):
            return number
    if header_line is not None:
        return header_line
    if key is not None:
        inline = re.compile(rf"(?:^|[{{,\s]){re.escape(key)}\s*=")
        for number, line in enumerate(lines, start=1):
            if inline.search(line):
                return number
    return None


def toml_error_position(message: str) -> tuple[int | None, int | None, str]:
    """Split tomllib's ``... (at line L, column C)`` into (L, C, text)."""
    match = _TOML_POS.search(message)
    if not match:
        return None, None, message
    text = (message[: match.start()] + message[match.end() :]).strip()
    return int(match.group(1)), int(match.group(2)), text


def format_loc(loc: Sequence[int | str]) -> str:
    """``("targets", "prod", "url")`` → ``targets.prod.url``; list indexes in brackets."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def describe_errors(exc: ValidationError, *, allowed: Sequence[str] = ()) -> list[str]:
    """One short sentence per pydantic error, naming the key and the fix."""
    out: list[str] = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        where = format_loc(loc) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
            out.append(f"unknown key '{where}'; remove it or fix its spelling{hint}")
        elif kind == "missing":
            out.append(f"missing required key '{where}'; add it")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            out.append(f"key '{where}': {msg}")
    return out


def last_key(loc: Sequence[int | str]) -> str | None:
    """The last string part of a pydantic location (the key to search for)."""
    for part in reversed(loc):
        if isinstance(part, str) and not part.startswith("function-"):
            return part
    return None


__all__ = ["describe_errors", "format_loc", "key_line", "last_key", "toml_error_position"]
