"""mkdocs hook: generate the CLI reference from the click commands themselves.

``docs/reference/cli.md`` holds the marker ``<!-- cli-reference -->``; at
build time it is replaced by one section per ``zenoo-etl`` command, walked from
:data:`zenoo_etl.cli.main`, so the reference can never drift from the code.
"""

from __future__ import annotations

from typing import Any

import click

MARKER = "<!-- cli-reference -->"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _option_rows(command: click.Command, ctx: click.Context) -> list[str]:
    rows = ["| option | description | default |", "|---|---|---|"]
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, _ = record
        help_text = param.help or ""
        if isinstance(param.type, click.Choice):
            help_text = f"{help_text} One of: {', '.join(map(str, param.type.choices))}."
        default = ""
        if param.show_default or (param.default not in (None, False, (), "") and not param.is_flag):
            default = "" if param.default is None else f"`{param.default}`"
        rows.append(f"| `{_escape(names)}` | {_escape(help_text.strip())} | {default} |")
    return rows


def _arguments(command: click.Command, ctx: click.Context) -> list[str]:
    lines = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            required = "required" if param.required else "optional"
            lines.append(f"- `{param.human_readable_name}` ({required})")
    return lines


def _command_section(name: str, command: click.Command, parent: click.Context) -> str:
    ctx = click.Context(command, info_name=name, parent=parent)
    parts = [f"## `zenoo-etl {name}`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        parts += [help_text.replace("\b\n", ""), ""]
    parts += ["```text", command.get_usage(ctx).strip(), "```", ""]
    arguments = _arguments(command, ctx)
    if arguments:
        parts += ["Arguments:", "", *arguments, ""]
    parts += [*_option_rows(command, ctx), ""]
    return "\n".join(parts)


def render_cli_reference() -> str:
    """Markdown for every command of the ``zenoo-etl`` group, sorted by name."""
    from zenoo_etl.cli import main

    root = click.Context(main, info_name="zenoo-etl")
    sections = [_command_section(n, c, root) for n, c in sorted(main.commands.items())]
    if not sections:
        return "_No commands are registered yet._\n"
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: expand the marker on the CLI reference page."""
    if MARKER in markdown:
        return markdown.replace(MARKER, render_cli_reference())
    return markdown
