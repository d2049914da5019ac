"""`--strict`: the mock checks everything it sends against the spec, and a violation fails loudly.

Each answer of an operation must use one of the operation's documented statuses and, where that status has a
JSON schema, match it; each realtime event must be named in `x-events`, go out on one of its channel kinds and
match its payload schema. A violation is logged and the response becomes a 500 whose `error` says what was
wrong, so any test that meets it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.spec import Operation, SchemaCheck, Spec
from mockserver.http.validation import schema_message

__all__ = ("EventRules", "ResponseRules")


@dataclass(frozen=True, slots=True)
class ResponseRules:
    """The documented statuses of one operation and the check of each status's JSON body."""

    label: str
    checks: Mapping[int, SchemaCheck | None]

    @classmethod
    def build(cls, spec: Spec, op: Operation) -> ResponseRules:
        checks = {int(s): (spec.check(ptr) if ptr else None) for s, ptr in op.responses.items() if s.isdigit()}
        return cls(f"{op.operation_id} ({op.label})", checks)

    def problem(self, status: int, body: Any) -> str | None:
        """Why `status` + `body` is not a documented answer, or None when it is."""
        if status not in self.checks:
            documented = ", ".join(str(s) for s in sorted(self.checks))
            return f"{self.label} answered {status}, which it does not document ({documented})"
        check = self.checks[status]
        if check is None:
            return None
        message = schema_message(check, body)
        if message is None:
            return None
        return f"{self.label} answered {status} with a body that violates {check.ref}: {message}"


class EventRules:
    """What `x-events` allows: the event names, their channel kinds and payload schemas."""

    __slots__ = ("_events",)

    def __init__(self, spec: Spec) -> None:
        self._events: dict[str, tuple[frozenset[str], SchemaCheck | None]] = {
            name: (frozenset(entry["channels"]), spec.check(entry["schema"]) if entry["schema"] else None)
            for name, entry in spec.events.items()
        }

    def problem(self, channel: str, name: str, payload: Any) -> str | None:
        rule = self._events.get(name)
        if rule is None:
            return f"event {name!r} on {channel!r} is not in the spec's x-events"
        kinds, check = rule
        kind = channel.split("-", 1)[0]
        if kind not in kinds:
            return f"event {name!r} went out on {channel!r}; x-events allows only {', '.join(sorted(kinds))} channels"
        message = schema_message(check, payload) if check is not None else None
        if message is not None:
            return f"event {name!r} on {channel!r} violates {check.ref if check else ''}: {message}"
        return None
