"""zenoo.toml: models, unknown keys, secrets, target selection, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenoo_etl.compiler import load_config
from zenoo_etl.compiler.config import Bounds, chunk_bounds, concurrency_bounds
from zenoo_etl.errors import ConfigError

GOOD = """\
[project]
name = "p"

[targets.local]
url = "sandbox:.zenoo/sandbox.db"
database = "etl"
username = "admin"
password = "admin"

[targets.prod]
url = "https://erp.example.com"
database = "prod"
username = "bot"
api_key_env = "ZT_API_KEY"
protocol = "json2"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "zenoo.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_and_first_target_is_default(tmp_path: Path) -> None:
    config, name, target = load_config(write(tmp_path, GOOD), environ={})
    assert name == "local"
    assert target.is_sandbox
    assert target.sandbox_db_path == tmp_path / ".zenoo" / "sandbox.db"
    assert config.project.migrations == "migrations"
    assert config.ledger.url == "sqlite:///.zenoo/ledger.db"
    runner = config.runner
    assert (runner.chunk_size, runner.concurrency, runner.retries, runner.timeout) == (
        "auto",
        "auto",
        5,
        120,
    )
    # tuned while running, from 500 records and 4 calls in flight, within these bounds
    assert chunk_bounds(runner.chunk_size) == Bounds(20, 500, 1000)
    # a step with lines starts smaller: each record brings its lines along
    assert chunk_bounds(runner.chunk_size, lines=True) == Bounds(20, 200, 1000)
    assert concurrency_bounds(runner.concurrency) == Bounds(1, 4, 4)
    assert runner.on_error == "rollback"
    assert runner.context == {
        "tracking_disable": True,
        "mail_create_nolog": True,
        "mail_create_nosubscribe": True,
        "mail_notrack": True,
    }
    assert target.credentials() == ("admin", None)


def test_target_flag_beats_environment_which_beats_first(tmp_path: Path) -> None:
    root = write(tmp_path, GOOD)
    assert load_config(root, environ={"ZENOO_TARGET": "prod"})[1] == "prod"
    assert load_config(root, target="local", environ={"ZENOO_TARGET": "prod"})[1] == "local"


def test_unknown_target_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"target 'staging' .*--target.*local, prod"):
        load_config(write(tmp_path, GOOD), target="staging", environ={})


def test_ledger_url_environment_override(tmp_path: Path) -> None:
    config, _, _ = load_config(
        write(tmp_path, GOOD), environ={"ZENOO_LEDGER_URL": "postgresql://u@h/db"}
    )
    assert config.ledger.url == "postgresql://u@h/db"


def test_unknown_key_names_key_file_and_line(tmp_path: Path) -> None:
    text = GOOD + "\n[runner]\nchunk_size = 10\nconcurency = 3\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    assert "zenoo.toml:" in message
    line = text.splitlines().index("concurency = 3") + 1
    assert f"zenoo.toml:{line}:" in message
    assert "unknown key 'runner.concurency'" in message
    assert "concurrency" in message  # the allowed keys are listed


@pytest.mark.parametrize(
    ("chunk_size", "concurrency", "chunks", "calls"),
    [
        ("500", "2", Bounds(500, 500, 500), Bounds(2, 2, 2)),  # numbers are fixed
        ('"auto"', '"auto"', Bounds(20, 500, 1000), Bounds(1, 4, 4)),
        ("{ min = 50, max = 2000 }", "{ max = 8 }", Bounds(50, 500, 2000), Bounds(1, 4, 8)),
        ("{ max = 100 }", "{ max = 2 }", Bounds(20, 100, 100), Bounds(1, 2, 2)),
        ("{ min = 5, start = 40 }", "{ min = 2, start = 3 }", Bounds(5, 40, 1000), Bounds(2, 3, 4)),
        (
            "{ min = 300, max = 300 }",
            "{ min = 6, max = 6 }",
            Bounds(300, 300, 300),
            Bounds(6, 6, 6),
        ),
    ],
)
def test_chunk_size_and_concurrency_are_auto_fixed_or_bounded(
    tmp_path: Path, chunk_size: str, concurrency: str, chunks: Bounds, calls: Bounds
) -> None:
    text = GOOD + f"\n[runner]\nchunk_size = {chunk_size}\nconcurrency = {concurrency}\n"
    config, _, _ = load_config(write(tmp_path, text), environ={})
    assert chunk_bounds(config.runner.chunk_size) == chunks
    assert concurrency_bounds(config.runner.concurrency) == calls
    assert chunks.fixed == (chunks.low == chunks.high)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('chunk_size = "big"', 'must be "auto" (tuned while running, the default), a whole number'),
        ("chunk_size = 0", "must be between 1 and 100,000 records per call"),
        ("concurrency = 65", "must be between 1 and 64 calls in flight"),
        ("chunk_size = true", "{ min = 50, max = 1000 }"),
        ("chunk_size = { min = 10, mx = 5 }", "unknown key 'mx'; remove it or fix its spelling"),
        ("chunk_size = { min = 100, max = 50 }", "'min' (100) is larger than 'max' (50)"),
        ("concurrency = { start = 9 }", "'start' (9) is not between 'min' and 'max'"),
        ("concurrency = { max = 0 }", "'max' must be between 1 and 64, not 0"),
    ],
)
def test_a_bad_chunk_size_or_concurrency_names_file_line_and_the_shapes(
    tmp_path: Path, setting: str, words: str
) -> None:
    text = GOOD + f"\n[runner]\nretries = 2\n{setting}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    line = text.splitlines().index(setting) + 1
    assert f"zenoo.toml:{line}:" in message, message
    assert words in message, message
    assert "Traceback" not in message and message.count("\n") == 0


