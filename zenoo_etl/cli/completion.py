"""Shell completion: the ``completion`` command and the callbacks for targets and versions.

click completes command and option names by itself (``_ZENOO_ETL_COMPLETE``);
this module adds values: ``--target`` offers the target names of the
project's ``zenoo.toml``, and :func:`complete_versions` offers the migration
versions of its migrations folder (for ``--to`` and ``history --version``).
Both read the project named by ``--project`` earlier on the line, else the
current folder. They run on every Tab press, so they read only the config
file and the folder listing (no templates, no ledger, no network) and never
raise: any problem means no suggestions rather than a traceback in the shell.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from zenoo_etl.compiler.discover import NAME_RE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROG = "zenoo-etl"
COMPLETE_VAR = "_ZENOO_ETL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def _project_root(ctx: click.Context) -> Path:
    project = ctx.params.get("project")
    return Path(project) if project else Path(".")


def _config(ctx: click.Context) -> dict[str, Any]:
    with (_project_root(ctx) / "zenoo.toml").open("rb") as handle:
        return tomllib.load(handle)


def _targets(ctx: click.Context) -> list[str]:
    targets = _config(ctx).get("targets", {})
    return [str(name) for name in targets] if isinstance(targets, dict) else []


def complete_targets(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Target names of the project's zenoo.toml that start with ``incomplete``."""
    try:
        return [CompletionItem(name) for name in _targets(ctx) if name.startswith(incomplete)]
    except Exception:  # a half-written zenoo.toml must not break the user's shell
        return []


def _versions(ctx: click.Context) -> list[tuple[int, str]]:
    project = _config(ctx).get("project", {})
    folder = project.get("migrations", "migrations") if isinstance(project, dict) else None
    if not isinstance(folder, str):
        return []
    found: list[tuple[int, str]] = []
    for entry in (_project_root(ctx) / folder).iterdir():
        match = NAME_RE.match(entry.name)
        if match and entry.is_file():
            found.append((int(match["version"]), match["slug"]))
    return sorted(found)


def complete_versions(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Migration versions of the project (``rollback`` also gets ``0``: undo all).

    Offered as plain numbers with the migration's name as help; a typed
    ``00`` prefix matches too (``0003`` and ``3`` are the same version).
    """
    try:
        versions = _versions(ctx)
        if ctx.command.name == "rollback":
            versions.insert(0, (0, "before every migration"))
        typed = incomplete.lstrip("0")
        return [
            CompletionItem(str(version), help=slug)
            for version, slug in versions
            if str(version).startswith(typed) or (not typed and version == 0)
        ]
    except Exception:  # no project here, or a broken one: no suggestions
        return []


def completion_source(root: click.Command, shell: str) -> str:
    """The activation script click generates for ``shell``."""
    cls = get_completion_class(shell)
    if cls is None:  # click knows bash, zsh and fish; the Choice keeps us to those
        raise click.BadParameter(f"unsupported shell {shell!r}", param_hint="SHELL")
    return cls(root, {}, PROG, COMPLETE_VAR).source()


def _default_shell() -> str | None:
    name = Path(os.environ.get("SHELL", "")).name
    return name if name in SHELLS else None


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), required=False)
@click.pass_context
def completion(ctx: click.Context, shell: str | None) -> None:
    """Print the shell completion script for bash, zsh or fish (default: from $SHELL).

    \b
    It completes commands, options, --target names from zenoo.toml and
    migration versions. To enable it, add one line to your shell's startup file:
      bash (~/.bashrc):  eval "$(zenoo-etl completion bash)"
      zsh  (~/.zshrc):   eval "$(zenoo-etl completion zsh)"
      fish:  zenoo-etl completion fish > ~/.config/fish/completions/zenoo-etl.fish
    Bash needs version 4.4 or newer.
    """
    chosen = shell or _default_shell()
    if chosen is None:
        raise click.UsageError("Name the shell: `zenoo-etl completion bash|zsh|fish`.")
    click.echo(completion_source(ctx.find_root().command, chosen))


COMMANDS: list[click.Command] = [completion]

__all__ = [
    "COMMANDS",
    "COMPLETE_VAR",
    "complete_targets",
    "complete_versions",
    "completion_source",
]
