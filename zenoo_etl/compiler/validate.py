"""Offline checks of every migration against a target's schema (``fields_get``).

Pure: takes a loaded :class:`Project` and a schema ``{model: {field: attrs}}``
(a model mapped to None is known not to exist) and returns every problem at
once, each naming file, line, step, row and field. Rows are streamed; a step
stops after :data:`MAX_PROBLEMS_PER_STEP` problems so a wrong column name on a
million-row file does not print a million lines.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from zenoo_etl.compiler.fastpath import CodeGen, Shape
from zenoo_etl.compiler.plan import KeyFilter, count_rows
from zenoo_etl.compiler.project import Project, truthy
from zenoo_etl.compiler.render import RenderError, RowView, SkipRow
from zenoo_etl.compiler.rowcode import compile_row, csv_shape
from zenoo_etl.compiler.sources import CsvSource, SqlSource, iter_source
from zenoo_etl.compiler.steps import Migration, Step
from zenoo_etl.compiler.values import FieldValue, Ref, SearchRef, XmlidRef
from zenoo_etl.errors import MigrationFileError

Schema = Mapping[str, Mapping[str, Mapping[str, Any]] | None]
MAX_PROBLEMS_PER_STEP = 20
_RELATIONAL = ("many2one", "one2many", "many2many")
_TEXT = ("char", "text", "html")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
# Fields Odoo fills itself; never "missing" on create.
_MAGIC = {"id", "create_uid", "create_date", "write_uid", "write_date", "display_name"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a migration, with everything needed to find it."""

    file: str
    line: int | None
    step: str | None
    message: str
    field: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        where = [f"{self.file}:{self.line}" if self.line is not None else self.file]
        if not self.file:
            where = []
        if self.step is not None:
            where.append(f"step '{self.step}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    @classmethod
    def from_error(cls, exc: MigrationFileError) -> Problem:
        """A problem from a load-time error (file, line, step, row as it knows them)."""
        return cls(exc.path or "", exc.line, exc.step, exc.detail, None, exc.row)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "step": self.step,
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


def models_used(project: Project) -> list[str]:
    """Every model the project's steps and search references touch, sorted."""
    found: set[str] = set()
    for migration in project.migrations:
        for step in migration.steps:
            found.add(step.model)
            for spec in step.row_fields.values():
                found.update(model for model, _ in _searches(spec))
    return sorted(found)


def line_models(project: Project, schema: Schema) -> list[str]:
    """Models of ``[steps.lines]`` (the relations of their one2many fields) not in ``schema``."""
    found: set[str] = set()
    for migration in project.migrations:
        for step in migration.steps:
            fields = schema.get(step.model)
            if step.lines is None or not fields:
                continue
            relation = (fields.get(step.lines.field) or {}).get("relation")
            if isinstance(relation, str) and relation not in schema:
                found.add(relation)
    return sorted(found)


def _check_lines(step: Step, fields: Mapping[str, Any], schema: Schema) -> list[tuple[str, str]]:
    """(message, field) for what is wrong with a step's ``[steps.lines]`` against the schema."""
    spec = step.lines
    if spec is None:
        return []
    attrs = fields.get(spec.field)
    if attrs is None:
        return [(f"model '{step.model}' has no field '{spec.field}' for [steps.lines]", spec.field)]
    if attrs.get("type") != "one2many":
        return [
            (
                f"[steps.lines] field '{spec.field}' is a {attrs.get('type')} field; lines "
                "need a one2many (e.g. order_line)",
                spec.field,
            )
        ]
    relation = str(attrs.get("relation"))
    line_fields = schema.get(relation)
    if line_fields is None:
        return []
    return [
        (
            f"model '{relation}' (the lines) has no field '{name}'{_suggest(name, line_fields)}",
            f"lines.{name}",
        )
        for name in spec.fields
        if name not in line_fields
    ]


def _searches(spec: Any) -> Iterator[tuple[str, list[Any]]]:
    """(model, domain) of every ``{ search = ..., model = ... }`` inside a field spec."""
    if isinstance(spec, dict) and isinstance(spec.get("model"), str) and "search" in spec:
        domain = spec["search"]
        yield spec["model"], domain if isinstance(domain, list) else []
    elif isinstance(spec, list):
        for item in spec:
            yield from _searches(item)


def validate_project(
    project: Project,
    schema: Schema,
    *,
    keys: bool = True,
    seen_keys: dict[str, set[str]] | None = None,
    row_counts: dict[str, int] | None = None,
) -> list[Problem]:
    """Every problem of every migration against ``schema``, in file order.

    Besides the schema checks each step's rows are streamed once more through
    the plan's row counter, which proves keys present and unique (``keys=False``
    leaves that pass out: apply's preflight checks keys on its own row pass).
    With ``seen_keys``, the row pass of the checks also renders each row's key
    into a :class:`KeyFilter`: a step whose rows all rendered without a problem
    and whose keys all rendered gets ``seen_keys[step id]`` = the keys that may
    repeat (empty: unique), so that apply need not read the rows again for it.
    ``row_counts[step id]`` receives the number of source rows of each step the row
    pass read to the end (apply's progress total, without counting them again).
    """
    problems: list[Problem] = []
    for migration in project.migrations:
        for step in migration.steps:
            found = _check_step(project, migration, step, schema, seen_keys, row_counts)
            if keys and not any(p.row is not None for p in found):
                try:
                    count_rows(project, migration, step)
                except MigrationFileError as exc:
                    found.append(Problem.from_error(exc))
            problems.extend(found)
    return problems


def _check_step(
    project: Project,
    migration: Migration,
    step: Step,
    schema: Schema,
    seen_keys: dict[str, set[str]] | None = None,
    row_counts: dict[str, int] | None = None,
) -> list[Problem]:
    file = project.relative(migration.path)
    out: list[Problem] = []

    def add(message: str, field: str | None = None, line: int | None = None) -> None:
        out.append(Problem(file, line or step.line, step.id, message, field))

    if step.model not in schema:
        add(f"model '{step.model}' is not in the schema cache; rerun with --refresh")
        return out
    fields = schema[step.model]
    if fields is None:
        add(f"model '{step.model}' does not exist on the target; check the name")
        return out
    row_fields = step.row_fields
    for name in row_fields:
        if name not in fields:
            add(
                f"model '{step.model}' has no field '{name}'{_suggest(name, fields)}",
                name,
                step.field_line(name),
            )
    for name in step.match:
        if name not in fields:
            add(f"match field '{name}' does not exist on '{step.model}'", name)
    for message, name in _check_lines(step, fields, schema):
        add(message, name)
    for name in _domain_fields(step.domain):
        if name not in fields:
            add(f"domain field '{name}' does not exist on '{step.model}'", name)
    for name, spec in row_fields.items():
        for model, domain in _searches(spec):
            searched = schema.get(model)
            for leaf in _domain_fields(domain):
                if searched is not None and leaf not in searched:
                    add(
                        f"the search on {model} uses field '{leaf}', which {model} does not have",
                        name,
                        step.field_line(name),
                    )
    if step.action == "create":
        for name, attrs in sorted(fields.items()):
            if (
                attrs.get("required")
                and not attrs.get("readonly")
                and not attrs.get("has_default")
                and not attrs.get("filled")
                and name not in _MAGIC
                and name not in row_fields
            ):
                add(f"required field '{name}' of '{step.model}' is not set; add it to fields", name)
    known = {n: fields[n] for n in row_fields if n in fields}
    if known:
        out.extend(
            _check_rows(project, migration, step, known, schema, file, seen_keys, row_counts)
        )
    return out


def _suggest(name: str, fields: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _domain_fields(domain: list[Any] | None) -> list[str]:
    names: list[str] = []
    for term in domain or []:
        if isinstance(term, list | tuple) and len(term) == 3 and isinstance(term[0], str):
            names.append(term[0].split(".", 1)[0])
    return names


def _check_rows(
    project: Project,
    migration: Migration,
    step: Step,
    known: Mapping[str, Mapping[str, Any]],
    schema: Schema,
    file: str,
    seen_keys: dict[str, set[str]] | None = None,
    row_counts: dict[str, int] | None = None,
) -> list[Problem]:
    out: list[Problem] = []
    if step.source is None and step.action != "update":
        return out
    # Rows of a file are located in that file; query rows and inline records at the step.
    in_file = step.source is not None and not isinstance(step.source, SqlSource)
    shown = (step.source.path or file) if step.source is not None and in_file else file
    base = project.template_context()
    checkers = {name: _checker(known[name], project, schema) for name in known}
    fields = [
        (name, render, checkers[name][0])
        for name, render in step._renderers.items()
        if name in known
    ]
    accepted = _accepts({name: checkers[name] for name, _r, _c in fields})
    when = step._when_renderer

    # Problems in data point at the data line; in the migration file, at the field.
    data_lines = in_file and step.source is not None and bool(step.source.path)

    def at(name: str, line: int | None) -> int | None:
        return line if data_lines else step.field_line(name)

    # An update by domain renders its values once, from an empty row.
    rows: Iterator[tuple[int, int | None, dict[str, Any]]] = (
        iter_source(step.source, project.root, migration.path)
        if step.source is not None
        else iter([(0, None, {})])
    )
    # The keys, as runner.foreign's pass would render them (rows `when` keeps, a
    # skip-row cell or not); a key that does not render leaves them unproven.
    key_r = step._key_renderer
    keys = (
        KeyFilter()
        if seen_keys is not None
        and step.source is not None
        and not step.lines
        and key_r is not None
        else None
    )
    keys_ok = True
    row_renderer = step._row_renderer
    # Every row of a CSV file has every column, as text: at its first row, the fields
    # proven to render a value their checker accepts (csv_shape) are left out of the pass.
    narrow = isinstance(step.source, CsvSource)
    too_many = Problem(shown, None, step.id, "too many problems; stopped checking rows")
    ctx = dict(base)  # one context, its row replaced per row (as the plan's renderer does)
    read = 0
    try:
        for index, line, cells in rows:
            read += 1
            where = line if data_lines else step.line
            number = index + 1 if step.source is not None else None
            ctx["row"] = RowView(cells)
            if when is not None:
                try:
                    if not truthy(when(cells, ctx)):
                        continue
                except RenderError as exc:
                    out.append(Problem(shown, where, step.id, f"when: {exc.detail}", None, number))
                    continue
            if narrow:
                narrow = False
                columns = frozenset(cells)
                fields = [
                    (name, render, check)
                    for name, render, check in fields
                    if not _proven_fine(
                        csv_shape(step.row_fields[name], columns, name),
                        known[name],
                        project,
                        check,
                    )
                ]
                row_renderer = compile_row(
                    {name: step.row_fields[name] for name, _r, _c in fields},
                    {name: render for name, render, _c in fields},
                    project.root,
                )
                accepted = _accepts({name: checkers[name] for name, _r, _c in fields})
            if keys is not None and key_r is not None and keys_ok:
                try:
                    key = key_r(cells, ctx)
                except (RenderError, SkipRow):
                    keys_ok = False
                else:
                    if key is False or key is None or isinstance(key, list):
                        keys_ok = False
                    else:
                        keys.add(str(key))
            if row_renderer is not None:
                try:
                    values = row_renderer(cells, ctx)
                except Exception:
                    pass  # the renderers below word (or skip) this row
                else:
                    if accepted(values):
                        continue
                    for name, _render, check in fields:
                        message = check(values[name])
                        if message:
                            out.append(
                                Problem(shown, at(name, where), step.id, message, name, number)
                            )
                            if len(out) >= MAX_PROBLEMS_PER_STEP:
                                out.append(too_many)
                                return out
                    continue
            for name, render, check in fields:
                try:
                    value = render(cells, ctx)
                except SkipRow:
                    break  # the row is filtered: its other fields do not matter
                except RenderError as exc:
                    detail = (
                        f"column '{exc.column}' is missing from this row"
                        if exc.column is not None
                        else exc.detail
                    )
                    out.append(Problem(shown, at(name, where), step.id, detail, name, number))
                else:
                    message = check(value)
                    if message:
                        out.append(Problem(shown, at(name, where), step.id, message, name, number))
                if len(out) >= MAX_PROBLEMS_PER_STEP:
                    out.append(too_many)
                    return out
    except MigrationFileError as exc:
        out.append(Problem(exc.path or shown, exc.line, step.id, exc.detail, None, exc.row))
        return out
    if row_counts is not None and step.source is not None:
        row_counts[step.id] = read  # every row of the source was read
    if seen_keys is not None and not out and keys_ok and step.source is not None:
        if keys is not None:
            seen_keys[step.id] = keys.suspects
        elif key_r is None and not step.lines:
            seen_keys[step.id] = set()  # keys are row numbers
    return out


Checker = Callable[[FieldValue], "str | None"]
# The code of a Python condition on a value (``accept(gen, v)``, ``v`` a local name).
Accept = Callable[[CodeGen, str], str]


def _checker(attrs: Mapping[str, Any], project: Project, schema: Schema) -> tuple[Checker, Accept]:
    """:func:`check_value` for one field, run once per row, and the code of a
    condition that holds exactly when the checker accepts a value at once
    (:func:`_accepts` puts a row's conditions into one function).

    The values most rows hold are accepted by :func:`_accepted_at_once`'s
    condition, compiled, without the walk through every field type; anything
    else goes to :func:`check_value` itself (so its messages are the ones shown).
    The condition is written once, as code, for both.
    """

    def full(value: FieldValue) -> str | None:
        return check_value(value, attrs, project, schema)

    accept = _accepted_at_once(attrs, project)
    if accept is None:
        return full, lambda gen, v: f"{gen.name(full)}({v}) is None"
    gen = CodeGen()
    at_once = gen.compile("value", f"    return {accept(gen, 'value')}\n", "<zenoo field check>")

    def check(value: FieldValue) -> str | None:
        return None if at_once(value) else full(value)

    return check, accept


def _accepted_at_once(attrs: Mapping[str, Any], project: Project) -> Accept | None:
    """The condition under which a value of the field needs no :func:`check_value`
    (None, unset, or a value of the field's own kind), or None for a field with none."""
    kind = attrs.get("type")
    if kind in _TEXT:

        def text(gen: CodeGen, v: str) -> str:  # False is an int: unset, as in check_value
            texts = gen.name((str, int, float))
            return f"(type({v}) is str or {v} is None or isinstance({v}, {texts}))"

        return text
    if kind == "boolean":
        return lambda gen, v: f"({v} is None or isinstance({v}, bool))"
    if kind not in _RELATIONAL:
        return None
    fitting = _fitting_steps(attrs, project)

    def reference(gen: CodeGen, item: str) -> str:  # as _fitting_ref
        xmlid, ref, steps = gen.name(XmlidRef), gen.name(Ref), gen.name(fitting)
        return f"(type({item}) is {xmlid} or (type({item}) is {ref} and {item}.step in {steps}))"

    if kind == "many2one":
        return lambda gen, v: f"({v} is False or {v} is None or {reference(gen, v)})"

    def many(gen: CodeGen, v: str) -> str:
        item = gen.temp()
        return f"(type({v}) is list and all({reference(gen, item)} for {item} in {v}))"

    return many


def _fitting_steps(attrs: Mapping[str, Any], project: Project) -> set[str]:
    """The steps whose references a relational field takes (those of another model
    get :func:`check_value`'s message)."""
    relation = attrs.get("relation")
    return {
        sid for sid, (_m, s) in project.steps_by_id.items() if not relation or s.model == relation
    }


def _fitting_ref(value: Any, fitting: set[str]) -> bool:
    """Whether ``value`` is a reference the field takes as it is: an xmlid, or a step
    reference to one of ``fitting``."""
    return type(value) is XmlidRef or (type(value) is Ref and value.step in fitting)


def _proven_fine(
    shape: Shape | None, attrs: Mapping[str, Any], project: Project, check: Checker
) -> bool:
    """Whether every value of ``shape`` passes the field's checker without a message
    (then the CSV row pass need not render the field: it cannot fail either)."""
    if shape is None:
        return False
    if shape.kind == "const":
        return check(shape.value) is None
    kind = attrs.get("type")
    if kind in _TEXT:
        return shape.kind in ("text", "bool")  # a str, False or a bool: text accepts them
    if kind == "boolean":
        return shape.kind == "bool"
    fitting = _fitting_steps(attrs, project)

    def reference(item: Shape) -> bool:
        if item.kind == "const":
            return _fitting_ref(item.value, fitting)
        return item.kind == "xmlid" or (item.kind == "ref" and item.step in fitting)

    if kind == "many2one":
        return shape.kind != "list" and reference(shape)
    if kind in ("one2many", "many2many"):
        return shape.kind == "list" and all(reference(item) for item in shape.items)
    return False


def _accepts(checkers: Mapping[str, tuple[Checker, Accept]]) -> Any:
    """``accepts(values)``: True when every checker accepts its field's value at once
    (then none has a message); False sends the row through the checkers one by one."""
    gen = CodeGen()
    body = []
    for name, (_check, accept) in checkers.items():
        v = gen.temp()
        body.append(f"    {v} = values[{name!r}]\n")
        body.append(f"    if not {accept(gen, v)}:\n        return False\n")
    body.append("    return True\n")
    return gen.compile("values", "".join(body), "<zenoo row checks>")


def check_value(
    value: FieldValue, attrs: Mapping[str, Any], project: Project, schema: Schema
) -> str | None:
    """Why ``value`` cannot go into a field described by ``attrs``, or None."""
    kind = attrs.get("type")
    if value is False or value is None:
        return None
    if kind in _TEXT:
        return None if isinstance(value, str | int | float) else _wrong(value, kind)
    if kind == "selection":
        keys = [str(pair[0]) for pair in attrs.get("selection") or [] if pair]
        if keys and str(value) not in keys:
            return f"{value!r} is not a valid choice; expected one of {', '.join(keys)}"
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return None
        return (
            f"{value!r} is not a boolean (any non-empty text counts as true in Odoo); "
            "use an expression such as \"{{ row.x == 'yes' }}\""
        )
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return None
        return f"{value!r} is not an integer"
    if kind in ("float", "monetary"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"{value!r} is not a number"
            return None
        return f"{value!r} is not a number"
    if kind == "date":
        if isinstance(value, str) and _DATE.match(value):
            return _date_ok(value, "%Y-%m-%d")
        return f"{value!r} is not a date (YYYY-MM-DD)"
    if kind == "datetime":
        if isinstance(value, str) and _DATETIME.match(value):
            return None
        return f"{value!r} is not a datetime (YYYY-MM-DD HH:MM:SS, UTC)"
    if kind == "many2one":
        if isinstance(value, list):
            return "a list on a many2one field; give one reference"
        return _check_reference(value, attrs, project)
    if kind in ("one2many", "many2many"):
        if not isinstance(value, list):
            return f"a {kind} field needs a list of references, e.g. [{{ ref = ..., key = ... }}]"
        for item in value:
            if isinstance(item, list):
                continue  # an Odoo command triple such as [6, 0, ids]
            message = _check_reference(item, attrs, project)
            if message:
                return message
        return None
    return None


def _date_ok(value: str, fmt: str) -> str | None:
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return f"{value!r} is not a valid date"
    return None


def _check_reference(value: FieldValue, attrs: Mapping[str, Any], project: Project) -> str | None:
    relation = attrs.get("relation")
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, XmlidRef):
        return None
    if isinstance(value, Ref):
        target = project.steps_by_id.get(value.step)
        if target is None:
            return f"reference to unknown step '{value.step}'"
        model = target[1].model
        if relation and model != relation:
            return f"step '{value.step}' makes {model} records, but this field holds {relation}"
        return None
    if isinstance(value, SearchRef):
        if relation and value.model != relation:
            return f"the search is on {value.model}, but this field holds {relation}"
        return None
    return (
        f"{value!r} is not a reference; use {{ ref = ..., key = ... }}, {{ xmlid = ... }} "
        "or { search = ..., model = ... }"
    )


def _wrong(value: FieldValue, kind: str) -> str:
    return f"a {type(value).__name__} cannot go into a {kind} field"


__all__ = [
    "MAX_PROBLEMS_PER_STEP",
    "Problem",
    "Schema",
    "check_value",
    "line_models",
    "models_used",
    "validate_project",
]
