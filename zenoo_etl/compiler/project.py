"""A loaded project: config + target + migrations; row streaming and checksums.

:func:`load_project` reads ``zenoo.toml``, discovers, renders and parses every
migration, checks cross-migration rules (unique step ids, ``ref`` and
``depends_on`` naming known earlier steps) and computes checksums.
:func:`iter_rows` streams one step's source and renders its templates per row.

Choice for steps without a source: an ``update`` by ``domain`` yields exactly
one row (index 0, line None, key ``"domain"``) holding the rendered ``values``
so the runner writes them on every matched record; ``delete`` and ``call`` by
domain (or model-level calls) yield nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenoo_etl.compiler.config import (
    ProjectConfig,
    TargetConfig,
    check_lookup_files,
    load_config,
)
from zenoo_etl.compiler.discover import MigrationFile, discover
from zenoo_etl.compiler.j2file import render_file
from zenoo_etl.compiler.lookups import Lookups
from zenoo_etl.compiler.render import Renderer, RenderError, RowView, SkipRow
from zenoo_etl.compiler.rowcode import RowFn
from zenoo_etl.compiler.sources import (
    OdooSource,
    Source,
    SqlSource,
    iter_source,
    resolve_inside,
    source_label,
)
from zenoo_etl.compiler.steps import Migration, Step, parse_migration
from zenoo_etl.compiler.values import FieldValue, Row
from zenoo_etl.errors import MigrationFileError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Project:
    """Everything compiled from a project folder for one target."""

    root: Path
    config: ProjectConfig
    target_name: str
    target: TargetConfig
    vars: dict[str, Any]
    migrations: list[Migration]
    steps_by_id: dict[str, tuple[Migration, Step]] = field(default_factory=dict)
    lookups: Lookups | None = None

    @property
    def migrations_dir(self) -> Path:
        return self.root / self.config.project.migrations

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, POSIX style (for messages and plans)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def template_context(self) -> dict[str, Any]:
        """``vars``, ``target`` and ``lookup()`` as templates see them (no secrets)."""
        return _template_context(dict(self.vars), self.target_name, self.target, self.lookups)


def _template_context(
    vars: dict[str, Any], target_name: str, target: TargetConfig, lookups: Lookups | None = None
) -> dict[str, Any]:
    info = TargetInfo(name=target_name, url=target.url, database=target.database)
    if target.series is not None:
        info["version"] = target.series
        info["major"] = int(target.series.split(".")[0])
    context: dict[str, Any] = {"vars": vars, "target": info}
    if lookups is not None:
        context["lookup"] = lookups
    return context


class TargetInfo(dict[str, Any]):
    """``target`` as templates see it; a missing ``version`` says where to declare it."""

    def __missing__(self, key: str) -> Any:
        if key in ("version", "major"):
            name = self.get("name")
            raise RenderError(
                f"target.{key} is used, but target '{name}' has no version; add "
                f'version = "18.0" (the Odoo version its server runs) to [targets.{name}] '
                "in zenoo.toml"
            )
        raise KeyError(key)


@dataclass
class RowStats:
    """What :func:`iter_rows` left out of a step: rows filtered by ``when`` or a
    ``missing = "skip-row"`` cell (plan, apply and the ledger report them)."""

    filtered: int = 0
    lines: int = 0  # line rows given to the kept headers (steps with [steps.lines])


def load_project(
    project_dir: Path | str,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    errors: list[MigrationFileError] | None = None,
) -> Project:
    """Load and check a whole project; raises ``ConfigError`` / ``MigrationFileError``.

    With an ``errors`` list (``validate``), problems in migration files are
    collected there instead: a bad file or step is left out and loading goes
    on, so every problem can be reported at once. Config errors still raise.
    """
    root = Path(project_dir).absolute()
    env = os.environ if environ is None else environ
    config, target_name, target_config = load_config(root, target=target, environ=env)
    merged_vars: dict[str, Any] = {**config.vars, **dict(vars or {})}
    check_lookup_files(root, config.lookups)
    lookups = Lookups(root, config.lookups)
    context = _template_context(merged_vars, target_name, target_config, lookups)
    folder = root / config.project.migrations
    migrations: list[Migration] = []
    failed: set[str] = set()
    for item in discover(folder):
        try:
            migration = _load_migration(
                root, item, merged_vars, context, env, errors, failed, lookups
            )
        except MigrationFileError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        migrations.append(migration)
    for problem in _unknown_source_targets(root, migrations, config):
        if errors is None:
            raise problem
        errors.append(problem)
    steps_by_id = _check_cross_references(root, migrations, errors, failed)
    return Project(
        root=root,
        config=config,
        target_name=target_name,
        target=target_config,
        vars=merged_vars,
        migrations=migrations,
        steps_by_id=steps_by_id,
        lookups=lookups,
    )


def _load_migration(
    root: Path,
    item: MigrationFile,
    merged_vars: dict[str, Any],
    context: dict[str, Any],
    env: Mapping[str, str],
    errors: list[MigrationFileError] | None,
    failed: set[str],
    lookups: Lookups,
) -> Migration:
    shown = _shown(root, item.path)
    try:
        data = item.path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationFileError(f"cannot read the file: {exc}", path=shown) from None
    if item.templated:
        try:
            text = render_file(text, vars=merged_vars, target=context["target"], environ=env)
        except RenderError as exc:
            line, _, detail = exc.detail.partition(": ")
            if line.isdigit():
                raise MigrationFileError(detail, path=shown, line=int(line)) from None
            raise MigrationFileError(exc.detail, path=shown) from None
    migration = parse_migration(
        path=item.path,
        shown=shown,
        version=item.version,
        name=item.slug,
        text=text,
        templated=item.templated,
        root=root,
        context=context,
        errors=errors,
        failed=failed,
        lookups=lookups,
    )
    checksum, parts = checksums(root, shown, data, migration.sources)
    queried = [
        s.source
        for s in migration.steps
        if isinstance(s.source, SqlSource) and s.source.checksum_query
    ]
    if queried:
        from zenoo_etl.compiler.sql import query_checksum

        digest = hashlib.sha256(checksum.encode("ascii"))
        for source in queried:
            rows = query_checksum(source, root, env)
            digest.update(rows)
            parts[f"{source_label(source)} checksum_query"] = rows.hex()
        checksum = digest.hexdigest()
    return migration.model_copy(
        update={"checksum": checksum, "parts": parts, "definition": definition_digest(migration)}
    )


def _unknown_source_targets(
    root: Path, migrations: list[Migration], config: ProjectConfig
) -> list[MigrationFileError]:
    """Odoo sources naming a target zenoo.toml does not have."""
    found: list[MigrationFileError] = []
    for migration in migrations:
        for step in migration.steps:
            for source in (step.source, step.lines.source if step.lines else None):
                if isinstance(source, OdooSource) and source.odoo not in config.targets:
                    found.append(
                        MigrationFileError(
                            f"source odoo = {source.odoo!r} names no target of zenoo.toml "
                            f"(targets: {', '.join(config.targets)}); add [targets."
                            f"{source.odoo}] with its url, database and credentials",
                            path=_shown(root, migration.path),
                            line=step.line,
                            step=step.id,
                        )
                    )
    return found


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _check_cross_references(
    root: Path,
    migrations: list[Migration],
    errors: list[MigrationFileError] | None = None,
    failed: set[str] | None = None,
) -> dict[str, tuple[Migration, Step]]:
    known: dict[str, tuple[Migration, Step]] = {}
    for migration in migrations:
        for step in migration.steps:
            try:
                _check_step_references(root, migration, step, known, failed or set())
            except MigrationFileError as exc:
                if errors is None:
                    raise
                errors.append(exc)
            known.setdefault(step.id, (migration, step))
    return known


def _check_step_references(
    root: Path,
    migration: Migration,
    step: Step,
    known: dict[str, tuple[Migration, Step]],
    failed: set[str],
) -> None:
    shown = _shown(root, migration.path)
    if step.id in known:
        other_mig, other = known[step.id]
        raise MigrationFileError(
            f"step id '{step.id}' is already used by {_shown(root, other_mig.path)}:"
            f"{other.line}; step ids must be unique in the whole project",
            path=shown,
            line=step.line,
            step=step.id,
        )
    for dep in step.depends_on:
        if dep not in known and dep not in failed:
            raise MigrationFileError(
                f"depends_on names '{dep}', which is not an earlier step of this or "
                "an earlier migration; fix the id or move the step",
                path=shown,
                line=step.line,
                step=step.id,
            )
    for ref in step.references:
        target = known.get(ref)
        if target is None and ref in failed:
            continue  # already reported where that step is defined
        if target is None:
            hint = " (a step cannot reference itself)" if ref == step.id else ""
            raise MigrationFileError(
                f'reference {{ ref = "{ref}" }} names no earlier step of this or an '
                f"earlier migration{hint}; fix the id or reorder the steps",
                path=shown,
                line=step.line,
                step=step.id,
            )
        if target[1].action not in ("create", "upsert"):
            raise MigrationFileError(
                f"reference to step '{ref}', a '{target[1].action}' step; only create "
                "and upsert steps record ids that can be referenced",
                path=shown,
                line=step.line,
                step=step.id,
            )


def migration_checksum(root: Path, file_bytes: bytes, sources: list[str]) -> str:
    """SHA-256 of the migration file bytes plus each source file, streamed, in path order.

    Each source contributes its project-relative path too, so renaming a data
    file the migration reads is a change as well.
    """
    return checksums(root, "", file_bytes, sources)[0]


def checksums(
    root: Path, shown: str, file_bytes: bytes, sources: list[str]
) -> tuple[str, dict[str, str]]:
    """The migration checksum and, per file, its own SHA-256 (one read of each file).

    The per-file sums (``{shown: ..., source path: ...}``) let drift and
    stale-plan messages name the file that changed; the migration checksum
    stays the one recorded in ledgers since the first release.
    """
    digest = hashlib.sha256()
    digest.update(b"zenoo-migration\0")
    digest.update(file_bytes)
    parts = {shown: hashlib.sha256(file_bytes).hexdigest()}
    for relative in sorted(set(sources)):
        digest.update(b"\0source\0" + relative.encode("utf-8") + b"\0")
        own = hashlib.sha256()
        path = resolve_inside(root, relative)
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                own.update(chunk)
        parts[relative] = own.hexdigest()
    return digest.hexdigest(), parts


def definition_digest(migration: Migration) -> str:
    """SHA-256 of the rendered step definitions (what a ``.toml.j2`` file became).

    Two renders of one template with other ``vars`` (or ``env()`` values)
    differ here even though the template bytes, and so the checksum, do not.
    A digest, not the text: a rendered file may hold an ``env()`` secret.
    """
    steps = [
        step.model_dump(mode="json", exclude={"file", "line"}, by_alias=True)
        for step in migration.steps
    ]
    text = json.dumps(
        {"description": migration.description, "steps": steps}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Files whose sums differ between two ``parts`` maps (added and removed ones too)."""
    return sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))


