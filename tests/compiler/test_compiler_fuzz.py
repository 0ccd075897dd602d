"""Bad input never escapes as a foreign exception: only ZenooError subclasses, with a location."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenoo_etl.compiler import compile_plan, load_config, load_project
from zenoo_etl.errors import ConfigError, MigrationFileError, ZenooError

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


# Findings of the adversarial-input review, pinned down.


def test_template_memory_bombs_are_refused_not_run() -> None:
    from zenoo_etl.compiler.j2file import render_file
    from zenoo_etl.compiler.render import RenderError, RowView, compile_value

    def render(template: str) -> object:
        return compile_value(template, "f")({}, {"row": RowView({}), "vars": {}, "target": {}})

    assert render("{{ 'ab' * 3 }}") == "ababab"
    assert render("{{ [0] * 2 }}") == [0, 0]
    assert render("{{ 2 ** 10 }}") == 1024
    assert render("{{ 6 * 7 }}") == 42
    assert render("{{ '%3d|' % 5 }}") == "  5|"
    assert render("{{ '{:>3}'.format('x') }}") == "  x"
    assert render("{{ 'x' | center(3) }}") == " x "
    assert render("{{ 'order 123456789012 {}'.format(1) }}") == "order 123456789012 1"
    bombs = (
        "{{ 'x' * 10**9 }}",
        "{{ [1] * 10**8 }}",
        "{{ 9**999999 }}",
        "a{{ 'x' * 10**9 }}",
        "{{ '%1000000000s' % 'x' }}",
        "{{ '{:>1000000000}'.format('x') }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 'a' | indent(10**9) }}",
        "{{ '%1000000000d' | format(5) }}",
    )
    for bomb in bombs:
        with pytest.raises(RenderError, match=r"limit|too large"):
            render(bomb)
    for bomb in (
        "a = '{{ \"x\" * 10**9 }}'",
        "a = {{ 7 ** (10**7) }}",
        "a = '{{ 1|center(10**9) }}'",
    ):
        with pytest.raises(RenderError, match=r"limit|too large"):
            render_file(bomb, vars={}, target={})


def _one_file_project(files: dict[str, bytes | str]) -> Path:
    root = Path(tempfile.mkdtemp())
    (root / "migrations").mkdir()
    (root / "zenoo.toml").write_text(CONFIG)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    return root


STEP = (
    '[[steps]]\nid = "s"\nmodel = "res.partner"\naction = "create"\n'
    'source = {{ {kind} = "data/d" }}\nfields = {{ name = "{{{{ row.name }}}}" }}\n'
)


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
        ("json", b'[{"name": 1' + b"0" * 5000 + b"}]", "cannot be read"),
        ("jsonl", b'{"name": 1' + b"0" * 5000 + b"}\n", "cannot be read"),
    ],
)
def test_hostile_json_sources_are_clean_errors(kind: str, data: bytes, message: str) -> None:
    root = _one_file_project({"migrations/0001_x.toml": STEP.format(kind=kind), "data/d": data})
    try:
        with pytest.raises(MigrationFileError, match=message) as info:
            compile_plan(load_project(root, environ={}))
        assert info.value.path == "data/d"
    finally:
        shutil.rmtree(root)


def test_deeply_nested_toml_is_a_clean_error() -> None:
    deep = 'description = "x"\nvalue = ' + "[" * 5000 + "]" * 5000 + "\n"
    root = _one_file_project({"migrations/0001_x.toml": deep})
    try:
        with pytest.raises(MigrationFileError, match="nested too deeply"):
            load_project(root, environ={})
        (root / "zenoo.toml").write_text(CONFIG + "x = " + "[" * 5000 + "]" * 5000 + "\n")
        with pytest.raises(ConfigError, match="nested too deeply"):
            load_config(root, environ={})
    finally:
        shutil.rmtree(root)
