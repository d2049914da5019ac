"""`buildd-api spec lint`: is `openapi.yaml` a valid OpenAPI document, and does it keep our own conventions?

Two passes over one loaded spec:

1. `openapi-spec-validator` (the maintained validator of the OpenAPI 3.x meta-schemas plus its semantic checks),
   reported as rule `openapi-valid` with the JSON path of each error;
2. our rules, one small registered function each (`@rule`), yielding `Finding(rule, location, message)`:

   ==================  ==========================================================================================
   secured-401         every secured operation documents 401
   ownership-status    every `x-ownership` rule is well formed and its status (and the session's) is documented
   error-schema        every 4xx response is JSON whose schema requires a string `error`
   examples-valid      every example validates against its schema
   events-resolve      every `x-events` entry names known channels, a resolving schema and existing operations
   operation-id        every operation has a unique operationId and at least one (declared) tag
   links-resolve       every response link names an existing operation and its parameters
   resource-ops        every `x-resource` names a resource and one of its CRUD actions, once, with the id parameter
   id-ownership        every operation with an id parameter (`id` or `*Id`, in path or query) has an `x-ownership`
                       rule, or marks each such optional query parameter `x-filter: team` (a list filter: another
                       team's id narrows the answer to nothing of theirs)
   open-request        no request body schema is closed (`additionalProperties: false`) unless it says the real
                       route rejects unknown fields (`x-rejects-unknown-fields: true`); mock-only operations exempt
   paths-order         `paths` grouped by tag in the order of the top-level `tags`,
                       the `/__mock` control API last; `buildd-api spec sort` fixes it
   signature-declared  every `x-signature` (a webhook's signature scheme) is well formed, its `refused` status
                       documented, and its probe a body the operation accepts
   ==================  ==========================================================================================

A rule registered with `default=False` runs only when named (`lint(rules=[...])`, `spec lint --rule NAME`).

A location names the operation (`POST /api/tasks (createTask)`) or the node (`components/schemas/Task`,
`x-events/task:created`); the message says what is wrong and what to add.

    report = lint("openapi.yaml")          # SpecError if the file cannot be read or parsed
    for finding in report.findings:
        print(finding)
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from .shares import EXTENSION as SHARED_IN
from .shares import parse as parse_shared_in
from .signatures import EXTENSION as SIGNATURE
from .signatures import FORM, signature_of
from .spec import METHODS, Operation, Spec, SpecError, load_spec, pointer
from .spec_order import misplaced

__all__ = (
    "CHANNELS",
    "OWNERSHIP_RESOURCES",
    "RESOURCE_ACTIONS",
    "RULES",
    "Finding",
    "LintReport",
    "Rule",
    "SpecError",
    "known_rules",
    "lint",
    "lint_spec",
    "rule",
)

OWNERSHIP_RESOURCES = frozenset(
    {
        "account",
        "artifact",
        "connector",
        "heartbeat",
        "ingestJob",
        "installation",
        "invitation",
        "mission",
        "pullRequest",
        "role",
        "schedule",
        "secret",
        "task",
        "team",
        "worker",
        "workspace",
    }
)
OWNERSHIP_LOCATIONS = frozenset({"path", "query", "body"})
OWNERSHIP_RULES = frozenset({"owner", "team"})
CHANNELS = frozenset({"workspace", "task", "worker", "mission"})
# the verbs of the generic resource layer (mockserver.domain.resources.ACTIONS, which a test keeps equal)
RESOURCE_ACTIONS = ("list", "get", "create", "update", "delete")
_RESOURCE_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")
VALIDATOR_RULE = "openapi-valid"
_MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem: which rule, where (an operation or a node of the document) and what to do about it."""

    rule: str
    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "location": self.location, "message": self.message}

    def __str__(self) -> str:
        return f"{self.rule}  {self.location}  {self.message}"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    summary: str
    check: RuleCheck
    default: bool = True  # run by a plain `lint()`; False: only when named


RULES: dict[str, Rule] = {}


RuleCheck = Callable[[Spec], Iterable[Finding]]


def rule(name: str, summary: str, *, default: bool = True) -> Callable[[RuleCheck], RuleCheck]:
    """Register a rule: a function of the loaded spec yielding findings. Names are unique. `default=False`: the
    rule runs only when named (a convention not yet applied to the whole document)."""

    def register(fn: RuleCheck) -> RuleCheck:
        if name in RULES or name == VALIDATOR_RULE:
            raise ValueError(f"lint rule {name!r} is already registered")
        RULES[name] = Rule(name, summary, fn, default)
        return fn

    return register


@dataclass(frozen=True, slots=True)
class LintReport:
    path: str
    operations: int
    rules: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "operations": self.operations,
            "rules": list(self.rules),
            "count": len(self.findings),
            "findings": [f.as_dict() for f in self.findings],
        }


def lint(path: str | Path | None = None, *, rules: Iterable[str] | None = None) -> LintReport:
    """Load the spec at `path` (default: `openapi.yaml` or `$BUILDD_SPEC`) and lint it. `SpecError` if unreadable."""
    return lint_spec(load_spec(path), rules=rules)


def lint_spec(spec: Spec, *, rules: Iterable[str] | None = None) -> LintReport:
    """Run the validator, then every default rule (or the named ones), on an already loaded spec."""
    selected = [n for n, r in RULES.items() if r.default] if rules is None else list(rules)
    unknown = [name for name in selected if name not in RULES and name != VALIDATOR_RULE]
    if unknown:
        raise LookupError(f"unknown lint rule(s): {', '.join(unknown)} (known: {', '.join([VALIDATOR_RULE, *RULES])})")
    findings: list[Finding] = []
    if rules is None or VALIDATOR_RULE in selected:
        findings.extend(_validated(spec.raw))
    invalid = bool(findings)
    skipped: list[str] = []
    for name in selected:
        if name == VALIDATOR_RULE:
            continue
        try:
            findings.extend(list(RULES[name].check(spec)))
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            # a document too broken for the rule to walk: the validator's findings say why
            if invalid:
                skipped.append(name)
            else:
                findings.append(Finding(name, "(document)", f"could not run: {type(exc).__name__}: {exc}"))
    if skipped:
        findings.append(
            Finding(
                VALIDATOR_RULE,
                "(document)",
                f"not structurally valid OpenAPI, so {', '.join(skipped)} could not run; fix the findings above first",
            )
        )
    try:
        count = sum(1 for _ in _raw_operations(spec))
    except (TypeError, AttributeError):
        count = 0
    return LintReport(
        path=str(spec.path or "<memory>"),
        operations=count,
        rules=tuple([VALIDATOR_RULE, *selected] if rules is None else selected),
        findings=tuple(_dedupe(findings)),
    )


def _dedupe(findings: Iterable[Finding]) -> Iterator[Finding]:
    seen: set[Finding] = set()
    for f in findings:
        if f not in seen:
            seen.add(f)
            yield f


def _clip(text: str) -> str:
    text = str(text).split("Failed validating", 1)[0]  # jsonschema-rs appends the schema and the whole instance
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


# ---------------------------------------------------------------------------------- openapi-spec-validator
_VALIDATED: dict[str, tuple[Finding, ...]] = {}


def _validated(raw: Mapping[str, Any]) -> tuple[Finding, ...]:
    """`_validator_findings`, once per document content: the validator takes ~9 of a lint's ~10 s, and a process
    (the test suite, an editor integration) often lints the same document again."""
    try:
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=repr).encode()).hexdigest()
    except (TypeError, ValueError):  # keys json cannot sort (a YAML document with mixed key types)
        return tuple(_validator_findings(raw))
    if digest not in _VALIDATED:
        if len(_VALIDATED) >= 16:
            _VALIDATED.clear()
        _VALIDATED[digest] = tuple(_validator_findings(raw))
    return _VALIDATED[digest]


