"""``zenoo.toml``: the project configuration, its models and its loader.

Owns the file format of DESIGN.md section 3 (``[project]``, ``[vars]``,
``[targets.*]``, ``[ledger]``, ``[runner]``, ``[lookups.*]``), the environment overrides
(``ZENOO_TARGET``, ``ZENOO_LEDGER_URL``) and target selection.

Secrets: a literal ``password`` is only accepted for ``sandbox:`` targets (the
embedded server's well-known ``admin``); real targets name environment
variables, read lazily by :meth:`TargetConfig.credentials`. The literal is
excluded from serialisation and repr so it never reaches a plan or a log.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from zenoo_etl.compiler.locate import describe_errors, key_line, last_key, toml_error_position
from zenoo_etl.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILE = "zenoo.toml"
SANDBOX_SCHEME = "sandbox:"
SANDBOX_VERSIONS = ("18.0", "19.0")  # zenoo_etl.sandbox.VERSIONS (not imported: layering)

DEFAULT_CONTEXT: dict[str, Any] = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSection(_Strict):
    """``[project]``."""

    name: str = Field(min_length=1)
    # The project's identity on a target: part of every external id it creates, so
    # two projects on one database never share one. Written by `init`; never
    # change it once something is applied. None: the pre-0.2 names (no project part).
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
    migrations: str = "migrations"


class TargetConfig(_Strict):
    """``[targets.<name>]``: where and how to connect. Holds no secret value."""

    name: str = ""
    url: str = Field(min_length=1)
    database: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: str | None = Field(default=None, exclude=True, repr=False)
    password_env: str | None = None
    api_key_env: str | None = None
    protocol: Literal["auto", "jsonrpc", "json2"] = "auto"
    # The Odoo series ("18.0", "19.0"): templates branch on it (target.version,
    # target.major); a real server running another series is refused at login.
    # Sandbox targets serve it (default 18.0).
    version: str | None = Field(default=None, pattern=r"^\d{1,3}\.\d$")
    verify_tls: bool = True
    ca_bundle: str | None = None

    _root: Path = PrivateAttr(default_factory=Path)

    @model_validator(mode="after")
    def _secrets_from_environment(self) -> TargetConfig:
        if self.password is not None and not self.url.startswith(SANDBOX_SCHEME):
            raise ValueError(
                "a literal 'password' is allowed only for sandbox: targets; put the secret "
                "in an environment variable and name it with password_env or api_key_env"
            )
        if self.url.startswith(SANDBOX_SCHEME) and not self.url[len(SANDBOX_SCHEME) :].strip():
            raise ValueError("a sandbox url needs a database file: 'sandbox:.zenoo/sandbox.db'")
        if self.url.startswith(SANDBOX_SCHEME) and self.version not in (None, *SANDBOX_VERSIONS):
            raise ValueError(
                f"the sandbox serves version {' or '.join(SANDBOX_VERSIONS)}, not {self.version!r}"
            )
        return self

    @property
    def series(self) -> str | None:
        """The Odoo series templates see: the declared one, 18.0 for a sandbox, else None."""
        if self.version is None and self.is_sandbox:
            return SANDBOX_VERSIONS[0]
        return self.version

    @property
    def is_sandbox(self) -> bool:
        """True for ``sandbox:FILE`` targets served by the embedded server."""
        return self.url.startswith(SANDBOX_SCHEME)

    @property
    def sandbox_db_path(self) -> Path | None:
        """The sandbox database file, resolved against the project root."""
        if not self.is_sandbox:
            return None
        raw = Path(self.url[len(SANDBOX_SCHEME) :].strip())
        return raw if raw.is_absolute() else self._root / raw

    @property
    def ca_bundle_path(self) -> str | None:
        """``ca_bundle`` resolved against the project root (None when unset)."""
        if not self.ca_bundle:
            return None
        raw = Path(self.ca_bundle).expanduser()
        return str(raw if raw.is_absolute() else self._root / raw)

    def credentials(self) -> tuple[str | None, str | None]:
        """(password, api_key) read from the environment now; never logged.

        Sandbox targets default to the embedded server's ``admin`` password.
        """
        password: str | None = self.password
        api_key: str | None = None
        if self.password_env:
            password = _require_env(self.password_env, self.name, "password_env")
        if self.api_key_env:
            api_key = _require_env(self.api_key_env, self.name, "api_key_env")
        if password is None and api_key is None and self.is_sandbox:
            password = "admin"
        if password is None and api_key is None:
            raise ConfigError(
                f"{CONFIG_FILE}: target '{self.name}' has no credentials; set password_env "
                "or api_key_env to the name of an environment variable holding the secret."
            )
        return password, api_key


def _require_env(variable: str, target: str, key: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(
            f"{CONFIG_FILE}: target '{target}' reads its secret from the environment "
            f"variable {variable} ({key}), which is not set; export it before running."
        )
    return value


class LedgerConfig(_Strict):
    """``[ledger]``."""

    url: str = "sqlite:///.zenoo/ledger.db"


CHUNK_SIZE_LIMIT = 100_000
CONCURRENCY_LIMIT = 64


@dataclass(frozen=True)
class Bounds:
    """What the runner may choose for a tuned setting: from ``start``, within
    ``low..high``; a fixed setting has the three equal."""

    low: int
    start: int
    high: int

    @property
    def fixed(self) -> bool:
        return self.low == self.high


class _Range(_Strict):
    min: int | None = None
    max: int | None = None
    start: int | None = None

    # subclasses: the defaults and the largest value allowed
    _low: ClassVar[int]
    _start: ClassVar[int]
    _high: ClassVar[int]
    _limit: ClassVar[int]

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        for name in ("min", "max", "start"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= self._limit:
                raise ValueError(f"'{name}' must be between 1 and {self._limit:,}, not {value}")
        b = self.bounds()
        if b.low > b.high:
            raise ValueError(f"'min' ({b.low}) is larger than 'max' ({b.high})")
        if self.start is not None and not b.low <= self.start <= b.high:
            raise ValueError(f"'start' ({self.start}) is not between 'min' and 'max'")
        return self

    def bounds(self, default_start: int | None = None) -> Bounds:
        low = self.min if self.min is not None else min(self._low, self.max or self._low)
        high = self.max if self.max is not None else max(self._high, low)
        first = self._start if default_start is None else default_start
        start = self.start if self.start is not None else min(max(first, low), high)
        return Bounds(low, start, high)


class ChunkSizeRange(_Range):
    """``chunk_size = { min = 50, max = 1000 }``: tuned during each step within bounds.

    Without a ``start``, a step begins with 500 records per call: a call costs a
    real Odoo ~14 ms on top of its records (~0.5-2 ms each), and naming the
    records of identity ``xmlid`` ~7 ms more, so chunks of 200 paid ~5 % of the
    server's time in fixed costs, 500 pay ~2 % (bench/call_cost.py). A step
    with lines begins with :data:`LINES_START`, each record bringing its lines.
    """

    _low = 20
    _start = 500
    _high = 1000
    _limit = CHUNK_SIZE_LIMIT


class ConcurrencyRange(_Range):
    """``concurrency = { min = 1, max = 8 }``: tuned during each step within bounds."""

    _low = 1
    _start = 4
    _high = 4
    _limit = CONCURRENCY_LIMIT


def _setting(kind: type[_Range], what: str, example: str) -> Any:
    """Validate ``auto``, a whole number (fixed) or a ``{ min, max, start }`` table."""

    def check(value: Any) -> Any:
        if value == "auto" or isinstance(value, kind):
            return value
        if isinstance(value, dict):
            try:
                return kind.model_validate(value)
            except ValidationError as exc:
                parts = describe_errors(exc, allowed=list(_Range.model_fields))
                parts = [p.removeprefix("key '(top level)': ") for p in parts]
                raise ValueError("; ".join(parts)) from None
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= kind._limit:
                raise ValueError(
                    f'must be between 1 and {kind._limit:,} {what} (or "auto"), not {value}'
                )
            return value
        raise ValueError(
            f'must be "auto" (tuned while running, the default), a whole number of {what} '
            f"(fixed) or bounds for the tuning such as {example}, not {value!r}"
        )

    return BeforeValidator(check)


ChunkSize = Annotated[
    int | Literal["auto"] | ChunkSizeRange,
    _setting(ChunkSizeRange, "records per call", "{ min = 50, max = 1000 }"),
]
Concurrency = Annotated[
    int | Literal["auto"] | ConcurrencyRange,
    _setting(ConcurrencyRange, "calls in flight", "{ min = 1, max = 8 }"),
]


LINES_START = 200  # the first chunk size of a tuned step with lines (records per call)


def chunk_bounds(value: int | str | ChunkSizeRange, *, lines: bool = False) -> Bounds:
    """The chunk sizes a setting allows (``auto``: the defaults of :class:`ChunkSizeRange`);
    ``lines``: the step creates lines with its records (a smaller first chunk)."""
    if isinstance(value, int):
        return Bounds(value, value, value)
    tuned = value if isinstance(value, ChunkSizeRange) else ChunkSizeRange()
    return tuned.bounds(LINES_START if lines else None)


def concurrency_bounds(value: int | str | ConcurrencyRange) -> Bounds:
    """The numbers of calls in flight a setting allows."""
    if isinstance(value, int):
        return Bounds(value, value, value)
    return (value if isinstance(value, ConcurrencyRange) else ConcurrencyRange()).bounds()


class RunnerConfig(_Strict):
    """``[runner]``: chunking, concurrency, retries and the default RPC context."""

    chunk_size: ChunkSize = "auto"
    concurrency: Concurrency = "auto"
    retries: int = Field(default=5, ge=0, le=100)
    timeout: float = Field(default=120, gt=0)
    on_error: Literal["rollback", "stop"] = "rollback"
    context: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_CONTEXT))


class LookupTable(_Strict):
    """``[lookups.<name>]``: a mapping table templates read as ``lookup('<name>', key)``.

    ``key`` is the column holding the keys (default: the first), ``value`` the
    column returned (default: the whole row), ``default`` what a key missing from
    the table gives (without it, a missing key is an error). TOML has no null, so
    ``default = None`` means "not given".
    """

    file: str = Field(min_length=1)
    key: str | None = Field(default=None, min_length=1)
    value: str | None = Field(default=None, min_length=1)
    default: str | int | float | bool | None = None
    _line: int | None = PrivateAttr(default=None)
    _file_line: int | None = PrivateAttr(default=None)

    @property
    def declared_at(self) -> str:
        """Where the table is declared, for messages: ``zenoo.toml:12``."""
        return f"{CONFIG_FILE}:{self._line}" if self._line else CONFIG_FILE


class ProjectConfig(_Strict):
    """The whole ``zenoo.toml``."""

    project: ProjectSection
    vars: dict[str, Any] = Field(default_factory=dict)
    targets: dict[str, TargetConfig] = Field(min_length=1)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    runner: RunnerConfig = Field(default_factory=RunnerConfig)
    lookups: dict[str, LookupTable] = Field(default_factory=dict)


_ALLOWED = {
    None: ["project", "vars", "targets", "ledger", "runner", "lookups"],
    "lookups": list(LookupTable.model_fields),
    "project": list(ProjectSection.model_fields),
    "ledger": list(LedgerConfig.model_fields),
    "runner": list(RunnerConfig.model_fields),
    "targets": [k for k in TargetConfig.model_fields if k != "name"],
}


def _table_of(loc: tuple[int | str, ...]) -> str | None:
    parts = [str(p) for p in loc[:-1]]
    return ".".join(parts) if parts else None


def load_config(
    root: Path,
    *,
    target: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ProjectConfig, str, TargetConfig]:
    """Read ``root/zenoo.toml``; return (config, chosen target name, target).

    ``target`` (the --target flag) beats ``ZENOO_TARGET``, which beats the
    first target of the file. ``ZENOO_LEDGER_URL`` replaces ``[ledger] url``.
    """
    env = os.environ if environ is None else environ
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; run the command inside a zenoo-etl project, "
            "pass --project DIR, or create one with 'zenoo-etl init'."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col, msg = toml_error_position(str(exc))
        where = f"{path}:{line}:{col}" if line else str(path)
        raise ConfigError(f"{where}: invalid TOML: {msg}; fix the syntax.") from exc
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables are nested too deeply to read.") from None

    ledger_url = env.get("ZENOO_LEDGER_URL")
    if ledger_url:
        ledger = raw.get("ledger")
        raw["ledger"] = {**(ledger if isinstance(ledger, dict) else {}), "url": ledger_url}
    targets = raw.get("targets")
    if isinstance(targets, dict):
        for tname, spec in targets.items():
            if isinstance(spec, dict) and "name" in spec:
                line = key_line(text, f"targets.{tname}", "name")
                where = f"{path}:{line}" if line else str(path)
                raise ConfigError(
                    f"{where}: unknown key 'targets.{tname}.name'; a target's name is its "
                    f"table name ([targets.{tname}]), remove the key."
                )
        # The table name is the target's name; inject it so the model carries it.
        raw["targets"] = {
            name: ({**spec, "name": name} if isinstance(spec, dict) else spec)
            for name, spec in targets.items()
        }
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(path, text, exc) from None

    for tconf in config.targets.values():
        tconf._root = root
    _check_lookups(root, path, text, config.lookups)

    chosen = target or env.get("ZENOO_TARGET") or next(iter(config.targets))
    if chosen not in config.targets:
        source = "--target" if target else "ZENOO_TARGET"
        raise ConfigError(
            f"{path}: target '{chosen}' (from {source}) is not defined; "
            f"known targets: {', '.join(config.targets)}. Fix the name or add [targets.{chosen}]."
        )
    return config, chosen, config.targets[chosen]


_LOOKUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _check_lookups(root: Path, path: Path, text: str, tables: Mapping[str, LookupTable]) -> None:
    """Names that cannot be mistaken for files; where each table is declared."""
    for name, table in tables.items():
        table._line = key_line(text, f"lookups.{name}", None)
        table._file_line = key_line(text, f"lookups.{name}", "file") or table._line
        if not _LOOKUP_NAME.match(name):
            raise ConfigError(
                f"{path}:{table._line or 1}: lookup table name '{name}' must be letters, digits, "
                "'_' or '-' (no '.' or '/': lookup() takes a file path too), e.g. "
                "[lookups.countries]."
            )


def check_lookup_files(root: Path, tables: Mapping[str, LookupTable]) -> None:
    """Every ``[lookups]`` file is inside the project and exists (when the project loads;
    commands reading only the configuration do not need the data)."""
    path = root / CONFIG_FILE
    for name, table in tables.items():
        where = f"{path}:{table._file_line or 1}"
        resolved = (root / table.file).resolve()
        if not resolved.is_relative_to(root.resolve()):
            raise ConfigError(
                f"{where}: [lookups.{name}] file '{table.file}' is outside the project "
                "folder; keep mapping tables inside the project."
            )
        if not resolved.is_file():
            raise ConfigError(
                f"{where}: [lookups.{name}] file '{table.file}' does not exist; create it or "
                "fix the path (relative to the project folder)."
            )


def _config_error(path: Path, text: str, exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    key = last_key(loc)
    table = _table_of(loc)
    line = key_line(text, table, key) if key else None
    if first["type"] == "value_error" and "password" in first["msg"]:
        line = key_line(text, ".".join(map(str, loc)) or None, "password") or line
    elif first["type"] == "value_error":
        line = key_line(text, ".".join(map(str, loc)) or None, None) or line
    section = str(loc[0]) if loc and loc[0] in _ALLOWED else None
    allowed = _ALLOWED.get(section if len(loc) > 1 else None, [])
    if section == "vars":
        allowed = []
    parts = describe_errors(exc, allowed=allowed)
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(f"{where}: {'; '.join(parts)}.")


__all__ = [
    "CONFIG_FILE",
    "DEFAULT_CONTEXT",
    "Bounds",
    "ChunkSize",
    "ChunkSizeRange",
    "Concurrency",
    "ConcurrencyRange",
    "LedgerConfig",
    "LookupTable",
    "ProjectConfig",
    "ProjectSection",
    "RunnerConfig",
    "TargetConfig",
    "check_lookup_files",
    "chunk_bounds",
    "concurrency_bounds",
    "load_config",
]
