"""Migration files and their steps: the file format of DESIGN.md section 3.

Parses one (already rendered) migration file into :class:`Migration` with its
:class:`Step` list, validating per action which keys are required or allowed.
Every error names the file, the line of the step (or of the key) and the step
id. Field templates are compiled here, once per step, and kept on the step
(private, not serialised) for :func:`zenoo_etl.compiler.project.iter_rows`.

Key rules per action::

    create  source|records, fields; key, identity (xmlid|fields|none), match
    upsert  source|records, fields, match; key, identity
    update  values; domain, or match + source|records; key
    delete  domain, or match + source|records (+ fields carrying the match
            values); key, archive
    call    method; args, kwargs, undo; domain, or match + source (+ fields), or
            neither (a model-level call)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from zenoo_etl.compiler.config import ChunkSize
from zenoo_etl.compiler.locate import describe_errors, key_line, toml_error_position
from zenoo_etl.compiler.lookups import Lookups, lookup_files
from zenoo_etl.compiler.render import (
    Renderer,
    RenderError,
    SpecError,
    collect_refs,
    compile_domain,
    compile_text,
    compile_value,
    has_template_syntax,
)
from zenoo_etl.compiler.rowcode import RowFn, compile_row
from zenoo_etl.compiler.sources import SOURCE_KINDS, Source, SqlSource, resolve_inside
from zenoo_etl.errors import MigrationFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Action = Literal["create", "upsert", "update", "delete", "call"]
Identity = Literal["xmlid", "fields", "none"]

STEP_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MODEL_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$|^[a-z0-9_]+$")
_COMMON = {"id", "model", "action", "description", "depends_on", "chunk_size", "context", "when"}
_ALLOWED: dict[str, set[str]] = {
    "create": _COMMON
    | {"source", "records", "key", "identity", "match", "fields", "lines", "on_error"},
    "upsert": _COMMON | {"source", "records", "key", "identity", "match", "fields", "on_error"},
    "update": _COMMON | {"source", "records", "key", "match", "domain", "values", "on_error"},
    "delete": _COMMON | {"source", "records", "key", "match", "domain", "archive", "fields"},
    "call": _COMMON
    | {"source", "records", "key", "match", "domain", "fields", "method", "args", "kwargs", "undo"},
}


_EXAMPLES = {
    "source": 'source = { csv = "data/customers.csv" }',
    "records": 'records = [{ name = "A" }, { name = "B" }]',
    "depends_on": 'depends_on = ["other-step"]',
    "match": 'match = ["ref"]',
    "domain": 'domain = [["active", "=", true]]',
    "undo": 'undo = { method = "action_unarchive", args = [] }',
    "when": "when = \"{{ row.status != 'inactive' }}\"",
    "on_error": 'on_error = "reject"',
}


_Fail = Callable[..., MigrationFileError]  # builds an error located at the step or a key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UndoSpec(_Strict):
    """``undo = { method = ..., args = [...], kwargs = {...} }`` of a call step."""

    method: str = Field(min_length=1)
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class _StepSpec(_Strict):
    """The raw keys of one ``[[steps]]`` table, before per-action checks."""

    id: str = Field(min_length=1)
    model: str = Field(min_length=1)
    action: Action
    description: str | None = None
    source: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = None
    key: str | None = None
    identity: Identity | None = None
    match: list[str] | None = None
    domain: list[Any] | None = None
    values: dict[str, Any] | None = None
    fields: dict[str, Any] | None = None
    archive: bool | None = None
    method: str | None = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    undo: UndoSpec | None = None
    depends_on: list[str] = Field(default_factory=list)
    chunk_size: ChunkSize | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    when: str | None = Field(default=None, min_length=1)
    lines: dict[str, Any] | None = None
    on_error: Literal["reject"] | None = None


STEP_KEYS = list(_StepSpec.model_fields)


class _LinesSpec(_Strict):
    """The raw keys of ``[steps.lines]``."""

    field: str = Field(min_length=1)
    source: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = None
    header: str = Field(min_length=1)
    key: str | None = None
    when: str | None = Field(default=None, min_length=1)
    fields: dict[str, Any] = Field(min_length=1)


class Lines(BaseModel):
    """``[steps.lines]``: one2many lines created with their header in the same call.

    ``field`` is the header's one2many field (``order_line``), ``source`` the
    lines' rows, ``header`` a template rendering the key of the header row a
    line belongs to, ``key`` the line's key within its header (default: its
    position), ``fields`` the line's field templates.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    field: str
    source: Source
    header: str
    key: str | None = None
    when: str | None = None
    fields: dict[str, Any]

    _renderers: dict[str, Renderer] = PrivateAttr(default_factory=dict)
    _header_renderer: Renderer | None = PrivateAttr(default=None)
    _key_renderer: Renderer | None = PrivateAttr(default=None)
    _when_renderer: Renderer | None = PrivateAttr(default=None)


