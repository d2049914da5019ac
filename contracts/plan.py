"""Concrete requests for an operation, built from the spec alone: path ids, required query, a valid body.

Bodies come from the operation's own example (every write operation of openapi.yaml has one), else a minimal
instance of its schema. `wrong_types` turns a valid body into one where every field has the wrong JSON type.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.target import NO_BODY

if TYPE_CHECKING:
    from contracts.spec import Operation, Spec

__all__ = ("INVALID_JSON", "RequestPlan", "example_body", "looks_like_uuid", "minimal_instance", "plan", "wrong_types")

INVALID_JSON = b'{"title": "unterminated'


@dataclass(slots=True)
class RequestPlan:
    """One request: `path` filled in, `params` for the query, `body` as JSON (or `NO_BODY`)."""

    op: Operation
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = NO_BODY
    path_values: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.op.label


def plan(
    spec: Spec,
    op: Operation,
    ids: Mapping[str, str],
    *,
    fresh_id: Any,
    body: Any = None,
) -> RequestPlan:
    """Fill `op`'s path from `ids` (by parameter name; `fresh_id()` for the rest) with its example body."""
    path = op.path
    path_values: dict[str, str] = {}
    for param in op.path_params():
        name = param["name"]
        value = path_values[name] = str(ids.get(name) or fresh_id())
        path = path.replace("{" + name + "}", value)
    params: dict[str, Any] = {}
    for param in op.query_params():
        if not param.get("required"):
            continue
        name = param["name"]
        if name in ids:
            params[name] = ids[name]
        elif "example" in param:
            params[name] = param["example"]
        else:
            params[name] = minimal_instance(spec, spec.deref(param.get("schema", {})), fresh_id)
    if body is None:
        body = example_body(spec, op, fresh_id) if op.body_pointer else NO_BODY
    return RequestPlan(op, path, params, body, path_values)


def example_body(spec: Spec, op: Operation, fresh_id: Any = None) -> Any:
    """The operation's request example (the first of `examples`), else a minimal valid body."""
    if op.body_pointer is None:
        return NO_BODY
    media = spec.deref(op.raw.get("requestBody", {})).get("content", {}).get("application/json", {})
    if "example" in media:
        return copy.deepcopy(media["example"])
    for example in (media.get("examples") or {}).values():
        example = spec.deref(example)
        if "value" in example:
            return copy.deepcopy(example["value"])
    return minimal_instance(spec, spec.resolve(op.body_pointer), fresh_id)


def minimal_instance(spec: Spec, schema: Any, fresh_id: Any = None, depth: int = 0) -> Any:
    """A small instance satisfying the common keywords of `schema` (enough for our probes)."""
    schema = spec.deref(schema)
    if not isinstance(schema, dict) or depth > 6:
        return None
    for keyword in ("const", "example", "default"):
        if keyword in schema:
            return copy.deepcopy(schema[keyword])
    if "enum" in schema:
        return schema["enum"][0]
    for keyword in ("allOf", "oneOf", "anyOf"):
        if schema.get(keyword):
            merged: dict[str, Any] = {}
            for part in schema[keyword] if keyword == "allOf" else schema[keyword][:1]:
                value = minimal_instance(spec, part, fresh_id, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
                elif keyword != "allOf":
                    return value
            if schema.get("properties") or schema.get("required"):
                base = minimal_instance(spec, {k: v for k, v in schema.items() if k != keyword}, fresh_id, depth + 1)
                if isinstance(base, dict):
                    merged.update(base)
            return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = list(schema.get("required", []))
        extra = [name for name in props if name not in wanted]  # `minProperties`: the first optional ones too
        wanted += extra[: max(0, int(schema.get("minProperties", 0)) - len(wanted))]
        return {name: minimal_instance(spec, props.get(name, {}), fresh_id, depth + 1) for name in wanted}
    if kind == "array":
        return []
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if kind == "string":
        if schema.get("format") == "uuid" and fresh_id is not None:
            return fresh_id()
        if schema.get("format") == "date-time":
            return "2026-01-15T10:30:00.000Z"
        return "x" * max(1, int(schema.get("minLength", 1)))
    return None


_WRONG: dict[type, Any] = {str: 12345, bool: "yes", int: "not-a-number", float: "not-a-number", list: {"not": "a list"}}


def wrong_types(body: Any) -> Any:
    """Every top-level field of `body` with a value of the wrong JSON type (an object becomes an array)."""
    if not isinstance(body, dict) or not body:
        return ["not", "an", "object"]
    out: dict[str, Any] = {}
    for name, value in body.items():
        if isinstance(value, dict):
            out[name] = ["not", "an", "object"]
        elif value is None:
            out[name] = [["not", "null"]]
        else:
            out[name] = _WRONG.get(type(value))
    return out


def looks_like_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(
        re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value)
    )