def iter_rows(
    project: Project, migration: Migration, step: Step, stats: RowStats | None = None
) -> Iterator[Row]:
    """Stream the rendered rows of ``step``; bad data raises ``MigrationFileError``.

    Rows whose ``when`` is false, or with a ``missing = "skip-row"`` cell left
    empty, are not yielded; ``stats.filtered`` counts them. A step with
    ``[steps.lines]`` gives each row its lines (``Row.lines``); the lines are
    read first and grouped by header key (see :func:`_lines_by_header`).
    """
    base = project.template_context()
    stats = RowStats() if stats is None else stats
    shown_migration = project.relative(migration.path)
    if step.source is None:
        if step.action == "update":
            yield Row(
                0,
                None,
                "domain",
                _render_values(step._renderers, {}, base, step, shown_migration, None, 0),
            )
        return
    lines = _lines_by_header(project, migration, step, stats) if step.lines else None
    left_out: set[str] | None = set() if lines is not None else None
    rows = _source_rows(
        project,
        migration,
        step,
        step.source,
        step._renderers,
        step._key_renderer,
        step.key,
        step._when_renderer,
        None,
        stats,
        left_out=left_out,
        row_renderer=step._row_renderer,
    )
    for row, _header in rows:
        if lines is None:
            yield row
            continue
        found = lines.pop(row.key, [])
        stats.lines += len(found)
        yield Row(row.index, row.line, row.key, row.values, tuple(found))
    for key in left_out or ():
        stats.filtered += len(lines.pop(key, []) if lines else [])  # lines of a left-out header
    if lines:
        key, orphans = next(iter(lines.items()))
        spec = step.lines
        assert spec is not None
        first = orphans[0]
        raise MigrationFileError(
            f"line {first.key!r} names header {key!r}, which no kept row of the step's source "
            "has as its key; fix the line's header column, or the header's key template",
            path=_shown_source(project, migration, spec.source),
            line=first.line if first.line is not None else step.line,
            step=step.id,
            row=first.index + 1,
        )