def _validator_findings(raw: Mapping[str, Any]) -> Iterator[Finding]:
    from jsonschema.exceptions import best_match
    from openapi_spec_validator.shortcuts import get_validator_cls
    from openapi_spec_validator.validation.exceptions import ValidatorDetectError

    try:
        cls = get_validator_cls(raw)
    except ValidatorDetectError:
        yield Finding(VALIDATOR_RULE, "$.openapi", f"unsupported or missing OpenAPI version {raw.get('openapi')!r}")
        return
    validator = cls(raw)
    # The meta-schema pass first: the semantic pass assumes a well-formed document and can crash on a broken one.
    schema_errors = list(validator.schema_validator.iter_errors(raw))
    for err in schema_errors:
        deepest = best_match(err.context) if err.context else err
        yield Finding(VALIDATOR_RULE, deepest.json_path, _clip(deepest.message))
    if schema_errors:
        return
    try:
        for err in validator.iter_errors():
            yield Finding(VALIDATOR_RULE, getattr(err, "json_path", "$"), _clip(err.message))
    except Exception as exc:  # noqa: BLE001 - a third-party crash is a finding about the document, not ours
        yield Finding(VALIDATOR_RULE, "$", _clip(f"openapi-spec-validator stopped: {type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------------------------- helpers
@dataclass(frozen=True, slots=True)
class _RawOperation:
    """An operation as written (duplicates and all), for the rules that must see what `spec.operations` merges."""

    path: str
    method: str
    node: Mapping[str, Any]

    @property
    def operation_id(self) -> str | None:
        op_id = self.node.get("operationId")
        return op_id if isinstance(op_id, str) else None

    @property
    def location(self) -> str:
        op_id = self.operation_id
        return f"{self.method.upper()} {self.path}" + (f" ({op_id})" if op_id else "")

    @property
    def pointer(self) -> str:
        return pointer("paths", self.path, self.method)


def _raw_operations(spec: Spec) -> Iterator[_RawOperation]:
    for path, item in (spec.raw.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in METHODS:
            if isinstance(item.get(method), Mapping):
                yield _RawOperation(path, method, item[method])


_OPERATIONS: WeakKeyDictionary[Spec, dict[str, Operation]] = WeakKeyDictionary()


def _operations(spec: Spec) -> dict[str, Operation]:
    """`spec.operations`, even when an `x-ownership` rule is too malformed for the loader to parse.

    The loader parses every rule eagerly; here a broken rule must become an `ownership-status` finding, not stop
    every rule. So on failure, index a copy without the rules and put each operation's raw node back.
    """
    try:
        return spec.operations
    except (KeyError, TypeError, ValueError, AttributeError):
        if spec in _OPERATIONS:
            return _OPERATIONS[spec]
    stripped = copy.deepcopy(spec.raw)
    for item in (stripped.get("paths") or {}).values():
        for method in METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                item[method].pop("x-ownership", None)
    ops = {
        op_id: dataclasses.replace(op, raw=spec.raw["paths"][op.path][op.method.lower()])
        for op_id, op in Spec(stripped, spec.path, spec.text).operations.items()
    }
    _OPERATIONS[spec] = ops
    return ops


def _where(op: Operation) -> str:
    return f"{op.label} ({op.operation_id})"


def _safe_resolve(spec: Spec, ref: str) -> tuple[bool, Any]:
    try:
        return True, spec.resolve(ref)
    except (KeyError, IndexError, TypeError, ValueError, RecursionError):
        return False, None


def _schema_parts(spec: Spec, node: Any, _depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """A schema and every schema it is made of through `$ref` and `allOf` (all of which apply at once)."""
    if _depth > 32 or not isinstance(node, Mapping):
        return
    if "$ref" in node:
        ok, target = _safe_resolve(spec, node["$ref"])
        if ok:
            yield from _schema_parts(spec, target, _depth + 1)
    yield node
    for member in node.get("allOf") or ():
        yield from _schema_parts(spec, member, _depth + 1)


def _property_schema(spec: Spec, schema: Any, name: str) -> Any | None:
    """The subschema a schema declares for property `name` (through `$ref`/`allOf`), or None."""
    for part in _schema_parts(spec, schema):
        props = part.get("properties")
        if isinstance(props, Mapping) and name in props:
            return props[name]
    return None


def _is_string_schema(spec: Spec, schema: Any) -> bool:
    for part in _schema_parts(spec, schema):
        kind = part.get("type")
        if kind == "string" or (isinstance(kind, list) and kind == ["string"]):
            return True
        if isinstance(part.get("const"), str):
            return True
        enum = part.get("enum")
        if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
            return True
    return False


def _requires_string_error(spec: Spec, schema: Any, _depth: int = 0) -> bool:
    """Does every instance this schema accepts carry a string `error`?"""
    if _depth > 16:
        return False
    parts = list(_schema_parts(spec, schema))
    required = {name for part in parts for name in (part.get("required") or ())}
    if "error" in required:
        error_schema = _property_schema(spec, schema, "error")
        if error_schema is not None and _is_string_schema(spec, error_schema):
            return True
    # every branch of a oneOf/anyOf keeping the promise keeps it for the whole schema
    for part in parts:
        for keyword in ("oneOf", "anyOf"):
            branches = part.get(keyword)
            if branches and all(_requires_string_error(spec, b, _depth + 1) for b in branches):
                return True
    return False


# ---------------------------------------------------------------------------------- rules
@rule("secured-401", "every secured operation documents 401")
def check_secured_401(spec: Spec) -> Iterator[Finding]:
    for op in _operations(spec).values():
        if op.schemes and "401" not in op.responses:
            yield Finding(
                "secured-401",
                _where(op),
                f"accepts {' or '.join(sorted(op.schemes))} but documents no 401; add "
                "`'401': {$ref: '#/components/responses/Unauthorized'}`",
            )


_STATUS_RESPONSES = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
}


def _add_response_hint(status: int) -> str:
    name = _STATUS_RESPONSES.get(status)
    ref = f"{{$ref: '#/components/responses/{name}'}}" if name else "a response with an `Error` body"
    return f"add `'{status}': {ref}`"


def _check_ownership_fields(spec: Spec, op: Operation, raw: Mapping[str, Any], label: str) -> Iterator[str]:
    """Problems with one (possibly session-merged) x-ownership rule, as messages."""
    missing = [k for k in ("resource", "in", "name", "rule", "status", "error") if k not in raw]
    if missing:
        yield f"{label} lacks {', '.join(missing)} (needs resource, in, name, rule, status, error)"
    resource = raw.get("resource")
    resources = OWNERSHIP_RESOURCES | _declared_resources(spec)
    if "resource" in raw and resource not in resources:
        yield f"{label} resource {resource!r} is not one of {', '.join(sorted(resources))}"
    where = raw.get("in")
    if "in" in raw and where not in OWNERSHIP_LOCATIONS:
        yield f"{label} in {where!r} is not one of path, query, body"
    name = raw.get("name")
    if where in ("path", "query") and "name" in raw:
        names = {p.get("name") for p in op.parameters if p.get("in") == where}
        if name not in names:
            known = ", ".join(sorted(str(n) for n in names)) or "none"
            yield f"{label} names {where} parameter {name!r}, which the operation does not declare ({where}: {known})"
    elif where == "body" and "name" in raw:
        if op.body_pointer is None:
            yield f"{label} names body field {name!r}, but the operation has no JSON request body"
        else:
            ok, body = _safe_resolve(spec, op.body_pointer)
            if ok and _property_schema(spec, body, str(name)) is None:
                yield f"{label} names body field {name!r}, which the request body schema does not declare"
    if "rule" in raw and raw.get("rule") not in OWNERSHIP_RULES:
        yield f"{label} rule {raw.get('rule')!r} is not one of owner, team"
    status = raw.get("status")
    if "status" in raw and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 499):
        yield f"{label} status {status!r} is not a 4xx integer"
    error = raw.get("error")
    if "error" in raw and (not isinstance(error, str) or not error.strip()):
        yield f"{label} error must be a non-empty string (the `error` of the {status} body)"


def _documented_error_mismatch(spec: Spec, op: Operation, status: int, error: str) -> str | None:
    """If the documented response for `status` cannot carry `{"error": error}`, say why."""
    ref = op.responses.get(str(status))
    if ref is None:
        return None  # no JSON body at all: error-schema reports that
    try:
        validator = spec.python_validator(ref)
        problems = [e for e in validator.iter_errors({"error": error}) if list(e.absolute_path) == ["error"]]
    except Exception as exc:  # noqa: BLE001 - an unresolvable or broken schema
        return f"cannot check the documented {status} response ({ref}): {_clip(str(exc))}"
    if problems:
        return f"documented {status} response rejects {{error: {error!r}}}: {_clip(problems[0].message)}"
    return None


@rule("ownership-status", "x-ownership rules are well formed and their statuses documented")
def check_ownership(spec: Spec) -> Iterator[Finding]:
    for op in _operations(spec).values():
        raw = op.raw.get("x-ownership")
        if raw is None:
            continue
        where = _where(op)
        if not isinstance(raw, Mapping):
            yield Finding("ownership-status", where, "x-ownership must be a mapping (resource, in, name, rule, ...)")
            continue
        session = raw.get("session")
        rules: list[tuple[str, Mapping[str, Any]]] = [("x-ownership", raw)]
        if session is not None:
            if not isinstance(session, Mapping) or not session:
                yield Finding("ownership-status", where, "x-ownership.session must be a mapping (rule, status, error)")
            else:
                merged = {k: v for k, v in raw.items() if k != "session"} | dict(session)
                rules.append(("x-ownership.session", merged))
        for label, rule_raw in rules:
            for message in _check_ownership_fields(spec, op, rule_raw, label):
                yield Finding("ownership-status", where, message)
            status = rule_raw.get("status")
            if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 499:
                if str(status) not in op.responses:
                    yield Finding(
                        "ownership-status",
                        where,
                        f"{label} answers {status} ({rule_raw.get('error')!r}) but the operation does not document "
                        f"{status}; {_add_response_hint(status)}",
                    )
                elif isinstance(rule_raw.get("error"), str) and rule_raw["error"].strip():
                    mismatch = _documented_error_mismatch(spec, op, status, rule_raw["error"])
                    if mismatch:
                        yield Finding("ownership-status", where, f"{label}: {mismatch}")


@rule("error-schema", "every 4xx response is JSON whose schema requires a string `error`")
def check_error_schema(spec: Spec) -> Iterator[Finding]:
    for op in _operations(spec).values():
        for status, ref in op.responses.items():
            if not (status.isdigit() and status.startswith("4")) and status.upper() != "4XX":
                continue
            if ref is None:
                yield Finding(
                    "error-schema",
                    _where(op),
                    f"{status} has no application/json body; use an error response such as "
                    f"{_add_response_hint(int(status) if status.isdigit() else 400).removeprefix('add ')}",
                )
                continue
            ok, schema = _safe_resolve(spec, ref)
            if not ok:
                yield Finding("error-schema", _where(op), f"{status} schema does not resolve ({ref})")
            elif not _requires_string_error(spec, schema):
                yield Finding(
                    "error-schema",
                    _where(op),
                    f"{status} body schema does not require a string `error`; use "
                    "`$ref: '#/components/schemas/Error'` (or a schema with `required: [error]` and "
                    "`error: {type: string}`)",
                )


# ---- examples-valid
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = (
    "items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "not", "if", "then", "else",
    "contains", "propertyNames",
)  # fmt: skip


def _schema_nodes(node: Any, ptr: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema object inside an inline schema (not following `$ref`), with its pointer."""
    if not isinstance(node, Mapping):
        return
    yield ptr, node
    for key in _SUBSCHEMA_MAPS:
        sub = node.get(key)
        if isinstance(sub, Mapping):
            for name, child in sub.items():
                yield from _schema_nodes(child, f"{ptr}/{key}/{_esc(name)}")
    for key in _SUBSCHEMA_LISTS:
        sub = node.get(key)
        if isinstance(sub, list):
            for i, child in enumerate(sub):
                yield from _schema_nodes(child, f"{ptr}/{key}/{i}")
    for key in _SUBSCHEMA_ONE:
        if isinstance(node.get(key), Mapping):
            yield from _schema_nodes(node[key], f"{ptr}/{key}")


def _esc(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _example_values(spec: Spec, holder: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, value) for `example` and each entry of an `examples` map of a media type or parameter."""
    if "example" in holder:
        yield "example", holder["example"]
    examples = holder.get("examples")
    if isinstance(examples, Mapping):
        for name, entry in examples.items():
            ref = entry.get("$ref") if isinstance(entry, Mapping) else None
            ok, entry = _safe_resolve(spec, ref) if isinstance(ref, str) else (True, entry)
            if not ok:
                yield f"example {name!r}", _Unresolved(str(ref))
            elif isinstance(entry, Mapping) and "value" in entry:
                yield f"example {name!r}", entry["value"]


@dataclass(frozen=True, slots=True)
class _Unresolved:
    ref: str


def _validate_example(spec: Spec, schema_ptr: str, value: Any) -> str | None:
    if isinstance(value, _Unresolved):
        return f"$ref {value.ref} does not resolve"
    try:
        validator = spec.python_validator(schema_ptr)
        errors = sorted(validator.iter_errors(value), key=lambda e: (len(e.absolute_path), e.message))
    except Exception as exc:  # noqa: BLE001 - unresolvable refs and broken schemas surface as exceptions
        return f"cannot validate against {schema_ptr}: {_clip(str(exc))}"
    if not errors:
        return None
    first = errors[0]
    at = ".".join(str(p) for p in first.absolute_path) or "(root)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{at}: {_clip(first.message)}{more}"


def _schema_examples(spec: Spec, schema: Any, ptr: str) -> Iterator[tuple[str, str]]:
    """(what, problem) for schema-level `example`/`examples` anywhere inside an inline schema."""
    for node_ptr, node in _schema_nodes(schema, ptr):
        rel = node_ptr[len(ptr) :].lstrip("/") or ""
        label = f"schema example{' at ' + rel if rel else ''}"
        if "example" in node:
            problem = _validate_example(spec, node_ptr, node["example"])
            if problem:
                yield label, problem
        if isinstance(node.get("examples"), list):
            for i, value in enumerate(node["examples"]):
                problem = _validate_example(spec, node_ptr, value)
                if problem:
                    yield f"{label} examples[{i}]", problem


def _content_examples(spec: Spec, content: Any, ptr: str, what: str) -> Iterator[tuple[str, str]]:
    if not isinstance(content, Mapping):
        return
    for media, media_obj in content.items():
        if not isinstance(media_obj, Mapping):
            continue
        media_ptr = f"{ptr}/{_esc(media)}"
        schema_ptr = f"{media_ptr}/schema"
        if "schema" in media_obj:
            for label, value in _example_values(spec, media_obj):
                problem = _validate_example(spec, schema_ptr, value)
                if problem:
                    yield f"{what} {media} {label}", problem
            yield from ((f"{what} {media} {w}", p) for w, p in _schema_examples(spec, media_obj["schema"], schema_ptr))


def _parameter_examples(spec: Spec, param: Any, ptr: str) -> Iterator[tuple[str, str]]:
    if not isinstance(param, Mapping) or "$ref" in param:
        return
    what = f"parameter {param.get('in')}.{param.get('name')}"
    if "schema" in param:
        for label, value in _example_values(spec, param):
            problem = _validate_example(spec, f"{ptr}/schema", value)
            if problem:
                yield f"{what} {label}", problem
        yield from ((f"{what} {w}", p) for w, p in _schema_examples(spec, param["schema"], f"{ptr}/schema"))
    if "content" in param:
        yield from _content_examples(spec, param["content"], f"{ptr}/content", what)


def _response_examples(spec: Spec, response: Any, ptr: str, what: str) -> Iterator[tuple[str, str]]:
    if not isinstance(response, Mapping) or "$ref" in response:
        return
    yield from _content_examples(spec, response.get("content"), f"{ptr}/content", what)
    for header, header_obj in (response.get("headers") or {}).items():
        yield from _parameter_examples(spec, header_obj, f"{ptr}/headers/{_esc(header)}")


@rule("examples-valid", "every example validates against its schema")
def check_examples(spec: Spec) -> Iterator[Finding]:
    for path, item in (spec.raw.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        item_ptr = pointer("paths", path)
        for i, param in enumerate(item.get("parameters") or ()):
            for what, problem in _parameter_examples(spec, param, f"{item_ptr}/parameters/{i}"):
                yield Finding("examples-valid", f"{path} (path parameters)", f"{what}: {problem}")
        for raw_op in _raw_operations_of(path, item):
            where, op_ptr, node = raw_op.location, raw_op.pointer, raw_op.node
            for i, param in enumerate(node.get("parameters") or ()):
                for what, problem in _parameter_examples(spec, param, f"{op_ptr}/parameters/{i}"):
                    yield Finding("examples-valid", where, f"{what}: {problem}")
            body = node.get("requestBody")
            if isinstance(body, Mapping) and "$ref" not in body:
                content_ptr = f"{op_ptr}/requestBody/content"
                for what, problem in _content_examples(spec, body.get("content"), content_ptr, "request body"):
                    yield Finding("examples-valid", where, f"{what}: {problem}")
            for status, response in (node.get("responses") or {}).items():
                response_ptr = f"{op_ptr}/responses/{_esc(status)}"
                for what, problem in _response_examples(spec, response, response_ptr, f"{status} response"):
                    yield Finding("examples-valid", where, f"{what}: {problem}")
    components = spec.raw.get("components") or {}
    for name, schema in (components.get("schemas") or {}).items():
        ptr = pointer("components", "schemas", name)
        for what, problem in _schema_examples(spec, schema, ptr):
            yield Finding("examples-valid", f"components/schemas/{name}", f"{what}: {problem}")
    for name, param in (components.get("parameters") or {}).items():
        for what, problem in _parameter_examples(spec, param, pointer("components", "parameters", name)):
            yield Finding("examples-valid", f"components/parameters/{name}", f"{what}: {problem}")
    for name, response in (components.get("responses") or {}).items():
        for what, problem in _response_examples(spec, response, pointer("components", "responses", name), "response"):
            yield Finding("examples-valid", f"components/responses/{name}", f"{what}: {problem}")
    for name, body in (components.get("requestBodies") or {}).items():
        if isinstance(body, Mapping):
            ptr = pointer("components", "requestBodies", name, "content")
            for what, problem in _content_examples(spec, body.get("content"), ptr, "request body"):
                yield Finding("examples-valid", f"components/requestBodies/{name}", f"{what}: {problem}")


def _raw_operations_of(path: str, item: Mapping[str, Any]) -> Iterator[_RawOperation]:
    for method in METHODS:
        if isinstance(item.get(method), Mapping):
            yield _RawOperation(path, method, item[method])


# ---- events-resolve
@rule("events-resolve", "x-events name known channels, resolving schemas and existing operations")
def check_events(spec: Spec) -> Iterator[Finding]:
    events = spec.raw.get("x-events")
    if events is None:
        return
    if not isinstance(events, Mapping):
        yield Finding("events-resolve", "x-events", "must be a mapping of event name -> {channels, schema, triggers}")
        return
    op_ids = {op.operation_id for op in _raw_operations(spec) if op.operation_id}
    for name, entry in events.items():
        where = f"x-events/{name}"
        if not isinstance(entry, Mapping):
            yield Finding("events-resolve", where, "must be a mapping with channels, schema and triggers")
            continue
        channels = entry.get("channels")
        if not isinstance(channels, list) or not channels:
            known = ", ".join(sorted(CHANNELS))
            yield Finding("events-resolve", where, f"channels must be a non-empty list of {known}")
        else:
            for channel in channels:
                if channel not in CHANNELS:
                    yield Finding(
                        "events-resolve", where, f"unknown channel {channel!r}; use {', '.join(sorted(CHANNELS))}"
                    )
        schema = entry.get("schema")
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if not isinstance(ref, str):
            yield Finding("events-resolve", where, "schema must be `{$ref: '#/components/schemas/<payload>'}`")
        else:
            ok, target = _safe_resolve(spec, ref) if ref.startswith("#/") else (False, None)
            if not ok or not isinstance(target, Mapping):
                yield Finding("events-resolve", where, f"schema $ref {ref} does not resolve to a schema")
        triggers = entry.get("triggers")
        if not isinstance(triggers, list) or not triggers:
            yield Finding("events-resolve", where, "triggers must be a non-empty list of operationIds")
        else:
            for trigger in triggers:
                if trigger not in op_ids:
                    yield Finding("events-resolve", where, f"trigger {trigger!r} is not an operationId of this spec")


# ---- operation-id
@rule("operation-id", "every operation has a unique operationId and at least one declared tag")
def check_operation_ids(spec: Spec) -> Iterator[Finding]:
    declared = {t.get("name") for t in spec.raw.get("tags") or () if isinstance(t, Mapping)}
    first_seen: dict[str, str] = {}
    for op in _raw_operations(spec):
        op_id = op.node.get("operationId")
        if op_id is None:
            yield Finding("operation-id", op.location, "has no operationId; add a unique camelCase `operationId`")
        elif not isinstance(op_id, str) or not op_id:
            yield Finding("operation-id", op.location, f"operationId {op_id!r} must be a non-empty string")
        elif op_id in first_seen:
            yield Finding(
                "operation-id", op.location, f"operationId {op_id!r} is also used by {first_seen[op_id]}; rename one"
            )
        else:
            first_seen[op_id] = f"{op.method.upper()} {op.path}"
        tags = op.node.get("tags")
        if not isinstance(tags, list) or not tags:
            yield Finding("operation-id", op.location, "has no tags; add a top-level tag, e.g. `tags: [tasks]`")
        elif declared:
            for tag in tags:
                if tag not in declared:
                    yield Finding(
                        "operation-id", op.location, f"tag {tag!r} is not declared in the top-level `tags` list"
                    )


# ---- links-resolve
_EXPRESSION = re.compile(r"^\$(url|method|statusCode|request\.|response\.)")


def _link_target(spec: Spec, link: Mapping[str, Any]) -> tuple[Operation | None, str | None]:
    """The operation a link points to, or a message saying why there is none."""
    ops = _operations(spec)
    if "operationId" in link:
        target = ops.get(link["operationId"]) if isinstance(link["operationId"], str) else None
        if target is None:
            return None, f"operationId {link['operationId']!r} does not exist"
        return target, None
    ref = link.get("operationRef")
    if isinstance(ref, str) and ref.startswith("#/paths/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in ref.removeprefix("#/paths/").split("/")]
        if len(parts) == 2:
            for op in ops.values():
                if op.path == parts[0] and op.method == parts[1].upper():
                    return op, None
        return None, f"operationRef {ref} does not name an operation of this spec"
    return None, "names neither an operationId nor a local operationRef"


def _body_path_declared(spec: Spec, schema: Any, parts: list[str]) -> bool:
    """Is `$response.body#/<parts>` something the response schema declares? Unknown shapes count as declared."""
    node = schema
    for part in parts:
        node_parts = list(_schema_parts(spec, node))
        if any(p.get("oneOf") or p.get("anyOf") for p in node_parts):
            return True
        if part.isdigit() and any(p.get("type") == "array" or "items" in p for p in node_parts):
            items = next((p["items"] for p in node_parts if isinstance(p.get("items"), Mapping)), None)
            if items is None:
                return True
            node = items
            continue
        sub = _property_schema(spec, node, part)
        if sub is None:
            return False
        node = sub
    return True


def _check_expression(spec: Spec, source: Operation, status: str, expr: Any) -> str | None:
    if not isinstance(expr, str) or not expr.startswith("$"):
        return None  # a constant
    if not _EXPRESSION.match(expr):
        return f"{expr!r} is not a runtime expression ($request..., $response..., $url, $method, $statusCode)"
    m = re.match(r"^\$request\.(path|query|header)\.(.+)$", expr)
    if m:
        where, name = m.groups()
        fold = str.lower if where == "header" else str  # header names are case-insensitive
        names = {fold(str(p.get("name"))) for p in source.parameters if p.get("in") == where}
        if fold(name) not in names:
            return f"{expr} names a {where} parameter the source operation does not declare"
    m = re.match(r"^\$response\.body#/(.*)$", expr)
    if m and (ref := source.responses.get(status)):
        ok, schema = _safe_resolve(spec, ref)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in m.group(1).split("/") if p != ""]
        if ok and not _body_path_declared(spec, schema, parts):
            return f"{expr} points at a field the {status} response schema does not declare"
    return None


@rule("links-resolve", "every response link names an existing operation and its parameters")
def check_links(spec: Spec) -> Iterator[Finding]:
    for source in _operations(spec).values():
        for status, response in (source.raw.get("responses") or {}).items():
            response = spec.deref(response)
            links = response.get("links") if isinstance(response, Mapping) else None
            if not isinstance(links, Mapping):
                continue
            for link_name, link in links.items():
                link = spec.deref(link)
                prefix = f"{status} link {link_name!r}"
                if not isinstance(link, Mapping):
                    yield Finding("links-resolve", _where(source), f"{prefix} must be a Link object")
                    continue
                target, problem = _link_target(spec, link)
                if target is None:
                    yield Finding("links-resolve", _where(source), f"{prefix}: {problem}")
                    continue
                params = link.get("parameters") or {}
                declared = {(p.get("in"), p.get("name")) for p in target.parameters}
                names = {name for _, name in declared}
                for key, expr in params.items():
                    where, _, name = str(key).rpartition(".")
                    ok = (where, name) in declared if where in ("path", "query", "header", "cookie") else key in names
                    if not ok:
                        yield Finding(
                            "links-resolve",
                            _where(source),
                            f"{prefix}: parameter {key!r} is not a parameter of {target.operation_id} "
                            f"(it has: {', '.join(sorted(str(n) for n in names)) or 'none'})",
                        )
                    problem = _check_expression(spec, source, str(status), expr)
                    if problem:
                        yield Finding("links-resolve", _where(source), f"{prefix}: parameter {key!r}: {problem}")
                if "requestBody" in link:
                    if target.body_pointer is None and not target.body_media_types:
                        yield Finding(
                            "links-resolve",
                            _where(source),
                            f"{prefix}: sets a requestBody but {target.operation_id} takes no request body",
                        )
                    body = link["requestBody"]
                    for expr in body.values() if isinstance(body, Mapping) else [body]:
                        problem = _check_expression(spec, source, str(status), expr)
                        if problem:
                            yield Finding("links-resolve", _where(source), f"{prefix}: requestBody: {problem}")
                    if isinstance(body, Mapping) and target.body_pointer:
                        ok, target_body = _safe_resolve(spec, target.body_pointer)
                        for field_name in body:
                            if ok and _property_schema(spec, target_body, str(field_name)) is None:
                                yield Finding(
                                    "links-resolve",
                                    _where(source),
                                    f"{prefix}: requestBody field {field_name!r} is not in "
                                    f"{target.operation_id}'s request body schema",
                                )


# ---- resource-ops
def _declared_resources(spec: Spec) -> frozenset[str]:
    """The resource names the spec's `x-resource` markers declare (x-ownership may name them too)."""
    return frozenset(
        str(m["name"])
        for op in _raw_operations(spec)
        if isinstance(m := op.node.get("x-resource"), Mapping) and isinstance(m.get("name"), str)
    )


@rule("resource-ops", "every x-resource names a resource and one CRUD action, once, with the id parameter")
def check_resource_ops(spec: Spec) -> Iterator[Finding]:
    seen: dict[tuple[str, str], str] = {}
    for op in _raw_operations(spec):
        marker = op.node.get("x-resource")
        if marker is None:
            continue
        if not isinstance(marker, Mapping) or set(marker) != {"name", "action"}:
            yield Finding("resource-ops", op.location, "x-resource must be a mapping of exactly `name` and `action`")
            continue
        name, action = marker["name"], marker["action"]
        if not isinstance(name, str) or not _RESOURCE_NAME.match(name):
            yield Finding("resource-ops", op.location, f"x-resource name {name!r} must be a singular camelCase word")
            continue
        if action not in RESOURCE_ACTIONS:
            yield Finding(
                "resource-ops", op.location, f"x-resource action {action!r} is not one of {', '.join(RESOURCE_ACTIONS)}"
            )
            continue
        if (name, action) in seen:
            yield Finding("resource-ops", op.location, f"x-resource {name}.{action} is also {seen[(name, action)]}")
        seen.setdefault((name, action), op.location)
        params = {p.get("name") for p in _op_path_params(spec, op)}
        if action in ("get", "update", "delete") and f"{name}Id" not in params:
            yield Finding(
                "resource-ops",
                op.location,
                f"x-resource {name}.{action} needs the record id as path parameter `{name}Id`",
            )
        if action in ("create", "update") and "requestBody" not in op.node:
            yield Finding("resource-ops", op.location, f"x-resource {name}.{action} needs a JSON request body")


def _op_path_params(spec: Spec, op: _RawOperation) -> list[Mapping[str, Any]]:
    item = spec.raw["paths"].get(op.path) or {}
    found = []
    for p in [*(item.get("parameters") or ()), *(op.node.get("parameters") or ())]:
        ok, node = _safe_resolve(spec, p["$ref"]) if isinstance(p, Mapping) and "$ref" in p else (True, p)
        if ok and isinstance(node, Mapping) and node.get("in") == "path":
            found.append(node)
    return found


FILTER = "x-filter"  # on an optional query id: another team's id filters the list to nothing of theirs
FILTER_VALUES = frozenset({"team"})


def _is_id_name(name: Any) -> bool:
    return isinstance(name, str) and (name == "id" or (name.endswith("Id") and len(name) > 2))


@rule("id-ownership", "every operation taking a resource id says who may reach it (x-ownership or x-filter)")
def check_id_ownership(spec: Spec) -> Iterator[Finding]:
    """An id parameter with no rule is one nobody probes: the ownership suite reads these two markers only."""
    for op in _operations(spec).values():
        if op.is_mock_only or op.is_public:
            continue
        covered = op.raw.get("x-ownership") is not None
        for param in op.parameters:
            name, where = param.get("name"), param.get("in")
            if where not in ("path", "query") or not _is_id_name(name):
                continue
            marker = param.get(FILTER)
            if marker is not None:
                if marker not in FILTER_VALUES or where != "query" or param.get("required"):
                    yield Finding(
                        "id-ownership",
                        _where(op),
                        f"{where} parameter {name!r}: `{FILTER}: team` marks an optional query filter only",
                    )
                continue
            if not covered:
                yield Finding(
                    "id-ownership",
                    _where(op),
                    f"{where} parameter {name!r} names a resource but the operation has no `x-ownership` rule: add "
                    f"the rule the real route enforces (see docs/deviations.md where it does not), or mark an "
                    f"optional list filter `{FILTER}: team`",
                )
                break


REJECTS_UNKNOWN = "x-rejects-unknown-fields"


@rule("open-request", "request bodies accept unknown fields unless the real route rejects them")
def check_open_requests(spec: Spec) -> Iterator[Finding]:
    """buildd's routes read the fields they know and ignore the rest: a closed request schema refuses real clients."""
    for op in _operations(spec).values():
        if op.is_mock_only or op.body_pointer is None:
            continue
        ok, schema = _safe_resolve(spec, op.body_pointer)
        if not ok:
            continue
        for part in _schema_parts(spec, schema):
            if part.get("additionalProperties") is False and part.get(REJECTS_UNKNOWN) is not True:
                yield Finding(
                    "open-request",
                    _where(op),
                    "request body schema is closed (`additionalProperties: false`) but the real route ignores "
                    f"unknown fields; make it `additionalProperties: true`, or mark it `{REJECTS_UNKNOWN}: true` "
                    "if the real route refuses them",
                )
                break


@rule("paths-order", "paths grouped by tag in the order of `tags`, the /__mock control API last")
def check_paths_order(spec: Spec) -> Iterator[Finding]:
    """A path without a declared tag has no place yet: `operation-id` reports it, this rule skips it."""
    for wrong in misplaced(spec.raw):
        yield Finding(
            "paths-order",
            wrong.path,
            f"tag `{wrong.tag}` comes after {wrong.after}, which belongs further down (paths go in the order of the "
            "top-level `tags`, /__mock last); run `buildd-api spec sort`",
        )


@rule("signature-declared", "x-signature is well formed, its refused status documented, its probe accepted")
def check_signatures(spec: Spec) -> Iterator[Finding]:
    """`check` trusts the declaration (contracts/checks/webhooks.py): a probe the operation refuses as a bad
    request, or a `refused` status it does not document, would make the signature rule judge the wrong thing."""
    for op in _operations(spec).values():
        if SIGNATURE not in op.raw:
            continue
        try:
            sig = signature_of(op)
        except ValueError as exc:
            yield Finding("signature-declared", _where(op), str(exc))
            continue
        if sig is None:
            continue
        if str(sig.refused) not in op.responses:
            yield Finding(
                "signature-declared",
                _where(op),
                f"{SIGNATURE}.refused is {sig.refused}, which the operation does not document; "
                + _add_response_hint(sig.refused),
            )
        body = sig.probe_body
        if sig.content_type == FORM and isinstance(body, Mapping):
            body = {key: str(value) for key, value in body.items()}  # a form carries strings
        schema_ptr = pointer("paths", op.path, op.method.lower(), "requestBody", "content", sig.content_type, "schema")
        problem = _validate_example(spec, schema_ptr, body)
        if problem:
            yield Finding(
                "signature-declared",
                _where(op),
                f"{SIGNATURE}.probe.body is not a {sig.content_type} body the operation accepts: {problem}",
            )


# ---- shared-in-declared
def _answer_schema(spec: Spec, op: Operation) -> Any | None:
    ref = op.responses.get("200") or op.responses.get("201")
    ok, schema = _safe_resolve(spec, ref) if ref else (False, None)
    return schema if ok else None


def _array_items(spec: Spec, schema: Any) -> Any | None:
    for part in _schema_parts(spec, schema):
        if part.get("type") == "array" or "items" in part:
            return part.get("items")
    return None


def _listed_record_has(spec: Spec, answer: Any, field_name: str) -> bool:
    """Some array of the list's answer holds records with property `field_name`."""
    for part in _schema_parts(spec, answer):
        for prop in (part.get("properties") or {}).values():
            items = _array_items(spec, prop)
            if items is not None and _property_schema(spec, items, field_name) is not None:
                return True
    return False


@rule("shared-in-declared", "x-shared-in names a record field, and a shares operation whose list names the team")
def check_shared_in(spec: Spec) -> Iterator[Finding]:
    """The ownership suite accepts another team's record in a list only on the owner's word through this
    declaration (contracts/shares.py): a field the records lack, or a shares operation that cannot answer, would
    make every share unprovable — or let a typo excuse nothing at all without anyone noticing."""
    operations = _operations(spec)
    for op in operations.values():
        if SHARED_IN not in op.raw:
            continue
        try:
            marked = parse_shared_in(op.raw[SHARED_IN])
        except ValueError as exc:
            yield Finding("shared-in-declared", _where(op), str(exc))
            continue
        if marked is None:
            continue
        answer = _answer_schema(spec, op)
        if answer is None or not _listed_record_has(spec, answer, marked.field):
            yield Finding(
                "shared-in-declared",
                _where(op),
                f"{SHARED_IN}.field {marked.field!r} is not a property of the records this operation lists",
            )
        shares = operations.get(marked.shares)
        if shares is None:
            yield Finding("shared-in-declared", _where(op), f"{SHARED_IN}.shares {marked.shares!r} is no operationId")
            continue
        if not shares.path_params():
            yield Finding(
                "shared-in-declared",
                _where(op),
                f"{SHARED_IN}.shares {marked.shares!r} takes no path id, so it cannot name the shared record",
            )
        shares_answer = _answer_schema(spec, shares)
        entries = _property_schema(spec, shares_answer, marked.list) if shares_answer is not None else None
        items = _array_items(spec, entries) if entries is not None else None
        if items is None or _property_schema(spec, items, marked.team) is None:
            yield Finding(
                "shared-in-declared",
                _where(op),
                f"{SHARED_IN}: {marked.shares}'s answer has no array {marked.list!r} of entries with {marked.team!r}",
            )


def known_rules() -> list[tuple[str, str]]:
    """(name, summary) of the validator pass and every registered rule, in run order (opt-in ones marked)."""
    return [(VALIDATOR_RULE, "openapi-spec-validator: the OpenAPI meta-schema and its semantic checks")] + [
        (r.name, r.summary if r.default else f"{r.summary} (opt-in: --rule {r.name})") for r in RULES.values()
    ]
