"""Random and adversarial input to the CLI: never a traceback, exit 2 with a message.

``validate`` (offline for sandbox targets) and ``plan`` read the config, parse
every migration, read every source and render every row, so they are the
widest doors for bad input. Memory stays bounded on huge inputs.
"""

from __future__ import annotations

import json
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli import MIGRATION, assert_clean, invoke, project

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TOKENS = [
    *"[]{}\"'=.,\\\n\t #",
    *["\x00", "\ufeff", "\u202e", "é", "{{", "}}", "{%", "%}", "[[steps]]", "a", "1"],
    *["true", "id", "model", "source", "csv", "json", "jsonl", "row", "__class__"],
]
NASTY_TEXT = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)


def _migration(source: str, name: str = '"{{ row.name }}"') -> str:
    return MIGRATION.format(source=source, name=name)


@FUZZ
@given(text=NASTY_TEXT, raw=st.binary(max_size=200))
def test_random_config_files(text: str, raw: bytes) -> None:
    for config in (text, raw, b"\xff\xfe" + raw, text.encode("utf-8") + b"\x80\x00"):
        with project({}, config=config) as root:
            assert_clean(invoke(root, "validate"))
            assert_clean(invoke(root, "plan"))


@FUZZ
@given(text=NASTY_TEXT, raw=st.binary(max_size=300))
def test_random_migration_files(text: str, raw: bytes) -> None:
    for content in (text.encode(), raw, b"[[steps]]\n" + raw):
        with project({"migrations/0001_x.toml": content}) as root:
            assert_clean(invoke(root, "validate"))
            assert_clean(invoke(root, "plan"))


@FUZZ
@given(template=NASTY_TEXT)
def test_random_templates_in_fields(template: str) -> None:
    name = json.dumps(template)  # a valid TOML basic string holding any template text
    files = {
        "migrations/0001_x.toml": _migration('{ csv = "data/d.csv" }', name),
        "data/d.csv": "id,name\n1,a\n",
    }
    with project(files) as root:
        assert_clean(invoke(root, "validate"), allowed=(0, 2))


@FUZZ
@given(raw=st.binary(max_size=400), header=st.booleans())
def test_random_csv_bytes(raw: bytes, header: bool) -> None:
    data = (b"id,name\n" if header else b"") + raw
    files = {"migrations/0001_x.toml": _migration('{ csv = "data/d.csv" }'), "data/d.csv": data}
    with project(files) as root:
        assert_clean(invoke(root, "validate"))
        assert_clean(invoke(root, "plan"))


@FUZZ
@given(raw=st.binary(max_size=400), kind=st.sampled_from(["json", "jsonl"]))
def test_random_json_bytes(raw: bytes, kind: str) -> None:
    files = {
        "migrations/0001_x.toml": _migration(f'{{ {kind} = "data/d.{kind}" }}'),
        f"data/d.{kind}": raw,
    }
    with project(files) as root:
        assert_clean(invoke(root, "validate"))
        assert_clean(invoke(root, "plan"))


ADVERSARIAL_CSV = {
    "nul bytes": b"id,name\n1,a\x00b\n2,\x00\n",
    "invalid utf-8": b"id,name\n1,\xff\xfe\xfa\n",
    "utf-16 bom": "\ufeffid,name\n1,x\n".encode("utf-16"),
    "10k columns": (",".join(["id", "name"] + [f"c{i}" for i in range(10_000)]) + "\n"
                    + ",".join(["1", "a"] + ["x"] * 10_000) + "\n").encode(),
    "huge field": b"id,name\n1," + b"x" * 2_000_000 + b"\n",
    "huge quoted field": b'id,name\n1,"' + b"y" * 2_000_000 + b'"\n',
    "unterminated quote": b'id,name\n1,"never closed\n2,b\n',
    "ragged rows": b"id,name\n1\n2,a,b,c\n",
    "only header": b"id,name\n",
    "empty": b"",
    "duplicate columns": b"id,name,name\n1,a,b\n",
    "crlf and cr": b"id,name\r1,a\r\n2,b\r",
}  # fmt: skip

