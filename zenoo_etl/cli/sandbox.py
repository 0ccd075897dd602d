"""``zenoo-etl sandbox``: serve the embedded Odoo-compatible server until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, run
from zenoo_etl.sandbox import VERSIONS, serve_sandbox
from zenoo_etl.sandbox.snapshot import pulled_version


async def _serve(
    env: CommandEnv,
    db_path: Path | None,
    host: str,
    port: int,
    database: str,
    version: str,
    fault_control: bool,
    schema_file: Path | None,
) -> None:
    if schema_file is not None:
        version = pulled_version(schema_file)
    async with serve_sandbox(
        db_path, host, port, database, fault_control, version, schema_file
    ) as sb:
        info = {
            "url": sb.url,
            "database": sb.database,
            "login": sb.username,
            "password": sb.password,
            "api_key": sb.api_key,
            "version": version,
            "db_file": str(db_path) if db_path else None,
            "schema_file": str(schema_file) if schema_file else None,
            "fault_control": f"{sb.url}/__sandbox__/faults" if fault_control else None,
        }
        if env.json_output:
            emit_json(info)
        else:
            click.echo(f"Odoo-compatible sandbox (Odoo {version}) serving at {sb.url}")
            click.echo(
                f"  database: {sb.database}   login: {sb.username}   password: {sb.password}"
            )
            click.echo(f"  admin API key: {sb.api_key}")
            click.echo(f"  data: {db_path if db_path else 'temporary (gone on exit)'}")
            if fault_control:
                click.echo(f"  fault control: POST {sb.url}/__sandbox__/faults")
            click.echo("Press Ctrl-C to stop.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # a clean stop on Ctrl-C / SIGTERM: the server is closed and the data file kept
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    if not env.json_output and not env.quiet:
        click.echo("Sandbox stopped.")


@click.command("sandbox")
@click.option("--port", type=int, default=8069, show_default=True, help="TCP port (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file kept between runs (default: a temporary database).",
)
@click.option("--database", default="etl", show_default=True, help="Database name to serve.")
@click.option(
    "--version",
    "odoo_version",
    type=click.Choice(list(VERSIONS)),
    default="18.0",
    show_default=True,
    help="Odoo version to emulate; 19.0 adds the JSON-2 API.",
)
@click.option(
    "--fault-control",
    is_flag=True,
    help="Accept fault settings on POST /__sandbox__/faults (loopback clients only).",
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A schema pulled from a real server (zenoo-etl schema pull): serve its models "
    "(custom fields included) as that server does; its Odoo version wins over --version.",
)
@common_options
def sandbox(
    env: CommandEnv,
    port: int,
    host: str,
    db_path: Path | None,
    database: str,
    odoo_version: str,
    fault_control: bool,
    schema_file: Path | None,
) -> None:
    """Serve the embedded Odoo-compatible server until Ctrl-C.

    A twin of a fresh Odoo 18.0 or 19.0 with contacts, sales, purchase,
    accounting, inventory, CRM, project and HR: every model of those apps and
    the reference data under the real external ids. It speaks /jsonrpc (and
    JSON-2 with --version 19.0) with user admin/admin; the admin API key is
    printed at start.
    """
    run(
        env,
        lambda: _serve(
            env, db_path, host, port, database, odoo_version, fault_control, schema_file
        ),
    )


COMMANDS: list[click.Command] = [sandbox]
