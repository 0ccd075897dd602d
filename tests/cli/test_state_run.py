"""cli.common.run, the one place errors become exit codes: a declined prompt is not a bug."""

from __future__ import annotations

import click
from click.testing import CliRunner

from zenoo_etl.cli.common import CommandEnv, common_options, run


@click.command("prompting")
@common_options
def prompting(env: CommandEnv) -> None:
    async def go() -> None:
        # What apply/rollback's confirm does when stdin ends (Ctrl-D) at "Proceed?".
        click.confirm("Proceed?", default=False)

    run(env, go)


def test_end_of_input_at_a_prompt_aborts_instead_of_reporting_an_internal_error() -> None:
    result = CliRunner().invoke(prompting, [], input="")
    assert result.exit_code == 1
    assert "Aborted!" in result.output
    assert "internal error" not in result.output
