"""Who may call what: the access rights where a plain user and an administrator differ.

The sandbox has no groups. Its system users are the superuser (1) and admin
(2), who hold every right (Settings, Access Rights); any other user is a plain
internal user (Internal User + Contact Creation on a stock database), who may
do everything the sandbox serves except what Odoo keeps for administrators:

* ``ir.model.data``: ``base/security/ir.model.access.csv`` of 18.0 and 19.0
  grants it 1,1,1,1 to Access Rights (``group_erp_manager``) and 0,0,0,0 to
  Internal User. A plain user cannot read, create, write or delete external
  ids, and ``has_access`` answers False for each operation; ``load()`` with an
  ``id`` column names its records all the same (Odoo writes the external ids
  as superuser) and ``check_object_reference`` resolves a name (checked on
  Odoo 18.0 and 19.0: tests/sandbox/odoo_wire_access/README.md);
* ``ir.config_parameter``: granted to Settings (``group_system``) only, so
  ``get_param`` too is refused to a plain user.

The check runs once per RPC call, before the method (:func:`check_call`):
the sandbox's own bookkeeping (``load()``'s names, an unlink's cascade to the
names of its records) is never the caller's and is never checked.
"""

from __future__ import annotations

from typing import Any

from zenoo_etl.sandbox.exceptions import AccessError

#: the superuser and admin: the sandbox's only administrators
SYSTEM_UIDS = frozenset({1, 2})

#: models only administrators may touch -> their description and, by major version,
#: the group Odoo's refusal names (seen on the real 18.0 and 19.0 servers)
_ADMIN_ONLY = {
    "ir.model.data": (
        "Model Data",
        {"18": "Administration/Access Rights", "19": "Access Rights"},
    ),
    "ir.config_parameter": (
        "System Parameter",
        {"18": "Administration/Settings", "19": "Role / Administrator"},
    ),
}

#: how Odoo words each operation in its refusal
_VERB = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}

#: RPC method -> the operation whose right it needs on an admin-only model. Unlinking
#: and copying read the records first, and it is the read that Odoo refuses. Methods
#: absent here check nothing (``fields_get``, ``default_get``, ``exists``,
#: ``has_access``, ``check_object_reference``); ``load`` answers the refusal as a
#: message (:func:`load_refusal`).
_NEEDS = {
    "create": "create",
    "name_create": "create",
    "write": "write",
    "unlink": "read",
    "copy": "read",
    "copy_data": "read",
    "read": "read",
    "search": "read",
    "search_read": "read",
    "search_count": "read",
    "search_fetch": "read",
    "name_search": "read",
    "read_group": "read",
    "web_search_read": "read",
    "web_read": "read",
    "export_data": "read",
    "get_metadata": "read",
    "get_param": "read",
}


def allowed(uid: int, model: str, operation: str) -> bool:
    """Whether ``uid`` holds the right of ``operation`` (read/write/create/unlink) on
    ``model``."""
    return uid in SYSTEM_UIDS or model not in _ADMIN_ONLY


def refusal(version: str, model: str, operation: str) -> AccessError:
    """Odoo's AccessError for a missing model access right, worded as ``version`` does."""
    description, groups = _ADMIN_ONLY[model]
    group = groups.get(version.split(".")[0], groups["19"])
    return AccessError(
        f"You are not allowed to {_VERB[operation]} '{description}' ({model}) records."
        f"\n\nThis operation is allowed for the following groups:\n\t- {group}"
        "\n\nContact your administrator to request access if necessary."
    )


def load_refusal(version: str, uid: int, model: str) -> dict[str, Any] | None:
    """``load()``'s answer when ``uid`` may not create ``model`` records: no ids and the
    refusal as the message of the first row, as Odoo 18/19 answer; else None."""
    if allowed(uid, model, "create"):
        return None
    refused = refusal(version, model, "create")
    message = {"rows": {"from": 0, "to": 0}, "record": 0, "type": "error"}
    return {"ids": False, "messages": [{**message, "message": refused.message}], "nextrow": 0}


def require(version: str, uid: int, model: str, operation: str) -> None:
    """Raise Odoo's AccessError unless ``uid`` holds the right of ``operation``."""
    if not allowed(uid, model, operation):
        raise refusal(version, model, operation)


def check_call(version: str, uid: int, model: str, method: str) -> None:
    """Refuse an RPC call of ``method`` on ``model`` that ``uid`` has no right for."""
    operation = _NEEDS.get(method)
    if operation is not None:
        require(version, uid, model, operation)


__all__ = ["SYSTEM_UIDS", "allowed", "check_call", "load_refusal", "refusal", "require"]