def _shown_source(project: Project, migration: Migration, source: Source) -> str:
    if isinstance(source, SqlSource) or source.path is None:
        return project.relative(migration.path)
    return source.path


def _lines_by_header(
    project: Project, migration: Migration, step: Step, stats: RowStats
) -> dict[str, list[Row]]:
    """Every line row of ``step``, rendered and grouped under its header key.

    Lines are held in memory (documents are read whole, so each header can
    carry all its lines in one create); their keys are ``<header key>/<line
    key>``, the line key defaulting to the line's position within its header.
    """
    spec = step.lines
    assert spec is not None
    grouped: dict[str, list[Row]] = {}
    rows = _source_rows(
        project,
        migration,
        step,
        spec.source,
        spec._renderers,
        spec._key_renderer,
        spec.key,
        spec._when_renderer,
        spec._header_renderer,
        stats,
        prefix="lines.",
    )
    seen: set[str] = set()
    for row, header in rows:
        assert header is not None
        group = grouped.setdefault(header, [])
        own = row.key if spec.key is not None else str(len(group) + 1)
        key = f"{header}/{own}"
        if key in seen:
            raise MigrationFileError(
                f"line key {own!r} is used twice under header {header!r}; line keys must be "
                "unique within their header",
                path=_shown_source(project, migration, spec.source),
                line=row.line if row.line is not None else step.line,
                step=step.id,
                row=row.index + 1,
            )
        seen.add(key)
        group.append(Row(row.index, row.line, key, row.values))
    return grouped


