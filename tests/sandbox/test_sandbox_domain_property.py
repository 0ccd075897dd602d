"""Random domains: the SQL the sandbox compiles agrees with a plain-Python reading
of Odoo's domain semantics (prefix operators, implicit '&', NULL handling)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenoo_etl.sandbox.service import Database

NAMES = ["Ann", "ann", "Bob", "bobby", "Cy", None]
EMAILS = ["a@x.io", "b@y.io", None]
ROWS = [
    {"name": n, "email": e, "color": c, "is_company": b}
    for n in NAMES
    for e, c, b in [(EMAILS[i % 3], i % 4, i % 2 == 0) for i in range(3)]
]


@pytest.fixture(scope="module")
def db() -> Iterator[tuple[Database, dict[int, dict[str, Any]]]]:
    database = Database(None)
    vals = [{**row, "type": "contact" if row["name"] else "other"} for row in ROWS]
    ids = database.execute(2, "res.partner", "create", [vals], {})
    yield database, dict(zip(ids, ROWS, strict=True))
    database.close()


def _text_leaf() -> st.SearchStrategy[list[Any]]:
    field = st.sampled_from(["name", "email"])
    scalar = st.sampled_from(["Ann", "bob", "a@x.io", "y.io", "Cy", False])
    return st.one_of(
        st.tuples(field, st.sampled_from(["=", "!="]), scalar).map(list),
        st.tuples(
            field,
            st.sampled_from(["ilike", "not ilike", "like"]),
            st.sampled_from(["an", "B", "io"]),
        ).map(list),
        st.tuples(field, st.sampled_from(["in", "not in"]), st.lists(scalar, max_size=3)).map(list),
    )


def _other_leaf() -> st.SearchStrategy[list[Any]]:
    return st.one_of(
        st.tuples(
            st.just("color"), st.sampled_from(["=", "!=", "<", ">", "<=", ">="]), st.integers(0, 3)
        ).map(list),
        st.tuples(st.just("is_company"), st.sampled_from(["=", "!="]), st.booleans()).map(list),
    )


def _tree() -> st.SearchStrategy[Any]:
    leaf = st.one_of(_text_leaf(), _other_leaf())
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(["&", "|"]), inner, inner),
            st.tuples(st.just("!"), inner),
        ),
        max_leaves=6,
    )


def _flatten(tree: Any) -> list[Any]:
    if isinstance(tree, tuple):
        return [tree[0], *(item for sub in tree[1:] for item in _flatten(sub))]
    return [tree]


def _leaf(row: dict[str, Any], leaf: list[Any]) -> bool:
    field, op, value = leaf
    have = row[field]
    if field == "is_company":
        return (have == value) if op == "=" else (have != value)
    if op in ("=", "!="):
        if value is False:
            empty = have is None or have == ""
            return empty if op == "=" else not empty
        return have == value if op == "=" else (have is None or have != value)
    if op in ("<", ">", "<=", ">="):
        return bool(eval(f"{have!r} {op} {value!r}"))  # small ints only
    if op in ("in", "not in"):
        real = [v for v in value if v is not False]
        hit = (have in real) or (have is None and False in value)
        if op == "in":
            return hit
        return not hit or (have is None and False not in value)
    if have is None:
        return op.startswith("not ")
    if op in ("like", "not like"):
        return (value in have) == (op == "like")
    found = value.lower() in have.lower()
    return found if op == "ilike" else not found


NEGATE = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "in": "not in"}
NEGATE.update({"not in": "in", "like": "not like", "ilike": "not ilike", "not ilike": "ilike"})


def _eval(row: dict[str, Any], items: list[Any]) -> bool:
    """Odoo's reading: '!' is pushed down to the leaves by flipping their operator."""
    pos = 0

    def parse(negate: bool) -> bool:
        nonlocal pos
        item = items[pos]
        pos += 1
        if item in ("&", "|"):
            left, right = parse(negate), parse(negate)
            both = (item == "&") != negate
            return (left and right) if both else (left or right)
        if item == "!":
            return parse(not negate)
        field, op, value = item
        return _leaf(row, [field, NEGATE[op], value] if negate else item)

    result = True
    while pos < len(items):
        result = parse(False) and result
    return result


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(trees=st.lists(_tree(), min_size=1, max_size=3))
def test_sql_agrees_with_the_reference(
    db: tuple[Database, dict[int, dict[str, Any]]], trees: list[Any]
) -> None:
    database, rows = db
    domain = [item for tree in trees for item in _flatten(tree)]
    found = database.execute(2, "res.partner", "search", [[*domain, ["id", "in", list(rows)]]], {})
    expected = {pid for pid, row in rows.items() if _eval(row, domain)}
    assert set(found) == expected, domain
