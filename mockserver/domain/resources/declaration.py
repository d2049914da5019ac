"""What a plain resource is: one declaration, read together with the spec's operations that carry its `x-resource`.

The declaration says only what the spec cannot: where the records live, what they belong to, defaults and
derived fields, events and cascades. Shapes (request fields, envelopes, write-only fields), auth, ownership
answers, filters and pagination are read from the spec's operations (see `contracts.resources`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.resources import ACTIONS, Action
from mockserver.domain.auth import Principal

__all__ = ("ACTIONS", "Action", "Cascade", "Resource", "Scope", "Stamp")

Scope = Literal["team", "workspace", "account", "worker"]


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a default or derived field may read when a record is created or changed."""

    now: str  # ISO-8601, the mock clock
    principal: Principal
    scope_id: str
    new_id: str


Default = Callable[[Stamp], Any]


@dataclass(frozen=True, slots=True)
class Cascade:
    """Records of `table` whose `field` holds this resource's id: deleted with it, or detached (set to None)."""

    table: str
    field: str
    detach: bool = False


@dataclass(frozen=True, slots=True)
class Resource:
    """One plain resource. `name` is the spec's `x-resource.name`; everything else has a default.

    scope:      what a record belongs to; its id is the `<scope>Id` field of the record and the `<scope>Id`
                path (or query) parameter of `list`/`create`
    table:      the store table (default: `<name>s`)
    id_param:   the path parameter holding a record's id on get/update/delete (default: `<name>Id`)
    defaults:   field -> value, or a function of `Stamp`, for fields the create body leaves out
    derived:    field -> function of (Stamp, record) recomputed on every create and update
    immutable:  fields an update may not change even if the request schema lists them
    events:     action -> event name, published on the scope's channel with `{<name>: record}` (team and
                account scopes have no public channel: their events go to the record's workspace if it has one)
    cascades:   what goes with a deleted record
    writable_by_keys / writable_by_sessions: who may create, update and delete (others: 403)
    """

    name: str
    scope: Scope
    table: str = ""
    id_param: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    derived: Mapping[str, Callable[[Stamp, Mapping[str, Any]], Any]] = field(default_factory=dict)
    immutable: frozenset[str] = frozenset()
    events: Mapping[Action, str] = field(default_factory=dict)
    cascades: tuple[Cascade, ...] = ()
    writable_by_keys: bool = True
    writable_by_sessions: bool = True

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", f"{self.name}s")
        if not self.id_param:
            object.__setattr__(self, "id_param", f"{self.name}Id")
        unknown = set(self.events) - set(ACTIONS)
        if unknown:
            raise ValueError(f"resource {self.name!r}: events for unknown actions {sorted(unknown)}")

    @property
    def scope_field(self) -> str:
        """The record field (and the path/query parameter) holding the id of what it belongs to."""
        return f"{self.scope}Id"

    @property
    def title(self) -> str:
        """`secret` -> `Secret`, for `Secret not found`."""
        return self.name[:1].upper() + self.name[1:]

    def default_value(self, name: str, stamp: Stamp) -> Any:
        value = self.defaults[name]
        return value(stamp) if callable(value) else value
