"""``zenoo-etl status``, ``history`` and ``unlock``: read (and unlock) the ledger of a target.

Thin over :mod:`zenoo_etl.ledger`: each command resolves the project's target
and ledger url, opens the ledger, reads one scope and prints a rich table or,
with ``--json``, one object. A SQLite ledger that does not exist yet is not
created just to be read: it means nothing ran.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table

from zenoo_etl.cli.common import CommandEnv, common_options, emit_json, output_console, run
from zenoo_etl.cli.completion import complete_versions
from zenoo_etl.compiler import Project, load_config, load_project
from zenoo_etl.compiler.discover import discover
from zenoo_etl.errors import LockHeldError, MigrationFileError
from zenoo_etl.ledger import (
    DEFAULT_STALE_AFTER_SECONDS,
    Counts,
    LedgerScope,
    LockInfo,
    MigrationRecord,
    RunBy,
    mask_url,
    open_ledger,
    scope_key,
)
from zenoo_etl.ledger.open import sqlite_path

_STATUS_STYLE = {
    "pending": "yellow",
    "applying": "cyan",
    "applied": "green",
    "applied_with_rejects": "yellow",
    "failed": "red",
    "rolling_back": "bold magenta",
    "rolled_back": "magenta",
    "drift": "bold red",
    "invalid": "bold red",
}


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def by_json(by: RunBy | None) -> dict[str, Any] | None:
    """Who wrote a ledger row; None for rows from before ledger schema version 2."""
    return None if by is None else {"host": by.host, "user": by.user, "pid": by.pid}


def lock_json(info: LockInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "host": info.host,
        "pid": info.pid,
        "command": info.command,
        "started_at": _when(info.started_at),
        "heartbeat_at": _when(info.heartbeat_at),
        "stale": info.is_stale(DEFAULT_STALE_AFTER_SECONDS),
    }


@asynccontextmanager
async def _scope(
    root: Path, ledger_url: str, target_url: str, database: str
) -> AsyncIterator[LedgerScope | None]:
    """The target's ledger scope, or None when the SQLite ledger file does not exist."""
    if ledger_url.startswith("sqlite:"):
        path = sqlite_path(ledger_url, root)
        if isinstance(path, Path) and not path.exists():
            yield None
            return
    async with open_ledger(ledger_url, root) as ledger:
        yield ledger.scope(target_url, database)


def _target_head(name: str, url: str, database: str, ledger_url: str) -> dict[str, Any]:
    shown_url, shown_db = scope_key(url, database)
    return {"target": name, "url": shown_url, "database": shown_db, "ledger": mask_url(ledger_url)}


# -- status --------------------------------------------------------------------------


def status_rows(
    project: Project,
    records: list[MigrationRecord],
    broken: list[MigrationFileError] | None = None,
) -> list[dict[str, Any]]:
    """One entry per migration (files, then ledger rows whose file is gone), in version order.

    ``broken``: the problems of files that could not be loaded; each such file gets an
    ``invalid`` row (with what the ledger knows of it) whose error is the problem.
    """
    by_version = {r.version: r for r in records}
    rows: list[dict[str, Any]] = []
    root = project.root
    loaded = {m.version for m in project.migrations}
    problems = {e.path: str(e) for e in broken or [] if e.path}
    for item in discover(project.migrations_dir) if problems else []:
        shown = project.relative(item.path)
        if item.version in loaded or shown not in problems:
            continue
        record = by_version.pop(item.version, None)
        row = _status_row(item.version, item.slug, "invalid", record, shown)
        row["error"] = problems[shown]
        rows.append(row)
    for migration in project.migrations:
        record = by_version.pop(migration.version, None)
        status: str = "pending" if record is None else record.status
        if (
            record is not None
            and record.status == "applied"
            and record.checksum != migration.checksum
        ):
            status = "drift"
        try:
            shown = str(migration.path.relative_to(root))
        except ValueError:
            shown = str(migration.path)
        rows.append(_status_row(migration.version, migration.name, status, record, shown))
    for record in by_version.values():
        # In the ledger, no longer on disk: an applied one is drift too.
        gone: str = "drift" if record.status == "applied" else record.status
        rows.append(_status_row(record.version, record.name, gone, record, None))
    rows.sort(key=lambda r: int(r["version"]))
    return rows


