"""The few Odoo calls the runner makes, behind one small protocol.

:class:`OdooTarget` names exactly what apply/rollback need from a target
(search, read, create, write, unlink, load, method calls, fields_get).
:class:`ClientTarget` implements it over :class:`zenoo_etl.client.ZenooClient`
through ``execute_kw`` only, so protocol differences (JSON-RPC vs JSON-2) stay
the client's business. It also counts calls per method: tests use the counts
to pin down that lookups are batched and that a rerun writes nothing.
Unit tests swap in an in-memory fake with the same methods.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Context = Mapping[str, Any]


@dataclass(frozen=True)
class LoadAnswer:
    """``load()``'s answer: ids (None when any row failed) and Odoo's messages."""

    ids: list[int] | None
    messages: list[dict[str, Any]]


class OdooTarget(Protocol):
    """What the runner asks of a target Odoo."""

    calls: Counter[str]

    async def fields_get(self, model: str) -> dict[str, dict[str, Any]]: ...

    async def search(
        self,
        model: str,
        domain: list[Any],
        context: Context | None = None,
        limit: int | None = None,
    ) -> list[int]: ...

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]: ...

    async def read(
        self, model: str, ids: list[int], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]: ...

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]: ...

    async def write(
        self, model: str, ids: list[int], values: dict[str, Any], context: Context | None = None
    ) -> None: ...

    async def unlink(self, model: str, ids: list[int], context: Context | None = None) -> None: ...

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer: ...

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        context: Context | None = None,
    ) -> Any: ...


class _ExecuteKw(Protocol):
    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Any: ...


@dataclass
class ClientTarget:
    """:class:`OdooTarget` over a logged-in ``ZenooClient`` (anything with ``execute_kw``)."""

    client: _ExecuteKw
    calls: Counter[str] = field(default_factory=Counter)

    async def _kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None,
        context: Context | None,
    ) -> Any:
        self.calls[method] += 1
        return await self.client.execute_kw(
            model, method, args, kwargs or {}, context=dict(context) if context else None
        )

    async def fields_get(self, model: str) -> dict[str, dict[str, Any]]:
        attrs = ["type", "string", "required", "readonly", "relation", "store", "selection"]
        result = await self._kw(model, "fields_get", [], {"attributes": attrs}, None)
        return dict(result)

    async def search(
        self,
        model: str,
        domain: list[Any],
        context: Context | None = None,
        limit: int | None = None,
    ) -> list[int]:
        kwargs: dict[str, Any] = {} if limit is None else {"limit": limit}
        return list(await self._kw(model, "search", [domain], kwargs, context))

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]:
        return list(await self._kw(model, "search_read", [domain], {"fields": fields}, context))

    async def read(
        self, model: str, ids: list[int], fields: list[str], context: Context | None = None
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        return list(await self._kw(model, "read", [ids], {"fields": fields}, context))

    async def create(
        self, model: str, values: list[dict[str, Any]], context: Context | None = None
    ) -> list[int]:
        if not values:
            return []
        result = await self._kw(model, "create", [values], None, context)
        return [int(result)] if isinstance(result, int) else [int(i) for i in result]

    async def write(
        self, model: str, ids: list[int], values: dict[str, Any], context: Context | None = None
    ) -> None:
        if ids:
            await self._kw(model, "write", [ids, values], None, context)

    async def unlink(self, model: str, ids: list[int], context: Context | None = None) -> None:
        if ids:
            await self._kw(model, "unlink", [ids], None, context)

    async def load(
        self, model: str, fields: list[str], rows: list[list[str]], context: Context | None = None
    ) -> LoadAnswer:
        result = await self._kw(model, "load", [fields, rows], None, context)
        ids = result.get("ids")
        return LoadAnswer(
            ids=[int(i) for i in ids] if ids else (None if ids is False else []),
            messages=list(result.get("messages") or []),
        )

    async def call(
        self,
        model: str,
        method: str,
        ids: list[int],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        context: Context | None = None,
    ) -> Any:
        # No ids: a model-level call (@api.model), whose arguments start right away.
        call_args = [ids, *args] if ids else list(args)
        return await self._kw(model, method, call_args, dict(kwargs), context)


__all__ = ["ClientTarget", "Context", "LoadAnswer", "OdooTarget"]
