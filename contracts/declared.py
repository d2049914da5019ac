"""How to make, read, list and delete any resource kind the spec names, found in the spec alone.

The ownership suite needs one resource of every kind an `x-ownership` rule names, owned by `--key`, to probe
with the other team's credentials. The core kinds have hand-made steps (a task is claimed to get a worker...);
every other kind is found here, with no per-route code:

- create: the kind's `x-resource` create operation, else a `POST` whose success body holds an object property
  named after the kind with an `id` (`POST /api/teams` -> `{"team": {...}}`), else a `POST` on the kind's
  collection whose success body is the record itself (`POST /api/missions` -> `{"id": ...}`);
- get / delete: the kind's `x-resource` get/delete, else the `GET`/`DELETE` whose `x-ownership` names the kind in
  the last path parameter;
- list: the kind's `x-resource` list, else a `GET` whose success body holds an array property `<kind>s`.

`path_ids` fills an operation's path parameters from ids known by kind (`{id}` after `/workspaces/`, `{skillId}`,
`{workspace}` ...), so a sub-resource is addressed under the parent it was made in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from contracts.resources import properties_of, resource_operations
from contracts.spec import Operation, Spec

__all__ = ("KindOps", "kind_operations", "path_ids", "record_of", "singular")


@dataclass(frozen=True, slots=True)
class KindOps:
    kind: str
    create: Operation | None = None
    create_field: str | None = None  # the success-body property holding the new record (None: the body itself)
    get: Operation | None = None
    delete: Operation | None = None
    list: Operation | None = None
    list_field: str | None = None  # the success-body array property


def singular(word: str) -> str:
    """`workspaces` -> `workspace`, `memories` -> `memory`, `memory` -> `memory`."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _success(op: Operation) -> str | None:
    return next((s for s in sorted(op.responses) if s.startswith("2") and op.responses[s]), None)


def _body_properties(spec: Spec, op: Operation) -> dict[str, Any]:
    status = _success(op)
    pointer = op.responses.get(status) if status else None
    if not pointer:
        return {}
    schema = spec.deref(spec.resolve(pointer))
    if not isinstance(schema, Mapping):
        return {}
    return {k: spec.deref(v) for k, v in properties_of(spec, schema).items()}


def _object_with_id(spec: Spec, schema: Any) -> bool:
    schema = spec.deref(schema)
    return isinstance(schema, Mapping) and "id" in properties_of(spec, schema)


def _ends_with_param(op: Operation) -> bool:
    return op.path.rstrip("/").endswith("}")


def _addresses(op: Operation, kind: str) -> bool:
    rule = op.ownership
    return (
        rule is not None
        and rule.resource == kind
        and rule.location == "path"
        and op.path.rstrip("/").endswith("{" + rule.name + "}")
    )


@lru_cache(maxsize=8)
def _kind_operations(spec: Spec) -> dict[str, KindOps]:
    kinds = sorted({op.ownership.resource for op in spec.api_operations() if op.ownership is not None})
    marked: dict[tuple[str, str], Any] = {(r.name, r.action): r for r in resource_operations(spec).values()}
    found: dict[str, KindOps] = {}
    ops = [op for op in spec.api_operations() if not op.is_mock_only]
    for kind in kinds:
        create = marked.get((kind, "create"))
        create_op, create_field = (create.op, create.envelope) if create else (None, None)
        if create_op is None:
            for op in ops:
                if op.method == "POST" and not _ends_with_param(op):
                    prop = _body_properties(spec, op).get(kind)
                    if prop is not None and _object_with_id(spec, prop):
                        create_op, create_field = op, kind
                        break
        if create_op is None:  # a POST on the kind's collection that answers the bare record (`POST /api/missions`)
            plural = kind + "s" if not kind.endswith("y") else kind[:-1] + "ies"
            for op in ops:
                status = _success(op)
                pointer = op.responses.get(status) if status else None
                collection = op.method == "POST" and op.path.rstrip("/").endswith("/" + plural)
                if collection and pointer and _object_with_id(spec, spec.resolve(pointer)):
                    create_op = op
                    break
        get = marked.get((kind, "get"))
        delete = marked.get((kind, "delete"))
        listing = marked.get((kind, "list"))
        list_op, list_field = (listing.op, listing.envelope) if listing else (None, None)
        if list_op is None:
            plural = kind + "s" if not kind.endswith("y") else kind[:-1] + "ies"
            for op in ops:
                # a GET of one record (ending in a parameter) may carry a sub-list of the kind: not its list
                one = _ends_with_param(op)
                prop = _body_properties(spec, op).get(plural) if op.method == "GET" and not one else None
                if prop is not None and prop.get("type") == "array":
                    list_op, list_field = op, plural
                    break
        found[kind] = KindOps(
            kind,
            create=create_op,
            create_field=create_field,
            get=get.op if get else next((o for o in ops if o.method == "GET" and _addresses(o, kind)), None),
            delete=delete.op
            if delete
            else next((o for o in ops if o.method == "DELETE" and _addresses(o, kind)), None),
            list=list_op,
            list_field=list_field,
        )
    return found


def kind_operations(spec: Spec) -> dict[str, KindOps]:
    """Every kind an `x-ownership` rule names -> how to make, read, list and delete one."""
    return _kind_operations(spec)


def path_ids(op: Operation, known: Mapping[str, str]) -> dict[str, str]:
    """Values for `op`'s path parameters from ids by kind: `{workspaceId}`, `{workspace}` and `{id}` after
    `/workspaces/` all take the workspace's id. Parameters nothing is known for are left out."""
    out: dict[str, str] = {}
    segments = op.path.strip("/").split("/")
    for i, segment in enumerate(segments):
        if not (segment.startswith("{") and segment.endswith("}")):
            continue
        name = segment[1:-1]
        candidates = [name, name[:-2] if name.endswith("Id") else name]
        if i > 0:
            candidates.append(singular(segments[i - 1]))
        value = next((known[c] for c in candidates if c in known), None)
        if value is not None:
            out[name] = value
    return out


def record_of(body: Any, field: str | None) -> Mapping[str, Any] | None:
    """The record a create answered with: `body[field]`, or the body itself."""
    record = body.get(field) if isinstance(body, Mapping) and field else body
    return record if isinstance(record, Mapping) else None
