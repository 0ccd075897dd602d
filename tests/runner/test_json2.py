"""The runner over Odoo 19's JSON-2 API (bearer API key) against the sandbox in 19.0 mode."""

from __future__ import annotations

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.runner import apply, rollback
from zenoo_etl.sandbox import serve_sandbox

from .helpers import CSV, MORE, PARTNERS, PASSWORD_ENV, TAGS, ProjectFiles, exactly_once, table


async def test_apply_and_rollback_over_json2_with_an_api_key(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Odoo 19's JSON-2 API (bearer API key) carries the same runner calls."""
    async with serve_sandbox(db_path=project_files.root / "sb.db", version="19.0") as sb:
        monkeypatch.setenv("ZENOO_TEST_API_KEY", sb.api_key)
        project_files.url = sb.url
        project_files.write(
            {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS, "0003_more.toml": MORE},
            {"data/partners.csv": CSV},
        )
        config = (project_files.root / "zenoo.toml").read_text()
        config = config.replace(
            f'password_env = "{PASSWORD_ENV}"',
            'api_key_env = "ZENOO_TEST_API_KEY"\nprotocol = "json2"',
        )
        (project_files.root / "zenoo.toml").write_text(config)
        result = await apply(project_files.load())
        assert [m.status for m in result.migrations] == ["applied"] * 3
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, api_key=sb.api_key)
            await exactly_once(client)
        undone = await rollback(project_files.load(), to_version=0)
        assert len(undone.migrations) == 3
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, api_key=sb.api_key)
            assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []
