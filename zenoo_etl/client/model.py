"""A small query API on one model, built on the client's typed helpers.

``client.model("res.partner")`` returns an immutable :class:`ModelQuery`;
``filter(**kw)`` and ``search(domain)`` return refined copies, and the
coroutines ``ids``, ``count``, ``read``, ``first``, ``write``, ``delete`` run
it. ``create`` ignores the filters. Keyword filters take Django-like
suffixes: ``name__ilike="acme"``, ``id__in=[1, 2]``, ``list_price__gte=10``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from zenoo_etl.client.errors import ClientError

if TYPE_CHECKING:
    from zenoo_etl.client.client import ZenooClient

_OPERATORS: dict[str, str] = {
    "eq": "=",
    "ne": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "in": "in",
    "not_in": "not in",
    "like": "like",
    "ilike": "ilike",
    "not_ilike": "not ilike",
    "child_of": "child_of",
}


def kw_to_domain(filters: Mapping[str, Any]) -> list[list[Any]]:
    """Keyword filters to a domain: ``name__ilike="a"`` → ``["name", "ilike", "a"]``.

    A key without a known ``__suffix`` is compared with ``=``.
    """
    domain: list[list[Any]] = []
    for key, value in filters.items():
        field, sep, suffix = key.rpartition("__")
        if sep and suffix in _OPERATORS:
            domain.append([field, _OPERATORS[suffix], value])
        else:
            domain.append([key, "=", value])
    return domain


class ModelQuery:
    """Records of one model matching a domain; immutable, refine with ``filter``/``search``."""

    def __init__(
        self,
        client: ZenooClient,
        model: str,
        domain: Sequence[Any] = (),
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.name = model
        self.domain: list[Any] = list(domain)
        self.context = dict(context) if context else None

    def __repr__(self) -> str:
        return f"<ModelQuery {self.name} {self.domain!r}>"

    def filter(self, **filters: Any) -> ModelQuery:
        """Narrow by field values (AND), e.g. ``filter(is_company=True, name__ilike="x")``."""
        return ModelQuery(self.client, self.name, self.domain + kw_to_domain(filters), self.context)

    def search(self, domain: Sequence[Any]) -> ModelQuery:
        """Narrow by an Odoo domain (AND-ed with what is there)."""
        return ModelQuery(self.client, self.name, self.domain + list(domain), self.context)

    def with_context(self, **context: Any) -> ModelQuery:
        """The same query, calls made with ``context`` merged in."""
        return ModelQuery(self.client, self.name, self.domain, {**(self.context or {}), **context})

    async def ids(self, *, limit: int | None = None, order: str | None = None) -> list[int]:
        """Ids of the matching records."""
        return await self.client.search(
            self.name, self.domain, limit=limit, order=order, context=self.context
        )

    async def count(self) -> int:
        """How many records match."""
        return await self.client.search_count(self.name, self.domain, context=self.context)

    async def read(
        self,
        fields: Sequence[str] | None = None,
        *,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        """``search_read`` of the matching records (one call)."""
        return await self.client.search_read(
            self.name, self.domain, fields, limit=limit, order=order, context=self.context
        )

    async def first(self, fields: Sequence[str] | None = None) -> dict[str, Any] | None:
        """The first matching record, or None."""
        rows = await self.read(fields, limit=1)
        return rows[0] if rows else None

    @overload
    async def create(self, values: Mapping[str, Any]) -> int: ...

    @overload
    async def create(self, values: Sequence[Mapping[str, Any]]) -> list[int]: ...

    async def create(
        self, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> int | list[int]:
        """Create one record (→ id) or many (→ ids); filters do not apply."""
        return await self.client.create(self.name, values, context=self.context)

    async def write(self, values: Mapping[str, Any]) -> int:
        """Write ``values`` on every matching record; returns how many were matched."""
        ids = await self.ids()
        if ids:
            await self.client.write(self.name, ids, values, context=self.context)
        return len(ids)

    async def delete(self) -> int:
        """Delete every matching record; returns how many were deleted."""
        if not self.domain:
            raise ClientError(
                f"Refusing to delete every {self.name} record: give a filter or domain."
            )
        ids = await self.ids()
        if ids:
            await self.client.unlink(self.name, ids, context=self.context)
        return len(ids)


__all__ = ["ModelQuery", "kw_to_domain"]
