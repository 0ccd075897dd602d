"""An Odoo target as a source: records of an "old" sandbox migrated into the new one, paged,
with many2one as [id, name] and x2many as ids; rerun no-op, rollback to nothing."""

from __future__ import annotations

import textwrap

import pytest

from zenoo_etl.compiler import compile_plan, iter_rows, load_project
from zenoo_etl.errors import MigrationFileError
from zenoo_etl.runner import apply, rollback

from .helpers import ProjectFiles, looking_at, table

CONFIG = """\
[project]
name = "odoo-to-odoo"

[targets.local]
url = "sandbox:.zenoo/new.db"
database = "etl"
username = "admin"
password = "admin"

[targets.old]
url = "sandbox:.zenoo/old.db"
database = "etl"
username = "admin"
password = "admin"

[ledger]
url = "sqlite:///.zenoo/ledger.db"
"""


def _write(project_files: ProjectFiles, migration: str) -> None:
    root = project_files.root
    (root / "zenoo.toml").write_text(CONFIG, "utf-8")
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "0001_old_partners.toml").write_text(textwrap.dedent(migration), "utf-8")


SIMPLE = """\
description = "partners of the old database"

[[steps]]
id = "old-partners"
model = "res.partner"
action = "create"
key = "{{ row.id }}"

[steps.source]
odoo = "old"
model = "res.partner"
domain = [["ref", "=like", "OLD-%"]]
fields = ["name", "ref", "country_id", "category_id", "is_company"]
page_size = 2

[steps.fields]
name = "{{ row.name }}"
ref = "NEW-{{ row.ref[4:] }}"
is_company = "{{ row.is_company }}"
comment = "{{ row.country_id[1] if row.country_id else 'no country' }}; \
{{ row.category_id | length }} tag(s)"
"""


async def _seed_old(project_files: ProjectFiles) -> None:
    db = project_files.root / ".zenoo" / "old.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    async with looking_at(db) as client:
        be = (await client.search("res.country", [["code", "=", "BE"]]))[0]
        tag = await client.create("res.partner.category", {"name": "Old VIP"})
        await client.create(
            "res.partner",
            [
                {"name": "Old One", "ref": "OLD-1", "country_id": be, "category_id": [tag]},
                {"name": "Old Two", "ref": "OLD-2", "is_company": True},
                {"name": "Old Three", "ref": "OLD-3", "country_id": be},
                {"name": "Not migrated", "ref": "KEEP-1"},
                {"name": "Old Four", "ref": "OLD-4"},
                {"name": "Old Five", "ref": "OLD-5"},
            ],
        )


async def test_records_of_another_odoo_are_migrated_paged(project_files: ProjectFiles) -> None:
    _write(project_files, SIMPLE)
    await _seed_old(project_files)
    project = load_project(project_files.root)
    migration = project.migrations[0]
    rows = list(iter_rows(project, migration, migration.steps[0]))
    assert [r.values["ref"] for r in rows] == [f"NEW-{i}" for i in range(1, 6)]
    assert rows[0].values["comment"] == "Belgium; 1 tag(s)"
    assert rows[1].values["comment"] == "no country; 0 tag(s)"
    step = compile_plan(project).migrations[0].steps[0]
    assert step.source == "odoo:old/res.partner" and step.records == 5
    assert step.source_checksum is not None and "not checksummed" in step.source_checksum

    new_db = project_files.root / ".zenoo" / "new.db"
    async with looking_at(new_db) as client:
        before = await table(client, "res.partner", ["name"])
    result = await apply(load_project(project_files.root))
    assert result.ok and result.migrations[0].steps[0].counts.created == 5
    async with looking_at(new_db) as client:
        made = await table(
            client, "res.partner", ["ref", "is_company"], [["ref", "=like", "NEW-%"]]
        )
    assert {m["ref"]: m["is_company"] for m in made}["NEW-2"] is True
    again = await apply(load_project(project_files.root))
    assert again.migrations == []
    await rollback(load_project(project_files.root), to_version=0)
    async with looking_at(new_db) as client:
        assert await table(client, "res.partner", ["name"]) == before


def test_an_unknown_target_or_model_is_a_clear_error(project_files: ProjectFiles) -> None:
    _write(project_files, SIMPLE.replace('odoo = "old"', 'odoo = "legacy"'))
    with pytest.raises(MigrationFileError) as caught:
        load_project(project_files.root)
    assert "odoo = 'legacy' names no target" in caught.value.detail
    assert caught.value.step == "old-partners"
    _write(
        project_files, SIMPLE.replace('model = "res.partner"\ndomain', 'model = "x.nope"\ndomain')
    )
    project = load_project(project_files.root)
    with pytest.raises(MigrationFileError) as caught:
        list(iter_rows(project, project.migrations[0], project.migrations[0].steps[0]))
    assert caught.value.path == "odoo:old"
    assert "reading x.nope from target 'old' failed" in caught.value.detail
