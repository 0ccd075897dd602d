"""mkdocs hook: generate the CLI reference from the click commands themselves.

``docs/reference/cli.md`` holds, between the markers ``<!-- cli-reference -->``
and ``<!-- /cli-reference -->``, one section for the options every command
shares, then one section per ``zenoo-etl`` command, walked from
:data:`zenoo_etl.cli.main`. The text is committed, so the page reads whole
outside mkdocs (on GitHub, in an editor); the build regenerates it, and
``tests/docs/test_build.py`` fails when the committed copy is stale.
Regenerate with ``python docs/hooks.py``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import click

MARKER = "<!-- cli-reference -->"
END_MARKER = "<!-- /cli-reference -->"
CLI_PAGE = Path(__file__).resolve().parent / "reference" / "cli.md"


def _cell(text: str) -> str:
    """Help text as one table cell: markdown specials escaped outside code spans.

    Python-Markdown tables leave pipes inside code spans alone; outside them a
    pipe would split the cell and ``__x__`` would turn bold.
    """
    return _escape(text.replace("\n", " "), ("\\", "|", "_", "*"))


def _escape(text: str, chars: tuple[str, ...] = ("\\", "_", "*")) -> str:
    """Escape ``chars`` outside code spans, so help text renders literally."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        for char in chars:
            parts[i] = parts[i].replace(char, "\\" + char)
    return "`".join(parts)


def _help(text: str | None) -> str:
    # click's "\b" marks a paragraph it must not rewrap; markdown has no use for it.
    return inspect.cleandoc(text or "").replace("\b\n", "").strip()


def _default(param: click.Option, ctx: click.Context) -> str:
    if param.is_flag or param.count or param.multiple:
        return ""
    value = param.get_default(ctx, call=False)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != "":
        return f"`{value}`"
    if value is not None and type(value).__name__ in ("PosixPath", "WindowsPath", "Path"):
        return f"`{value}`"
    return ""


def _shared_option_names() -> set[str]:
    """Options that ``common_options`` adds to every command."""
    from zenoo_etl.cli.common import common_options

    probe = click.command()(common_options(lambda env: None))
    return {p.name for p in probe.params if p.name is not None}


def _option_table(options: list[click.Option], ctx: click.Context) -> list[str]:
    rows = ["| option | description | default |", "|---|---|---|"]
    for param in options:
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names = record[0]
        help_text = _help(param.help)
        if isinstance(param.type, click.Choice):
            help_text = f"{help_text} One of: {', '.join(map(str, param.type.choices))}."
        rows.append(f"| `{names}` | {_cell(help_text)} | {_default(param, ctx)} |")
    return rows


def _is_help(param: click.Option, ctx: click.Context) -> bool:
    # click names its help option differently across versions; compare flags instead.
    return set(param.opts) & set(ctx.help_option_names) != set()


def _options(command: click.Command, ctx: click.Context, shared: set[str]) -> list[click.Option]:
    return [
        p
        for p in command.get_params(ctx)
        if isinstance(p, click.Option) and p.name not in shared and not _is_help(p, ctx)
    ]


def _command_section(
    name: str, command: click.Command, parent: click.Context, shared: set[str]
) -> str:
    ctx = click.Context(command, info_name=name, parent=parent)
    parts = [f"## `{ctx.command_path}`", ""]
    help_text = _help(command.help)
    if help_text:
        parts += [_escape(help_text), ""]
    parts += ["```text", command.get_usage(ctx).strip(), "```", ""]
    arguments = [p for p in command.get_params(ctx) if isinstance(p, click.Argument)]
    if arguments:
        parts += ["Arguments:", ""]
        for arg in arguments:
            parts.append(
                f"- `{arg.human_readable_name}` ({'required' if arg.required else 'optional'})"
            )
        parts.append("")
    options = _options(command, ctx, shared)
    if options:
        parts += [*_option_table(options, ctx), ""]
    common = sorted(shared & {p.name for p in command.params if p.name})
    if common:
        parts += ["Also takes the [common options](#common-options).", ""]
    return "\n".join(parts)


def render_cli_reference() -> str:
    """Markdown for the shared options and every command of the group, sorted by name."""
    from zenoo_etl.cli import main

    root = click.Context(main, info_name="zenoo-etl")
    shared = _shared_option_names()
    commands = sorted(main.commands.items())
    if not commands:
        return "_No commands are registered yet._\n"
    sections: list[str] = []
    first_with_shared = next(
        (c for _, c in commands if shared & {p.name for p in c.params if p.name}), None
    )
    if first_with_shared is not None:
        ctx = click.Context(first_with_shared, info_name="command", parent=root)
        shared_params = [
            p
            for p in first_with_shared.get_params(ctx)
            if isinstance(p, click.Option) and p.name in shared
        ]
        sections.append(
            "\n".join(
                [
                    "## Common options",
                    "",
                    "Commands that say so take these after their name "
                    "(`zenoo-etl plan --target prod`); every command takes `-h` / `--help`.",
                    "",
                    *_option_table(shared_params, ctx),
                    "",
                ]
            )
        )
    for name, command in commands:
        sections.append(_command_section(name, command, root, shared))
        if isinstance(command, click.Group):  # e.g. `zenoo-etl ledger adopt`
            group_ctx = click.Context(command, info_name=name, parent=root)
            for sub_name, sub in sorted(command.commands.items()):
                sections.append(_command_section(sub_name, sub, group_ctx, shared))
    return "\n".join(sections)


def with_reference(markdown: str) -> str:
    """``markdown`` with the text between the markers replaced by a fresh reference."""
    head, found, rest = markdown.partition(MARKER)
    if not found:
        return markdown
    _, ended, tail = rest.partition(END_MARKER)
    body = render_cli_reference().strip()
    return f"{head}{MARKER}\n\n{body}\n\n{END_MARKER}{tail if ended else chr(10)}"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: regenerate the reference on the CLI page (the site needs no markers)."""
    if MARKER not in markdown:
        return markdown
    return with_reference(markdown).replace(MARKER, "").replace(END_MARKER, "")


if __name__ == "__main__":  # python docs/hooks.py: rewrite the committed reference
    sys.path.insert(0, str(CLI_PAGE.parents[2]))
    CLI_PAGE.write_text(with_reference(CLI_PAGE.read_text("utf-8")), "utf-8")
    print(f"wrote {CLI_PAGE}")
