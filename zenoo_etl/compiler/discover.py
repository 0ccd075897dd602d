"""Finding migration files: ``<version>_<slug>.toml`` / ``.toml.j2``, in numeric order.

Every visible file in the migrations folder must follow the naming rule: a
stray file is more likely a typo (``0003-prices.toml``) than something to
ignore silently. Hidden files (``.gitkeep``) and sub-folders are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zenoo_etl.errors import MigrationFileError

NAME_RE = re.compile(r"^(?P<version>\d+)_(?P<slug>[a-z0-9][a-z0-9_-]*)\.toml(?P<j2>\.j2)?$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class MigrationFile:
    """One discovered file, not yet read."""

    version: int
    slug: str
    path: Path
    templated: bool


def discover(folder: Path) -> list[MigrationFile]:
    """The migration files of ``folder`` in version order; naming problems raise."""
    if not folder.is_dir():
        raise MigrationFileError(
            "the migrations folder does not exist; create it or set [project] migrations "
            "in zenoo.toml",
            path=str(folder),
        )
    found: dict[int, MigrationFile] = {}
    problems: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.is_dir():
            continue
        match = NAME_RE.match(entry.name)
        if not match:
            problems.append(
                f"{entry}: not a migration file name; name it <version>_<slug>.toml or "
                ".toml.j2 (e.g. 0004_fix_prices.toml, slug in lower case letters, digits, _ "
                "or -) or move it out of the migrations folder"
            )
            continue
        item = MigrationFile(
            version=int(match.group("version")),
            slug=match.group("slug"),
            path=entry,
            templated=bool(match.group("j2")),
        )
        other = found.get(item.version)
        if other is not None:
            problems.append(
                f"{other.path} and {entry} both have version {item.version}; renumber one of them"
            )
            continue
        found[item.version] = item
    if problems:
        raise MigrationFileError("; ".join(problems) + ".")
    return [found[v] for v in sorted(found)]


__all__ = ["NAME_RE", "SLUG_RE", "MigrationFile", "discover"]
