"""The one loader of `openapi.yaml`: operations, security, `x-ownership` rules, the event map, validators.

Everything that needs the contract (the mock's routing and validation, the fixture checks, the contract suites,
`spec lint`) reads it through `load_spec()`, so no schema is ever restated by hand. Validators are compiled once
per JSON pointer and cached: `jsonschema_rs` (Draft 2020-12, the engine schemathesis itself uses) on hot paths,
the reference `jsonschema` implementation where people read the messages (`python_validator`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import yaml

__all__ = (
    "BUSINESS_RULES",
    "DEFAULT_SPEC_PATH",
    "METHODS",
    "Operation",
    "Ownership",
    "SchemaCheck",
    "SchemaError",
    "Spec",
    "SpecError",
    "business_rules",
    "load_spec",
    "parse_yaml",
    "pointer",
)

# a symlink to the checkout's openapi.yaml in a checkout, the packaged copy in an installed wheel
DEFAULT_SPEC_PATH = (Path(__file__).parent / "openapi.yaml").resolve()
SPEC_URI = "urn:buildd-spec"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MOCK_TAG = "mock"
# per operation, status -> the rule a request valid by the schema can still break (`{'400': only a pending task
# can be started}`): that status is a legitimate answer to positive data
BUSINESS_RULES = "x-business-rules"


class SpecError(ValueError):
    """The spec file cannot be read or is not the kind of document we expect."""


def pointer(*parts: str | int) -> str:
    """JSON pointer (RFC 6901) into the spec: `pointer("paths", "/api/tasks", "get")`."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped)


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One validation failure: where in the instance, and what is wrong."""

    path: tuple[str | int, ...]
    message: str

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.path) or "(root)"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class SchemaCheck:
    """A compiled validator for one schema in the spec."""

    __slots__ = ("_validator", "ref")

    def __init__(self, ref: str, validator: Any) -> None:
        self.ref = ref
        self._validator = validator

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))

    def errors(self, instance: Any, limit: int = 10) -> list[SchemaError]:
        found: list[SchemaError] = []
        for err in self._validator.iter_errors(instance):
            found.append(SchemaError(tuple(err.instance_path), err.message))
            if len(found) >= limit:
                break
        return found


@dataclass(frozen=True, slots=True)
class Ownership:
    """An operation's `x-ownership` rule (see the spec's info.description)."""

    resource: str
    location: str  # path | query | body
    name: str
    rule: str  # owner | team
    status: int
    error: str
    session: Ownership | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Ownership:
        session = raw.get("session")
        return cls(
            resource=raw["resource"],
            location=raw["in"],
            name=raw["name"],
            rule=raw["rule"],
            status=int(raw["status"]),
            error=raw["error"],
            session=cls.parse({**raw, **session, "session": None}) if session else None,
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec, with everything the mock and the suites derive from it."""

    operation_id: str
    method: str  # upper case
    path: str
    tags: tuple[str, ...]
    schemes: frozenset[str]  # accepted security schemes; empty = public
    ownership: Ownership | None
    parameters: tuple[Mapping[str, Any], ...]
    body_required: bool
    body_pointer: str | None  # pointer to the JSON request schema, if any
    body_media_types: tuple[str, ...]
    responses: Mapping[str, str | None]  # status -> pointer to its JSON schema (None: no JSON body)
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def is_public(self) -> bool:
        return not self.schemes

    @property
    def is_mock_only(self) -> bool:
        return MOCK_TAG in self.tags

    @property
    def statuses(self) -> frozenset[int]:
        return frozenset(int(s) for s in self.responses if s.isdigit())

    def path_params(self) -> list[Mapping[str, Any]]:
        return [p for p in self.parameters if p.get("in") == "path"]

    def query_params(self) -> list[Mapping[str, Any]]:
        return [p for p in self.parameters if p.get("in") == "query"]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def business_rules(self) -> dict[int, str]:
        return business_rules(self.raw)


def business_rules(operation: Any) -> dict[int, str]:
    """Status -> the business rule behind it (`x-business-rules: {'400': why}`), from a raw operation mapping."""
    rules = operation.get(BUSINESS_RULES) if isinstance(operation, Mapping) else None
    if not isinstance(rules, Mapping):
        return {}
    return {int(status): str(why) for status, why in rules.items() if str(status).isdigit()}


