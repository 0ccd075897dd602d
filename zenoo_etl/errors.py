"""The one exception root of zenoo-etl, and the exit codes the CLI maps it to.

Every error the package raises on purpose derives from :class:`ZenooError`.
Lower layers add their own subclasses (``client/errors.py`` for the RPC
client), but all of them carry an ``exit_code`` so the CLI maps them once::

    ZenooError                      exit 1 unless a subclass says otherwise
    ├── UsageError                  exit 2  bad flags, bad config, bad migration file
    │   ├── ConfigError             zenoo.toml and environment
    │   └── MigrationFileError      a migration file or its source data (file, line)
    ├── LockHeldError               exit 3  another apply/rollback holds the target
    │   └── LockLostError           this run lost its lock: it stopped writing
    ├── DriftError                  exit 4  an applied migration's checksum changed
    ├── MigrationFailed             exit 1  a step failed; rolled back or stopped
    ├── ValidationError             exit 1  values refused: by a check before sending
    │                                       (batch validators, your own code) or by Odoo
    └── client.errors.ClientError   exit 1  RPC faults (see that module's docstring)

Odoo's own refusals (``client.errors.ValidationError``) and the batch layer's
(``batch.errors.BatchValidationError``) both derive from ``ValidationError``,
so ``except ValidationError`` catches values refused anywhere.

Messages are one paragraph: what failed, where, and what to do next.
They never contain secrets.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_DRIFT = 4


class ZenooError(Exception):
    """Root of every error zenoo-etl raises on purpose."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(ZenooError):
    """Values were refused before anything was sent, or by Odoo (then also an ``OdooError``).

    Raise it from your own checks: its message is yours alone, it does not
    claim that Odoo answered.
    """


class UsageError(ZenooError):
    """Bad command-line usage, configuration or input file (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """zenoo.toml or an environment override is invalid."""


class MigrationFileError(UsageError):
    """A migration file, or a source file it reads, is invalid.

    ``path`` and ``line`` say where; ``step`` and ``row`` narrow it down when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        step: str | None = None,
        row: int | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(f"{path}:{line}" if line is not None else path)
        if step is not None:
            where.append(f"step '{step}'")
        if row is not None:
            where.append(f"row {row}")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full)
        self.path = path
        self.line = line
        self.step = step
        self.row = row
        self.detail = message


class LockHeldError(ZenooError):
    """Another run holds the lock of this target (exit 3)."""

    exit_code = EXIT_LOCKED


class LockLostError(LockHeldError):
    """This run held the lock and lost it (taken over or force-unlocked); it stopped
    writing at once (exit 3)."""


class DriftError(ZenooError):
    """An applied migration's file or data changed since it was applied (exit 4)."""

    exit_code = EXIT_DRIFT


class MigrationFailed(ZenooError):
    """A migration failed while applying or rolling back (exit 1)."""

    exit_code = EXIT_FAILED
