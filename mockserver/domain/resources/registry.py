"""The declared resources, by name, and their store tables: declaring one is all it takes to persist it."""

from __future__ import annotations

from collections.abc import Iterator

from mockserver.domain._indexes import register_group_index, unregister_group_index
from mockserver.domain.resources.declaration import Resource
from mockserver.domain.store import TABLES, register_table, unregister_table

__all__ = ("declare", "declared", "forget", "resource")

_DECLARED: dict[str, Resource] = {}
_OWN_TABLES: set[str] = set()  # tables `declare` created (a resource may live in a table that already exists)


def declare(res: Resource) -> Resource:
    """Register `res` (its table keyed by `id` and indexed by scope, and an index per cascade) for every store
    built from now on. A table that exists already (one of today's resources moved onto the layer, e.g.
    `artifacts`) is used as it is: only the scope index is added."""
    if res.name in _DECLARED:
        raise ValueError(f"resource {res.name!r} is already declared")
    if res.table not in TABLES:
        register_table(res.table, "id")
        _OWN_TABLES.add(res.table)
    register_group_index(res.table, "scope", res.scope_field)
    for cascade in res.cascades:  # the children are found by their field holding this resource's id
        register_group_index(cascade.table, cascade.field, cascade.field)
    _DECLARED[res.name] = res
    return res


def forget(name: str) -> None:
    """Undo `declare` (tests that declare a throwaway resource)."""
    res = _DECLARED.pop(name)
    for cascade in res.cascades:
        unregister_group_index(cascade.table, cascade.field)
    unregister_group_index(res.table, "scope")
    if res.table in _OWN_TABLES:
        _OWN_TABLES.discard(res.table)
        unregister_table(res.table)


def resource(name: str) -> Resource:
    return _DECLARED[name]


def declared() -> Iterator[Resource]:
    return iter(tuple(_DECLARED.values()))
