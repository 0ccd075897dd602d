"""The documentation site builds with ``mkdocs build --strict`` and stays in sync with the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from zenoo_etl.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_mkdocs_strict_build_succeeds_and_generates_the_cli_reference(tmp_path: Path) -> None:
    """Warnings (broken links, missing pages) fail the build; every command is documented."""
    site = tmp_path / "site"
    result = _build(site)
    assert result.returncode == 0, result.stderr
    assert (site / "index.html").is_file()
    cli_page = (site / "reference" / "cli" / "index.html").read_text("utf-8")
    assert "cli-reference" not in cli_page, "the hook did not expand the marker"
    # Help texts are plain text: "/__sandbox__/faults" must not turn bold.
    assert "<strong>" not in cli_page and "<em>" not in cli_page
    for name, command in main.commands.items():
        assert f"zenoo-etl {name}" in cli_page, f"command {name} missing from the CLI reference"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in cli_page, f"{name} {opt} missing from the CLI reference"
    # The hook ships only as build machinery, never as a page of the site.
    assert not (site / "hooks.py").exists()


def test_every_page_is_in_the_navigation() -> None:
    """A page left out of mkdocs.yml's nav would be unreachable from the menus."""
    nav = (ROOT / "mkdocs.yml").read_text("utf-8")
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.MULTILINE))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == listed


def test_every_option_the_pages_mention_exists() -> None:
    """A flag named anywhere in the user docs is a real option of some zenoo-etl command."""
    known = {"--help", "--version", "--strict"}  # --strict: `mkdocs build --strict`
    commands = list(main.commands.values())
    while commands:  # groups (zenoo-etl schema pull ...) too
        command = commands.pop()
        commands.extend(getattr(command, "commands", {}).values())
        for param in command.params:
            known.update(getattr(param, "opts", []))
            known.update(getattr(param, "secondary_opts", []))
    for page in (ROOT / "docs").rglob("*.md"):
        if page.parent.name == "dev":
            continue  # developer notes may discuss other tools' flags
        mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", page.read_text("utf-8")))
        unknown = sorted(mentioned - known)
        assert not unknown, f"{page.relative_to(ROOT)} mentions unknown option(s) {unknown}"


def test_the_committed_cli_reference_is_current() -> None:
    """docs/reference/cli.md reads whole outside mkdocs, and says what the commands do now."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    page = (ROOT / "docs" / "reference" / "cli.md").read_text("utf-8")
    assert "## `zenoo-etl apply`" in page
    assert page == hooks.with_reference(page), (
        "docs/reference/cli.md is stale: run 'python docs/hooks.py' and commit the result"
    )
