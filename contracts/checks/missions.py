"""Lifecycle rule of the missions area (issue 14), run inside the `lifecycle` suite after the task flow:

    POST /api/missions (manual orchestration, in the run's workspace) -> POST /api/missions/{id}/run: 201 with a
    pending planning task that carries the mission's id -> GET /api/missions/{id} lists that task

The task is tracked (the workbench deletes it); the mission is deleted here. A server that does not serve missions
(404 on create) skips the rule rather than failing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from contracts.checks import lifecycle
from contracts.context import Skip, SuiteContext
from contracts.failures import LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule

if TYPE_CHECKING:
    pass

__all__ = ("mission_run_lists_task",)

RUN = "POST /api/missions/{id}/run"
RULE = "lifecycle.mission-run"


@rule(
    RULE,
    suite=lifecycle.SUITE,
    title="Running a mission creates a pending planning task that lists under the mission",
    failure=LifecycleRuleBroken,
    hint="runMission creates the task with the mission's missionId; GET /api/missions/{id} lists its tasks.",
)
def mission_run_lists_task(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    if flow.blocked or flow.workspace is None:
        raise Skip(flow.blocked or "no workspace")
    body = {"title": ctx.workbench.title("mission run"), "workspaceId": flow.workspace, "orchestrationMode": "manual"}
    made = ctx.send("POST", "/api/missions", json=body)
    if made.status in (403, 404):
        raise Skip(f"the key cannot create missions here: {made.describe(120)}")
    mission = made.json()
    if made.status != 201 or not isinstance(mission, dict) or "id" not in mission:
        _broken(ctx, "POST /api/missions", "201 with the new mission", made)
    try:
        _run_and_list(ctx, str(mission["id"]))
    finally:
        ctx.send("DELETE", f"/api/missions/{mission['id']}")


def _run_and_list(ctx: SuiteContext, mission_id: str) -> None:
    run = ctx.send("POST", f"/api/missions/{mission_id}/run")
    task: Any = run.json().get("task") if isinstance(run.json(), dict) else None
    if run.status != 201 or not isinstance(task, dict) or "id" not in task:
        _broken(ctx, RUN, "201 with the new planning task", run)
    ctx.workbench.track("task", str(task["id"]))
    if task.get("missionId") != mission_id or task.get("status") != "pending":
        ctx.fail(
            LifecycleRuleBroken,
            RULE,
            RUN,
            expected=f"a pending task with missionId {mission_id}",
            actual=f"status {task.get('status')!r}, missionId {task.get('missionId')!r}",
            exchange=run,
        )
    detail = ctx.send("GET", f"/api/missions/{mission_id}")
    listed = detail.json().get("tasks") if isinstance(detail.json(), dict) else None
    ids = [t.get("id") for t in listed or [] if isinstance(t, dict)]
    if detail.status != 200 or task["id"] not in ids:
        ctx.fail(
            LifecycleRuleBroken,
            RULE,
            "GET /api/missions/{id}",
            expected=f"the mission's tasks to include {task['id']}",
            actual=f"tasks {ids}" if detail.status == 200 else detail.describe(200),
            exchange=detail,
        )


def _broken(ctx: SuiteContext, op: str, expected: str, exchange: Any) -> NoReturn:
    failure = ServerError if exchange.status == 0 or exchange.status >= 500 else LifecycleRuleBroken
    ctx.fail(failure, RULE, op, expected=expected, exchange=exchange)


mission_run_lists_task.operation = RUN  # type: ignore[attr-defined]
