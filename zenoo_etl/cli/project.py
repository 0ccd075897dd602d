"""``zenoo-etl init`` and ``zenoo-etl new``: thin over :mod:`zenoo_etl.compiler.scaffold`."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, run
from zenoo_etl.compiler.scaffold import init_project, new_migration


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Project name (default: the folder's name).")
@common_options
def init_command(env: CommandEnv, directory: Path | None, name: str | None) -> None:
    """Scaffold a project: zenoo.toml, migrations/0001_example.toml, data/."""
    folder = directory if directory is not None else env.project

    async def go() -> list[Path]:
        return init_project(folder, name)

    written = run(env, go)
    if env.json_output:
        emit_json({"ok": True, "files": [str(p) for p in written]})
    elif not env.quiet:
        for path in written:
            click.echo(f"created {path}")
        click.echo(f"Next: {_next_command(folder)} to see what the example migration would do.")


def _next_command(folder: Path) -> str:
    """``zenoo-etl plan``, after ``cd FOLDER`` when the project is not the current folder."""
    try:
        here = folder.resolve() == Path.cwd().resolve()
    except OSError:
        here = False
    if here:
        return "`zenoo-etl plan`"
    return f"`cd {shlex.quote(str(folder))} && zenoo-etl plan`"


@click.command("new")
@click.argument("slug")
@click.option("--description", default=None, help="The migration's description line.")
@common_options
def new_command(env: CommandEnv, slug: str, description: str | None) -> None:
    """Create the next-numbered migration file, e.g. `zenoo-etl new fix_prices`."""

    async def go() -> Path:
        return new_migration(env.project, slug, description)

    path = run(env, go)
    if env.json_output:
        emit_json({"ok": True, "file": str(path)})
    elif not env.quiet:
        click.echo(f"created {path}")


COMMANDS: list[click.Command] = [init_command, new_command]
