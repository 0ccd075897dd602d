"""Logging in to a project's target: credentials, the version check, clear refusals.

Used by every command that talks to a target (the runner's session, the schema
fetch of ``validate``). A refused login is a configuration problem (exit 2),
reported with what to check: the variable the secret came from, or the
database names the server offers.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from zenoo_etl.compiler.config import CONFIG_FILE, RunnerConfig, TargetConfig
from zenoo_etl.errors import ConfigError

if TYPE_CHECKING:  # the client is imported by the callers that have one
    from zenoo_etl.client import ZenooClient
    from zenoo_etl.compiler.project import Project


async def open_client(
    stack: AsyncExitStack,
    target: TargetConfig,
    runner: RunnerConfig,
    *,
    fresh_sandbox: bool = False,
    schema_file: Path | None = None,
    concurrency: int = 4,
) -> ZenooClient:
    """A client for ``target`` on ``stack``, not logged in yet.

    A ``sandbox:`` target is served first by the embedded server (imported only
    then): on its database file, or on a new temporary one with
    ``fresh_sandbox``; ``schema_file`` (a pulled schema) decides its version.
    """
    from zenoo_etl.client import ZenooClient

    url = target.url
    if target.is_sandbox:
        from zenoo_etl.sandbox import serve_sandbox
        from zenoo_etl.sandbox.snapshot import pulled_version

        sandbox = await stack.enter_async_context(
            serve_sandbox(
                db_path=None if fresh_sandbox else target.sandbox_db_path,
                database=target.database,
                version=pulled_version(schema_file) if schema_file else target.series or "18.0",
                schema_file=schema_file,
            )
        )
        url = sandbox.url
    return await stack.enter_async_context(
        ZenooClient(
            url=url,
            protocol=target.protocol,
            timeout=runner.timeout,
            retries=runner.retries,
            verify_tls=target.verify_tls,
            ca_bundle=target.ca_bundle_path,
            concurrency=concurrency,
        )
    )


async def login(client: ZenooClient, project: Project) -> int:
    """Log ``client`` in as the project's target; the uid. Raises ``ConfigError`` (exit 2)."""
    from zenoo_etl.client.errors import AuthenticationError, UnknownDatabaseError

    target, name = project.target, project.target_name
    password, api_key = target.credentials()
    try:
        uid = await client.login(target.database, target.username, password, api_key=api_key)
    except UnknownDatabaseError as exc:
        raise ConfigError(
            f"{CONFIG_FILE}: target '{name}': {exc.message}; fix database = "
            f'"{target.database}" in [targets.{name}].'
        ) from exc
    except AuthenticationError as exc:
        raise ConfigError(
            f"{CONFIG_FILE}: target '{name}': {_refused(exc.message, client, project)}"
        ) from exc
    check_series(project, client.server_version)
    return uid


def _refused(what: str, client: ZenooClient, project: Project) -> str:
    target = project.target
    if client.protocol == "json2" or (target.api_key_env and not target.password_env):
        secret = f"the API key in ${target.api_key_env} (api_key_env)"
    elif target.password_env:
        secret = f"the password in ${target.password_env} (password_env)"
    else:
        secret = "the password (password, in the file)"
    return (
        f"{what}. Check {secret}, the login username = {target.username!r} and "
        f"database = {target.database!r}."
    )


def check_series(project: Project, server_version: tuple[int, int] | None) -> None:
    """Refuse a server of another Odoo series than the target's ``version`` declares.

    The migrations were rendered for the declared series (``target.version`` in
    templates), so running them on another one would write the wrong fields.
    """
    target = project.target
    if target.version is None or server_version is None:
        return
    running = f"{server_version[0]}.{server_version[1]}"
    if running != target.version:
        raise ConfigError(
            f"{CONFIG_FILE}: target '{project.target_name}' declares version = "
            f'"{target.version}", but the server at {target.url} runs Odoo {running}; '
            "fix the version (the migrations are rendered for it) or pick another target."
        )


__all__ = ["check_series", "login", "open_client"]
