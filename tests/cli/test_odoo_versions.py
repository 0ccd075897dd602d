"""One project, two Odoo versions: ``version`` on a target, ``target.version`` in templates."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client import ZenooClient
from zenoo_etl.compiler.config import SANDBOX_VERSIONS
from zenoo_etl.sandbox import VERSIONS, serve_sandbox

TAGS = """\
[[steps]]
id = "tags"
model = "res.partner.category"
action = "create"
key = "{{ row.name }}"
records = [{ name = "Retail" }]

[steps.fields]
name = "{{ row.name }} {{ vars.suffix[target.version] }} {{ target.major }}"
"""

VARS = '[vars.suffix]\n"18.0" = "eighteen"\n"19.0" = "nineteen"\n'


def _project(root: Path, target: str) -> Path:
    (root / "zenoo.toml").write_text(f'[project]\nname = "v"\n\n{VARS}\n{target}')
    (root / "migrations").mkdir()
    (root / "migrations" / "0001_tags.toml").write_text(TAGS)
    return root


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_config_knows_the_sandbox_versions() -> None:
    assert SANDBOX_VERSIONS == VERSIONS


async def test_a_sandbox_target_serves_its_version_and_templates_see_it(tmp_path: Path) -> None:
    target = (
        '[targets.local]\nurl = "sandbox:.zenoo/s19.db"\ndatabase = "etl"\n'
        'username = "admin"\npassword = "admin"\nversion = "19.0"\n'
    )
    root = _project(tmp_path, target)
    args = ("apply", "--project", str(root), "--yes", "--json")
    code, out, err = await asyncio.to_thread(_invoke, *args)
    assert code == 0, err
    assert json.loads(out)["migrations"][0]["status"] == "applied"
    async with (
        serve_sandbox(db_path=root / ".zenoo" / "s19.db", version="19.0") as sb,
        ZenooClient(url=sb.url) as client,
    ):
        await client.login(sb.database, sb.username, sb.password)
        assert client.server_version == (19, 0)
        names = await client.search_read("res.partner.category", [], ["name"])
    assert "Retail nineteen 19" in [n["name"] for n in names]


async def test_a_server_of_another_version_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZT_PW", "admin")
    async with serve_sandbox(version="18.0") as sb:
        target = (
            f'[targets.remote]\nurl = "{sb.url}"\ndatabase = "etl"\n'
            'username = "admin"\npassword_env = "ZT_PW"\nversion = "19.0"\n'
        )
        root = _project(tmp_path, target)
        code, _out, err = await asyncio.to_thread(_invoke, "apply", "--project", str(root), "--yes")
    assert code == 2
    assert err.strip() == (
        f"Error: zenoo.toml: target 'remote' declares version = \"19.0\", but the server at "
        f"{sb.url} runs Odoo 18.0; fix the version (the migrations are rendered for it) "
        "or pick another target."
    )


def test_a_template_using_an_undeclared_version_says_where_to_declare_it(tmp_path: Path) -> None:
    target = (
        '[targets.remote]\nurl = "https://erp.example.com"\ndatabase = "prod"\n'
        'username = "bot"\napi_key_env = "ZT_NOT_NEEDED"\n'
    )
    root = _project(tmp_path, target)
    code, _out, err = _invoke("plan", "--project", str(root))
    assert code == 2
    assert (
        "field 'name': target.version is used, but target 'remote' has no version; add "
        'version = "18.0" (the Odoo version its server runs) to [targets.remote] in zenoo.toml'
    ) in err


def test_a_sandbox_version_it_cannot_serve_is_a_config_error(tmp_path: Path) -> None:
    target = (
        '[targets.local]\nurl = "sandbox:.zenoo/s.db"\ndatabase = "etl"\n'
        'username = "admin"\npassword = "admin"\nversion = "17.0"\n'
    )
    root = _project(tmp_path, target)
    code, _out, err = _invoke("validate", "--project", str(root))
    assert code == 2
    assert "zenoo.toml:" in err and "the sandbox serves version 18.0 or 19.0, not '17.0'" in err


ROOT = Path(__file__).resolve().parents[2]


def _example_for(dest: Path, version: str) -> Path:
    """The bundled example project, unchanged but for its sandbox target's version."""
    dest.mkdir()
    config = (ROOT / "zenoo.toml").read_text("utf-8")
    local = 'password = "admin"'
    assert local in config
    config = config.replace(local, f'{local}\nversion = "{version}"', 1)
    (dest / "zenoo.toml").write_text(config, "utf-8")
    shutil.copytree(ROOT / "migrations", dest / "migrations")
    shutil.copytree(ROOT / "data", dest / "data")
    return dest


async def _orders(db: Path, version: str) -> tuple[int, int]:
    """The example's sale orders and their lines, read back over HTTP by another client."""
    async with serve_sandbox(db_path=db, version=version) as sb, ZenooClient(url=sb.url) as c:
        await c.login(sb.database, sb.username, sb.password)
        legacy = [["client_order_ref", "=like", "SO-LEG-%"]]
        orders = await c.search_count("sale.order", legacy)
        lines = await c.search_count(
            "sale.order.line", [["order_id.client_order_ref", "=like", "SO-LEG-%"]]
        )
        return orders, lines


@pytest.mark.parametrize("version", ["18.0", "19.0"])
def test_the_example_project_runs_unchanged_on_both_versions(tmp_path: Path, version: str) -> None:
    """validate, apply and roll back the bundled example on a sandbox of each version."""
    root = _example_for(tmp_path / "example", version)
    code, out, err = _invoke("validate", "--project", str(root), "--json")
    assert code == 0, out + err
    code, out, err = _invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["ok"] and all(m["status"] == "applied" for m in payload["migrations"])
    families = payload["migrations"][0]["steps"][0]
    assert families["created"] == 4  # 19.0's own "Services" root is not adopted
    orders = payload["migrations"][9]["steps"][0]
    assert (orders["id"], orders["created"], orders["lines"]) == ("sale-orders", 30, 95)
    db = root / ".zenoo" / "sandbox.db"
    assert asyncio.run(_orders(db, version)) == (30, 95)
    code, out, err = _invoke("apply", "--project", str(root), "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["migrations"] == []  # a rerun is a no-op
    code, out, err = _invoke("rollback", "--project", str(root), "--to", "0", "--yes", "--json")
    assert code == 0, err
    assert [m["version"] for m in json.loads(out)["migrations"]] == list(range(10, 0, -1))
    assert asyncio.run(_orders(db, version)) == (0, 0)


def test_validate_on_a_19_sandbox_reports_a_field_19_removed(tmp_path: Path) -> None:
    root = _example_for(tmp_path / "example", "19.0")
    products = root / "migrations" / "0004_products.toml"
    products.write_text(
        products.read_text("utf-8") + 'uom_po_id = { xmlid = "uom.product_uom_unit" }\n'
    )
    code, out, _err = _invoke("validate", "--project", str(root))
    assert code == 2
    assert (
        "step 'products', field 'uom_po_id': model 'product.template' has no field "
        "'uom_po_id' (did you mean 'uom_id'?)"
    ) in out
