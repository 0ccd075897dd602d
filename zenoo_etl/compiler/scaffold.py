"""New projects and new migration files (``zenoo-etl init`` / ``zenoo-etl new``).

Both refuse to overwrite anything: scaffolding is the one place a typo in a
path could destroy a user's work.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from zenoo_etl.compiler.config import CONFIG_FILE, load_config
from zenoo_etl.compiler.discover import SLUG_RE, MigrationFile, discover
from zenoo_etl.errors import UsageError

CONFIG_TEMPLATE = """\
[project]
name = "{name}"
id = "{project_id}"                 # in every external id it creates; never change it
migrations = "migrations"

[vars]                              # Jinja variables; --var key=value overrides
company = "My Company"

[targets.local]                     # the first target is the default; --target picks
url = "sandbox:.zenoo/sandbox.db"   # embedded Odoo-compatible server, nothing to install
database = "etl"
username = "admin"
password = "admin"                  # a literal password is allowed only for sandbox targets

# A real server: secrets come from the environment, never from this file.
# [targets.prod]
# url = "https://erp.example.com"
# database = "prod"
# username = "etl-bot"
# api_key_env = "ZENOO_PROD_API_KEY"  # or password_env
# protocol = "auto"                   # auto | jsonrpc | json2

[ledger]
url = "sqlite:///.zenoo/ledger.db"

[runner]
chunk_size = "auto"                   # records per call, tuned while running; a number fixes it
concurrency = "auto"                  # calls in flight, tuned while running; a number fixes it
"""


def new_project_id() -> str:
    """A random project id (``p`` + 10 hex digits): unique without a registry."""
    return "p" + secrets.token_hex(5)


EXAMPLE_MIGRATION = """\
description = "Example: import partners from data/partners.csv"

[[steps]]
id = "example-partners"
model = "res.partner"
action = "create"
source = { csv = "data/partners.csv" }
key = "{{ row.legacy_id }}"

[steps.fields]
name = "{{ row.name | trim }}"
email = "{{ row.email | lower }}"
is_company = "{{ row.kind == 'company' }}"
ref = "LEG-{{ row.legacy_id }}"
country_id = { xmlid = "base.{{ row.country | lower }}" }
"""

EXAMPLE_CSV = """\
legacy_id,name,email,kind,country
1,Acme Corp,INFO@ACME.EXAMPLE,company,US
2,Jane Doe,jane@example.com,person,DE
3,Globex,contact@globex.example,company,FR
"""

NEW_MIGRATION = """\
description = "{description}"

# Edit this step (or add more): it does nothing until it has rows, from
# records = [...] or source = {{ csv = "data/your.csv" }}. Keys, actions and
# templates: docs/reference/migrations.md.
[[steps]]
id = "{slug}"
model = "res.partner"
action = "create"
records = []
key = "{{{{ row.ref }}}}"

[steps.fields]
name = "{{{{ row.name }}}}"
ref = "{{{{ row.ref }}}}"
"""


def init_project(folder: Path, name: str | None = None) -> list[Path]:
    """Scaffold a project in ``folder`` (created if needed); returns the files written."""
    folder = Path(folder)
    files = {
        folder / CONFIG_FILE: CONFIG_TEMPLATE.format(
            name=name or _project_name(folder), project_id=new_project_id()
        ),
        folder / "migrations" / "0001_example.toml": EXAMPLE_MIGRATION,
        folder / "data" / "partners.csv": EXAMPLE_CSV,
    }
    existing = [p for p in files if p.exists()]
    if existing:
        raise UsageError(
            f"{existing[0]} already exists; init never overwrites files. Pick an empty "
            "folder or remove the file first."
        )
    gitignore = folder / ".gitignore"
    written: list[Path] = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    ignored = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    lines = ignored.splitlines()
    if ".zenoo/" not in lines and ".zenoo" not in lines:
        with gitignore.open("a", encoding="utf-8") as handle:
            prefix = "\n" if ignored and not ignored.endswith("\n") else ""
            handle.write(f"{prefix}.zenoo/\n")
        written.append(gitignore)
    return written


def _project_name(folder: Path) -> str:
    name = folder.absolute().name or "zenoo-project"
    return name.replace('"', "")


def _step_id_taken(files: list[MigrationFile], step_id: str) -> bool:
    # A text search, not a load: ``new`` must work while another migration is broken.
    pattern = re.compile(rf"^\s*id\s*=\s*[\"']{re.escape(step_id)}[\"']", re.MULTILINE)
    for item in files:
        try:
            if pattern.search(item.path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


def new_migration(project_dir: Path, slug: str, description: str | None = None) -> Path:
    """Create the next-numbered ``NNNN_<slug>.toml`` in the project's migrations folder."""
    if not SLUG_RE.match(slug):
        raise UsageError(
            f"slug {slug!r} is not valid: use lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. fix_prices)."
        )
    config, _, _ = load_config(Path(project_dir).absolute())
    folder = Path(project_dir) / config.project.migrations
    folder.mkdir(parents=True, exist_ok=True)
    existing = discover(folder)
    version = (existing[-1].version + 1) if existing else 1
    path = folder / f"{version:04d}_{slug}.toml"
    step_id = slug.replace("_", "-")
    if _step_id_taken(existing, step_id):
        step_id = f"{step_id}-{version}"  # step ids are unique across the project
    text = NEW_MIGRATION.format(
        description=(description or slug.replace("_", " ").replace("-", " ")).replace('"', "'"),
        slug=step_id,
    )
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{path} already exists; new never overwrites files.") from None
    return path


__all__ = ["init_project", "new_migration"]
