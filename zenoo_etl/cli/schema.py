"""``zenoo-etl schema pull``: record the target's schema into the project.

The file (``schema/odoo.json`` by default, meant to be committed) holds, for
the models the project's migrations touch, their relational neighbours,
custom ``x_`` models and the ``--model`` ones, what the sandbox needs to
serve them as the target does (see :mod:`zenoo_etl.sandbox.pull`). A project
with that file rehearses on a sandbox twin of its own server: ``apply`` on a
``sandbox:`` target, ``validate`` and ``zenoo-etl sandbox --schema FILE`` use
it. Records go into it only for the models named with ``--with-data``;
secrets never do.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import click

from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, run
from zenoo_etl.compiler import load_project
from zenoo_etl.compiler.connect import login, open_client
from zenoo_etl.compiler.validate import models_used
from zenoo_etl.sandbox.snapshot import PROJECT_SCHEMA

DEFAULT_OUTPUT = PROJECT_SCHEMA


async def _pull(
    env: CommandEnv, models: tuple[str, ...], with_data: tuple[str, ...], output: Path | None
) -> dict[str, Any]:
    from zenoo_etl.sandbox.pull import pull_schema

    project = load_project(env.project, env.target, env.vars)
    target = project.target
    runner = project.config.runner
    wanted = [*models_used(project), *models]
    async with AsyncExitStack() as stack:
        # a fresh sandbox database for a sandbox target: the schema is what is read
        client = await open_client(stack, target, runner, fresh_sandbox=True)
        version = await client.version()
        await login(client, project)
        info = dict(client.server_version_info or version)
        if "server_serie" not in info:  # GET /web/version (19.0): version, version_info
            major, minor = client.server_version or (0, 0)
            info = {
                "protocol_version": 1,
                "server_serie": f"{major}.{minor}",
                "server_version": str(info.get("version") or f"{major}.{minor}"),
                "server_version_info": info.get("version_info")
                or [major, minor, 0, "final", 0, ""],
            }
        bundle = await pull_schema(client, info, wanted, with_data)
    path = output if output is not None else project.root / DEFAULT_OUTPUT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return {
        "file": str(path),
        "version": bundle["common_version"].get("server_serie"),
        "models": len(bundle["schema"]),
        "records": {m: len(r["records"]) for m, r in bundle["reference"].items()},
    }


@click.group("schema")
def schema_group() -> None:
    """Record the target's Odoo schema into the project (for an offline twin)."""


@schema_group.command("pull")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="A model to record besides the ones the migrations use (repeatable).",
)
@click.option(
    "--with-data",
    "with_data",
    multiple=True,
    help="A model whose records to record too, under their external ids (repeatable).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it (default: schema/odoo.json in the project).",
)
@common_options
def pull_command(
    env: CommandEnv, models: tuple[str, ...], with_data: tuple[str, ...], output: Path | None
) -> None:
    """Record the target's schema into schema/odoo.json.

    The models the migrations touch, their relational neighbours and custom x_
    models, with every field (custom x_ fields and the installed modules'
    selection values included), defaults, required fields and SQL constraints.
    A sandbox target then serves them as the real server does, and validate
    checks against them. No business records unless --with-data names the model;
    never passwords, tokens or keys.
    """
    summary = run(env, lambda: _pull(env, models, with_data, output))
    if env.json_output:
        emit_json(summary)
    elif not env.quiet:
        click.echo(
            f"Recorded {summary['models']} model(s) of Odoo {summary['version']} into "
            f"{summary['file']}."
        )


COMMANDS: list[click.Command] = [schema_group]
