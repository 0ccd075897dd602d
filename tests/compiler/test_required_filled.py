"""`validate` does not report required fields Odoo fills itself (issue 14).

Real Odoo 18's ``product.template.default_get`` must be called as
``default_get([], fields)`` over RPC; the plain call raises ``TypeError``. The
exchange below was recorded from a real Odoo 18 server (tests/compiler/wire/).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.client import ZenooClient
from zenoo_etl.client.testing import Recording, ReplayTransport
from zenoo_etl.compiler import load_project
from zenoo_etl.compiler.schema import _default_get, load_schema, mark_filled, orm_facts
from zenoo_etl.compiler.validate import validate_project
from zenoo_etl.errors import ConfigError
from zenoo_etl.sandbox import serve_sandbox

MakeProject = Callable[..., Path]
WIRE = Path(__file__).parent / "wire"
CLIENT_WIRE = Path(__file__).parents[1] / "client" / "wire" / "18.0"
NAMES = ["name", "type", "service_tracking", "categ_id", "uom_id", "uom_po_id",
         "product_variant_ids"]  # fmt: skip


async def test_default_get_is_retried_with_ids_after_a_type_error() -> None:
    """The TypeError of real Odoo 18 leads to ``default_get([], fields)``, not to 'no defaults'."""
    plain = Recording.from_file(WIRE / "odoo18_product_template_default_get_plain_typeerror.json")
    with_ids = Recording.from_file(WIRE / "odoo18_product_template_default_get_with_ids.json")
    transport = ReplayTransport.only(
        Recording.from_file(CLIENT_WIRE / "a01_common_version.json"),
        Recording.from_file(CLIENT_WIRE / "a04_common_authenticate_good.json"),
        plain,
        with_ids,
    )
    async with ZenooClient(
        url="http://127.0.0.1:8069", protocol="jsonrpc", web_session=False, transport=transport
    ) as client:
        await client.login("etl", "admin", "admin")
        defaults = await _default_get(client, "product.template", NAMES)
    assert defaults == {"type": "consu", "service_tracking": "no", "categ_id": 1, "uom_id": 1}
    assert transport.used[-2:] == [plain.name, with_ids.name]


async def test_a_failing_default_get_is_reported_not_read_as_no_defaults() -> None:
    async with serve_sandbox() as sb, ZenooClient(url=sb.url) as client:
        await client.login(sb.database, sb.username, sb.password)
        with pytest.raises(ConfigError) as info:
            await _default_get(client, "x.no.such.model", ["name"])
    message = str(info.value)
    assert message.startswith("validate: reading the defaults of x.no.such.model (default_get)")
    assert "would be reported as missing" in message


def test_required_fields_the_orm_fills_are_marked() -> None:
    """One2many, stored computed fields and the recorded facts are 'filled'; the rest not."""
    fields = {
        "product_variant_ids": {"type": "one2many", "required": True, "depends": []},
        "uom_po_id": {"type": "many2one", "required": True, "depends": ["uom_id"]},
        "service_tracking": {"type": "selection", "required": True, "depends": ["type"]},
        "name": {"type": "char", "required": True, "depends": []},
        "description": {"type": "text", "required": False, "depends": []},
    }
    mark_filled("product.template", fields, "18.0")
    assert {n: a.get("filled") for n, a in fields.items()} == {
        "product_variant_ids": "x2many",
        "uom_po_id": "compute",
        "service_tracking": "default",  # recorded: default_get gives "no"
        "name": None,
        "description": None,
    }
    employee = {"resource_id": {"type": "many2one", "required": True, "depends": []}}
    mark_filled("hr.employee", employee, "19.0")
    assert employee["resource_id"]["filled"] == "create"


def test_the_shipped_facts_cover_both_versions() -> None:
    facts = orm_facts()
    assert set(facts) == {"18.0", "19.0"}
    assert facts["18.0"]["product.product"]["product_tmpl_id"] == "inherits"
    assert facts["19.0"]["product.template"]["product_variant_ids"] == "x2many"
    assert "uom_po_id" in facts["18.0"]["product.template"]
    assert "uom_po_id" not in facts["19.0"]["product.template"]
    # only fields something fills: never a field the caller has to give
    assert all(
        how.split(":")[-1] in {"compute", "inherits", "x2many", "default", "create"}
        for models in facts.values()
        for fields in models.values()
        for how in fields.values()
    )


PRODUCTS = """\
[[steps]]
id = "products"
model = "product.template"
action = "create"
records = [{ code = "P1" }]

[steps.fields]
name = "Widget {{ row.code }}"
default_code = "{{ row.code }}"
"""


def config_for(url: str) -> str:
    return (
        '[project]\nname = "t"\n\n[targets.remote]\n'
        f'url = "{url}"\ndatabase = "etl"\nusername = "admin"\npassword_env = "ZT_SANDBOX_PW"\n'
    )


async def test_validate_over_http_reports_no_filled_required_field(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create giving only the name validates against a server (no false alarm)."""
    monkeypatch.setenv("ZT_SANDBOX_PW", "admin")
    async with serve_sandbox() as sb:
        root = make_project({"migrations/0001_p.toml": PRODUCTS}, config=config_for(sb.url))
        schema = await load_schema(load_project(root), refresh=True)
        template = schema["product.template"]
        assert template is not None
        args = ["validate", "--project", str(root), "--refresh", "--json"]
        result = await asyncio.to_thread(CliRunner().invoke, main, args)
    required = sorted(n for n, a in template.items() if a.get("required"))
    assert len(required) > 1, "the sandbox marks product.template fields required"
    filled = [n for n in required if template[n].get("has_default") or template[n].get("filled")]
    assert sorted(set(required) - set(filled)) == ["name"]
    assert validate_project(load_project(root), schema) == []
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == []
