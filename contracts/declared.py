"""How to make, read, list and delete any resource kind the spec names, found in the spec alone.

The ownership suite needs one resource of every kind an `x-ownership` rule names, owned by `--key`, to probe
with the other team's credentials. The core kinds have hand-made steps (a task is claimed to get a worker...);
every other kind is found here, with no per-route code:

- create: the kind's `x-resource` create operation, else a `POST` whose success response links to an operation
  addressing the kind (`links: {GetRole: {parameters: {id: $response.body#/skill/id}}}`: the record is `skill`),
  else a `POST` whose success body holds an object property named after the kind with an `id` (`POST /api/teams`
  -> `{"team": {...}}`) or typed as the kind's component (`{"job": IngestJob | null}`), else a `POST` on the
  kind's collection whose success body is the record itself (`POST /api/missions` -> `{"id": ...}`);
- get / delete: the kind's `x-resource` get/delete, else the `GET`/`DELETE` whose `x-ownership` names the kind in
  the last path parameter;
- list: the kind's `x-resource` list, else a `GET` whose success body holds an array property `<kind>s` or an
  array of the kind's component (`{"jobs": [IngestJob]}`).

A kind no client can make (a GitHub App installation, a pull request GitHub opens) is named in the spec's top-level
`x-external-resources` (`kind: {source: why, list: operationId, field: ..., id: ...}`): the suite never creates
one and probes the first record its list shows instead (a fixture, or what the deployment already holds).

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

__all__ = ("EXTERNAL", "KindOps", "kind_operations", "path_ids", "record_of", "singular")

EXTERNAL = "x-external-resources"  # top level: kinds only the outside world makes, found by listing


@dataclass(frozen=True, slots=True)
class KindOps:
    kind: str
    create: Operation | None = None
    create_field: str | None = None  # the success-body property holding the new record (None: the body itself)
    get: Operation | None = None
    delete: Operation | None = None
    list: Operation | None = None
    list_field: str | None = None  # the success-body array property
    external: str | None = None  # why no client can make one (`x-external-resources`): list, never create
    id_field: str = "id"  # the listed record's field that is the id the operations take


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


def _component_of(node: Any) -> str | None:
    """The component a schema node is (`$ref`), also when it may be null (`oneOf: [$ref, {type: null}]`)."""
    if not isinstance(node, Mapping):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return ref.rsplit("/", 1)[-1]
    parts = [p for p in node.get("oneOf") or node.get("anyOf") or () if not _is_null(p)]
    return _component_of(parts[0]) if len(parts) == 1 else None


def _is_null(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("type") == "null" and len(node) == 1


def _is_kind(component: str | None, kind: str) -> bool:
    """`IngestJob` is the component of kind `ingestJob`."""
    return component is not None and component[:1].lower() + component[1:] == kind


def _raw_body_properties(spec: Spec, op: Operation) -> dict[str, Any]:
    """The success body's properties as written (their `$ref`s kept, to see which component each one is)."""
    status = _success(op)
    pointer = op.responses.get(status) if status else None
    schema = spec.deref(spec.resolve(pointer)) if pointer else None
    return properties_of(spec, schema) if isinstance(schema, Mapping) else {}


def _typed_field(spec: Spec, op: Operation, kind: str, *, array: bool) -> str | None:
    """The success-body property typed as the kind's component (an array of them when `array`)."""
    for name, node in _raw_body_properties(spec, op).items():
        prop = spec.deref(node)
        if array and isinstance(prop, Mapping) and prop.get("type") == "array":
            if _is_kind(_component_of(prop.get("items")), kind):
                return name
        elif not array and _is_kind(_component_of(node), kind):
            return name
    return None


_LINKED_ID = "$response.body#/"


def _linked_field(spec: Spec, op: Operation, addressing: set[str]) -> str | None:
    """The record property a success response's link passes on as the id of an operation that addresses the kind
    (`parameters: {id: $response.body#/skill/id}` to `getRole` -> `skill`)."""
    status = _success(op)
    response = spec.deref(op.raw.get("responses", {}).get(status)) if status else None
    for link in (response or {}).get("links", {}).values():
        link = spec.deref(link)
        if link.get("operationId") not in addressing:
            continue
        for expr in (link.get("parameters") or {}).values():
            parts = expr[len(_LINKED_ID) :].split("/") if isinstance(expr, str) and expr.startswith(_LINKED_ID) else []
            if len(parts) == 2 and parts[1] == "id":
                return parts[0]
    return None


def external_kinds(spec: Spec) -> dict[str, Mapping[str, Any]]:
    """`x-external-resources`: kind -> {source, list?, field?, id?}."""
    marked = spec.raw.get(EXTERNAL) or {}
    return {str(k): v for k, v in marked.items() if isinstance(v, Mapping)} if isinstance(marked, Mapping) else {}


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
    external = external_kinds(spec)
    by_id = {op.operation_id: op for op in ops}
    for kind in kinds:
        outside = external.get(kind)
        create_op, create_field = (None, None) if outside else _creator(spec, ops, kind, marked.get((kind, "create")))
        get = marked.get((kind, "get"))
        delete = marked.get((kind, "delete"))
        listing = marked.get((kind, "list"))
        list_op, list_field = (listing.op, listing.envelope) if listing else (None, None)
        if outside and outside.get("list") in by_id:
            list_op, list_field = by_id[str(outside["list"])], outside.get("field")
        if list_op is None:
            list_op, list_field = _lister(spec, ops, kind)
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
            external=str(outside.get("source") or "made outside the API") if outside else None,
            id_field=str(outside.get("id") or "id") if outside else "id",
        )
    return found


def _plural(kind: str) -> str:
    return kind + "s" if not kind.endswith("y") else kind[:-1] + "ies"


def _creator(spec: Spec, ops: list[Operation], kind: str, marked: Any) -> tuple[Operation | None, str | None]:
    """The operation that makes a `kind`, and the success-body property holding the new record (see the module)."""
    if marked is not None:
        return marked.op, marked.envelope
    posts = [op for op in ops if op.method == "POST" and not _ends_with_param(op)]
    addressing = {op.operation_id for op in ops if _addresses(op, kind)}
    for op in posts:
        prop = _body_properties(spec, op).get(kind)
        if prop is not None and _object_with_id(spec, prop):
            return op, kind
    for op in posts:  # a POST on the kind's collection that answers the bare record (`POST /api/missions`)
        status = _success(op)
        pointer = op.responses.get(status) if status else None
        if (
            op.path.rstrip("/").endswith("/" + _plural(kind))
            and pointer
            and _object_with_id(spec, spec.resolve(pointer))
        ):
            return op, None
    for op in posts:
        linked = _linked_field(spec, op, addressing)
        if linked is not None:
            return op, linked
    for op in posts:
        typed = _typed_field(spec, op, kind, array=False)
        if typed is not None:
            return op, typed
    return None, None


def _lister(spec: Spec, ops: list[Operation], kind: str) -> tuple[Operation | None, str | None]:
    """A caller-scoped `GET` listing `kind`s: an array `<kind>s`, else an array of the kind's component."""
    # a GET of one record (ending in a parameter) may carry a sub-list of the kind: not its list
    gets = [op for op in ops if op.method == "GET" and not _ends_with_param(op)]
    for op in gets:
        prop = _body_properties(spec, op).get(_plural(kind))
        if prop is not None and prop.get("type") == "array":
            return op, _plural(kind)
    for op in gets:
        typed = _typed_field(spec, op, kind, array=True)
        if typed is not None:
            return op, typed
    return None, None


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
