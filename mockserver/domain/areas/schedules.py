"""Schedules: cron-driven task templates of a workspace (read: team; write: session or admin key)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden
from mockserver.domain.fields import text
from mockserver.domain.runtime import to_iso

__all__ = ("Schedules", "cron_fields", "next_cron_time")

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {
        m: i + 1
        for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    },
    {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
)
_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_SETTABLE = (
    "name",
    "cronExpression",
    "timezone",
    "taskTemplate",
    "enabled",
    "oneShot",
    "maxConcurrentFromSchedule",
    "pauseAfterFailures",
)


def _parse_field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()

    def number(token: str) -> int:
        token = token.lower()
        if token in _NAMES[index]:
            return _NAMES[index][token]
        if not token.isdigit():
            raise ValueError(f"{_FIELD_NAMES[index]}: {token!r} is not a number")
        value = int(token)
        if not low <= value <= high:
            raise ValueError(f"{_FIELD_NAMES[index]}: {value} is outside {low}-{high}")
        return value

    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"{_FIELD_NAMES[index]}: bad step {step_text!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = number(a), number(b)
            if start > end:
                raise ValueError(f"{_FIELD_NAMES[index]}: range {base} runs backwards")
        else:
            start = number(base)
            end = high if step else start
        values.update(range(start, end + 1, step or 1))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def cron_fields(expression: str) -> tuple[frozenset[int], ...]:
    """The five value sets of a cron expression; raises ValueError with the reason."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError("expected five fields (minute hour day-of-month month day-of-week)")
    return tuple(_parse_field(part, i) for i, part in enumerate(parts))


def next_cron_time(expression: str, after: datetime, tz: str = "UTC") -> datetime | None:
    """The first minute after `after` that matches, in UTC; None if none within about four years."""
    minutes, hours, days, months, weekdays = cron_fields(expression)
    parts = expression.split()
    dom_any, dow_any = parts[2] == "*", parts[4] == "*"
    zone = ZoneInfo(tz)
    t = after.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
    for _ in range(200_000):
        if t.month not in months:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            continue
        dom_ok, dow_ok = t.day in days, (t.isoweekday() % 7) in weekdays
        day_ok = (dom_ok and dow_ok) if (dom_any or dow_any) else (dom_ok or dow_ok)
        if not day_ok:
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
            continue
        if t.hour not in hours:
            t = t.replace(minute=0) + timedelta(hours=1)
            continue
        if t.minute not in minutes:
            t += timedelta(minutes=1)
            continue
        return t.replace(tzinfo=zone).astimezone(UTC)
    return None


class Schedules(Area):
    def list_schedules(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.workspace_for(self.store, principal, workspace_id)
            return {"schedules": self._out(self.store.find("schedules", "workspace", workspace_id))}

    def create_schedule(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        for field in ("name", "cronExpression"):
            self._str(body, field, required=True)
        template = body.get("taskTemplate")
        if not isinstance(template, Mapping) or not str(template.get("title") or "").strip():
            raise BadRequest("taskTemplate.title is required")
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            self._require_writer(principal)
            now = self._now()
            schedule = {
                "id": self.ids.uuid4(),
                "workspaceId": workspace_id,
                "name": body["name"],
                "cronExpression": body["cronExpression"],
                "timezone": body.get("timezone") or "UTC",
                "taskTemplate": dict(template),
                "enabled": bool(body.get("enabled", True)),
                "oneShot": bool(body.get("oneShot", False)),
                "nextRunAt": None,
                "lastRunAt": None,
                "lastTaskId": None,
                "totalRuns": 0,
                "consecutiveFailures": 0,
                "lastError": None,
                "maxConcurrentFromSchedule": self._int(body, "maxConcurrentFromSchedule", minimum=1) or 1,
                "pauseAfterFailures": self._int(body, "pauseAfterFailures", minimum=1) or 5,
                "createdAt": now,
                "updatedAt": now,
            }
            schedule["nextRunAt"] = self._next_run(schedule)
            return {"schedule": self._out(self.store.insert("schedules", schedule))}

    def get_schedule(self, principal: Principal, workspace_id: str, schedule_id: str) -> dict[str, Any]:
        with self.store.lock:
            return {"schedule": self._out(access.schedule_for(self.store, principal, workspace_id, schedule_id))}

    def update_schedule(
        self, principal: Principal, workspace_id: str, schedule_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        template = body.get("taskTemplate")
        if template is not None and (not isinstance(template, Mapping) or not str(template.get("title") or "")):
            raise BadRequest("taskTemplate.title is required")
        with self.store.transaction():
            schedule = access.schedule_for(self.store, principal, workspace_id, schedule_id)
            self._require_writer(principal)
            changes = {field: body[field] for field in _SETTABLE if field in body}
            for field in ("maxConcurrentFromSchedule", "pauseAfterFailures"):
                self._int(body, field, minimum=1)
            merged = {**schedule, **changes, "updatedAt": self._now()}
            merged["nextRunAt"] = self._next_run(merged)
            return {"schedule": self._out(self.store.update("schedules", schedule_id, merged))}

    def delete_schedule(self, principal: Principal, workspace_id: str, schedule_id: str) -> dict[str, Any]:
        with self.store.transaction():
            access.schedule_for(self.store, principal, workspace_id, schedule_id)
            self._require_writer(principal)
            self.store.delete("schedules", schedule_id)
            return {"success": True}

    @staticmethod
    def _require_writer(principal: Principal) -> None:
        if principal.is_key and not principal.is_admin_key:
            raise Forbidden("Schedules can only be changed from a session or with an admin-level API key")

    def _next_run(self, schedule: Mapping[str, Any]) -> str | None:
        try:
            ZoneInfo(text(schedule, "timezone"))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadRequest("Invalid timezone", timezone=schedule["timezone"]) from exc
        try:
            when = next_cron_time(text(schedule, "cronExpression"), self.clock.now(), text(schedule, "timezone"))
        except ValueError as exc:
            raise BadRequest("Invalid cron expression", detail=str(exc)) from exc
        return to_iso(when) if when is not None and schedule.get("enabled", True) else None
