"""TLS from the project's side: verified by default, ``verify_tls = false`` warns, CA bundles work.

The sandbox sits behind a TLS front whose certificate a private CA (made
with openssl for the test) signed, so only a client trusting that CA can
verify it.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from zenoo_etl.client.errors import ClientError
from zenoo_etl.compiler import load_project
from zenoo_etl.runner import apply
from zenoo_etl.sandbox import serve_sandbox

from .tls import make_certificates, tls_front

MIGRATION = """\
description = "one partner"

[[steps]]
id = "p"
model = "res.partner"
action = "create"
key = "{{ row.name }}"
records = [{ name = "Over TLS" }]

[steps.fields]
name = "{{ row.name }}"
"""


def _project(root: Path, port: int, extra: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenoo.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "tls"

            [targets.prod]
            url = "https://127.0.0.1:{port}"
            database = "etl"
            username = "admin"
            password_env = "ZENOO_TLS_PASSWORD"
            {extra}
            """
        )
    )
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "0001_one.toml").write_text(MIGRATION)
    return root


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_certificates(tmp_path_factory.mktemp("certs"))


async def test_tls_is_verified_by_default_and_a_bad_chain_is_refused(
    tmp_path: Path, certs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cert, key = certs
    monkeypatch.setenv("ZENOO_TLS_PASSWORD", "admin")
    async with serve_sandbox(db_path=tmp_path / "t.db") as sb, tls_front(sb.port, cert, key) as p:
        root = _project(tmp_path / "p", p, "")
        sb.faults.configure(latency_ms=1)  # only so every request the sandbox gets is recorded
        with pytest.raises(ClientError) as refused:
            await apply(load_project(root))
        assert "certificate" in str(refused.value).lower()
        assert refused.value.exit_code == 1
        # nothing was sent: not one request reached the sandbox, no partner was created
        assert sb.faults.history == []


async def test_verify_tls_false_works_and_warns_loudly(
    tmp_path: Path,
    certs: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, cert, key = certs
    monkeypatch.setenv("ZENOO_TLS_PASSWORD", "admin")
    async with serve_sandbox(db_path=tmp_path / "t.db") as sb, tls_front(sb.port, cert, key) as p:
        root = _project(tmp_path / "p", p, "verify_tls = false")
        with caplog.at_level(logging.WARNING, logger="zenoo_etl"):
            result = await apply(load_project(root))
    assert result.ok
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("verification is DISABLED" in r.getMessage() for r in warnings)


async def test_a_relative_ca_bundle_is_resolved_against_the_project(
    tmp_path: Path,
    certs: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``ca_bundle = "certs/ca.pem"`` works whatever the working directory (was: the cwd)."""
    ca, cert, key = certs
    monkeypatch.setenv("ZENOO_TLS_PASSWORD", "admin")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    async with serve_sandbox(db_path=tmp_path / "t.db") as sb, tls_front(sb.port, cert, key) as p:
        root = _project(tmp_path / "p", p, 'ca_bundle = "certs/ca.pem"')
        (root / "certs").mkdir()
        (root / "certs" / "ca.pem").write_bytes(ca.read_bytes())
        with caplog.at_level(logging.WARNING, logger="zenoo_etl"):
            result = await apply(load_project(root))
    assert result.ok
    assert not any("DISABLED" in r.getMessage() for r in caplog.records)