def _status_row(
    version: int, name: str, status: str, record: MigrationRecord | None, file: str | None
) -> dict[str, Any]:
    applied = record is not None and record.status in ("applied", "applied_with_rejects")
    return {
        "version": version,
        "name": name,
        "status": status,
        "file": file,
        "applied_at": _when(record.finished_at) if record is not None and applied else None,
        "started_at": _when(record.started_at) if record else None,
        "finished_at": _when(record.finished_at) if record else None,
        "counts": (record.counts if record else Counts()).to_dict(),
        "checksum": record.checksum if record else None,
        "error": record.error if record else None,
        "by": by_json(record.by) if record else None,
    }


async def status_report(
    project: Project, broken: list[MigrationFileError] | None = None
) -> dict[str, Any]:
    """What ``status --json`` prints (``broken``: problems of files that did not load)."""
    target = project.target
    report = _target_head(
        project.target_name, target.url, target.database, project.config.ledger.url
    )
    async with _scope(project.root, project.config.ledger.url, target.url, target.database) as sc:
        records = [] if sc is None else await sc.migrations()
        lock = None if sc is None else await sc.lock_info()
    rows = status_rows(project, records, broken)
    # "applying" with nobody holding a live lock means that run died: say what to do.
    orphaned = lock is None or lock.is_stale(DEFAULT_STALE_AFTER_SECONDS)
    for row in rows:
        row["interrupted"] = row["status"] in ("applying", "rolling_back") and orphaned
    report["migrations"] = rows
    report["lock"] = lock_json(lock)
    return report


def _display_when(value: str | None) -> str:
    """An ISO timestamp as a table shows it: ``2026-11-27 04:02`` (UTC; --json has seconds)."""
    if not value:
        return "-"
    return value.replace("T", " ")[:16]


def _display_finished(started: str | None, finished: str | None) -> str:
    """The finish time, only ``HH:MM`` when it is the start's day: keeps the table narrow."""
    shown = _display_when(finished)
    if started and finished and started[:10] == finished[:10]:
        return shown[11:]
    return shown


def _display_by(by: dict[str, Any] | None) -> str:
    """``user@host`` with the host's first label (``--json`` has the full host and the pid);
    ``-`` for rows written before the ledger recorded it."""
    if by is None:
        return "-"
    return f"{by['user']}@{str(by['host']).split('.')[0]}"


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "-"


