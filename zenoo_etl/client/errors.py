"""Every error the RPC client raises, and the one place Odoo's error payloads become them.

The hierarchy (all under :class:`zenoo_etl.errors.ZenooError`)::

    ClientError                       root of the client's errors
    ├── ClientClosedError             the client was closed; make a new one
    ├── TransportError                no usable answer came back
    │   ├── ConnectError              the request was never sent (refused, DNS, TLS)
    │   ├── RequestTimeout            no answer in time; the request may have reached Odoo
    │   ├── ConnectionLostError       connection dropped after sending; may have reached Odoo
    │   ├── BadResponseError          an answer that is neither a result nor an Odoo error
    │   └── OutcomeUnknownError       a non-idempotent call (create, load, ...) may or may
    │                                 not have been committed: the caller must reconcile
    └── OdooError                     Odoo answered with an error (``odoo_name`` = data.name)
        ├── AuthenticationError       AccessDenied, bad API key, login returned false
        ├── AccessError               ACL / record rules / private methods
        ├── ValidationError           constraints, including converted SQL errors
        ├── MissingRecordError        MissingError: record deleted or never existed
        ├── OdooUserError             UserError and RedirectWarning (business refusals)
        ├── ConcurrencyError          serialization failure, lock, deadlock (transient)
        └── ServerError               ValueError, AttributeError, anything else

:func:`odoo_error_from_payload` is the only function that turns an Odoo error
payload (``error.data`` of JSON-RPC, the body of a JSON-2 error) into one of
these classes; the transport is the only place aiohttp exceptions are turned
into :class:`TransportError` subclasses. Messages never contain the password
or API key: :func:`scrub` removes them from any text that came from the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zenoo_etl.errors import ValidationError as RefusedValues
from zenoo_etl.errors import ZenooError


class ClientError(ZenooError):
    """Root of every error the Odoo client raises."""


class ClientClosedError(ClientError):
    """The client has been closed; it cannot be used again."""


class TransportError(ClientError):
    """The HTTP exchange failed: there is no usable answer."""


class ConnectError(TransportError):
    """The request was not sent (connection refused, name resolution, TLS handshake)."""


class RequestTimeout(TransportError):
    """No answer within the timeout; the request may have reached the server."""


class ConnectionLostError(TransportError):
    """The connection dropped after the request was (possibly) sent."""


class BadResponseError(TransportError):
    """The server answered something that is neither a result nor an Odoo error."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class OutcomeUnknownError(TransportError):
    """A non-idempotent call may have been committed by Odoo, or not.

    Raised instead of retrying ``create``, ``load`` and other calls whose
    request may have reached the server (timeout, connection lost after
    sending, 502/504 from a proxy). The caller must reconcile, e.g. by looking
    up the external ids it sent.
    """

    def __init__(self, message: str, *, model: str, method: str) -> None:
        super().__init__(message)
        self.model = model
        self.method = method


class OdooError(ClientError):
    """Odoo answered a call with an error payload."""

    #: Advice appended to the message, per class.
    hint = "See the Odoo server log for details."

    def __init__(
        self,
        message: str,
        *,
        odoo_name: str = "",
        arguments: list[Any] | None = None,
        model: str | None = None,
        method: str | None = None,
        http_status: int | None = None,
        debug: str = "",
    ) -> None:
        where = f"{model}.{method}" if model and method else (method or model or "call")
        full = f"Odoo refused {where}: {message}"
        if odoo_name:
            full += f" ({odoo_name})"
        full += f". {self.hint}"
        super().__init__(full)
        # ``message`` keeps Odoo's own text; str(exc) is the full paragraph.
        self.message = message
        self.odoo_name = odoo_name
        self.arguments = arguments if arguments is not None else []
        self.model = model
        self.method = method
        self.http_status = http_status
        self.debug = debug
        self.operation_index: int | None = None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.message


class AuthenticationError(OdooError):
    """Bad credentials: AccessDenied, an invalid API key, or a login returning false."""

    hint = "Check the database name, login and password or API key."


class UnknownDatabaseError(AuthenticationError):
    """The server has no database of that name (JSON-2: HTTP 404; JSON-RPC: 'does not exist').

    ``databases`` lists the server's databases when it lets anyone list them
    (``db.list``; ``list_db`` on), else None.
    """

    hint = "Check the database name."

    def __init__(self, database: str, url: str, databases: list[str] | None) -> None:
        if databases:
            how = f"the server lists: {', '.join(databases)}"
        else:
            how = "it does not list its databases; ask its administrator for the exact name"
        super().__init__(
            f"database {database!r} does not exist on the server at {url} ({how})",
            odoo_name="",
            method="login",
        )
        self.database = database
        self.databases = databases


class AccessError(OdooError):
    """The user may not do this (access rights, record rules, private method)."""

    hint = "Grant the user the access rights needed, or call a public method."


