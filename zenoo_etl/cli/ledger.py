"""``zenoo-etl ledger ...``: look after the ledger itself.

``adopt`` records existing records that the pending create steps would
overwrite (their external ids, or their ``match`` fields, exist on the
target while the ledger knows nothing of them) as the migration's own,
writing nothing to Odoo; ``apply`` then finishes the migration.
"""

from __future__ import annotations

import click

from zenoo_etl import api
from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, run


@click.group("ledger")
def ledger() -> None:
    """Manage the ledger: adopt existing records, copy a history to another ledger."""


@ledger.command("adopt")
@click.option("--to", "to_version", type=int, default=None, help="Only migrations up to V.")
@common_options
def adopt(env: CommandEnv, to_version: int | None) -> None:
    """Record existing records the pending create steps would overwrite as theirs,
    without writing anything to Odoo (after a lost or new ledger)."""
    adopted = run(
        env,
        lambda: api.adopt(env.project, target=env.target, vars=env.vars, to_version=to_version),
    )
    if env.json_output:
        emit_json(
            {
                "ok": True,
                "adopted": [{"file": f, "step": s, "records": n} for f, s, n in adopted],
            }
        )
        return
    if env.quiet:
        return
    if not adopted:
        click.echo("Nothing to adopt: no pending create step's records exist on the target.")
        return
    for file, step, count in adopted:
        click.echo(f"{file} step '{step}': adopted {count} existing record(s)")
    click.echo("Run 'zenoo-etl apply' to finish these migrations (adopted rows are skipped).")


@ledger.command("copy")
@click.option(
    "--to",
    "to_url",
    required=True,
    metavar="URL",
    help="The ledger to copy into: sqlite:///path or postgresql://user@host/db.",
)
@common_options
def copy(env: CommandEnv, to_url: str) -> None:
    """Copy the target's whole history (migrations, events, records) into another ledger,
    e.g. from the SQLite file to PostgreSQL; then point [ledger] url at it."""
    copied = run(
        env, lambda: api.copy_ledger(env.project, to_url, target=env.target, vars=env.vars)
    )
    if env.json_output:
        emit_json({"ok": True, **copied})
        return
    if not env.quiet:
        click.echo(
            f"Copied {copied['migrations']} migration(s), {copied['events']} event(s) and "
            f"{copied['records']} record(s) of target '{copied['target']}' to "
            f"{copied['to']}. Point [ledger] url (or ZENOO_LEDGER_URL) at it to use it."
        )


COMMANDS: list[click.Command] = [ledger]
