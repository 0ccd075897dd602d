"""The errors the sandbox sends back, named and worded as a real Odoo server does.

Each class carries the ``data.name`` Odoo reports (``odoo.exceptions.*``,
``builtins.*``, ``werkzeug.exceptions.*``), the HTTP status JSON-2 uses for it,
and the arguments list. The server turns them into error envelopes; nothing
here knows about HTTP framing.

    SandboxRpcError (ZenooError)          name                              JSON-2
    ├── UserError                         odoo.exceptions.UserError          422
    │   ├── ValidationError               odoo.exceptions.ValidationError    422
    │   ├── AccessError                   odoo.exceptions.AccessError        403
    │   ├── AccessDenied                  odoo.exceptions.AccessDenied       403
    │   └── MissingError                  odoo.exceptions.MissingError       404
    ├── PythonError                       builtins.ValueError/TypeError/...  500
    ├── OperationalError                  psycopg2.OperationalError          500
    ├── SessionExpired                    odoo.http.SessionExpiredException  (code 100)
    └── HttpError                         werkzeug.exceptions.*              its code
"""

from __future__ import annotations

from typing import Any

from zenoo_etl.errors import ZenooError


class SandboxRpcError(ZenooError):
    """An error the emulated Odoo reports to its client."""

    odoo_name = "odoo.exceptions.UserError"
    http_status = 500

    def __init__(self, message: str, arguments: list[Any] | None = None) -> None:
        super().__init__(message)
        self.arguments: list[Any] = [message] if arguments is None else arguments

    @property
    def traceback_name(self) -> str:
        """The exception name as the last traceback line prints it."""
        module, _, short = self.odoo_name.rpartition(".")
        return short if module == "builtins" else self.odoo_name

    def debug(self) -> str:
        """A traceback-like text, shaped like Odoo's ``data.debug``."""
        return (
            "Traceback (most recent call last):\n"
            '  File "zenoo_etl/sandbox/orm.py", in call\n'
            f"{self.traceback_name}: {self.message}\n"
        )

    def payload(self) -> dict[str, Any]:
        """``serialize_exception``: name, debug, message, arguments, context."""
        return {
            "name": self.odoo_name,
            "debug": self.debug(),
            "message": self.message,
            "arguments": self.arguments,
            "context": {},
        }


class UserError(SandboxRpcError):
    odoo_name = "odoo.exceptions.UserError"
    http_status = 422


class ValidationError(UserError):
    odoo_name = "odoo.exceptions.ValidationError"


class AccessError(UserError):
    odoo_name = "odoo.exceptions.AccessError"
    http_status = 403


class AccessDenied(UserError):
    odoo_name = "odoo.exceptions.AccessDenied"
    http_status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class MissingError(UserError):
    odoo_name = "odoo.exceptions.MissingError"
    http_status = 404


class PythonError(SandboxRpcError):
    """A plain Python exception escaping the ORM (``builtins.ValueError`` ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.odoo_name = f"builtins.{kind}"
        #: arguments that do not fit a method: the bare text of the binding error
        self.bind_text: str | None = None


class OperationalError(SandboxRpcError):
    odoo_name = "psycopg2.OperationalError"


class SessionExpired(SandboxRpcError):
    odoo_name = "odoo.http.SessionExpiredException"

    def __init__(self) -> None:
        super().__init__("Session expired")


class HttpError(SandboxRpcError):
    """A werkzeug HTTP exception: message is its description, arguments add the code."""

    def __init__(self, status: int, kind: str, description: str) -> None:
        super().__init__(description, [description, status])
        self.http_status = status
        self.odoo_name = f"werkzeug.exceptions.{kind}"


def value_error(message: str) -> PythonError:
    return PythonError("ValueError", message)


def missing(model: str, ids: list[int], uid: int) -> MissingError:
    """Odoo's MissingError text, naming the recordset as ``model(1, 2)`` / ``model(1,)``."""
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}{tuple(ids)!r}, User: {uid})"
    )


NOT_NULL_TEMPLATE = (
    "The operation cannot be completed:\n"
    "- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n"
    "\n"
    "Model: {description} ({model})\n"
    "Field: {string} ({field})\n"
)

FK_TEMPLATE = (
    "The operation cannot be completed: another model requires the record being deleted. "
    "If possible, archive it instead.\n\nModel: {description} ({model})\n"
    "Constraint: {constraint}\n"
)

# Odoo 19 words the converted SQL errors in BaseModel._sql_error_to_message_generic
NOT_NULL_TEMPLATE_19 = (
    "The operation cannot be completed: Missing required value for the field "
    "'{string}' ({field}).\nModel: '{description}' ({model})\n"
    "- create/update: a mandatory field is not set\n"
    "- delete: another model requires the record being deleted, you can archive it instead\n"
)

FK_TEMPLATE_19 = (
    "The operation cannot be completed: Another model is using the record you are trying to "
    "delete.\n\nThe troublemaker is: {model_display}\n"
    "Thanks to the following constraint: {field_display}\nHow about archiving the record instead?"
)


def not_null_error(
    version: str, description: str, model: str, string: str, field: str
) -> ValidationError:
    """A NOT NULL violation as that Odoo version reports it."""
    template = NOT_NULL_TEMPLATE_19 if version >= "19" else NOT_NULL_TEMPLATE
    return ValidationError(
        template.format(description=description, model=model, string=string, field=field)
    )


def fk_error(
    version: str, description: str, model: str, field: str, string: str
) -> ValidationError:
    """A FOREIGN KEY violation on ``model.field`` as that Odoo version reports it.

    ``model`` holds the many2one: the record being created or written, or the
    one still pointing at a record being deleted (both versions name it).
    """
    if version < "19":
        constraint = f"{model.replace('.', '_')}_{field}_fkey"
        return ValidationError(
            FK_TEMPLATE.format(description=description, model=model, constraint=constraint)
        )
    return ValidationError(
        FK_TEMPLATE_19.format(
            model_display=f"'{description}' ({model})", field_display=f"'{string}' ({field})"
        )
    )


def invalid_field(version: str, field: str, model: str) -> PythonError:
    preposition = "in" if version >= "19" else "on model"
    return value_error(f"Invalid field {field!r} {preposition} {model!r}")
