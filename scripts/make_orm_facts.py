"""Regenerate ``zenoo_etl/compiler/orm_facts.json`` from the Odoo schema snapshots.

``fields_get`` marks many fields ``required`` that a ``create()`` never has to
supply: the ORM computes them, creates the ``_inherits`` parent from the same
values, or fills a one2many afterwards. ``validate`` must not report those as
missing. The snapshots (recorded from real Odoo 18.0 and 19.0, see
``odoo-schema/README.md``) classify every required field of every concrete
model (``required_how``); this script keeps only what ``validate`` needs:

    {"18.0": {model: {field: how}}, "19.0": {...}}

for every required field some part of Odoo fills (``compute``, ``inherits``,
``x2many``, ``default``, ``parent:<how>`` of those), plus the few
``caller`` fields whose model's ``create()`` fills them (fact 2 of the README).

    python scripts/make_orm_facts.py /path/to/odoo-schema
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "zenoo_etl" / "compiler" / "orm_facts.json"
VERSIONS = ("18.0", "19.0")
FILLED = {"compute", "inherits", "x2many", "default"}
# `caller` in the snapshots, but the model's create() (or a mixin's) fills them.
CREATE_FILLS = {
    "hr.employee": ["resource_id"],
    "res.company": ["partner_id"],
    "stock.warehouse": ["lot_stock_id", "view_location_id"],
    "crm.team": ["alias_model_id"],
    "project.project": ["alias_model_id"],
}


def facts(folder: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for path in sorted((folder / "fields").glob("*.json")):
        for model, info in json.loads(path.read_text("utf-8")).items():
            for name, how in sorted((info.get("required_how") or {}).items()):
                if how.split(":")[-1] in FILLED:
                    out.setdefault(model, {})[name] = how
    for model, names in CREATE_FILLS.items():
        for name in names:
            out.setdefault(model, {})[name] = "create"
    return dict(sorted(out.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    data = {version: facts(root / version) for version in VERSIONS}
    lines = []
    for version, models in data.items():
        rows = [f"  {json.dumps(m)}: {json.dumps(f, sort_keys=True)}" for m, f in models.items()]
        lines.append(f" {json.dumps(version)}: {{\n" + ",\n".join(rows) + "\n }")
    # One model per line: small, and a regenerated file diffs readably.
    OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