def _print_status(report: dict[str, Any]) -> None:
    console = output_console()
    table = Table(
        title=f"Target {report['target']} ({report['url']}, database {report['database']})",
        # No vertical rules and one space between columns: they fit 100 characters.
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    columns = ["version", "name", "status", "started (UTC)", "finished", "by", "counts"]
    for column in columns:
        table.add_column(
            column,
            no_wrap=column in {"version", "name", "status", "started (UTC)", "finished"},
            overflow="fold",  # a long user@host wraps instead of losing its end
        )
    notes: list[str] = []
    for row in report["migrations"]:
        style = _STATUS_STYLE.get(row["status"], "")
        table.add_row(
            f"{row['version']:04d}",
            row["name"],
            f"[{style}]{row['status']}[/]" if style else row["status"],
            _display_when(row["started_at"]),
            _display_finished(row["started_at"], row["finished_at"]),
            _display_by(row["by"]),
            _counts_text(row["counts"]),
        )
        note = _status_note(row)
        if note:
            notes.append(f"{row['version']:04d} {row['name']}: {note}")
    console.print(table)
    # Errors and notes go under the table, whole: in a column they would be squeezed.
    for note in notes:
        console.print(note, markup=False, highlight=False)
    _print_lock(console, report["lock"])


def _status_note(row: dict[str, Any]) -> str:
    if row["interrupted"] and row["status"] == "rolling_back":
        return (
            "rollback interrupted: rerun `zenoo-etl rollback` to finish it, "
            "or `zenoo-etl apply` to redo the migration"
        )
    if row["interrupted"]:
        return "interrupted: rerun `zenoo-etl apply` to resume, or roll back"
    return str(row["error"] or "")


def _print_lock(console: Console, lock: dict[str, Any] | None) -> None:
    if lock is None:
        console.print("Lock: free")
        return
    state = "stale" if lock["stale"] else "live"
    console.print(
        f"Lock: {state}, held by host {lock['host']} pid {lock['pid']} "
        f"({lock['command'] or '?'}) since {lock['started_at']}, "
        f"heartbeat {lock['heartbeat_at']}"
    )


@click.command("status")
@common_options
def status(env: CommandEnv) -> None:
    """Show each migration's status on the target: pending, applying, applied, failed,
    rolled_back or drift, with when it started and finished, who ran it
    (user@host:pid), counts, and who holds the lock."""

    async def go() -> dict[str, Any]:
        # A broken file does not hide the others: it gets an 'invalid' row with its problem.
        broken: list[MigrationFileError] = []
        project = load_project(env.project, env.target, env.vars, errors=broken)
        return await status_report(project, broken)

    report = run(env, go)
    if env.json_output:
        emit_json(report)
    elif not env.quiet:
        _print_status(report)


# -- history -------------------------------------------------------------------------


async def history_report(root: Path, target: str | None) -> dict[str, Any]:
    """What ``history --json`` prints: every event of the target, newest first.

    ``root`` is the absolute project folder.
    """
    config, name, target_config = load_config(root, target=target)
    url, database = target_config.url, target_config.database
    report = _target_head(name, url, database, config.ledger.url)
    async with _scope(root, config.ledger.url, url, database) as sc:
        events = [] if sc is None else await sc.history()
    report["events"] = [
        {
            "version": e.version,
            "name": e.name,
            "event": e.event,
            "at": _when(e.at),
            "counts": e.counts.to_dict(),
            "checksum": e.checksum,
            "error": e.error,
            "by": by_json(e.by),
        }
        for e in events
    ]
    return report


@click.command("history")
@click.option(
    "--version",
    "version",
    type=int,
    default=None,
    help="Only this migration.",
    shell_complete=complete_versions,
)
@common_options
def history(env: CommandEnv, version: int | None) -> None:
    """Show every ledger event of the target, newest first: begin, applied, failed,
    rolled_back, with times, who wrote it (user@host:pid) and counts."""
    root = env.project.absolute()
    report = run(env, lambda: history_report(root, env.target))
    if version is not None:
        report["events"] = [e for e in report["events"] if e["version"] == version]
    if env.json_output:
        emit_json(report)
        return
    if env.quiet:
        return
    table = Table(
        title=f"History of target {report['target']} ({report['url']})",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    for column in ("at (UTC)", "version", "name", "event", "by", "counts", "error"):
        table.add_column(
            column, no_wrap=column in {"at (UTC)", "version", "event"}, overflow="fold"
        )
    for e in report["events"]:
        style = _STATUS_STYLE.get(e["event"], "")
        table.add_row(
            _display_when(e["at"]),
            f"{e['version']:04d}",
            e["name"],
            f"[{style}]{e['event']}[/]" if style else e["event"],
            _display_by(e["by"]),
            _counts_text(e["counts"]) if e["event"] != "begin" else "",
            e["error"] or "",
        )
    output_console().print(table)


# -- unlock --------------------------------------------------------------------------


async def unlock_target(root: Path, target: str | None, force: bool) -> dict[str, Any]:
    """Release the target's lock if stale (or always with ``force``); say who held it.

    ``root`` is the absolute project folder.
    """
    config, name, target_config = load_config(root, target=target)
    url, database = target_config.url, target_config.database
    report = _target_head(name, url, database, config.ledger.url)
    report.update(released=False, lock=None)
    async with _scope(root, config.ledger.url, url, database) as sc:
        info = None if sc is None else await sc.lock_info()
        if sc is None or info is None:
            return report
        report["lock"] = lock_json(info)
        if not force and not info.is_stale(DEFAULT_STALE_AFTER_SECONDS):
            age = int(info.age_of_heartbeat().total_seconds())
            raise LockHeldError(
                f"The lock of target '{name}' is live: held by {info.describe()} "
                f"({age}s ago, stale after {int(DEFAULT_STALE_AFTER_SECONDS)}s). It is not "
                "released. If you are sure that run is gone, rerun with `zenoo-etl unlock --force`."
            )
        removed = await sc.force_unlock()
    report["released"] = removed is not None
    if removed is not None:
        report["lock"] = lock_json(removed)
    return report


@click.command("unlock")
@click.option("--force", is_flag=True, help="Release even a live lock (fresh heartbeat).")
@common_options
def unlock(env: CommandEnv, force: bool) -> None:
    """Release the target's lock when its holder is gone (stale heartbeat); a live lock
    needs --force. Prints who held it."""
    root = env.project.absolute()
    report = run(env, lambda: unlock_target(root, env.target, force))
    if env.json_output:
        emit_json(report)
        return
    if env.quiet:
        return
    lock = report["lock"]
    if lock is None:
        click.echo(f"Target '{report['target']}' is not locked; nothing to do.")
    else:
        click.echo(
            f"Released the lock of target '{report['target']}' held by host {lock['host']} "
            f"pid {lock['pid']} ({lock['command'] or '?'}) since {lock['started_at']}, "
            f"last heartbeat {lock['heartbeat_at']}."
        )


COMMANDS: list[click.Command] = [status, history, unlock]