ADVERSARIAL_JSON = {
    "nesting 200 deep": b'[{"id": 1, "name": ' + b"[" * 200 + b"]" * 200 + b"}]",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep object": b'[{"id": 1, "name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}]",
    "huge number": b'[{"id": 1, "name": 1' + b"0" * 5000 + b"}]",
    "not a list": b'{"id": 1}',
    "list of scalars": b"[1, 2, 3]",
    "nul in string": b'[{"id": 1, "name": "a\\u0000b"}]',
    "lone surrogate": b'[{"id": 1, "name": "\\ud800"}]',
    "invalid utf-8": b'[{"id": 1, "name": "\xff"}]',
    "big number": b'[{"id": 1, "name": 1' + b"0" * 4000 + b"}]",
    "nan": b'[{"id": 1, "name": NaN}]',
    "huge string": b'[{"id": 1, "name": "' + b"z" * 2_000_000 + b'"}]',
    "10k keys": json.dumps([{f"k{i}": i for i in range(10_000)} | {"id": 1, "name": "a"}]).encode(),
}


def test_adversarial_csv_files() -> None:
    for label, data in ADVERSARIAL_CSV.items():
        files = {"migrations/0001_x.toml": _migration('{ csv = "data/d.csv" }'), "data/d.csv": data}
        with project(files) as root:
            for verb in ("validate", "plan"):
                result = invoke(root, verb)
                try:
                    assert_clean(result)
                except AssertionError as exc:
                    raise AssertionError(f"{label} ({verb}): {exc}") from None


def test_adversarial_json_files() -> None:
    for label, data in ADVERSARIAL_JSON.items():
        for kind in ("json", "jsonl"):
            payload = data if kind == "json" else data.replace(b"\n", b" ")
            files = {
                "migrations/0001_x.toml": _migration(f'{{ {kind} = "data/d.{kind}" }}'),
                f"data/d.{kind}": payload,
            }
            with project(files) as root:
                for verb in ("validate", "plan"):
                    result = invoke(root, verb)
                    try:
                        assert_clean(result)
                    except AssertionError as exc:
                        raise AssertionError(f"{label} ({kind}, {verb}): {exc}") from None


ADVERSARIAL_MIGRATIONS = {
    "toml arrays 200 deep": 'description = "x"\nvalue = ' + "[" * 200 + "]" * 200 + "\n",
    "deep toml arrays": 'description = "x"\nvalue = ' + "[" * 5000 + "]" * 5000 + "\n",
    "deep inline tables": 'description = "x"\nv = ' + "{a=" * 3000 + "1" + "}" * 3000 + "\n",
    "huge description": 'description = "' + "d" * 1_000_000 + '"\n',
    "nul byte": 'description = "a\x00b"\n',
    "many steps": "".join(
        f'[[steps]]\nid = "s{i}"\nmodel = "res.partner"\naction = "create"\n'
        f'records = [{{ n = "{i}" }}]\n[steps.fields]\nname = "{{{{ row.n }}}}"\n'
        for i in range(300)
    ),
    "template bomb": _migration(
        '{ csv = "data/d.csv" }', '"{% for i in range(10**9) %}x{% endfor %}"'
    ),
    "power bomb": _migration('{ csv = "data/d.csv" }', '"{{ 9**9**9 }}"'),
    "recursion": _migration(
        '{ csv = "data/d.csv" }', '"{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"'
    ),
}


def test_adversarial_migration_files_with_bounded_memory() -> None:
    for label, text in ADVERSARIAL_MIGRATIONS.items():
        files = {"migrations/0001_x.toml": text, "data/d.csv": "id,name\n1,a\n"}
        with project(files) as root:
            tracemalloc.start()
            try:
                result = invoke(root, "validate")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            try:
                assert_clean(result)
            except AssertionError as exc:
                raise AssertionError(f"{label}: {exc}") from None
            assert peak < 400 * 2**20, f"{label}: {peak / 2**20:.0f} MiB"


def test_template_string_bombs_are_refused_within_1_gib() -> None:
    """``'x' * 10**9`` used to need ~4 GiB; in a child limited to 1 GiB it must exit 2."""
    import subprocess
    import sys

    # 9**9**9 is folded away or refused by the sandbox: either way it must stay bounded
    for bomb, codes in (("{{ 'x' * 10**9 }}", (2,)), ("{{ [0] * 10**9 }}", (2,)),
                        ("{{ 9**9**9 }}", (0, 2))):  # fmt: skip
        files = {
            "migrations/0001_x.toml": _migration('{ csv = "data/d.csv" }', json.dumps(bomb)),
            "data/d.csv": "id,name\n1,a\n",
        }
        with project(files) as root:
            done = subprocess.run(
                ["bash", "-c", f"ulimit -v 1048576; {sys.executable} -m zenoo_etl validate "
                 f"--project {root}"],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode in codes, (bomb, done.returncode, done.stderr[-500:])
            assert "Unexpected internal error" not in done.stderr
            assert "Traceback" not in done.stderr
