"""`send_agent_message` (admin): an instruction to the live worker of a task (POST /api/workers/{id}/instruct)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, Outcome, action

__all__ = ()

_TERMINAL = ("completed", "failed")


def _full_uuid(value: Any, name: str) -> str:
    """The real tool refuses short ids before any call."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ActionInputError(f"{name} must be a full UUID") from None


@action(
    "send_agent_message",
    "admin",
    "Send a message to the agent working on a task. Params: taskId, message, priority? (urgent sends it now)",
)
async def send_agent_message(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    if not params.get("message") or not params.get("taskId"):
        raise ActionInputError("taskId and message are required")
    task_id = _full_uuid(params["taskId"], "taskId")
    task = await api("GET", f"/api/tasks/{task_id}", query={"include": "workers"})
    workers = task.get("workers") if isinstance(task.get("workers"), list) else []
    # the live worker is found by its own status: a task stays `assigned` while its worker runs
    live = next((w for w in workers if w.get("status") not in _TERMINAL), None)
    if live is None:
        hint = (
            "Task is still pending — not yet claimed by a worker."
            if not workers
            else "No active worker found for this task (all workers are in a terminal state)."
        )
        raise ActionInputError(f"Cannot send message: {hint} (task status: {task.get('status')})")
    body: dict[str, Any] = {"message": params["message"]}
    if params.get("priority"):
        body["priority"] = params["priority"]
    result = await api("POST", f"/api/workers/{live['id']}/instruct", body=body)
    note = (
        "Message delivered instantly via Pusher."
        if params.get("priority") == "urgent"
        else "Message queued for delivery on next worker check-in."
    )
    return Outcome(f"Message sent to worker {live['id']}.\n{note}\n{result.get('message') or ''}".rstrip(), result)
