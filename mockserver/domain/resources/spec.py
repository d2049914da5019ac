"""What the generic layer reads from the spec for one operation carrying `x-resource: {name, action}`.

Nothing here restates a schema: request fields, response envelopes, write-only fields, filters, pagination
bounds, success statuses and ownership answers all come from the operation as `contracts.spec` loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from contracts.spec import Operation, Spec
from mockserver.domain.resources.declaration import ACTIONS, Action

__all__ = ("PAGE_PARAMS", "ResourceOperation", "resource_operations")

PAGE_PARAMS = ("limit", "offset")


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
    envelope, record = _envelope(spec, response, action)
    request = _schema(spec, op.body_pointer)
    limit = next((spec.deref(p.get("schema") or {}) for p in op.query_params() if p.get("name") == "limit"), None)
    return ResourceOperation(
        op=op,
        name=name,
        action=action,
        status=status,
        envelope=envelope,
        fields=frozenset(_properties(spec, request)),
        write_only=frozenset(k for k, v in _properties(spec, record).items() if spec.deref(v).get("writeOnly")),
        filters=tuple(str(p["name"]) for p in op.query_params() if p.get("name") not in PAGE_PARAMS),
        page_fields=frozenset(k for k in _properties(spec, response) if k != envelope),
        limit_default=limit.get("default") if limit else None,
        limit_max=limit.get("maximum") if limit else None,
    )


def _schema(spec: Spec, pointer: str | None) -> Mapping[str, Any]:
    if pointer is None:
        return {}
    node = spec.deref(spec.resolve(pointer))
    return node if isinstance(node, Mapping) else {}


def _properties(spec: Spec, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of an object schema, through `allOf` (what a body may carry or a record holds)."""
    schema = spec.deref(schema)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        props.update(_properties(spec, part))
    return props


def _envelope(spec: Spec, response: Mapping[str, Any], action: Action) -> tuple[str | None, Mapping[str, Any]]:
    """The property of the response that holds the record (an array of them for `list`), and the record schema."""
    for key, value in _properties(spec, response).items():
        prop = spec.deref(value)
        if action == "list" and prop.get("type") == "array":
            return key, spec.deref(prop.get("items") or {})
        if action != "list" and (prop.get("type") == "object" or "properties" in prop or "allOf" in prop):
            return key, prop
    return None, response
