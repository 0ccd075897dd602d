"""Options every command shares, and the single place errors become exit codes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from zenoo_etl.cli.completion import complete_targets
from zenoo_etl.errors import EXIT_FAILED, ZenooError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CommandEnv:
    """What the shared options say, handed to every command as ``env``."""

    project: Path
    target: str | None
    vars: dict[str, str] = field(default_factory=dict)
    json_output: bool = False
    debug: bool = False
    quiet: bool = False
    verbose: int = 0
    progress: bool = True
    log_format: str = "text"


def _parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--var")
        parsed[name.strip()] = value
    return parsed


def common_options(func: F) -> F:
    """Add --project/--target/--var and the output options; pass ``env``."""

    options = [
        click.option(
            "--project",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Project folder holding zenoo.toml.",
        ),
        click.option(
            "--target",
            "-t",
            default=None,
            help="Target name from zenoo.toml.",
            shell_complete=complete_targets,
        ),
        click.option("--var", "vars_", multiple=True, metavar="KEY=VALUE", help="Jinja variable."),
        click.option("--json", "json_output", is_flag=True, help="Print one JSON object."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
        click.option("--quiet", "-q", is_flag=True, help="Only errors."),
        click.option("--verbose", "-v", count=True, help="More detail (repeat for more)."),
        click.option("--no-progress", is_flag=True, help="Plain lines, no progress bars."),
        click.option(
            "--log-format",
            type=click.Choice(["text", "json"]),
            default="text",
            help="Format of log lines on stderr.",
        ),
    ]

    def wrapper(**kwargs: Any) -> Any:
        env = CommandEnv(
            project=kwargs.pop("project"),
            target=kwargs.pop("target"),
            vars=_parse_vars(kwargs.pop("vars_")),
            json_output=kwargs.pop("json_output"),
            debug=kwargs.pop("debug"),
            quiet=kwargs.pop("quiet"),
            verbose=kwargs.pop("verbose"),
            progress=not kwargs.pop("no_progress"),
            log_format=kwargs.pop("log_format"),
        )
        _configure_logging(env)
        return func(env=env, **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


class _JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(payload)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is *now*: while a rich progress display runs it
    is rich's proxy, which prints the line above the bars instead of splicing it in."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _not_shown_already(record: logging.LogRecord) -> bool:
    """Drop warnings the progress output already printed as ``Warning: ...``."""
    return not getattr(record, "zenoo_shown", False)


def _configure_logging(env: CommandEnv) -> None:
    level = logging.WARNING
    if env.quiet:
        level = logging.ERROR
    elif env.verbose >= 2 or env.debug:
        level = logging.DEBUG
    elif env.verbose == 1:
        level = logging.INFO
    handler = _StderrHandler()
    if env.log_format == "json":
        handler.setFormatter(_JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_not_shown_already)
    root = logging.getLogger("zenoo_etl")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def output_console() -> Console:
    """The rich console for tables on stdout.

    On a terminal it takes the terminal's width; logs and pipes get
    ``COLUMNS`` when set, else 132 columns, so tables are not squeezed into
    rich's default of 80 there. ``NO_COLOR`` turns colours off.
    """
    wide = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(no_color=bool(os.environ.get("NO_COLOR")), width=None if wide else 132)


def emit_json(payload: Any) -> None:
    """Print the one JSON object a ``--json`` command promises on stdout."""
    click.echo(json.dumps(payload, indent=2, default=str))


def run(env: CommandEnv, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command's coroutine; map errors to one paragraph and an exit code.

    This is the only ``asyncio.run`` of the package.
    """
    try:
        return asyncio.run(make())
    except ZenooError as exc:
        _fail(env, exc, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail(env, None, "Interrupted.", 130)
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise  # click reports these itself (Abort: a prompt got Ctrl-D or Ctrl-C)
    except Exception as exc:  # last line of defence: never a bare traceback
        message = (
            f"Unexpected internal error: {type(exc).__name__}: {exc}. "
            "This is a bug in zenoo-etl; rerun with --debug and report the traceback."
        )
        _fail(env, exc, message, EXIT_FAILED)
    raise AssertionError("unreachable")  # _fail always exits


def _fail(env: CommandEnv, exc: BaseException | None, message: str, code: int) -> NoReturn:
    if env.debug and exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    if env.json_output:
        emit_json({"ok": False, "error": {"message": message, "exit_code": code}})
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


__all__ = ["CommandEnv", "common_options", "emit_json", "output_console", "run"]
