"""`Prefer: code=<status>` and `Prefer: example=<name>`: force one of an operation's documented answers.

Rules (the spec's info.description, "Mock-only features"):

- The preference is honoured only **after** authentication and request validation passed: an unauthenticated
  or invalid request still gets its real 401/400, whatever it prefers. A forced answer changes no state and
  publishes no event.
- `example=<name>` answers with the named example of one of the operation's responses (`examples:` of its
  `application/json` content), with that response's status. `code=<status>` together with `example=` looks
  for the name under that status only.
- `code=<status>` answers with that documented status and a body taken, in this order, from: the response's
  named examples, its `example` (for an error status only when the response is the operation's own, not a shared
  `components/responses` entry whose example names another operation's rule), the operation's `x-ownership` error,
  a synthesized error body `{"error": "<reason>"}` (429 adds integer `limit` and `current`), then a shared
  example. The first candidate valid against the response's schema wins, so a forced answer is one the contract
  allows.
- A `code=` or `example=` that cannot be applied is refused, as Prism does: 400 `{"error": ...}` naming what the
  operation documents, no `Preference-Applied`, nothing changed. Exception: a documented 2xx without an example
  to force runs the real handler, and `Preference-Applied: code=<status>` is set only if the real answer has it.
- Other preferences (`respond-async`, `wait=`, ...) are ignored, as RFC 7240 allows.
- Several preferences may share the header (`Prefer: code=404, example=missing`); values may be quoted.
  Whatever was applied is named in `Preference-Applied`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from contracts.spec import Operation, Spec

__all__ = ("Forced", "Passthrough", "Preferences", "Refused", "parse_prefer")

_SPLIT = re.compile(r"[,;]")


def parse_prefer(header: str | None) -> dict[str, str]:
    """`code=404, example="x"` -> {"code": "404", "example": "x"} (names lower-cased, quotes removed)."""
    prefs: dict[str, str] = {}
    if not header:
        return prefs
    for part in _SPLIT.split(header):
        name, sep, value = part.partition("=")
        if sep:
            prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


@dataclass(frozen=True, slots=True)
class Forced:
    status: int
    body: Any
    applied: str  # the Preference-Applied value


@dataclass(frozen=True, slots=True)
class Refused:
    """A `code=`/`example=` the operation cannot honour: the mock answers 400 with this message."""

    error: str


@dataclass(frozen=True, slots=True)
class Passthrough:
    """A documented 2xx with no body to force: run the handler, say `code=<status>` was applied if it matches."""

    status: int


@dataclass(frozen=True, slots=True)
class Preferences:
    """The answers one operation can be forced to give, computed once at startup."""

    by_code: Mapping[int, Any]
    by_example: Mapping[str, tuple[int, Any]]
    documented: tuple[int, ...] = ()
    operation_id: str = ""

    @classmethod
    def build(cls, spec: Spec, op: Operation) -> Preferences:
        by_code: dict[int, Any] = {}
        by_example: dict[str, tuple[int, Any]] = {}
        documented: list[int] = []
        for status_text, response in op.raw.get("responses", {}).items():
            if not status_text.isdigit():
                continue
            status = int(status_text)
            documented.append(status)
            shared = isinstance(response, Mapping) and "$ref" in response
            media = spec.deref(response).get("content", {}).get("application/json")
            if media is None:
                continue
            named = {name: spec.deref(ex).get("value") for name, ex in (media.get("examples") or {}).items()}
            for name, value in named.items():
                by_example.setdefault(name, (status, value))
            check = spec.check(op.responses[status_text]) if op.responses.get(status_text) else None
            for candidate in _candidates(spec, media, named, status, op, shared=shared):
                if check is None or check.is_valid(candidate):
                    by_code[status] = candidate
                    break
        return cls(by_code, by_example, tuple(sorted(documented)), op.operation_id)

    def choose(self, header: str | None) -> Forced | Refused | Passthrough | None:
        """What `header` asks of this operation: a forced answer, a refusal, a checked passthrough, or nothing."""
        prefs = parse_prefer(header)
        code, name = prefs.get("code"), prefs.get("example")
        if code is None and name is None:
            return None
        status = int(code) if code is not None and code.isdigit() else None
        if code is not None and status not in self.documented:
            return Refused(f"Prefer: code={code} cannot be applied: {self._documents()}")
        if name is not None:
            found = self.by_example.get(name)
            if found is not None and (status is None or found[0] == status):
                return Forced(found[0], found[1], f"example={name}")
            where = f" under {status}" if status is not None else ""
            known = ", ".join(sorted(n for n, (s, _) in self.by_example.items() if status is None or s == status))
            return Refused(
                f"Prefer: example={name} cannot be applied: {self.operation_id} has no example "
                f"{name!r}{where} (examples: {known or 'none'})"
            )
        assert status is not None
        if status in self.by_code:
            return Forced(status, self.by_code[status], f"code={status}")
        if 200 <= status < 300:
            return Passthrough(status)
        return Refused(f"Prefer: code={status} cannot be applied: no valid body for it in {self.operation_id}")

    def _documents(self) -> str:
        return f"{self.operation_id} documents {', '.join(map(str, self.documented)) or 'no status'}"


def _candidates(
    spec: Spec, media: Mapping[str, Any], named: Mapping[str, Any], status: int, op: Operation, *, shared: bool = False
) -> list[Any]:
    out: list[Any] = list(named.values())
    examples: list[Any] = []
    if "example" in media:
        examples.append(media["example"])
    schema = spec.deref(media.get("schema", {}))
    if isinstance(schema, Mapping) and "example" in schema:
        examples.append(schema["example"])
    if status < 400:
        return out + examples
    if not shared:  # the operation's own example describes it; a shared one may name another operation's rule
        out += examples
    if op.ownership is not None and op.ownership.status == status:
        out.append({"error": op.ownership.error})
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if status == 429:
        out.append({"error": reason, "limit": 1, "current": 1})
    out += [
        {"error": reason},
        *examples,
        {"error": "Unauthorized"},
        {"error": "Resource not found"},
        {"error": "authorization_pending"},
    ]
    return out
