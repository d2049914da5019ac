"""`trace_schedule` (trigger): which schedule made a task, or which fired lately / make tasks with a title.

A task id is looked up directly (its `scheduleId`); otherwise the workspace's (or every visible workspace's)
schedules are ranked by how many clues match (fired within `minutesAgo`, template title contains
`taskTitleContains`), then by the latest run. "Now" is the server's clock, as in the real tool, which runs in the
server: the mock's clock (GET /__mock/clock), which tests move on. The real tool's guess at a schedule's output
channel ("Sends: ...") is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, ApiError, Outcome, _workspace_id, action

__all__ = ()


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _last_run(schedule: Mapping[str, Any]) -> float:
    last = _when(schedule.get("lastRunAt"))
    return last.timestamp() if last else 0.0


async def _by_task(api: Api, task_id: str) -> Outcome:
    try:
        task = await api("GET", f"/api/tasks/{task_id}")
    except ApiError as exc:
        raise ActionInputError(f"Task {task_id} not found.") from exc
    schedule_id, ws = task.get("scheduleId"), task.get("workspaceId")
    if not schedule_id:
        return Outcome(
            f"Task {task_id} has no scheduleId. creationSource={task.get('creationSource') or 'unknown'}.\n"
            "It was not created by a schedule.",
            task,
        )
    try:
        schedule = (await api("GET", f"/api/workspaces/{ws}/schedules/{schedule_id}"))["schedule"]
    except (ApiError, KeyError):
        return Outcome(f"Task {task_id} references schedule {schedule_id}, but that schedule no longer exists.", task)
    return Outcome(
        f"Task {task_id} was created by schedule:\n"
        f"- **{schedule['name']}** {'' if schedule.get('enabled') else '(PAUSED)'}\n"
        f"  Cron: {schedule.get('cronExpression')} ({schedule.get('timezone')})\n"
        f"  Last run: {schedule.get('lastRunAt') or 'never'} | Total runs: {schedule.get('totalRuns')}\n"
        f"  ID: {schedule['id']}\n\n"
        f'To pause: pause_schedules {{ scheduleIds: ["{schedule["id"]}"], workspaceId: "{ws}" }}',
        {"schedule": schedule},
    )


@action(
    "trace_schedule",
    "trigger",
    "Find the schedule behind a task or a recent fire. Params: taskId? | taskTitleContains? | minutesAgo?, "
    "workspaceId?",
)
async def trace_schedule(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    task_id = params.get("taskId") if isinstance(params.get("taskId"), str) else None
    title = str(params["taskTitleContains"]).lower() if isinstance(params.get("taskTitleContains"), str) else None
    minutes = params.get("minutesAgo")
    minutes = minutes if isinstance(minutes, (int, float)) and not isinstance(minutes, bool) else None
    if not task_id and not title and minutes is None:
        raise ActionInputError("Provide one of: taskId, taskTitleContains, or minutesAgo.")
    if task_id:
        return await _by_task(api, task_id)
    now = _when((await api("GET", "/__mock/clock")).get("now")) if minutes is not None else None
    ws = _workspace_id(params, ctx)
    workspaces = [{"id": ws, "name": ""}] if ws else list((await api("GET", "/api/workspaces")).get("workspaces") or [])
    found: list[tuple[str, dict[str, Any], list[str]]] = []
    for workspace in workspaces:
        try:
            schedules = (await api("GET", f"/api/workspaces/{workspace['id']}/schedules")).get("schedules") or []
        except ApiError:
            continue  # the real tool skips a workspace it cannot read
        for schedule in schedules:
            reasons = []
            last = _when(schedule.get("lastRunAt"))
            if now is not None and minutes is not None and last is not None:
                ago = (now - last).total_seconds() / 60
                if 0 <= ago <= minutes:
                    reasons.append(f"fired {round(ago)}m ago")
            template_title = str((schedule.get("taskTemplate") or {}).get("title") or "").lower()
            if title and title in template_title:
                reasons.append(f'title matches "{title}"')
            if reasons:
                found.append((str(workspace.get("name") or ""), schedule, reasons))
    if not found:
        return Outcome(
            "No schedules matched. Widen the window with a larger minutesAgo, or check the task ID directly.",
            {"schedules": []},
        )
    found.sort(key=lambda c: (len(c[2]), _last_run(c[1])), reverse=True)
    lines = [
        f"- **{s['name']}**{f' [{name}]' if name else ''} — {', '.join(reasons)}\n"
        f"  Cron: {s.get('cronExpression')} ({s.get('timezone')}) | Last: {s.get('lastRunAt') or 'never'}\n"
        f"  ID: {s['id']}"
        for name, s, reasons in found
    ]
    text = f"{len(found)} candidate schedule(s), best match first:\n\n" + "\n\n".join(lines)
    return Outcome(text, {"schedules": [s for _, s, _ in found]})
