"""`Prefer: code=<status>` and `Prefer: example=<name>`: force one of an operation's documented answers.

Rules (the spec's info.description, "Mock-only features"):

- The preference is honoured only **after** authentication and request validation passed: an unauthenticated
  or invalid request still gets its real 401/400, whatever it prefers. A forced answer changes no state and
  publishes no event.
- `example=<name>` answers with the named example of one of the operation's responses (`examples:` of its
  `application/json` content), with that response's status. `code=<status>` together with `example=` looks
  for the name under that status only.
- `code=<status>` answers with that documented status and a body taken, in this order, from: the response's
  named examples, its `example`, its schema's `example`, or a synthesized error body `{"error": "<reason>"}`
  (429 adds integer `limit` and `current`). The first candidate that is valid against the response's schema
  wins, so a forced answer is always one the contract allows.
- An undocumented status, an unknown example name, or a status for which no valid body can be found (a 2xx
  without examples) is ignored: the request gets its real answer.
- Several preferences may share the header (`Prefer: code=404, example=missing`); values may be quoted.
  A forced answer carries `Preference-Applied`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from contracts.spec import Operation, Spec

__all__ = ("Forced", "Preferences", "parse_prefer")

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
class Preferences:
    """The answers one operation can be forced to give, computed once at startup."""

    by_code: Mapping[int, Any]
    by_example: Mapping[str, tuple[int, Any]]

    @classmethod
    def build(cls, spec: Spec, op: Operation) -> Preferences:
        by_code: dict[int, Any] = {}
        by_example: dict[str, tuple[int, Any]] = {}
        for status_text, response in op.raw.get("responses", {}).items():
            if not status_text.isdigit():
                continue
            status = int(status_text)
            media = spec.deref(response).get("content", {}).get("application/json")
            if media is None:
                continue
            named = {name: spec.deref(ex).get("value") for name, ex in (media.get("examples") or {}).items()}
            for name, value in named.items():
                by_example.setdefault(name, (status, value))
            check = spec.check(op.responses[status_text]) if op.responses.get(status_text) else None
            for candidate in _candidates(spec, media, named, status, op):
                if check is None or check.is_valid(candidate):
                    by_code[status] = candidate
                    break
        return cls(by_code, by_example)

    def choose(self, header: str | None) -> Forced | None:
        prefs = parse_prefer(header)
        if not prefs:
            return None
        code = prefs.get("code")
        status = int(code) if code and code.isdigit() else None
        name = prefs.get("example")
        if name is not None:
            found = self.by_example.get(name)
            if found is not None and (status is None or found[0] == status):
                return Forced(found[0], found[1], f"example={name}")
            return None
        if status is not None and status in self.by_code:
            return Forced(status, self.by_code[status], f"code={status}")
        return None


def _candidates(spec: Spec, media: Mapping[str, Any], named: Mapping[str, Any], status: int, op: Operation) -> list[Any]:
    out: list[Any] = list(named.values())
    if "example" in media:
        out.append(media["example"])
    schema = spec.deref(media.get("schema", {}))
    if isinstance(schema, Mapping) and "example" in schema:
        out.append(schema["example"])
    if status >= 400:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        if status == 429:
            out.append({"error": reason, "limit": 1, "current": 1})
        if op.ownership is not None and op.ownership.status == status:
            out.append({"error": op.ownership.error})
        out += [{"error": reason}, {"error": "Unauthorized"}, {"error": "Resource not found"},
                {"error": "authorization_pending"}]
    return out