def test_unknown_key_in_a_target(tmp_path: Path) -> None:
    text = GOOD.replace('protocol = "json2"', 'protocol = "json2"\npasword_env = "X"')
    with pytest.raises(ConfigError, match=r"unknown key 'targets\.prod\.pasword_env'"):
        load_config(write(tmp_path, text), environ={})


def test_literal_password_refused_on_real_target(tmp_path: Path) -> None:
    text = GOOD.replace('api_key_env = "ZT_API_KEY"', 'password = "hunter2-secret"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    assert "only for sandbox" in message
    assert "hunter2-secret" not in message
    line = text.splitlines().index('password = "hunter2-secret"') + 1
    assert f"zenoo.toml:{line}:" in message


def test_secret_read_lazily_from_environment_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, target = load_config(write(tmp_path, GOOD), target="prod", environ={})
    monkeypatch.delenv("ZT_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="ZT_API_KEY") as info:
        target.credentials()
    assert "not set" in str(info.value)
    monkeypatch.setenv("ZT_API_KEY", "k-123-secret")
    assert target.credentials() == (None, "k-123-secret")
    assert "k-123-secret" not in repr(target)
    assert "k-123-secret" not in target.model_dump_json()


def test_sandbox_literal_password_excluded_from_dumps(tmp_path: Path) -> None:
    _, _, target = load_config(
        write(tmp_path, GOOD.replace('password = "admin"', 'password = "s3cr3t"')), environ={}
    )
    assert target.credentials()[0] == "s3cr3t"
    assert "s3cr3t" not in repr(target)
    assert "s3cr3t" not in target.model_dump_json()


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"zenoo\.toml:2:\d+: invalid TOML"):
        load_config(write(tmp_path, '[project]\nname = "p\n'), environ={})


def test_bad_value_names_key(tmp_path: Path) -> None:
    text = GOOD + '\n[runner]\non_error = "explode"\n'
    with pytest.raises(ConfigError, match=r"runner\.on_error"):
        load_config(write(tmp_path, text), environ={})


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="zenoo-etl init"):
        load_config(tmp_path, environ={})


def test_real_target_without_credentials(tmp_path: Path) -> None:
    text = GOOD.replace('api_key_env = "ZT_API_KEY"\n', "")
    _, _, target = load_config(write(tmp_path, text), target="prod", environ={})
    with pytest.raises(ConfigError, match="password_env or api_key_env"):
        target.credentials()


def test_name_inside_a_target_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('protocol = "json2"', 'protocol = "json2"\nname = "other"')
    with pytest.raises(ConfigError, match=r"unknown key 'targets\.prod\.name'"):
        load_config(write(tmp_path, text), environ={})


def test_ca_bundle_is_relative_to_the_project(tmp_path: Path) -> None:
    text = GOOD.replace('protocol = "json2"', 'protocol = "json2"\nca_bundle = "certs/ca.pem"')
    _, _, target = load_config(write(tmp_path, text), target="prod", environ={})
    assert target.ca_bundle_path == str(tmp_path / "certs" / "ca.pem")
    _, _, local = load_config(tmp_path, environ={})
    assert local.ca_bundle_path is None
