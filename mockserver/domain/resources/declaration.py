"""What a plain resource is: one declaration, read together with the spec's operations that carry its `x-resource`.

The declaration says only what the spec cannot: where the records live, what they belong to, defaults and
derived fields, events and cascades. Shapes (request fields, envelopes, write-only fields), auth, ownership
answers, filters and pagination are read from the spec's operations (see `contracts.resources`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from contracts.resources import ACTIONS, Action
from mockserver.domain.auth import Principal

if TYPE_CHECKING:
    from mockserver.domain.service import Buildd

__all__ = (
    "ACTIONS",
    "HOOK_POINTS",
    "Action",
    "Cascade",
    "Hook",
    "HookCall",
    "HookPoint",
    "Resource",
    "Scope",
    "Stamp",
)

Scope = Literal["team", "workspace", "account", "worker"]


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a default or derived field may read when a record is created or changed."""

    now: str  # ISO-8601, the mock clock
    principal: Principal
    scope_id: str
    new_id: str


Default = Callable[[Stamp], Any]

HookPoint = Literal["before_create", "after_create", "before_update", "after_update", "before_delete", "after_delete"]
HOOK_POINTS: tuple[HookPoint, ...] = (
    "before_create",
    "after_create",
    "before_update",
    "after_update",
    "before_delete",
    "after_delete",
)


@dataclass(slots=True)
class HookCall:
    """What a hook sees. Every hook runs inside the write's transaction: raising a `DomainError` refuses the
    request and undoes everything (the record, the cascades, other hooks' writes, queued events).

    record:   create: the record about to be inserted, derived fields not yet computed (`before_create` may
              change it) / as inserted; update: a preview of the record with `changes` applied (`before_update`)
              / as stored (`after_update`); delete: the record deleted
    changes:  update only: the fields about to be written (`before_update` may add, change or drop some; the
              derived fields are computed after it, from the result)
    previous: update and delete: the record as it was before the request
    """

    api: Buildd  # the facade: hooks reach other behaviour through `api.area(Cls)` and share its store
    principal: Principal
    stamp: Stamp
    record: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] | None = None


Hook = Callable[[HookCall], None]


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
    scope_param: the path (or query) parameter naming the scope, when the spec does not call it `<scope>Id`
                (e.g. `id` in `/api/workspaces/{id}/schedules`); on get/update/delete, a scope named in the path is
                reached first and the record must belong to it (else `404 <Name> not found`)
    table:      the store table (default: `<name>s`)
    id_param:   the path parameter holding a record's id on get/update/delete (default: `<name>Id`)
    defaults:   field -> value, or a function of `Stamp`, for fields the create body leaves out
    derived:    field -> function of (Stamp, record) recomputed on every create and update
    immutable:  fields an update may not change even if the request schema lists them
    events:     action -> event name, published on the scope's channel with `{<name>: record}` (team and
                account scopes have no public channel: their events go to the record's workspace if it has one)
    cascades:   what goes with a deleted record
    writable_by_keys / writable_by_sessions: who may create, update and delete (others: 403)
    key_level:  the lowest key level (`trigger` < `worker` < `admin`) that may create, update and delete; a
                lower key gets `403 Requires <level>-level API key` (None: any key that may write)
    hooks:      hook point (`before_create` ... `after_delete`) -> function of `HookCall`: real behaviour that
                runs inside the same transaction as the generic write (checks that refuse, fields computed from
                other tables, writes to other records, extra events) instead of beside it
    """

    name: str
    scope: Scope
    scope_param: str = ""
    table: str = ""
    id_param: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    derived: Mapping[str, Callable[[Stamp, Mapping[str, Any]], Any]] = field(default_factory=dict)
    immutable: frozenset[str] = frozenset()
    events: Mapping[Action, str] = field(default_factory=dict)
    cascades: tuple[Cascade, ...] = ()
    writable_by_keys: bool = True
    writable_by_sessions: bool = True
    key_level: Literal["trigger", "worker", "admin"] | None = None
    hooks: Mapping[HookPoint, Hook] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", f"{self.name}s")
        if not self.id_param:
            object.__setattr__(self, "id_param", f"{self.name}Id")
        if not self.scope_param:
            object.__setattr__(self, "scope_param", self.scope_field)
        unknown = set(self.events) - set(ACTIONS)
        if unknown:
            raise ValueError(f"resource {self.name!r}: events for unknown actions {sorted(unknown)}")
        strange = set(self.hooks) - set(HOOK_POINTS)
        if strange:
            raise ValueError(f"resource {self.name!r}: unknown hook points {sorted(strange)}")

    @property
    def scope_field(self) -> str:
        """The record field (and the path/query parameter) holding the id of what it belongs to."""
        return f"{self.scope}Id"

    @property
    def title(self) -> str:
        """`secret` -> `Secret`, for `Secret not found`."""
        return self.name[:1].upper() + self.name[1:]

    def run_hook(self, point: HookPoint, call: HookCall) -> None:
        hook = self.hooks.get(point)
        if hook is not None:
            hook(call)

    def default_value(self, name: str, stamp: Stamp) -> Any:
        value = self.defaults[name]
        return value(stamp) if callable(value) else value
