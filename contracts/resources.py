"""What a plain resource is, as the spec says it: the operations carrying `x-resource: {name, action}`.

Read by the mock's generic layer (`mockserver.domain.resources`: request fields, response envelopes, write-only
fields, filters, pagination bounds, success statuses, ownership answers) and by the fixtures' seeder (the record
schema, its table and its scope). Nothing here restates a schema: all of it comes from the operations as
`contracts.spec` loads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from contracts.spec import Operation, Spec

__all__ = (
    "ACTIONS",
    "PAGE_PARAMS",
    "SCOPES",
    "Action",
    "ResourceOperation",
    "ResourceRecords",
    "properties_of",
    "resource_operations",
    "resource_records",
)

Action = Literal["list", "get", "create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("list", "get", "create", "update", "delete")
PAGE_PARAMS = ("limit", "offset")
# what a record may belong to, in the order the seeder looks for its `<scope>Id` field
SCOPES = ("workspace", "worker", "account", "team")


@dataclass(frozen=True, slots=True)
class ResourceOperation:
    op: Operation
    name: str
    action: Action
    status: int  # the operation's success status (the first 2xx it declares)
    envelope: str | None  # the response property holding the record (or the list); None: the bare record
    fields: frozenset[str]  # what a create/update body may set (the request schema's properties)
    write_only: frozenset[str]  # never returned (`writeOnly: true` in the record schema)
    filters: tuple[str, ...]  # query parameters that filter the list by the record field of the same name
    page_fields: frozenset[str]  # `total`, `hasMore`, ... as the list response declares them
    limit_default: int | None
    limit_max: int | None
    record: Mapping[str, Any]  # the record schema (dereferenced once; its `properties` may hold `$ref`s)
    record_ref: str | None  # `#/components/schemas/<Record>` when the record schema is a component

    @property
    def operation_id(self) -> str:
        return self.op.operation_id


def resource_operations(spec: Spec) -> dict[str, ResourceOperation]:
    """operationId -> its `ResourceOperation`, for every operation of `spec` with an `x-resource`."""
    found: dict[str, ResourceOperation] = {}
    for op in spec.operations.values():
        marker = op.raw.get("x-resource")
        if not isinstance(marker, Mapping):
            continue
        action = marker.get("action")
        if action not in ACTIONS:
            raise ValueError(f"{op.operation_id}: x-resource.action must be one of {', '.join(ACTIONS)}")
        found[op.operation_id] = _read(spec, op, str(marker["name"]), cast(Action, action))
    return found


def _read(spec: Spec, op: Operation, name: str, action: Action) -> ResourceOperation:
    status = min((int(s) for s in op.responses if s.isdigit() and s.startswith("2")), default=200)
    response = _schema(spec, op.responses.get(str(status)))
    envelope, record, record_ref = _envelope(spec, response, action)
    request = _schema(spec, op.body_pointer)
    limit = next((spec.deref(p.get("schema") or {}) for p in op.query_params() if p.get("name") == "limit"), None)
    return ResourceOperation(
        op=op,
        name=name,
        action=action,
        status=status,
        envelope=envelope,
        fields=frozenset(properties_of(spec, request)),
        write_only=frozenset(k for k, v in properties_of(spec, record).items() if spec.deref(v).get("writeOnly")),
        filters=tuple(str(p["name"]) for p in op.query_params() if p.get("name") not in PAGE_PARAMS),
        page_fields=frozenset(k for k in properties_of(spec, response) if k != envelope),
        limit_default=limit.get("default") if limit else None,
        limit_max=limit.get("maximum") if limit else None,
        record=record,
        record_ref=record_ref,
    )


def _schema(spec: Spec, pointer: str | None) -> Mapping[str, Any]:
    if pointer is None:
        return {}
    node = spec.deref(spec.resolve(pointer))
    return node if isinstance(node, Mapping) else {}


def properties_of(spec: Spec, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of an object schema, through `allOf` (what a body may carry or a record holds)."""
    schema = spec.deref(schema)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        props.update(properties_of(spec, part))
    return props


def _envelope(
    spec: Spec, response: Mapping[str, Any], action: Action
) -> tuple[str | None, Mapping[str, Any], str | None]:
    """The property of the response that holds the record (an array of them for `list`), the record schema, and
    its component `$ref` when it is one."""
    for key, value in properties_of(spec, response).items():
        prop = spec.deref(value)
        if action == "list" and prop.get("type") == "array":
            items = prop.get("items") or {}
            return key, spec.deref(items), _ref_of(items)
        if action != "list" and (prop.get("type") == "object" or "properties" in prop or "allOf" in prop):
            return key, prop, _ref_of(value)
    return None, response, None


def _ref_of(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, Mapping) else None
    return str(ref) if isinstance(ref, str) and ref.startswith("#/components/schemas/") else None


@dataclass(frozen=True, slots=True)
class ResourceRecords:
    """Where a resource's records live and what they look like: what the fixtures need to seed it."""

    name: str
    table: str  # `<name>s`, the store table the mock's declaration defaults to
    scope: str  # one of SCOPES: the record's `<scope>Id` field names what it belongs to
    schema: Mapping[str, Any]  # the record schema (from `get`, else the items of `list`)
    ref: str | None  # its component pointer, for validation (`Spec.check`); None when written inline


def resource_records(spec: Spec) -> dict[str, ResourceRecords]:
    """name -> `ResourceRecords`, for every resource the spec's `x-resource` operations name, sorted by name.

    The scope is the `x-ownership` resource of its `list`/`create` operation when that is a scope kind, else the
    first `<scope>Id` property the record schema has; a resource with neither is left out (nothing to hang it on).
    """
    ops: dict[str, dict[str, ResourceOperation]] = {}
    for rop in resource_operations(spec).values():
        ops.setdefault(rop.name, {})[rop.action] = rop
    found: dict[str, ResourceRecords] = {}
    for name in sorted(ops):
        by_action = ops[name]
        source = by_action.get("get") or by_action.get("list")
        if source is None:
            continue
        props = properties_of(spec, source.record)
        if not props:
            continue
        owners = (by_action.get("list"), by_action.get("create"))
        scope = next(
            (
                r.op.ownership.resource
                for r in owners
                if r is not None and r.op.ownership is not None and r.op.ownership.resource in SCOPES
            ),
            None,
        ) or next((s for s in SCOPES if f"{s}Id" in props), None)
        if scope is None:
            continue
        found[name] = ResourceRecords(name, f"{name}s", scope, source.record, source.record_ref)
    return found
