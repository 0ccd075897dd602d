"""``zenoo-etl schema pull``: a project records its target's schema, then rehearses on it.

Round trip: pulled from a sandbox started from the bundled snapshot, the file
reproduces the snapshot's models (every field as ``fields_get`` describes
it, the same required fields the caller must give). Then a custom ``x_``
field (as a user's server has one: here added to the pulled file, the way
the server would report it) validates and applies against the sandbox twin
started from that file, and a value its selection lacks is refused by
validate.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.sandbox import serve_sandbox
from zenoo_etl.sandbox.snapshot import load_snapshot

CONFIG = """\
[project]
name = "twin"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"
"""

CUSTOMERS = """\
description = "Customers with their loyalty tier (a custom field of our Odoo)"

[[steps]]
id = "customers"
model = "res.partner"
action = "create"
source = {{ csv = "data/customers.csv" }}
key = "{{{{ row.ref }}}}"

[steps.fields]
name = "{{{{ row.name }}}}"
ref = "{{{{ row.ref }}}}"
{extra}
"""


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _project(root: Path, extra: str = "", rows: str = "ref,name,tier\nC1,Ann,gold\n") -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "zenoo.toml").write_text(CONFIG)
    (root / "migrations" / "0001_customers.toml").write_text(CUSTOMERS.format(extra=extra))
    (root / "data" / "customers.csv").write_text(rows)
    return root


def test_pull_reproduces_the_snapshot_models(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    code, out, err = _invoke(
        "schema", "pull", "--project", str(root), "--model", "sale.order", "--json"
    )
    assert code == 0, out + err
    summary = json.loads(out)
    pulled = json.loads((root / "schema" / "odoo.json").read_text())
    assert summary["file"] == str(root / "schema" / "odoo.json")
    assert pulled["common_version"]["server_serie"] == "18.0"
    snapshot = load_snapshot("18.0")["schema"]
    # the project's model, the named one and their relational neighbours
    assert {"res.partner", "sale.order", "sale.order.line", "res.country"} <= pulled[
        "schema"
    ].keys()
    for model in ("res.partner", "sale.order", "sale.order.line", "res.country"):
        assert pulled["schema"][model]["fields"] == snapshot[model]["fields"], model
        caller = {
            f for f, how in pulled["schema"][model]["required_how"].items() if how == "caller"
        }
        known = {f for f, how in snapshot[model]["required_how"].items() if how == "caller"}
        assert caller == known, model
    assert pulled["reference"] == {}  # no records unless asked for by model name
    assert "password" not in json.dumps(pulled["reference"])


def _with_custom_field(root: Path) -> None:
    """The pulled file as a server with a custom x_ selection field on res.partner says it."""
    path = root / "schema" / "odoo.json"
    pulled: dict[str, Any] = json.loads(path.read_text())
    partner = pulled["schema"]["res.partner"]
    partner["fields"]["x_loyalty_tier"] = {
        **partner["fields"]["type"],
        "name": "x_loyalty_tier",
        "string": "Loyalty Tier",
        "manual": True,
        "help": False,
        "selection": [["gold", "Gold"], ["silver", "Silver"]],
    }
    partner["fields"]["x_loyalty_tier"].pop("help")
    partner["field_order"].append("x_loyalty_tier")
    partner["orm"]["x_loyalty_tier"] = {"store": True, "type": "selection"}
    path.write_text(json.dumps(pulled, indent=1, sort_keys=True))


def test_custom_field_validates_and_applies_on_the_twin(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", extra='x_loyalty_tier = "{{ row.tier }}"')
    assert _invoke("schema", "pull", "--project", str(root))[0] == 0
    _with_custom_field(root)
    code, out, err = _invoke("validate", "--project", str(root))
    assert code == 0, out + err
    code, out, err = _invoke("apply", "--project", str(root), "--yes")
    assert code == 0, out + err

    async def read_back() -> list[dict[str, Any]]:
        async with serve_sandbox(
            db_path=root / ".zenoo" / "sandbox.db", schema_file=root / "schema" / "odoo.json"
        ) as sb:
            from zenoo_etl.client import ZenooClient

            async with ZenooClient(url=sb.url) as client:
                await client.login("etl", "admin", "admin")
                rows: list[dict[str, Any]] = await client.search_read(
                    "res.partner", [["ref", "=", "C1"]], ["name", "x_loyalty_tier"]
                )
                return rows

    rows = asyncio.run(read_back())
    assert [(r["name"], r["x_loyalty_tier"]) for r in rows] == [("Ann", "gold")]


def test_custom_selection_value_outside_the_pulled_schema_is_refused(tmp_path: Path) -> None:
    root = _project(
        tmp_path / "p",
        extra='x_loyalty_tier = "{{ row.tier }}"',
        rows="ref,name,tier\nC2,Bo,platinum\n",
    )
    assert _invoke("schema", "pull", "--project", str(root))[0] == 0
    _with_custom_field(root)
    code, out, _ = _invoke("validate", "--project", str(root))
    assert code == 2
    assert "x_loyalty_tier" in out and "'platinum'" in out
