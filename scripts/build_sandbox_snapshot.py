"""Bundle a recorded Odoo schema snapshot into the sandbox's data file.

Reads a snapshot folder in the format of ``/work/shared/odoo-schema/<version>/``
(``models.json``, ``fields/*.json``, ``reference/*.json``, ``version.json``)
and writes ``zenoo_etl/sandbox/data/odoo-<version>.json.gz``: one JSON object
with what the sandbox needs to serve every concrete model and seed the
reference records (see :mod:`zenoo_etl.sandbox.snapshot`). Rerun after a new
recording::

    python scripts/build_sandbox_snapshot.py /work/shared/odoo-schema/18.0
    python scripts/build_sandbox_snapshot.py /work/shared/odoo-schema/19.0
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "zenoo_etl" / "sandbox" / "data"

_MODEL_KEYS = (
    "name", "transient", "abstract", "order", "rec_name", "rec_names_search", "inherits",
    "parent_name", "parent_store", "active_name", "table", "modules", "state", "log_access",
    "sql_constraints",
)  # fmt: skip
_ORM_KEYS = (
    "store", "compute", "related", "comodel", "relation", "column1", "column2", "inherited",
    "default", "translate", "company_dependent", "inverse_name", "precompute",
)  # fmt: skip
_SCHEMA_KEYS = ("fields", "field_order", "defaults", "defaults_refs", "required_how")


def build(folder: Path) -> dict[str, Any]:
    version = json.loads((folder / "version.json").read_text())
    models_json = json.loads((folder / "models.json").read_text())
    models = {
        name: {k: info.get(k) for k in _MODEL_KEYS} for name, info in sorted(models_json.items())
    }
    schema: dict[str, Any] = {}
    for path in sorted((folder / "fields").glob("*.json")):
        for name, info in json.loads(path.read_text()).items():
            entry = {k: info.get(k) for k in _SCHEMA_KEYS}
            entry["orm"] = {
                f: {k: v for k, v in facts.items() if k in _ORM_KEYS}
                for f, facts in (info.get("orm") or {}).items()
            }
            entry["field_meta"] = {
                f: {k: meta[k] for k in ("on_delete", "relation_table", "column1", "column2")
                    if k in meta}
                for f, meta in (info.get("field_meta") or {}).items()
            }  # fmt: skip
            entry["constraints"] = [
                {k: c.get(k) for k in ("name", "type", "definition", "message")}
                for c in info.get("constraints") or []
            ]
            entry["default_get_needs_ids"] = info.get("default_get_call") == "ids"
            schema[name] = entry
    reference: dict[str, Any] = {}
    for path in sorted((folder / "reference").glob("*.json")):
        if path.name.startswith("_"):
            continue
        data = json.loads(path.read_text())
        if data.get("access_error") or data["model"] not in schema:
            continue
        reference[data["model"]] = {"records": data["records"]}
    return {
        "format": 1,
        "common_version": version["common_version"],
        "user_context": version.get("user_context"),
        "installed_modules": sorted(version.get("installed_modules") or {}),
        "models": models,
        "schema": schema,
        "reference": reference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a recorded snapshot folder (<...>/18.0)")
    args = parser.parse_args()
    bundle = build(args.folder)
    serie = bundle["common_version"]["server_serie"]
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"odoo-{serie}.json.gz"
    raw = json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()
    target.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{target}: {len(bundle['schema'])} models, {len(raw) / 1e6:.1f} MB raw, "
          f"{target.stat().st_size / 1e6:.2f} MB gzip")  # fmt: skip


if __name__ == "__main__":
    main()