def _source_rows(
    project: Project,
    migration: Migration,
    step: Step,
    source: Source,
    renderers: Mapping[str, Renderer],
    key_renderer: Renderer | None,
    key_text: str | None,
    when_renderer: Renderer | None,
    header_renderer: Renderer | None,
    stats: RowStats,
    *,
    prefix: str = "",
    left_out: set[str] | None = None,
    row_renderer: RowFn | None = None,
) -> Iterator[tuple[Row, str | None]]:
    """Rendered rows of one source (a step's, or its lines'), with the header key of each.

    With ``left_out``, the keys of filtered rows are collected there (best effort:
    a key that does not render is not collected), so their lines can be left out too.
    ``row_renderer`` renders all of ``renderers`` at once (see :func:`_render_values`).
    """
    base = project.template_context()
    # Rows of a file are located in that file; query rows and inline records at the step.
    source_path = None if isinstance(source, SqlSource) else source.path
    shown = source_path if source_path is not None else project.relative(migration.path)
    ctx = dict(base)
    for index, line, cells in iter_source(source, project.root, migration.path):
        where_line = line if source_path is not None else step.line
        ctx["row"] = RowView(cells)
        if when_renderer is not None:
            try:
                keep = truthy(when_renderer(cells, ctx))
            except RenderError as exc:
                raise _row_error(exc, f"{prefix}when", shown, where_line, step, index) from None
            if not keep:
                stats.filtered += 1
                _note_left_out(left_out, key_renderer, cells, ctx)
                continue
        try:
            values = _render_values(
                renderers, cells, ctx, step, shown, where_line, index, prefix, row_renderer
            )
        except SkipRow:
            stats.filtered += 1
            _note_left_out(left_out, key_renderer, cells, ctx)
            continue
        header: str | None = None
        if header_renderer is not None:
            header = _render_key(
                header_renderer, cells, ctx, "header", shown, where_line, step, index, prefix
            )
        if key_renderer is None:
            key = str(index + 1)
        else:
            try:  # most keys render as text; anything else (or an error): _render_key
                rendered = key_renderer(cells, ctx)
            except RenderError:
                rendered = None
            if type(rendered) is str:
                key = rendered
            else:
                key = _render_key(
                    key_renderer,
                    cells,
                    ctx,
                    "key",
                    shown,
                    where_line,
                    step,
                    index,
                    prefix,
                    key_text,
                )
        yield Row(index, line, key, values), header


