"""Bad input never escapes as a foreign exception: only ZenooError subclasses, with a location."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler import compile_plan, load_config, load_project
from zenoo_etl.errors import ZenooError

CONFIG = (
    '[project]\nname = "f"\n\n[targets.local]\nurl = "sandbox:x.db"\n'
    'database = "etl"\nusername = "admin"\n'
)

# Fragments that parse as TOML often enough to reach the deeper validation layers.
FRAGMENTS = [
    "[[steps]]",
    'id = "s"',
    'id = "t"',
    'model = "res.partner"',
    'action = "create"',
    'action = "upsert"',
    'action = "update"',
    'action = "delete"',
    'action = "call"',
    'method = "go"',
    'records = [{ a = "1" }, { a = "{{ 7*7 }}" }]',
    'source = { csv = "d.csv" }',
    'source = { jsonl = "d.csv" }',
    'source = { json = "d.csv" }',
    'source = { csv = "../x.csv" }',
    'key = "{{ row.a }}"',
    'key = "{{ row.zz }}"',
    'match = ["a"]',
    'domain = [["a", "=", "{{ vars.q }}"]]',
    'fields = { a = "{{ row.a }}" }',
    'fields = { a = { ref = "s", key = "{{ row.a }}" } }',
    'fields = { a = { xmlid = "{{ row.a }}" } }',
    'fields = { a = { search = [["x", "=", 1]], model = "res.country" } }',
    'fields = { a = "{{ row.a | int // 0 }}" }',
    'fields = { a = "{{ ().__class__ }}" }',
    'values = { a = "{% if row.a %}x{% endif %}" }',
    'depends_on = ["s"]',
    "chunk_size = 0",
    "archive = true",
    'identity = "fields"',
    'undo = { method = "back" }',
    'description = "d"',
    "[steps.fields]",
    'b = "{{ row.b }}"',
    "{% if row.a %}",
    "{% for i in range(2) %}",
    "{% endfor %}",
    "{% endif %}",
    "{% raw %}",
    "{% endraw %}",
    "c = \"{{ env('ZT_NOPE') }}\"",
    "{%- set xs = [] -%}",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=14),
    csv_text=st.sampled_from(["a,b\n1,2\n", "a\n1\n1\n", 'a,b\n"x\n', "", "\xff", "a,b\n1\n"]),
    suffix=st.sampled_from([".toml", ".toml.j2"]),
)
def test_any_migration_text_fails_cleanly(lines: list[str], csv_text: str, suffix: str) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        (root / "migrations").mkdir()
        (root / "zenoo.toml").write_text(CONFIG)
        (root / "d.csv").write_text(csv_text, encoding="utf-8", errors="surrogateescape")
        (root / "migrations" / f"0001_f{suffix}").write_text(
            "\n".join(lines), encoding="utf-8", errors="surrogatepass"
        )
        try:
            compile_plan(load_project(root, environ={}))
        except ZenooError as exc:
            assert str(exc).strip()
            assert "Traceback" not in str(exc)
    finally:
        shutil.rmtree(root)


CONFIG_FRAGMENTS = [
    "[project]",
    'name = "p"',
    'migrations = "m"',
    "[vars]",
    "x = 1",
    "[targets.a]",
    "[targets.b]",
    'url = "sandbox:"',
    'url = "sandbox:s.db"',
    'url = "https://e.example"',
    'database = "d"',
    'username = "u"',
    'password = "hunter2secret"',
    'password_env = "ZT_NOPE"',
    'protocol = "json3"',
    "verify_tls = 1",
    "[ledger]",
    'url = "sqlite:///x.db"',
    "[runner]",
    "chunk_size = -1",
    'on_error = "stop"',
    "context = 3",
    "timeout = 0",
    "[other]",
]


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.one_of(st.sampled_from(CONFIG_FRAGMENTS), st.text(max_size=20)), max_size=16)
)
def test_any_config_text_fails_cleanly(lines: list[str]) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        (root / "zenoo.toml").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            _, _, target = load_config(root, environ={})
            target.credentials()
        except ZenooError as exc:
            assert str(exc).startswith(str(root / "zenoo.toml")) or "ZT_NOPE" in str(exc)
            assert "hunter2secret" not in str(exc)  # secrets never reach a message
    finally:
        shutil.rmtree(root)
