"""A plain user's access to external ids, replayed from real Odoo 18.0 and 19.0.

``odoo_wire_access/<version>/`` holds what a real server answered to admin and
to a plain internal user (Internal User + Contact Creation) on ``ir.model.data``
(README there). Each exchange is sent again to a fresh sandbox holding a user
with the same login, with the uid, database, passwords and ids of the sandbox:
the envelope, the error (code, message, ``data`` keys in order, name, message,
arguments) and the result must match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from zenoo_etl.sandbox import SandboxServer, serve_sandbox

WIRE = Path(__file__).with_name("odoo_wire_access")

#: in the order they were recorded: later ones use what earlier ones made
ORDER = [
    *(f"admin_has_access_{op}" for op in ("read", "write", "create", "unlink")),
    *(f"user_has_access_{op}" for op in ("read", "write", "create", "unlink")),
    "user_imd_search_read",
    "user_check_object_reference",
    "user_imd_create",
    "user_load_xmlid",
    "user_load_again",
    "user_imd_write",
    "user_imd_unlink",
    "user_unlink_loaded_partner",
]


async def _post(http: aiohttp.ClientSession, sb: SandboxServer, body: dict[str, Any]) -> Any:
    async with http.post(sb.url + "/jsonrpc", json=body) as resp:
        assert resp.status == 200
        return await resp.json()


async def _admin(
    http: aiohttp.ClientSession, sb: SandboxServer, model: str, method: str, *args: Any
) -> Any:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 0,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [sb.database, 2, sb.password, model, method, *args],
        },
    }
    answer = await _post(http, sb, body)
    assert "error" not in answer, answer
    return answer["result"]


def _same_error(name: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    wrong = [f"{name}: error.{k}" for k in ("code", "message") if actual[k] != expected[k]]
    exp, act = expected["data"], actual["data"]
    if list(act) != list(exp):
        wrong.append(f"{name}: data keys {list(act)} != {list(exp)}")
    for key in ("name", "message", "arguments", "context"):
        if act.get(key) != exp[key]:
            wrong.append(f"{name}: data.{key} {act.get(key)!r} != {exp[key]!r}")
    return wrong


@pytest.mark.parametrize("version", ["18.0", "19.0"])
async def test_a_plain_user_meets_external_ids_as_on_the_real_server(version: str) -> None:
    """admin: has_access True for every operation; a plain user: False for every one,
    search_read / create / write / unlink of ir.model.data refused with Odoo's
    AccessError, check_object_reference and load() with an id column served
    (load() names its records itself), and unlinking a record drops its name."""
    folder = WIRE / version
    user = json.loads((folder / "_user.json").read_text())
    problems: list[str] = []
    async with serve_sandbox(version=version) as sb, aiohttp.ClientSession() as http:
        uid = await _admin(
            http,
            sb,
            "res.users",
            "create",
            [{"name": user["login"], "login": user["login"], "password": user["password"]}],
        )
        ids: dict[int, int] = {}  # recorded id -> the sandbox's (partners, external ids)
        for name in ORDER:
            record = json.loads((folder / f"{name}.json").read_text())
            body = record["request"]["json"]
            args = body["params"]["args"]
            mine = args[1] == user["uid"]
            args[:3] = [sb.database, *((uid, user["password"]) if mine else (2, sb.password))]
            call_args = args[5]
            if call_args and isinstance(call_args[0], list) and call_args[0]:
                call_args[0] = [ids.get(i, i) if isinstance(i, int) else i for i in call_args[0]]
            actual = await _post(http, sb, body)
            expected = record["response"]
            if list(actual) != list(expected):
                problems.append(f"{name}: envelope {list(actual)}")
                continue
            if "error" in expected:
                problems += _same_error(name, expected["error"], actual["error"])
                continue
            result, wanted = actual["result"], expected["result"]
            if name == "user_load_xmlid":
                ids[wanted["ids"][0]] = result["ids"][0]
                [xmlid] = call_args[1][0][:1]
                module, _, short = xmlid.partition(".")
                made = await _admin(
                    http,
                    sb,
                    "ir.model.data",
                    "search_read",
                    [[["module", "=", module], ["name", "=", short]]],
                    {"fields": ["res_id"]},
                )
                assert [m["res_id"] for m in made] == result["ids"]
                # the recorded write/unlink of that external id name the real server's id
                recorded = json.loads((folder / "user_imd_write.json").read_text())
                ids[recorded["request"]["json"]["params"]["args"][5][0][0]] = made[0]["id"]
            if isinstance(wanted, dict) and "ids" in wanted:
                wanted = {**wanted, "ids": [ids[i] for i in wanted["ids"]]}
            if result != wanted:
                problems.append(f"{name}: result {result!r} != {wanted!r}")
        # the real servers: after the user's unlink, admin finds no name left (README)
        left = await _admin(
            http, sb, "ir.model.data", "search_count", [[["module", "=", "__zenoo__"]]]
        )
    assert problems == []
    assert left == 0


_GROUPS = {  # the group each refusal names, on the real servers (README)
    "18.0": {"imd": "Administration/Access Rights", "settings": "Administration/Settings"},
    "19.0": {"imd": "Access Rights", "settings": "Role / Administrator"},
}


def _refusal(verb: str, what: str, group: str) -> str:
    return (
        f"You are not allowed to {verb} {what} records.\n\nThis operation is allowed for the "
        f"following groups:\n\t- {group}\n\nContact your administrator to request access "
        "if necessary."
    )


@pytest.mark.parametrize("version", ["18.0", "19.0"])
async def test_what_else_a_plain_user_meets_as_on_the_real_server(version: str) -> None:
    """get_param refused with the version's wording; load() on ir.model.data itself
    answers the refusal as a message; an archived record's name resolves only with
    active_test off (checked on real 18 and 19 with /tmp probes, README)."""
    groups = _GROUPS[version]
    async with serve_sandbox(version=version) as sb, aiohttp.ClientSession() as http:
        vals = {"name": "plain", "login": "plain", "password": "pw-plain"}
        uid = await _admin(http, sb, "res.users", "create", [vals])

        async def as_user(model: str, method: str, *args: Any) -> Any:
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [sb.database, uid, "pw-plain", model, method, *args],
                },
            }
            return await _post(http, sb, body)

        answer = await as_user("ir.config_parameter", "get_param", ["database.uuid"])
        wanted = _refusal("access", "'System Parameter' (ir.config_parameter)", groups["settings"])
        assert answer["error"]["data"]["message"] == wanted
        assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessError"

        columns = ["name", "module", "model", "res_id"]
        loaded = await as_user(
            "ir.model.data", "load", [columns, [["zz", "__zenoo__", "res.partner", "1"]]]
        )
        message = _refusal("create", "'Model Data' (ir.model.data)", groups["imd"])
        assert loaded["result"] == {
            "ids": False,
            "messages": [
                {"rows": {"from": 0, "to": 0}, "record": 0, "type": "error", "message": message}
            ],
            "nextrow": 0,
        }

        archived = await _admin(
            http,
            sb,
            "res.partner",
            "load",
            [["id", "name", "active"], [["__zenoo__.archived", "Archived", "0"]]],
        )
        [pid] = archived["ids"]
        reference = ["__zenoo__", "archived"]
        plain = await as_user("ir.model.data", "check_object_reference", reference)
        assert plain["result"] == ["res.partner", False]
        kw = {"context": {"active_test": False}}
        unhidden = await as_user("ir.model.data", "check_object_reference", reference, kw)
        assert unhidden["result"] == ["res.partner", pid]