class Spec:
    """A loaded spec. Build it with `load_spec()`; it is immutable and caches its validators."""

    def __init__(self, raw: dict[str, Any], path: Path | None = None, text: bytes | None = None) -> None:
        if not isinstance(raw, dict) or "paths" not in raw or "openapi" not in raw:
            raise SpecError(f"{path or 'spec'}: not an OpenAPI document (no 'openapi' and 'paths' at the top)")
        self.raw = raw
        self.path = path
        self._text = text
        self._registry = jsonschema_rs.Registry([(SPEC_URI, raw)])
        self._checks: dict[str, SchemaCheck] = {}
        self._python_validators: dict[str, Any] = {}

    @property
    def text(self) -> bytes:
        """The document as served (`GET /openapi.yaml`): the file's own bytes, or a YAML dump of an in-memory one
        (made on first use: dumping the whole spec takes over a second)."""
        if self._text is None:
            self._text = yaml.safe_dump(self.raw, sort_keys=False).encode()
        return self._text

    # ------------------------------------------------------------------ navigation
    def resolve(self, ref: str) -> Any:
        """The node a local `#/...` pointer names (following `$ref`s on the way)."""
        node: Any = self.raw
        for part in ref.removeprefix("#/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
            while isinstance(node, dict) and set(node) == {"$ref"}:
                node = self.resolve(node["$ref"])
        return node

    def deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolve(node["$ref"])
        return node

    @cached_property
    def operations(self) -> dict[str, Operation]:
        ops: dict[str, Operation] = {}
        default_security = self.raw.get("security", [])
        for path, item in self.raw["paths"].items():
            shared = [self.deref(p) for p in item.get("parameters", [])]
            for method in METHODS:
                if method not in item:
                    continue
                raw = item[method]
                op_id = raw.get("operationId") or f"{method}_{path}"
                params = {(p["in"], p["name"]): p for p in shared}
                params.update({(p["in"], p["name"]): p for p in (self.deref(x) for x in raw.get("parameters", []))})
                security = raw.get("security", default_security)
                schemes = frozenset(name for req in security for name in req)
                body = self.deref(raw.get("requestBody")) if raw.get("requestBody") else None
                body_ptr = None
                media: tuple[str, ...] = ()
                if body:
                    media = tuple(body.get("content", {}))
                    if "application/json" in body.get("content", {}):
                        base = pointer("paths", path, method, "requestBody")
                        if "$ref" in raw["requestBody"]:
                            base = raw["requestBody"]["$ref"]
                        body_ptr = f"{base}/content/application~1json/schema"
                responses: dict[str, str | None] = {}
                for status, resp in raw.get("responses", {}).items():
                    base = resp["$ref"] if "$ref" in resp else pointer("paths", path, method, "responses", status)
                    content = self.deref(resp).get("content", {})
                    responses[str(status)] = (
                        f"{base}/content/application~1json/schema" if "application/json" in content else None
                    )
                ownership = raw.get("x-ownership")
                ops[op_id] = Operation(
                    operation_id=op_id,
                    method=method.upper(),
                    path=path,
                    tags=tuple(raw.get("tags", ())),
                    schemes=schemes,
                    ownership=Ownership.parse(ownership) if ownership else None,
                    parameters=tuple(params.values()),
                    body_required=bool(body and body.get("required")),
                    body_pointer=body_ptr,
                    body_media_types=media,
                    responses=responses,
                    raw=raw,
                )
        return ops

    def api_operations(self) -> Iterator[Operation]:
        """The buildd operations, without the mock's control API."""
        return (op for op in self.operations.values() if not op.is_mock_only)

    def find(self, method: str, path: str) -> Operation | None:
        """The operation whose path template matches a concrete request path."""
        for op in self.operations.values():
            if op.method == method.upper() and _template_regex(op.path).fullmatch(path):
                return op
        return None

    @cached_property
    def events(self) -> dict[str, dict[str, Any]]:
        """`x-events`: event name -> {channels, schema pointer, triggers, description}."""
        out: dict[str, dict[str, Any]] = {}
        for name, entry in (self.raw.get("x-events") or {}).items():
            schema = entry.get("schema", {})
            out[name] = {
                "channels": list(entry.get("channels", [])),
                "schema": schema.get("$ref") if isinstance(schema, dict) else None,
                "triggers": list(entry.get("triggers", [])),
                "description": entry.get("description", ""),
            }
        return out

    # ------------------------------------------------------------------ validation
    def check(self, ref: str) -> SchemaCheck:
        """A cached fast validator for the schema at `ref` (`#/components/schemas/Task`, or any pointer)."""
        cached = self._checks.get(ref)
        if cached is None:
            # characters a URI fragment cannot hold (the `{}` of path templates) are percent-encoded
            uri_ref = quote(ref, safe="#/~!$&'()*+,;=:@%")
            validator = jsonschema_rs.validator_for(
                {"$ref": SPEC_URI + uri_ref}, registry=self._registry, validate_formats=True
            )
            cached = self._checks[ref] = SchemaCheck(ref, validator)
        return cached

    def schema_check(self, name: str) -> SchemaCheck:
        """`schema_check("Task")`: the validator of `#/components/schemas/Task`."""
        if name not in self.raw.get("components", {}).get("schemas", {}):
            raise SpecError(f"no schema named {name!r} in components/schemas")
        return self.check(pointer("components", "schemas", name))

    def python_validator(self, ref: str) -> Any:
        """The reference `jsonschema` Draft 2020-12 validator (readable messages; slower), cached per pointer."""
        cached = self._python_validators.get(ref)
        if cached is None:
            from jsonschema import Draft202012Validator

            cached = self._python_validators[ref] = Draft202012Validator(
                {"$ref": SPEC_URI + ref},
                registry=self._python_registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return cached

    @cached_property
    def _python_registry(self) -> Any:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        return Registry().with_resource(SPEC_URI, Resource.from_contents(self.raw, default_specification=DRAFT202012))


@lru_cache(maxsize=512)
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def spec_path_from_env() -> Path:
    return Path(os.environ.get("BUILDD_SPEC", DEFAULT_SPEC_PATH))


_LOADED: dict[tuple[str, float], Spec] = {}


# libyaml's safe loader reads the spec ~6x faster than the pure-Python one (0.4 s against 2.6 s): every `serve`,
# `check` and `spec lint` starts by reading it
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str | bytes) -> Any:
    """`yaml.safe_load`, with libyaml when PyYAML was built with it."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, only faster


def load_spec(path: str | Path | None = None) -> Spec:
    """Load (once per file version) and index the spec; `SpecError` with a one-line reason if unreadable."""
    p = Path(path) if path is not None else spec_path_from_env()
    try:
        stat = p.stat()
        key = (str(p.resolve()), stat.st_mtime)
        if key in _LOADED:
            return _LOADED[key]
        text = p.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read {p}: {exc.strerror or exc}") from exc
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SpecError(f"{p}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    spec = Spec(raw, p, text)
    _LOADED[key] = spec
    return spec
