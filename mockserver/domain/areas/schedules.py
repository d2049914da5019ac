"""Schedules: cron-driven task templates of a workspace (read: team; write: session or admin key).

Their CRUD is a declared resource (`SCHEDULE`, served by the resource layer from the spec's `x-resource`
operations); what is hand-written here is the cron arithmetic behind `nextRunAt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mockserver.domain import access
from mockserver.domain.errors import BadRequest
from mockserver.domain.fields import text
from mockserver.domain.resources import HookCall, Resource, Stamp, declare
from mockserver.domain.runtime import parse_iso, to_iso

__all__ = ("SCHEDULE", "cron_fields", "next_cron_time")

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


def _writers_only(call: HookCall) -> None:
    access.require_admin_level(
        call.principal, "Schedules can only be changed from a session or with an admin-level API key"
    )


def _next_run(stamp: Stamp, schedule: Mapping[str, Any]) -> str | None:
    """When the schedule fires next (None while disabled); a bad timezone or cron expression is a 400."""
    try:
        ZoneInfo(text(schedule, "timezone"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest("Invalid timezone", timezone=schedule["timezone"]) from exc
    try:
        when = next_cron_time(text(schedule, "cronExpression"), parse_iso(stamp.now), text(schedule, "timezone"))
    except ValueError as exc:
        raise BadRequest("Invalid cron expression", detail=str(exc)) from exc
    return to_iso(when) if when is not None and schedule.get("enabled", True) else None


# The CRUD of /api/workspaces/{id}/schedules[/{scheduleId}] (x-resource `schedule`): only sessions and admin keys
# write, and `nextRunAt` follows every create and update. Running a due schedule is the sweep's, not this.
SCHEDULE = declare(
    Resource(
        "schedule",
        scope="workspace",
        scope_param="id",
        defaults={
            "timezone": "UTC",
            "enabled": True,
            "oneShot": False,
            "nextRunAt": None,
            "lastRunAt": None,
            "lastTaskId": None,
            "totalRuns": 0,
            "consecutiveFailures": 0,
            "lastError": None,
            "maxConcurrentFromSchedule": 1,
            "pauseAfterFailures": 5,
        },
        derived={"nextRunAt": _next_run},
        hooks={"before_create": _writers_only, "before_update": _writers_only, "before_delete": _writers_only},
    )
)
