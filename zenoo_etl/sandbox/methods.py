"""The ORM methods callable over RPC, with Odoo's names and Python signatures.

Each entry maps a method name to a function ``fn(env, model, ...)`` and says
whether it is a model method (``@api.model``: no ids) or a record method
(first argument: the ids). Binding RPC arguments to these signatures is what
turns bad arguments into the same ``TypeError`` Odoo reports.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from zenoo_etl.sandbox import access, client_methods
from zenoo_etl.sandbox.exceptions import AccessError, PythonError, UserError, value_error
from zenoo_etl.sandbox.load import load
from zenoo_etl.sandbox.orm import Env
from zenoo_etl.sandbox.storage import hash_key

Method = Callable[..., Any]


def _check_int(name: str, value: Any) -> int | None:
    if value is None or value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PythonError("TypeError", f"{name} must be an integer, got {value!r}")
    return value


def create(env: Env, model: str, vals_list: Any) -> Any:
    if isinstance(vals_list, dict):
        return env.create(model, [vals_list])[0]
    if not isinstance(vals_list, list):
        raise PythonError("TypeError", f"'{type(vals_list).__name__}' object is not a mapping")
    return env.create(model, vals_list)


def write(env: Env, model: str, ids: Any, vals: Any) -> bool:
    return env.write(model, ids, vals)


def unlink(env: Env, model: str, ids: Any) -> bool:
    return env.unlink(model, ids)


def read(
    env: Env, model: str, ids: Any, fields: Any = None, load: Any = "_classic_read"
) -> list[dict[str, Any]]:
    """``read``; any ``load`` but ``_classic_read`` gives many2one as a bare id
    (Odoo's ``_read_format``: odoorpc reads with ``load='_classic_write'``)."""
    rows = env.read(model, ids, fields)
    if load != "_classic_read":
        slots = env.registry.slots[model]
        for row in rows:
            for name, value in row.items():
                if isinstance(value, list) and slots[name].field.type == "many2one":
                    row[name] = value[0]
    return rows


def search(
    env: Env, model: str, domain: Any, offset: int = 0, limit: Any = None, order: Any = None
) -> list[int]:
    result: list[int] = env.search(
        model, domain, _check_int("offset", offset) or 0, _check_int("limit", limit), order
    )
    return result


def search_fetch(
    env: Env,
    model: str,
    domain: Any,
    field_names: Any = None,
    offset: int = 0,
    limit: Any = None,
    order: Any = None,
) -> list[int]:
    """``search_fetch`` (public in 18.0): the records, serialised as their ids."""
    return search(env, model, domain, offset, limit, order)


def search_count(env: Env, model: str, domain: Any, limit: Any = None) -> int:
    result: int = env.search(model, domain, limit=_check_int("limit", limit), count=True)
    return result


def search_read(
    env: Env,
    model: str,
    domain: Any = None,
    fields: Any = None,
    offset: int = 0,
    limit: Any = None,
    order: Any = None,
    **read_kwargs: Any,
) -> list[dict[str, Any]]:
    ids = search(env, model, domain or [], offset, limit, order)
    if fields:
        env._check_fields(env.model(model), fields)
    return env.read(model, ids, fields) if ids else []


def fields_get(
    env: Env, model: str, allfields: Any = None, attributes: Any = None
) -> dict[str, Any]:
    env.model(model)
    return env.registry.fields_get(model, allfields, attributes)


def name_search(
    env: Env,
    model: str,
    name: str = "",
    args: Any = None,
    operator: str = "ilike",
    limit: int = 100,
    domain: Any = None,
) -> list[list[Any]]:
    mdef = env.model(model)
    full = list(domain or args or [])
    if name:
        # _rec_names_search (partners: name, email, ref, vat ...) or _rec_name
        slots = env.registry.slots[model]
        names = [
            f
            for f in (mdef.rec_names_search or (mdef.rec_name,))
            if f in slots and (slots[f].field.is_column or "." in f)
        ] or ["display_name" if not mdef.rec_name else mdef.rec_name]
        leaves: list[Any] = [[f, operator, name] for f in names]
        full += ["|"] * (len(leaves) - 1) + leaves
    ids = search(env, model, full, 0, limit)
    labels = env.display_names(model, ids)
    return [[i, labels[i]] for i in ids]


def name_create(env: Env, model: str, name: str) -> list[Any]:
    """Create a record from its name alone; ``[id, display_name]``."""
    mdef = env.model(model)
    field = "name" if "name" in mdef.fields else mdef.rec_name
    new_id = env.create(model, [{field: name}])[0]
    return [new_id, env.display_names(model, [new_id])[new_id]]


def default_get(
    env: Env, model: str, fields_list: Any = None, fields: Any = None
) -> dict[str, Any]:
    mdef = env.model(model)
    names = fields_list if fields_list is not None else fields
    if names is None:
        names = list(env.registry.slots[model])
    return env.default_values(mdef, names)


def copy(env: Env, model: str, ids: Any, default: Any = None) -> list[int]:
    env.check_exist(model, env._ids(ids))
    new_ids: list[int] = []
    for vals in client_methods.copy_data(env, model, ids, default):
        new_ids += env.create(model, [vals])
    return new_ids


def exists(env: Env, model: str, ids: Any) -> list[int]:
    ids = env._ids(ids)
    found = env.existing(model, ids)
    return [i for i in ids if i in found]


def _set_active(env: Env, model: str, ids: Any, active: bool) -> None:
    if "active" not in env.model(model).fields:
        raise PythonError("AssertionError", f"No 'active' field on model {model}")
    env.write(model, env._ids(ids), {"active": active})


def action_archive(env: Env, model: str, ids: Any) -> None:
    """``BaseModel.action_archive``: archive the records (returns nothing, like Odoo)."""
    _set_active(env, model, ids, False)


def action_unarchive(env: Env, model: str, ids: Any) -> None:
    """``BaseModel.action_unarchive``: the reverse of :func:`action_archive`."""
    _set_active(env, model, ids, True)


def rpc_load(env: Env, model: str, fields: Any, data: Any) -> dict[str, Any]:
    refused = access.load_refusal(env.registry.version, env.uid, model)
    return refused if refused is not None else load(env, env.model(model), fields, data)


def check_object_reference(
    env: Env, model: str, module: str, xml_id: str, raise_on_access_error: bool = False
) -> list[Any]:
    row = env.cr.execute(
        "SELECT model, res_id FROM ir_model_data WHERE module = ? AND name = ?", (module, xml_id)
    ).fetchone()
    if row is None:
        raise value_error(f"External ID not found in the system: {module}.{xml_id}")
    # Odoo searches the record as the user (context included): an archived record is
    # [model, false] unless active_test is off (checked on real 18 and 19)
    if env.search(row[0], [["id", "=", row[1]]]):
        return [row[0], row[1]]
    if raise_on_access_error:
        raise AccessError(f'Not enough access rights on the external ID "{module}.{xml_id}"')
    return [row[0], False]


def context_get(env: Env, model: str) -> dict[str, Any]:
    return {"lang": "en_US", "tz": False, "uid": env.uid}


def generate_api_key(
    env: Env, model: str, name: str, scope: Any = None, expiration_date: Any = None
) -> str:
    """``res.users.apikeys._generate``: a key for the calling user (shown only once).

    Private in Odoo; the server uses it for its startup key, clients reach it
    through :func:`make_key` and :func:`run_check`.
    """
    key = secrets.token_hex(20)
    key_id = env.create(
        "res.users.apikeys",
        [{"name": name, "user_id": env.uid, "scope": scope, "expiration_date": expiration_date}],
    )[0]
    env.cr.execute(
        "INSERT INTO _sandbox_apikey_secret (id, key_hash) VALUES (?, ?)", (key_id, hash_key(key))
    )
    return key


def make_key(env: Env, model: str, ids: Any) -> dict[str, Any]:
    """``res.users.apikeys.description.make_key`` (``@check_identity``): the
    identity-check wizard the password must be confirmed in."""
    ids = env._ids(ids)
    env.check_exist(model, ids)
    wizard = env.create(
        "res.users.identitycheck", [{"request": f"{model}({ids[0]},).make_key", "res_id": ids[0]}]
    )[0]
    return {
        "type": "ir.actions.act_window",
        "res_model": "res.users.identitycheck",
        "res_id": wizard,
        "name": "Access Control",
        "target": "new",
        "views": [[False, "form"]],
        "context": {"dialog_size": "medium"},
    }


def run_check(env: Env, model: str, ids: Any) -> dict[str, Any]:
    """``res.users.identitycheck.run_check`` with ``context.password``: the key."""
    ids = env._ids(ids)
    env.check_exist(model, ids)
    row = env.cr.execute(
        "SELECT u.password, w.res_id FROM res_users u, res_users_identitycheck w "
        "WHERE u.id = ? AND w.id = ?",
        (env.uid, ids[0]),
    ).fetchone()
    password = env.context.get("password")
    if row is None or not isinstance(password, str) or hash_key(password) != row[0]:
        raise UserError(
            "Incorrect Password, try again or click on Forgot Password to reset your password."
        )
    [description] = env.read("res.users.apikeys.description", [row[1]], ["name", "duration"])
    expiration = None
    if description["duration"] not in (False, "0", "-1"):
        days = int(description["duration"])
        moment = datetime.strptime(env.now, "%Y-%m-%d %H:%M:%S") + timedelta(days=days)
        expiration = moment.strftime("%Y-%m-%d %H:%M:%S")
    key = generate_api_key(env, "res.users.apikeys", description["name"], None, expiration)
    return {
        "type": "ir.actions.act_window",
        "res_model": "res.users.apikeys.show",
        "name": "API Key Ready",
        "views": [[False, "form"]],
        "target": "new",
        "context": {"default_key": key},
    }


def get_param(env: Env, model: str, key: str, default: Any = False) -> Any:
    """``ir.config_parameter.get_param``: system users only (:mod:`.access`)."""
    row = env.cr.execute("SELECT value FROM ir_config_parameter WHERE key = ?", (key,)).fetchone()
    return row[0] if row is not None and row[0] else default


#: method name -> (function, is model method)
COMMON: dict[str, tuple[Method, bool]] = {
    "create": (create, True),
    "write": (write, False),
    "unlink": (unlink, False),
    "read": (read, False),
    "search": (search, True),
    "search_count": (search_count, True),
    "search_fetch": (search_fetch, True),
    "search_read": (search_read, True),
    "fields_get": (fields_get, True),
    "name_search": (name_search, True),
    "name_create": (name_create, True),
    "default_get": (default_get, True),
    "load": (rpc_load, True),
    "copy": (copy, False),
    "exists": (exists, False),
    "action_archive": (action_archive, False),
    "action_unarchive": (action_unarchive, False),
    "read_group": (client_methods.read_group, True),
    "web_search_read": (client_methods.web_search_read, True),
    "web_read": (client_methods.web_read, False),
    "has_access": (client_methods.has_access, False),
    "check_access_rights": (client_methods.check_access_rights, True),
    "check_access": (client_methods.check_access, False),
    "get_metadata": (client_methods.get_metadata, False),
    "export_data": (client_methods.export_data, False),
    "copy_data": (client_methods.copy_data, False),
}

#: public in 18.0, ``@api.private`` in 19.0 (refused like ``_`` methods)
PRIVATE_IN_19 = frozenset({"check_access", "search_fetch"})

SPECIFIC: dict[str, dict[str, tuple[Method, bool]]] = {
    "ir.config_parameter": {"get_param": (get_param, True)},
    "ir.model.data": {"check_object_reference": (check_object_reference, True)},
    "res.users": {"context_get": (context_get, True)},
    "res.users.apikeys.description": {"make_key": (make_key, False)},
    "res.users.identitycheck": {"run_check": (run_check, False)},
}


def lookup(model: str, method: str) -> tuple[Method, bool] | None:
    return SPECIFIC.get(model, {}).get(method) or COMMON.get(method)


__all__ = ["COMMON", "SPECIFIC", "lookup"]
