"""Shell completion: targets and versions offered from a temp project, through click and bash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from zenoo_etl.cli import main
from zenoo_etl.cli.completion import COMPLETE_VAR, complete_versions
from zenoo_etl.compiler.scaffold import init_project, new_migration

BIN = Path(sys.executable).parent
ZENOO = str(BIN / "zenoo-etl")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    init_project(root)
    new_migration(root, "second-step")
    new_migration(root, "third-step")
    config = root / "zenoo.toml"
    config.write_text(
        config.read_text()
        + '\n[targets.staging]\nurl = "https://staging.example.com"\ndatabase = "s"\n'
        'username = "u"\napi_key_env = "X"\n'
        '\n[targets.prod]\nurl = "https://erp.example.com"\ndatabase = "p"\n'
        'username = "u"\napi_key_env = "Y"\n'
    )
    return root


def _complete(args: list[str], incomplete: str) -> list[str]:
    completer = ShellComplete(main, {}, "zenoo-etl", COMPLETE_VAR)
    return [item.value for item in completer.get_completions(args, incomplete)]


def _bash_complete(cwd: Path, words: str) -> list[str]:
    """click's own protocol, as the activation script calls it, in a subprocess."""
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    env[COMPLETE_VAR] = "bash_complete"
    result = subprocess.run(
        [ZENOO], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return [line.partition(",")[2] for line in result.stdout.splitlines() if line]


def test_target_names_come_from_the_projects_zenoo_toml(project: Path, tmp_path: Path) -> None:
    # From the cwd (the project folder) in a real subprocess.
    assert _bash_complete(project, "zenoo-etl status --target ") == ["local", "staging", "prod"]
    assert _bash_complete(project, "zenoo-etl plan -t p") == ["prod"]
    # --project earlier on the line wins over the cwd (which has no project).
    words = f"zenoo-etl apply --project {project} --target s"
    assert _bash_complete(tmp_path, words) == ["staging"]
    assert _complete(["status", "--project", str(project), "--target"], "") == [
        "local",
        "staging",
        "prod",
    ]


def test_versions_are_offered_for_history_and_the_callback_for_to(project: Path) -> None:
    args = ["history", "--project", str(project), "--version"]
    assert _complete(args, "") == ["1", "2", "3"]
    assert _complete(args, "2") == ["2"]
    assert _complete(args, "000") == ["1", "2", "3"]  # 0003 and 3 are the same version
    completer = ShellComplete(main, {}, "zenoo-etl", COMPLETE_VAR)
    helps = [i.help for i in completer.get_completions(args, "")]
    assert helps[1] == "second-step"

    # The callback offered for apply/rollback --to (rollback also offers 0: undo all).
    for name, expected in (("apply", ["1", "2", "3"]), ("rollback", ["0", "1", "2", "3"])):
        command = main.commands[name]
        ctx = click.Context(command, info_name=name)
        ctx.params["project"] = project
        param = next(p for p in command.params if p.name == "to_version")
        assert [i.value for i in complete_versions(ctx, param, "")] == expected


def test_a_missing_or_broken_project_offers_nothing_and_never_raises(
    project: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _bash_complete(empty, "zenoo-etl status --target ") == []
    assert _complete(["history", "--project", str(empty), "--version"], "") == []
    (project / "zenoo.toml").write_text("[targets.local\nurl = ")  # half-written
    assert _complete(["status", "--project", str(project), "--target"], "") == []
    assert _complete(["history", "--project", str(project), "--version"], "") == []
    (project / "zenoo.toml").write_text('[project]\nmigrations = "nowhere"\n[targets]\n')
    assert _complete(["history", "--project", str(project), "--version"], "") == []
    assert _complete(["status", "--project", str(project), "--target"], "") == []


def test_commands_still_complete(project: Path) -> None:
    assert {"apply", "status", "completion"} <= set(_bash_complete(project, "zenoo-etl "))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_activation_script(shell: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert f"{COMPLETE_VAR}={shell}_complete" in result.stdout
    assert "zenoo-etl" in result.stdout


def test_completion_help_says_how_to_install_and_needs_a_shell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    help_text = CliRunner().invoke(main, ["completion", "--help"]).stdout
    assert 'eval "$(zenoo-etl completion bash)"' in help_text
    assert "~/.zshrc" in help_text and "fish" in help_text
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    result = CliRunner().invoke(main, ["completion"])
    assert result.exit_code == 2 and "bash|zsh|fish" in result.stderr
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    assert "zsh_complete" in CliRunner().invoke(main, ["completion"]).stdout


def test_the_bash_script_completes_targets_in_a_real_bash(project: Path) -> None:
    script = (
        'eval "$(zenoo-etl completion bash)"; '
        'COMP_WORDS=(zenoo-etl status --target ""); COMP_CWORD=3; '
        '_zenoo_etl_completion zenoo-etl; echo "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["local", "staging", "prod"]