def _note_left_out(
    left_out: set[str] | None,
    key_renderer: Renderer | None,
    cells: Mapping[str, Any],
    ctx: dict[str, Any],
) -> None:
    if left_out is None or key_renderer is None:
        return
    try:
        key = key_renderer(cells, ctx)
    except RenderError:
        return
    if key is not False and key is not None and not isinstance(key, list):
        left_out.add(str(key))


def _render_key(
    renderer: Renderer,
    cells: Mapping[str, Any],
    ctx: dict[str, Any],
    what: str,
    shown: str,
    line: int | None,
    step: Step,
    index: int,
    prefix: str,
    text: str | None = None,
) -> str:
    try:
        rendered = renderer(cells, ctx)
    except RenderError as exc:
        raise _row_error(exc, f"{prefix}{what}", shown, line, step, index) from None
    if rendered is False or rendered is None or isinstance(rendered, list):
        shown_template = f" {text!r}" if text else ""
        raise MigrationFileError(
            f"{prefix}{what} template{shown_template} renders empty; every row needs a {what}",
            path=shown,
            line=line,
            step=step.id,
            row=index + 1,
        )
    return str(rendered)


def iter_keys(
    project: Project, migration: Migration, step: Step
) -> Iterator[tuple[int, int | None, str]]:
    """(index, line, key) of each row :func:`iter_rows` keeps (filtered rows are left out)."""
    if step.source is None:
        return
    for row in iter_rows(project, migration, step):
        yield row.index, row.line, row.key


def iter_key_rows(project: Project, migration: Migration, step: Step) -> Iterator[Row]:
    """Rows of ``step`` with only the key rendered (``values`` empty): a cheap pass.

    ``when`` still filters; a ``missing = "skip-row"`` cell, which only a field
    template finds, does not (such a row is yielded here). A step with
    ``[steps.lines]`` is read fully, as :func:`iter_rows` does.
    """
    if step.source is None or step.lines:
        yield from iter_rows(project, migration, step)
        return
    rows = _source_rows(
        project,
        migration,
        step,
        step.source,
        {},
        step._key_renderer,
        step.key,
        step._when_renderer,
        None,
        RowStats(),
    )
    for row, _header in rows:
        yield row


_FALSE_TEXT = frozenset({"", "0", "false", "no", "n", "off"})


def truthy(value: FieldValue) -> bool:
    """Whether a rendered ``when`` keeps its row: Python truth, and text like
    ``"false"``, ``"no"`` or ``"0"`` (a cell rendered as text) counts as false."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXT
    return bool(value)


def _render_values(
    renderers: Mapping[str, Any],
    cells: Mapping[str, Any],
    ctx: dict[str, Any],
    step: Step,
    shown: str,
    line: int | None,
    index: int,
    prefix: str = "",
    row_renderer: RowFn | None = None,
) -> dict[str, FieldValue]:
    if row_renderer is not None:
        try:
            return row_renderer(cells, ctx)
        except Exception:
            pass  # the renderers below word (or skip) this row
    values: dict[str, FieldValue] = {}
    for name, render in renderers.items():
        try:
            values[name] = render(cells, ctx)
        except RenderError as exc:
            raise _row_error(exc, f"{prefix}{name}", shown, line, step, index) from None
    return values


def _row_error(
    exc: RenderError, field_name: str, shown: str, line: int | None, step: Step, index: int
) -> MigrationFileError:
    if exc.column is not None:
        detail = (
            f"field '{field_name}' uses column '{exc.column}', which this row does not have; "
            "fix the column name in the template or the source header"
        )
    else:
        # a reference error names its path ('country_id': ...); the field is said once
        detail = f"field '{field_name}': {exc.detail.removeprefix(repr(field_name) + ': ')}"
    return MigrationFileError(detail, path=shown, line=line, step=step.id, row=index + 1)


__all__ = [
    "Project",
    "RowStats",
    "changed_parts",
    "checksums",
    "definition_digest",
    "iter_key_rows",
    "iter_keys",
    "iter_rows",
    "load_project",
    "migration_checksum",
]
