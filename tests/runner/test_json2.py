"""The runner over Odoo 19's JSON-2 API (bearer API key) against the sandbox in 19.0 mode."""

from __future__ import annotations

import pytest

from zenoo_etl.client import ZenooClient
from zenoo_etl.runner import apply, rollback
from zenoo_etl.runner.identity import XMLID_MODULE
from zenoo_etl.sandbox import serve_sandbox

from .helpers import (
    CSV,
    MORE,
    PARTNERS,
    PASSWORD_ENV,
    PLAIN_LOGIN,
    PLAIN_PASSWORD,
    TAGS,
    ProjectFiles,
    exactly_once,
    table,
)


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


async def test_a_plain_user_applies_and_rolls_back_over_json2_with_its_own_key(
    project_files: ProjectFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who may neither create nor read ir.model.data (AccessError over JSON-2 too,
    403) applies identity xmlid by load() and rolls back with an API key of its own, as
    on a real Odoo 19 (checked there with the same user rights)."""
    async with serve_sandbox(db_path=project_files.root / "sb.db", version="19.0") as sb:
        async with ZenooClient(url=sb.url) as admin:
            await admin.login(sb.database, sb.username, sb.password)
            vals = {"name": PLAIN_LOGIN, "login": PLAIN_LOGIN, "password": PLAIN_PASSWORD}
            await admin.create("res.users", vals)
        async with ZenooClient(url=sb.url) as plain:
            # the way a user makes a key of its own without the web UI (Odoo 18/19)
            await plain.login(sb.database, PLAIN_LOGIN, PLAIN_PASSWORD)
            description = await plain.execute_kw(
                "res.users.apikeys.description", "create", [{"name": "etl"}], {}
            )
            check = await plain.execute_kw(
                "res.users.apikeys.description", "make_key", [[description]], {}
            )
            shown = await plain.execute_kw(
                "res.users.identitycheck",
                "run_check",
                [[check["res_id"]]],
                {"context": {"password": PLAIN_PASSWORD}},
            )
        monkeypatch.setenv("ZENOO_TEST_API_KEY", str(shown["context"]["default_key"]))
        project_files.url, project_files.username = sb.url, PLAIN_LOGIN
        project_files.write(
            {"0001_tags.toml": TAGS, "0002_partners.toml": PARTNERS}, {"data/partners.csv": CSV}
        )
        config = (project_files.root / "zenoo.toml").read_text()
        config = config.replace(
            f'password_env = "{PASSWORD_ENV}"',
            'api_key_env = "ZENOO_TEST_API_KEY"\nprotocol = "json2"',
        )
        (project_files.root / "zenoo.toml").write_text(config)
        result = await apply(project_files.load())
        assert [m.status for m in result.migrations] == ["applied"] * 2
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, api_key=sb.api_key)
            await exactly_once(client)
            made = await table(client, "res.partner", ["create_uid"], [["ref", "like", "LEG-"]])
            assert {r["create_uid"][1] for r in made} == {PLAIN_LOGIN}
        undone = await rollback(project_files.load(), to_version=0)
        assert len(undone.migrations) == 2
        async with ZenooClient(url=sb.url) as client:
            await client.login(sb.database, api_key=sb.api_key)
            assert await table(client, "res.partner", ["ref"], [["ref", "like", "LEG-"]]) == []
            names = [["module", "=", XMLID_MODULE]]
            assert await table(client, "ir.model.data", ["name"], names) == []
