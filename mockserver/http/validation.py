"""Request validation with JSON Schema semantics, compiled once per operation from the spec.

`RequestRules.build(spec, op)` precomputes, for one operation, the coercion of each query string to its
schema's type (integer, number, boolean), the cached `jsonschema_rs` checks of every parameter and of the JSON
body, and the statuses to answer with. At request time nothing looks anything up in the spec.

Failures raise `RequestRejected`, whose `error` names the field: `title: 1 is not of type "string"`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from contracts.spec import Operation, SchemaCheck, Spec, pointer
from mockserver.http.errors import RequestRejected

__all__ = ("ParamRule", "RequestRules", "schema_message")

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
_DECODER = msgspec.json.Decoder()
FORM = "application/x-www-form-urlencoded"
MAX_DEPTH = 100  # nesting of a JSON body; no request of the API comes close
TOO_DEEP = f"Malformed JSON body: nested deeper than {MAX_DEPTH} levels"


def schema_message(check: SchemaCheck, instance: Any, field: str | None = None) -> str | None:
    """The first violation of `check` by `instance` as `field.path: message`, or None when valid."""
    try:
        errors = check.errors(instance, limit=1)
    except (ValueError, TypeError) as exc:  # e.g. a string the validator cannot encode
        return f"{field or 'body'}: {exc}"
    if not errors:
        return None
    error = errors[0]
    where = ".".join(str(p) for p in ((field,) if field else ()) + error.path)
    return f"{where}: {error.message}" if where else error.message


def _coercer(schema: Mapping[str, Any]) -> Callable[[str], Any] | None:
    kind = schema.get("type")
    if kind == "integer":
        return lambda raw: int(raw) if _INTEGER.fullmatch(raw) else raw
    if kind == "number":
        return lambda raw: float(raw) if _NUMBER.fullmatch(raw) else raw
    if kind == "boolean":
        return lambda raw: _BOOLEANS.get(raw, raw)
    return None  # strings (and anything else) are checked as sent


@dataclass(frozen=True, slots=True)
class ParamRule:
    """One path or query parameter: its name, whether it must be there, its coercion and its check."""

    name: str
    required: bool
    coerce: Callable[[str], Any] | None
    check: SchemaCheck

    def value(self, raw: str) -> Any:
        value = self.coerce(raw) if self.coerce is not None else raw
        message = schema_message(self.check, value, self.name)
        if message is not None:
            raise RequestRejected(400, message)
        return value


@dataclass(frozen=True, slots=True)
class RequestRules:
    """Everything needed to validate one operation's requests, compiled at startup."""

    path_params: tuple[ParamRule, ...]
    query_params: tuple[ParamRule, ...]
    body_check: SchemaCheck | None
    body_required: bool
    media_types: frozenset[str]
    status_unsupported_media: int  # 415 where documented, else 400
    status_too_large: int  # 413 where documented, else 400

    @classmethod
    def build(cls, spec: Spec, op: Operation) -> RequestRules:
        def rule(param: Mapping[str, Any]) -> ParamRule:
            schema = spec.deref(param.get("schema", {}))
            check = spec.check(_param_schema_pointer(spec, op, param))
            return ParamRule(param["name"], bool(param.get("required")), _coercer(schema), check)

        path = tuple(rule(p) for p in op.path_params())
        query = tuple(rule(p) for p in op.query_params())
        statuses = op.statuses
        return cls(
            path_params=path,
            query_params=query,
            body_check=spec.check(op.body_pointer) if op.body_pointer else None,
            body_required=op.body_required,
            media_types=frozenset(m.lower() for m in op.body_media_types),
            status_unsupported_media=415 if 415 in statuses else 400,
            status_too_large=413 if 413 in statuses else 400,
        )

    @property
    def has_body(self) -> bool:
        return self.body_check is not None

    def path(self, raw: Mapping[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for param in self.path_params:
            out[param.name] = param.value(str(raw[param.name]))
        return out

    def query(self, multi: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """Declared query parameters only (unknown ones are ignored), coerced and checked; the last value wins."""
        values: dict[str, Any] = {}
        lists: dict[str, list[Any]] = {}
        for param in self.query_params:
            raw = multi.getall(param.name, [])
            if not raw:
                if param.required:
                    raise RequestRejected(400, f"{param.name} is required")
                continue
            checked = [param.value(item) for item in raw]
            values[param.name] = checked[-1]
            lists[param.name] = checked
        return values, lists

    def body(self, raw: bytes, content_type: str | None) -> Any:
        """The parsed, valid JSON body (None when an optional body is absent)."""
        if not raw:
            if self.body_required:
                raise RequestRejected(400, "Request body is required")
            return None
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media not in self.media_types:
            expected = " or ".join(sorted(self.media_types))
            raise RequestRejected(self.status_unsupported_media, f"Content-Type must be {expected}")
        if media == FORM:  # an OAuth token request: the same schema, over the form's fields as strings
            body: Any = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            assert self.body_check is not None
            message = schema_message(self.body_check, body)
            if message is not None:
                raise RequestRejected(400, message)
            return body
        try:
            body = _DECODER.decode(raw)
        except (msgspec.MsgspecError, ValueError) as exc:  # msgspec raises UnicodeDecodeError for bad UTF-8
            raise RequestRejected(400, f"Malformed JSON body: {_decode_problem(raw, exc)}") from None
        except RecursionError:
            raise RequestRejected(400, TOO_DEEP) from None
        if _too_deep(raw, body):
            raise RequestRejected(400, TOO_DEEP)
        assert self.body_check is not None
        message = schema_message(self.body_check, body)
        if message is not None:
            raise RequestRejected(400, message)
        return body

    def too_large(self, limit: int) -> RequestRejected:
        return RequestRejected(self.status_too_large, f"Request body is larger than {limit} bytes")


def _too_deep(raw: bytes, value: Any) -> bool:
    """Whether `value` nests arrays/objects deeper than MAX_DEPTH (deeper bodies would exhaust the recursion
    limit of the validators and the domain's copies). Counting brackets first keeps the common case free."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _decode_problem(raw: bytes, exc: Exception) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 (byte 0x{raw[bad.start]:02x} at position {bad.start})"
    text = str(exc)
    if "truncated" in text and b"\\u" in raw:
        return "invalid or unpaired \\u escape (lone surrogate)" if b"\\ud" in raw.lower() else text
    return text


def _param_schema_pointer(spec: Spec, op: Operation, param: Mapping[str, Any]) -> str:
    """A pointer to `param`'s schema inside the spec, so its `$ref`s resolve in the spec's registry."""
    item = spec.raw["paths"][op.path]
    for base, params in (
        (("paths", op.path, op.method.lower(), "parameters"), op.raw.get("parameters", [])),
        (("paths", op.path, "parameters"), item.get("parameters", [])),
    ):
        for index, candidate in enumerate(params):
            resolved = spec.deref(candidate)
            if resolved.get("name") == param["name"] and resolved.get("in") == param["in"]:
                if "$ref" in candidate:
                    return f"{candidate['$ref']}/schema"
                return pointer(*base, index, "schema")
    raise LookupError(f"{op.label}: parameter {param['name']!r} not found in the spec")
