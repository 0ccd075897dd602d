"""x2many commands: the ``(0..6, id, vals)`` tuples, bare id lists and False.

Used by :class:`zenoo_etl.sandbox.orm.Env`: applies the commands of one
one2many or many2many field to the records ``ids`` (link tables for
many2many, the inverse many2one column for one2many).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenoo_etl.sandbox.exceptions import value_error
from zenoo_etl.sandbox.fields import Field, ModelDef
from zenoo_etl.sandbox.storage import placeholders

if TYPE_CHECKING:
    from zenoo_etl.sandbox.orm import Env


def commands(value: Any) -> list[list[Any]]:
    if value is None or value is False:
        return [[5, 0, 0]]
    if not isinstance(value, list | tuple):
        raise value_error(f"Wrong value for x2many field: {value!r}")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [[6, 0, list(value)]]
    commands = []
    for cmd in value:
        if not isinstance(cmd, list | tuple) or not cmd or cmd[0] not in range(7):
            raise value_error(f"Invalid x2many command: {cmd!r}")
        commands.append([*cmd, 0, 0][:3])
    return commands


def write_x2many(env: Env, mdef: ModelDef, fname: str, ids: list[int], value: Any) -> None:
    fdef = mdef.fields[fname]
    comodel = fdef.relation
    assert comodel is not None
    for cmd, arg, extra in commands(value):
        if cmd == 0:
            for rid in ids:
                vals = dict(extra or {})
                if fdef.type == "one2many":
                    assert fdef.inverse_name is not None
                    vals[fdef.inverse_name] = rid
                    env.create(comodel, [vals])
                else:
                    new = env.create(comodel, [vals])
                    link(env, fdef, ids=[rid], targets=new, replace=False)
        elif cmd == 1:
            env.write(comodel, [arg], dict(extra or {}))
        elif cmd == 2:
            env.unlink(comodel, [arg])
        elif cmd in (3, 5):
            unlink_links(env, fdef, ids, None if cmd == 5 else [arg])
        elif cmd == 4:
            env.check_exist(comodel, [arg])
            link(env, fdef, ids, [arg], replace=False)
        elif cmd == 6:
            targets = list(extra or [])
            env.check_exist(comodel, targets)
            link(env, fdef, ids, targets, replace=True)


def link(env: Env, fdef: Field, ids: list[int], targets: list[int], replace: bool) -> None:
    if fdef.type == "one2many":
        assert fdef.relation and fdef.inverse_name
        table = env.registry.models[fdef.relation].table
        if replace:
            unlink_links(env, fdef, ids, None)
        marks = placeholders(len(targets))
        env.cr.execute(
            f'UPDATE "{table}" SET "{fdef.inverse_name}" = ? WHERE id IN ({marks})',
            [ids[0], *targets],
        )
        return
    rel, c1, c2 = fdef.relation_table, fdef.column1, fdef.column2
    if replace:
        env.cr.execute(f'DELETE FROM "{rel}" WHERE "{c1}" IN ({placeholders(len(ids))})', ids)
    env.cr.executemany(
        f'INSERT OR IGNORE INTO "{rel}" ("{c1}", "{c2}") VALUES (?, ?)',
        [(i, t) for i in ids for t in targets],
    )


def unlink_links(env: Env, fdef: Field, ids: list[int], targets: list[int] | None) -> None:
    if fdef.type == "one2many":
        assert fdef.relation and fdef.inverse_name
        comodel = env.registry.models[fdef.relation]
        inverse = comodel.fields[fdef.inverse_name]
        where = f'"{fdef.inverse_name}" IN ({placeholders(len(ids))})'
        params: list[Any] = list(ids)
        if targets is not None:
            where += f" AND id IN ({placeholders(len(targets))})"
            params += targets
        child_ids = [
            r[0] for r in env.cr.execute(f'SELECT id FROM "{comodel.table}" WHERE {where}', params)
        ]
        if not child_ids:
            return
        if inverse.ondelete == "cascade" or inverse.required:
            env.unlink(comodel.name, child_ids)
        else:
            env.write(comodel.name, child_ids, {fdef.inverse_name: False})
        return
    rel, c1, c2 = fdef.relation_table, fdef.column1, fdef.column2
    sql = f'DELETE FROM "{rel}" WHERE "{c1}" IN ({placeholders(len(ids))})'
    params = list(ids)
    if targets is not None:
        sql += f' AND "{c2}" IN ({placeholders(len(targets))})'
        params += targets
    env.cr.execute(sql, params)