class ValidationError(OdooError, RefusedValues):
    """A constraint refused the values (Python constraint or converted SQL error).

    Also a :class:`zenoo_etl.errors.ValidationError`, the root of refused values.
    """

    hint = "Fix the values sent; nothing of this call was saved."


class MissingRecordError(OdooError):
    """A record does not exist or has been deleted."""

    hint = "Check the ids and references used; nothing of this call was saved."


class OdooUserError(OdooError):
    """A business rule refused the call (UserError, RedirectWarning, unknown model)."""

    hint = "Fix the data or the call; nothing of this call was saved."


class ConcurrencyError(OdooError):
    """A transient database conflict (serialization failure, lock, deadlock)."""

    hint = "Nothing was saved; the call can be retried."


class ServerError(OdooError):
    """Any other server-side error (ValueError, AttributeError, programming errors)."""

    hint = "Check the model, method, field names and argument shapes."


_BY_NAME: dict[str, type[OdooError]] = {
    "odoo.exceptions.AccessDenied": AuthenticationError,
    "werkzeug.exceptions.Unauthorized": AuthenticationError,
    "odoo.http.SessionExpiredException": AuthenticationError,
    "odoo.exceptions.AccessError": AccessError,
    "odoo.exceptions.ValidationError": ValidationError,
    "odoo.exceptions.MissingError": MissingRecordError,
    "odoo.exceptions.UserError": OdooUserError,
    "odoo.exceptions.RedirectWarning": OdooUserError,
    "odoo.exceptions.Warning": OdooUserError,
    "odoo.exceptions.except_orm": OdooUserError,
    # LockError (18+) subclasses UserError, but it means "row locked by
    # another transaction": nothing was written and a retry can succeed.
    "odoo.exceptions.LockError": ConcurrencyError,
    "odoo.exceptions.ConcurrencyError": ConcurrencyError,
}

# psycopg2 class names, whatever module path the server reports them under
# (``psycopg2.errors.X``, ``psycopg2.extensions.X``, ``psycopg.errors.X``).
_PG_CONCURRENCY = frozenset(
    {
        "SerializationFailure",
        "LockNotAvailable",
        "DeadlockDetected",
        "TransactionRollbackError",
    }
)
_PG_INTEGRITY = frozenset(
    {
        "IntegrityError",
        "UniqueViolation",
        "ForeignKeyViolation",
        "NotNullViolation",
        "CheckViolation",
        "ExclusionViolation",
        "RestrictViolation",
    }
)

_BY_STATUS: dict[int, type[OdooError]] = {
    401: AuthenticationError,
    403: AccessError,
    409: ConcurrencyError,
}


def classify(odoo_name: str, http_status: int | None = None) -> type[OdooError]:
    """The client exception class for an Odoo error ``name`` (and JSON-2 HTTP status)."""
    cls = _BY_NAME.get(odoo_name)
    if cls is not None:
        return cls
    if odoo_name.startswith("psycopg"):
        short = odoo_name.rpartition(".")[2]
        if short in _PG_CONCURRENCY:
            return ConcurrencyError
        if short in _PG_INTEGRITY:
            return ValidationError
    if http_status is not None and http_status in _BY_STATUS:
        return _BY_STATUS[http_status]
    return ServerError


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (secrets shorter than 3 chars are kept).

    Very short secrets are left alone because masking them would mangle
    ordinary words; no real password or key is that short.
    """
    for secret in secrets:
        if len(secret) >= 3 and secret in text:
            text = text.replace(secret, "***")
    return text


def odoo_error_from_payload(
    data: Mapping[str, Any],
    *,
    model: str | None,
    method: str | None,
    http_status: int | None = None,
    secrets: Iterable[str] = (),
) -> OdooError:
    """Build the exception for an Odoo error payload (``{name, message, arguments, ...}``)."""
    secrets = tuple(secrets)
    name = data.get("name")
    odoo_name = name if isinstance(name, str) else ""
    raw_message = data.get("message")
    message = raw_message if isinstance(raw_message, str) and raw_message else "Odoo Server Error"
    raw_args = data.get("arguments")
    arguments = list(raw_args) if isinstance(raw_args, list) else []
    debug = data.get("debug")
    cls = classify(odoo_name, http_status)
    return cls(
        scrub(message.strip(), secrets),
        odoo_name=odoo_name,
        arguments=[scrub(a, secrets) if isinstance(a, str) else a for a in arguments],
        model=model,
        method=method,
        http_status=http_status,
        debug=scrub(debug, secrets) if isinstance(debug, str) else "",
    )


__all__ = [
    "AccessError",
    "AuthenticationError",
    "BadResponseError",
    "ClientClosedError",
    "ClientError",
    "ConcurrencyError",
    "ConnectError",
    "ConnectionLostError",
    "MissingRecordError",
    "OdooError",
    "OdooUserError",
    "OutcomeUnknownError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "UnknownDatabaseError",
    "ValidationError",
    "classify",
    "odoo_error_from_payload",
    "scrub",
]