LINES_SUFFIX = ":lines"  # ledger step id of a step's lines: "<step>:lines" (no step id has ':')


# The pydantic mypy plugin's synthetic __init__(**kwargs) clashes with the field
# named ``kwargs`` that the architecture contract requires.
class Step(BaseModel):  # type: ignore[no-redef]
    """One validated step; what the plan counts and the runner executes."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    model: str
    action: Action
    description: str | None = None
    identity: Identity
    match: list[str] = Field(default_factory=list)
    domain: list[Any] | None = None
    archive: bool = False
    method: str | None = None
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    undo: UndoSpec | None = None
    depends_on: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    chunk_size: ChunkSize | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    source: Source | None = None
    key: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    when: str | None = None
    lines: Lines | None = None
    on_error: Literal["reject"] | None = None  # rows Odoo refuses go to a reject file
    file: Path
    line: int

    _renderers: dict[str, Renderer] = PrivateAttr(default_factory=dict)
    # all of _renderers in one generated function (compiler.rowcode), if any is inlined
    _row_renderer: RowFn | None = PrivateAttr(default=None)
    _key_renderer: Renderer | None = PrivateAttr(default=None)
    _when_renderer: Renderer | None = PrivateAttr(default=None)
    _field_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def has_source(self) -> bool:
        """True when rows come from a file or inline records."""
        return self.source is not None

    @property
    def selector(self) -> Literal["rows", "domain", "model"]:
        """What the step works on: source rows, a domain, or the model itself."""
        if self.source is not None:
            return "rows"
        return "domain" if self.domain is not None else "model"

    @property
    def reversible(self) -> bool:
        """Calls without ``undo`` cannot be rolled back."""
        return self.action != "call" or self.undo is not None

    @property
    def row_fields(self) -> dict[str, Any]:
        """The raw templates rendered into ``Row.values`` (``values`` for update)."""
        return self.values if self.action == "update" else self.fields

    def field_line(self, name: str) -> int:
        """Line of a field template in the migration file (the step line if unknown)."""
        return self._field_lines.get(name, self.line)


class Migration(BaseModel):
    """One migration file, parsed and checked."""

    model_config = ConfigDict(frozen=True)

    version: int
    name: str
    path: Path
    description: str = ""
    checksum: str = ""
    # per file (the migration as shown, each source path): its own SHA-256
    parts: dict[str, str] = Field(default_factory=dict)
    # SHA-256 of the rendered step definitions (see project.definition_digest)
    definition: str = ""
    templated: bool = False
    sources: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)

    @property
    def reversible(self) -> bool:
        return all(step.reversible for step in self.steps)


def _step_lines(text: str) -> list[int]:
    return [
        i
        for i, line in enumerate(text.splitlines(), 1)
        if re.match(r"^\s*\[\[\s*steps\s*\]\]", line)
    ]


def domain_problem(domain: list[Any]) -> str | None:
    """Why ``domain`` is not an Odoo domain, or None (shape only, not field names)."""
    for term in domain:
        if term in ("&", "|", "!"):
            continue
        if not (isinstance(term, list) and len(term) == 3 and isinstance(term[0], str)):
            return (
                f"domain term {term!r} is not [field, operator, value] or '&', '|', '!'; "
                'write domain = [["field", "=", value], ...] (a list of lists)'
            )
        if not isinstance(term[1], str):
            return f"domain term {term!r}: the operator must be a string such as '=' or 'in'"
    return None


def _line_in_step(text: str, start: int, end: int | None, key: str) -> int:
    """Line of ``key`` within a step's lines: as a line's key first, then inside an inline table."""
    escaped = re.escape(key)
    own_line = re.compile(rf"^\s*(?:\"{escaped}\"|'{escaped}'|{escaped})\s*=")
    inline = re.compile(rf"[{{,]\s*(?:\"{escaped}\"|'{escaped}'|{escaped})\s*=")
    lines = text.splitlines()
    stop = min((end - 1) if end else len(lines), len(lines))
    for pattern in (own_line, inline):
        for number in range(start, stop + 1):
            if pattern.search(lines[number - 1]):
                return number
    return start


def parse_migration(
    *,
    path: Path,
    shown: str,
    version: int,
    name: str,
    text: str,
    templated: bool,
    root: Path,
    context: Mapping[str, Any],
    errors: list[MigrationFileError] | None = None,
    failed: set[str] | None = None,
    lookups: Lookups | None = None,
) -> Migration:
    """Parse rendered TOML ``text`` of one migration file into a :class:`Migration`.

    ``shown`` is the path used in messages; ``context`` holds ``vars`` and
    ``target`` for templates that do not depend on a row (domain, args).
    With an ``errors`` list, a bad step is appended there (its id to
    ``failed``) and parsing goes on with the next step; otherwise it raises.
    """
    failed = set() if failed is None else failed
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col, msg = toml_error_position(str(exc))
        at = f" at column {col}" if line and col else ""
        rendered = " (line numbers of the rendered file)" if templated else ""
        raise MigrationFileError(
            f"invalid TOML{at}{rendered}: {msg}; fix the syntax.", path=shown, line=line or None
        ) from exc
    except RecursionError:
        raise MigrationFileError(
            "arrays or tables are nested too deeply to read; flatten them", path=shown
        ) from None
    top_allowed = {"description", "steps"}
    extra = sorted(set(raw) - top_allowed)
    if extra:
        raise MigrationFileError(
            f"unknown top-level key '{extra[0]}'; allowed: description, [[steps]]",
            path=shown,
            line=key_line(text, None, extra[0]),
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise MigrationFileError(
            "'description' must be a string", path=shown, line=key_line(text, None, "description")
        )
    steps_raw = raw.get("steps", [])
    # A .toml.j2 may render no step for some vars or target (a module the target lacks):
    # it is then applied as a no-op. A plain .toml without a step is a mistake.
    if not isinstance(steps_raw, list) or (not steps_raw and not templated):
        raise MigrationFileError("a migration needs at least one [[steps]] table", path=shown)
    starts = _step_lines(text)
    steps: list[Step] = []
    for index, spec in enumerate(steps_raw):
        start = starts[index] if index < len(starts) else 1
        end = starts[index + 1] if index + 1 < len(starts) else None
        try:
            steps.append(_parse_step(spec, shown, path, text, start, end, root, context))
        except MigrationFileError as exc:
            if errors is None:
                raise
            errors.append(exc)
            if isinstance(spec, dict) and isinstance(spec.get("id"), str):
                failed.add(spec["id"])
    ids: dict[str, int] = {}
    for step in steps:
        if step.id in ids:
            raise MigrationFileError(
                f"step id '{step.id}' is used twice (first at line {ids[step.id]}); ids must "
                "be unique in the whole project",
                path=shown,
                line=step.line,
                step=step.id,
            )
        ids[step.id] = step.line
    sources = {s.source.path for s in steps if s.source is not None and s.source.path}
    sources |= {s.lines.source.path for s in steps if s.lines is not None and s.lines.source.path}
    named = lookups.named if lookups is not None else {}
    for file, line in lookup_files(text):
        declared = named.get(file)
        if declared is not None:  # [lookups.<name>] in zenoo.toml: its file is checked there
            sources.add(declared.file)
            continue
        if "/" not in file and "." not in file:
            known = ", ".join(sorted(named)) or "none"
            raise MigrationFileError(
                f"lookup('{file}', ...): no lookup table '{file}' is declared in zenoo.toml "
                f"(declared: {known}) and it is not a file path; add [lookups.{file}] with "
                "its file, or name a file such as 'data/map.csv'",
                path=shown,
                line=line,
            )
        try:
            resolved = resolve_inside(root, file)
        except ValueError as exc:
            raise MigrationFileError(
                f"lookup file: {exc}; keep mapping tables inside the project", path=shown, line=line
            ) from None
        if not resolved.is_file():
            raise MigrationFileError(
                f"lookup file {file} does not exist; create it or fix the name",
                path=shown,
                line=line,
            )
        sources.add(file)
    if lookups is not None:
        lookups.allow(file for file, _line in lookup_files(text))
    return Migration(
        version=version,
        name=name,
        path=path,
        description=description,
        templated=templated,
        sources=sorted(sources),
        steps=steps,
    )


def _parse_step(
    spec: Any,
    shown: str,
    path: Path,
    text: str,
    start: int,
    end: int | None,
    root: Path,
    context: Mapping[str, Any],
) -> Step:
    step_id = spec.get("id") if isinstance(spec, dict) else None
    sid = step_id if isinstance(step_id, str) else None

    def fail(message: str, key: str | None = None) -> MigrationFileError:
        line = _line_in_step(text, start, end, key) if key else start
        return MigrationFileError(message, path=shown, line=line, step=sid)

    if not isinstance(spec, dict):
        raise fail("each [[steps]] entry must be a table")
    try:
        raw = _StepSpec.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = next((str(p) for p in err["loc"] if isinstance(p, str)), None)
        message = "; ".join(describe_errors(exc, allowed=STEP_KEYS))
        if key in _EXAMPLES:
            message += f"; for example {_EXAMPLES[key]}"
        raise fail(message, key) from None
    if not STEP_ID_RE.match(raw.id):
        raise fail(f"step id {raw.id!r} may hold letters, digits, '_', '-' and '.' only", "id")
    if not MODEL_RE.match(raw.model):
        raise fail(f"model {raw.model!r} is not an Odoo model name like 'res.partner'", "model")

    given = {k for k in spec if spec[k] is not None}
    allowed = _ALLOWED[raw.action]
    for key in sorted(given - allowed):
        raise fail(
            f"key '{key}' is not allowed on a '{raw.action}' step; allowed: "
            f"{', '.join(sorted(allowed))}",
            key,
        )

    source = _parse_source(raw.source, raw.records, fail, root)
    action = raw.action
    match = list(raw.match or [])
    if raw.match is not None and not match:
        raise fail("'match' must list at least one Odoo field", "match")
    if action in ("create", "upsert"):
        if source is None:
            raise fail(
                f"a '{action}' step needs a source (source = {{ csv = ... }} or records = [...])"
            )
        if not raw.fields:
            raise fail(f"a '{action}' step needs [steps.fields] with at least one field", "fields")
        if action == "upsert" and not match:
            raise fail("an 'upsert' step needs match = [\"field\", ...] (its natural key)", "match")
    default: Identity = "xmlid" if action in ("create", "upsert") else "none"
    identity: Identity = raw.identity or ("fields" if raw.lines is not None else default)
    if identity == "fields" and not match:
        why = (
            "a step with [steps.lines] is created with create() and settled after a lost "
            "answer by searching its match fields: it "
            if raw.lines is not None and raw.identity is None
            else 'identity = "fields" '
        )
        raise fail(
            f'{why}needs match = [...] naming the fields to search (or identity = "none")',
            "identity",
        )
    if action == "update" and not raw.values:
        raise fail("an 'update' step needs values = { field = ... }", "values")
    if action in ("update", "delete") and raw.domain is None and not (match and source):
        raise fail(f"an '{action}' step needs domain = [...], or match = [...] with a source")
    if raw.domain is not None:
        problem = domain_problem(raw.domain)
        if problem:
            raise fail(problem, "domain")
    if raw.domain is not None and source is not None:
        raise fail("use either domain or a source (with match), not both", "domain")
    if source is not None and action in ("update", "delete", "call") and not match:
        raise fail(
            f"a '{action}' step with a source needs match = [...] to find each row's record",
            "match",
        )
    if action == "call" and not raw.method:
        raise fail("a 'call' step needs method = \"...\"", "method")
    if raw.method is not None and raw.method.startswith("_"):
        raise fail(f"method {raw.method!r} is private; Odoo refuses to call it remotely", "method")
    row_fields = raw.values if action == "update" else raw.fields
    if match and source is not None:
        missing = [m for m in match if m not in (row_fields or {})]
        if missing:
            where = "values" if action == "update" else "fields"
            raise fail(
                f"match field(s) {', '.join(missing)} must also appear in {where} so each row "
                "carries the value to match on",
                "match",
            )
    if source is None and raw.key is not None:
        raise fail("'key' only makes sense with a source", "key")
    if source is None and raw.when is not None:
        raise fail("'when' filters source rows; it needs a source or records", "when")
    if source is None and raw.on_error is not None:
        raise fail('on_error = "reject" sets rows aside; it needs a source or records', "on_error")

    try:
        domain = (
            compile_domain(raw.domain, "domain")({}, dict(context))
            if raw.domain is not None
            else None
        )
        args = compile_domain(raw.args or [], "args")({}, dict(context))
        kwargs_list = compile_domain([raw.kwargs or {}], "kwargs")({}, dict(context))
    except SpecError as exc:
        raise fail(exc.detail) from None
    except RenderError as exc:
        if exc.column is not None:
            raise fail(
                "domain, args and kwargs are rendered once, with vars and target only: "
                f"they cannot use row.{exc.column}; match rows with match = [...] instead",
                "domain" if raw.domain is not None else "args",
            ) from None
        raise fail(f"cannot render domain/args/kwargs: {exc.detail}") from None

    step = Step(
        id=raw.id,
        model=raw.model,
        action=action,
        description=raw.description,
        identity=identity,
        match=match,
        domain=domain,
        archive=bool(raw.archive),
        method=raw.method,
        args=args,
        kwargs=kwargs_list[0],
        undo=raw.undo,
        depends_on=list(raw.depends_on),
        references=sorted(
            {
                r
                for v in [*(row_fields or {}).values(), *_line_fields(raw.lines).values()]
                for r in collect_refs(v)
            }
        ),
        chunk_size=raw.chunk_size,
        context=dict(raw.context),
        source=source,
        key=raw.key,
        fields=dict(raw.fields or {}),
        values=dict(raw.values or {}),
        when=raw.when,
        on_error=raw.on_error,
        lines=_parse_lines(raw, identity, fail, root, text, start, end, shown, sid),
        file=path,
        line=start,
    )
    renderers: dict[str, Renderer] = {}
    lines: dict[str, int] = {}
    for name, value in (row_fields or {}).items():
        lines[name] = _line_in_step(text, start, end, name)
        try:
            renderers[name] = compile_value(value, name, root=root)
        except SpecError as exc:
            raise MigrationFileError(exc.detail, path=shown, line=lines[name], step=sid) from None
    step._renderers = renderers
    step._row_renderer = compile_row(row_fields or {}, renderers, root)
    step._field_lines = lines
    if raw.key is not None:
        try:
            step._key_renderer = compile_text(raw.key)
        except SpecError as exc:
            raise fail(exc.detail, "key") from None
    if raw.when is not None:
        if not has_template_syntax(raw.when):
            raise fail(
                f"when = {raw.when!r} is not a template; write a condition such as "
                + _EXAMPLES["when"],
                "when",
            )
        try:
            step._when_renderer = compile_text(raw.when)
        except SpecError as exc:
            raise fail(exc.detail, "when") from None
    return step


def _line_fields(lines: dict[str, Any] | None) -> dict[str, Any]:
    fields = (lines or {}).get("fields")
    return fields if isinstance(fields, dict) else {}


def _parse_lines(
    raw: _StepSpec,
    identity: Identity,
    fail: _Fail,
    root: Path,
    text: str,
    start: int,
    end: int | None,
    shown: str,
    sid: str | None,
) -> Lines | None:
    if raw.lines is None:
        return None
    try:
        spec = _LinesSpec.model_validate(raw.lines)
    except ValidationError as exc:
        message = "; ".join(describe_errors(exc, allowed=list(_LinesSpec.model_fields)))
        raise fail(
            f'[steps.lines]: {message}; for example field = "order_line", source = '
            '{ csv = "data/lines.csv" }, header = "{{ row.order_ref }}" and [steps.lines.fields]',
            "lines",
        ) from None
    if identity == "xmlid":
        raise fail(
            "a step with [steps.lines] creates each header and its lines in one create call, "
            'which cannot carry an external id: set identity = "fields" with match = [...] '
            '(so a lost answer is settled by searching), or identity = "none"',
            "identity",
        )
    source = _parse_source(spec.source, spec.records, fail, root, what="the lines' ")
    if source is None:
        raise fail("[steps.lines] needs a source (or records) for the line rows", "lines")
    lines = Lines(
        field=spec.field,
        source=source,
        header=spec.header,
        key=spec.key,
        when=spec.when,
        fields=dict(spec.fields),
    )

    def at(name: str) -> int:
        return _line_in_step(text, start, end, name)

    renderers: dict[str, Renderer] = {}
    try:
        for name, value in spec.fields.items():
            renderers[name] = compile_value(value, f"lines.{name}", root=root)
        lines._header_renderer = compile_text(spec.header)
        if spec.key is not None:
            lines._key_renderer = compile_text(spec.key)
        if spec.when is not None:
            lines._when_renderer = compile_text(spec.when)
    except SpecError as exc:
        raise MigrationFileError(
            exc.detail, path=shown, line=at(exc.key or "lines"), step=sid
        ) from None
    lines._renderers = renderers
    return lines


def _parse_source(
    source_spec: dict[str, Any] | None,
    records: list[dict[str, Any]] | None,
    fail: _Fail,
    root: Path,
    *,
    what: str = "",
) -> Source | None:
    if source_spec is not None and records is not None:
        raise fail(f"give {what}either source = {{...}} or records = [...], not both", "records")
    spec: dict[str, Any] | None = source_spec
    if records is not None:
        spec = {"records": records}
    if spec is None:
        return None
    kinds = [k for k in SOURCE_KINDS if k in spec]
    if len(kinds) != 1:
        raise fail(
            "source must name exactly one of csv, json, jsonl, xlsx, sql, odoo or records, e.g. "
            'source = { csv = "data/customers.csv" }',
            "source",
        )
    model = SOURCE_KINDS[kinds[0]]
    try:
        source: Source = model.model_validate(spec)
    except ValidationError as exc:
        raise fail(
            "; ".join(
                describe_errors(exc, allowed=[k for k in model.model_fields if k != "kind"])
            ).replace("json_path", "json"),
            "source",
        ) from None
    if isinstance(source, SqlSource) and (source.url_env is None) == (source.sqlite is None):
        raise fail(
            'an SQL source needs exactly one of url_env = "ENV_VAR" (the database URL, read '
            'from the environment) or sqlite = "data/legacy.sqlite"',
            "source",
        )
    if source.path is not None:
        try:
            resolved = resolve_inside(root, source.path)
        except ValueError as exc:
            raise fail(f"{exc}; keep data files inside the project", "source") from None
        if not resolved.is_file():
            raise fail(
                f"source file {source.path} does not exist; create it or fix the path", "source"
            )
    return source


__all__ = [
    "LINES_SUFFIX",
    "STEP_KEYS",
    "Action",
    "Identity",
    "Lines",
    "Migration",
    "Step",
    "UndoSpec",
    "parse_migration",
]
