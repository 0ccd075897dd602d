"""The ``zenoo-etl`` command line: a thin click layer over the library.

Each verb lives in a module of this package that exposes ``COMMANDS``; this
module only builds the group. Shared options and error mapping are in
:mod:`zenoo_etl.cli.common`.
"""

from __future__ import annotations

import importlib

import click

from zenoo_etl import __version__

# Modules holding commands; each exposes ``COMMANDS: list[click.Command]``.
_COMMAND_MODULES = (
    "sandbox",
    "schema",
    "project",
    "plan",
    "apply",
    "state",
    "ledger",
    "completion",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zenoo-etl")
def main() -> None:
    """Declarative, versioned, fast and reversible data migrations for Odoo.

    Typical flow: `zenoo-etl plan` to see what would change, `zenoo-etl apply`
    to do it, `zenoo-etl rollback` to undo it. Every command takes
    --project, --target and --var after its name.
    """


for _name in _COMMAND_MODULES:
    _module = importlib.import_module(f"zenoo_etl.cli.{_name}")
    for _command in _module.COMMANDS:
        main.add_command(_command)
