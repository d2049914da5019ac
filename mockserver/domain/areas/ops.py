"""More of tasks and workers: bulk cleanup, the questions waiting for a human, the plan flow (approve / reject a
planning task's plan), the dashboard's task summary and worker list, the reviewer takeover and worker sessions.

The plan flow, as the real server runs it: a `planning` task's worker completes it with
`structuredOutput.plan` (steps with `ref`, `title`, `dependsOn` refs ...). The task then waits for a human:
approving creates one pending execution task per step (refs resolved to ids), rejecting creates a revised
planning task carrying the feedback. Both announce the new tasks, so runners pick them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound
from mockserver.domain.events import worker_channel
from mockserver.domain.lifecycle import (
    LIVE_WORKER_STATUSES,
    move_task,
    set_worker_status,
    worker_event,
)
from mockserver.domain.records import new_task
from mockserver.domain.runtime import epoch_ms, parse_iso
from mockserver.domain.store import Record

__all__ = ("TaskOpsArea",)

BULK_PROTECTED = ("in_progress", "assigned")
BULK_CAP = 1000
OUTPUTS = ("pr_required", "artifact_required", "none", "auto")
TAKEOVER_ERROR = "Interrupted — human takeover"
SUMMARY_WORKER_FIELDS = (
    "id",
    "status",
    "currentAction",
    "turns",
    "prUrl",
    "prNumber",
    "prLifecycleStatus",
    "mergedAt",
    "commitCount",
    "filesChanged",
    "linesAdded",
    "linesRemoved",
    "costUsd",
    "startedAt",
    "completedAt",
    "waitingFor",
    "branch",
    "milestones",
)
COUNTERS = ("turns", "commitCount", "filesChanged", "linesAdded", "linesRemoved")
TASK_WORKER_FIELDS = (
    "id",
    "name",
    "branch",
    "status",
    "currentAction",
    "localUiUrl",
    "prUrl",
    "prNumber",
    "createdAt",
    "startedAt",
    "completedAt",
)


def _text(value: Any) -> str | None:
    """A plan step's optional text field: the planner's output is free-form, the task's field a string or null."""
    return value if isinstance(value, str) else None


def _newest_first(rows: list[Record]) -> list[Record]:
    return sorted(rows, key=lambda r: (parse_iso(str(r["createdAt"])), str(r["id"])), reverse=True)


def _plan_cycle(steps: list[Mapping[str, Any]]) -> list[str] | None:
    """The first cycle among the steps' `dependsOn` refs (depth first, as the real route), or None."""
    graph = {str(s["ref"]): [str(d) for d in s.get("dependsOn") or []] for s in steps}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for dep in graph.get(node, []):
            if dep in graph:
                found = visit(dep, [*path, node])
                if found:
                    return found
        done.add(node)
        return None

    for ref in graph:
        cycle = visit(ref, [])
        if cycle:
            return cycle
    return None


class TaskOpsArea(Area):
    # -- bulk ---------------------------------------------------------------------------------------------------

    def bulk_tasks(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """Cancel (fail) or delete the matching tasks of the caller's workspaces, never active ones."""
        access.require_admin_level(principal)
        action = str(body["action"])
        dry_run = bool(body.get("dryRun") or False)
        status = body.get("status")
        if status in BULK_PROTECTED:
            raise BadRequest(f'Cannot bulk-modify tasks with status "{status}" - they are actively being worked on')
        with self.store.transaction():
            workspace_ids = [str(ws["id"]) for ws in access.visible_workspaces(self.store, principal)]
            if not workspace_ids:
                return {"affected": 0, "taskIds": [], "dryRun": dry_run}
            wanted = body.get("workspaceId")
            if wanted:
                if wanted not in workspace_ids:
                    raise Forbidden("Workspace not found or access denied")
                workspace_ids = [str(wanted)]
            hours = body.get("olderThanHours")
            cutoff = self.clock.now() - timedelta(hours=float(hours)) if hours and hours > 0 else None
            mission = body.get("missionId")
            matched = [
                task
                for ws in workspace_ids
                for task in self.store.find("tasks", "workspace", ws)
                if task["status"] not in BULK_PROTECTED
                and (not status or task["status"] == status)
                and (cutoff is None or parse_iso(str(task["createdAt"])) < cutoff)
                and (not mission or task.get("missionId") == mission)
            ]
            matched = sorted(matched, key=lambda t: (parse_iso(str(t["createdAt"])), str(t["id"])))[:BULK_CAP]
            ids = [str(t["id"]) for t in matched]
            if dry_run or not ids:
                return {"affected": len(ids), "taskIds": ids, "dryRun": True}
            now = self._now()
            for task in matched:
                if action == "cancel":
                    move_task(self.store, task, "failed", now, {"result": {"error": "Bulk cancelled by admin"}})
                else:
                    self._purge_task(str(task["id"]))
            return {"affected": len(ids), "taskIds": ids, "dryRun": False}

    # -- waiting for a human ------------------------------------------------------------------------------------

    def waiting_input_tasks(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            out: list[dict[str, Any]] = []
            seen: set[str] = set()
            for ws in access.visible_workspaces(self.store, principal):
                for worker in _newest_first(self.store.find("workers", "liveWorkspace", str(ws["id"]))):
                    task = self.store.get("tasks", worker.get("taskId"))
                    if (
                        worker["status"] != "waiting_input"
                        or task is None
                        or task["id"] in seen
                        or task["status"] in ("completed", "failed")
                    ):
                        continue
                    seen.add(str(task["id"]))
                    out.append(
                        {
                            "id": task["id"],
                            "title": task["title"],
                            "workspaceId": task["workspaceId"],
                            "waitingFor": worker.get("waitingFor"),
                            "actionUrl": f"{self.settings.base_url}/app/tasks/{task['id']}/respond",
                        }
                    )
            return self._out({"tasks": out})

    # -- the plan flow ------------------------------------------------------------------------------------------

    def _completed_plan_task(self, principal: Principal, task_id: str) -> Record:
        task, _ = access.task_for(self.store, principal, task_id)
        if task.get("mode") != "planning":
            raise BadRequest("Task is not a planning task")
        if task["status"] != "completed":
            raise BadRequest("Planning task has not completed yet")
        return task

    def approve_plan(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """One pending execution task per plan step (child of the planning task), announced in plan order."""
        with self.store.transaction():
            task = self._completed_plan_task(principal, task_id)
            output = (task.get("result") or {}).get("structuredOutput") or {}
            plan = output.get("plan") if isinstance(output, Mapping) else None
            if not isinstance(plan, list) or not plan:
                raise BadRequest("No plan found in task result")
            if not all(isinstance(s, Mapping) and s.get("ref") and s.get("title") for s in plan):
                raise BadRequest("Every plan step needs a ref and a title")
            if any(
                t.get("parentTaskId") == task_id for t in self.store.find("tasks", "workspace", task["workspaceId"])
            ):
                raise Conflict("Plan already approved")
            cycle = _plan_cycle(plan)
            if cycle:
                raise BadRequest(f"Circular dependency detected: {' → '.join(cycle)}")
            now = self._now()
            ids = {str(step["ref"]): self.ids.uuid4() for step in plan}
            created: list[Record] = []
            for step in plan:
                context = {k: step[k] for k in ("model", "skillSlugs") if step.get(k)}
                fields = {
                    "title": str(step["title"]),
                    "description": _text(step.get("description")),
                    "parentTaskId": task_id,
                    "missionId": task.get("missionId"),
                    "mode": "execution",
                    "creationSource": "api",
                    "priority": step.get("priority") if isinstance(step.get("priority"), int) else 0,
                    "roleSlug": _text(step.get("roleSlug")),
                    "requiredCapabilities": [c for c in step.get("requiredCapabilities") or [] if isinstance(c, str)],
                    "outputRequirement": step.get("outputRequirement")
                    if step.get("outputRequirement") in OUTPUTS
                    else None,
                    "dependsOn": [ids[str(d)] for d in step.get("dependsOn") or [] if str(d) in ids],
                    "backend": task.get("backend"),
                    "context": context,
                }
                record = new_task(
                    id=ids[str(step["ref"])], workspace_id=str(task["workspaceId"]), fields=fields, now=now
                )
                created.append(self.store.insert("tasks", record))
            for record in created:
                self._announce_new_task(record)
            return {"tasks": [str(r["id"]) for r in created]}

    def reject_plan(self, principal: Principal, task_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A revised planning task carrying the feedback; the rejected one stays as it is."""
        feedback = self._str(body, "feedback", required=True, message="Feedback is required")
        with self.store.transaction():
            task = self._completed_plan_task(principal, task_id)
            fields = {
                "title": f"{task['title']} (revised)",
                "description": task.get("description"),
                "mode": "planning",
                "creationSource": "api",
                "parentTaskId": task.get("parentTaskId"),
                "missionId": task.get("missionId"),
                "priority": task.get("priority") or 0,
                "backend": task.get("backend"),
                "createdByAccountId": principal.account_id,
                "context": {**(task.get("context") or {}), "planFeedback": feedback, "previousPlanTaskId": task_id},
            }
            record = self.store.insert(
                "tasks",
                new_task(id=self.ids.uuid4(), workspace_id=str(task["workspaceId"]), fields=fields, now=self._now()),
            )
            self._announce_new_task(record)
            return {"taskId": record["id"]}

    # -- the dashboard's task views -----------------------------------------------------------------------------

    def task_summary(self, principal: Principal, task_id: str) -> dict[str, Any]:
        with self.store.lock:
            task, _ = access.task_for(self.store, principal, task_id)
            workers = _newest_first(self.store.find("workers", "task", task_id))
            worker = workers[0] if workers else None
            traces = [t for w in workers for t in w.get("errorTraces") or []]
            trace = max(traces, key=lambda t: str(t.get("ts")), default=None)
            context = task.get("context") or {}
            result = task.get("result")
            status = task["status"]
            if worker is not None and worker["status"] == "waiting_input" and status not in ("completed", "failed"):
                status = "waiting_input"
            return self._out(
                {
                    "id": task["id"],
                    "title": task["title"],
                    "status": status,
                    "description": task.get("description"),
                    "mode": task.get("mode") or "execution",
                    "roleSlug": task.get("roleSlug"),
                    "createdAt": task["createdAt"],
                    "missionId": task.get("missionId"),
                    "backend": task.get("backend"),
                    "failover": (
                        {"from": context["failedOverFrom"], "reason": context.get("failoverReason")}
                        if context.get("failedOverFrom")
                        else None
                    ),
                    "worker": (
                        {
                            **{f: worker.get(f) for f in SUMMARY_WORKER_FIELDS},
                            **{f: worker.get(f) or 0 for f in COUNTERS},
                            "milestones": worker.get("milestones") or [],
                        }
                        if worker is not None
                        else None
                    ),
                    "lastError": (
                        {"excerpt": trace.get("excerpt"), "pattern": trace.get("pattern"), "ts": trace.get("ts")}
                        if trace is not None
                        else None
                    ),
                    "result": (
                        {
                            "summary": result.get("summary") or None,
                            "nextSuggestion": result.get("nextSuggestion") or None,
                        }
                        if isinstance(result, Mapping)
                        else None
                    ),
                }
            )

    def task_workers(self, principal: Principal, task_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.task_for(self.store, principal, task_id)
            rows = _newest_first(self.store.find("workers", "task", task_id))
            return self._out({"workers": [{f: w.get(f) for f in TASK_WORKER_FIELDS} for w in rows]})

    # -- workers ------------------------------------------------------------------------------------------------

    def interrupt_worker(self, principal: Principal, worker_id: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """Human takeover of a live reviewer: the worker and its review task fail; `worker:failed` goes out."""
        cancel_queued = bool(body and body.get("cancelQueued") is True)
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            task = self.store.get("tasks", worker.get("taskId"))
            if task is None:
                raise BadRequest("Worker has no task")
            if task.get("category") != "review":
                raise BadRequest("Worker is not a reviewer — only reviewer workers can be interrupted")
            if worker["status"] not in LIVE_WORKER_STATUSES:
                raise Conflict("Worker is already terminal — interrupt has no effect")
            now = self._now()
            worker = set_worker_status(
                self.store, worker, "failed", now, {"error": TAKEOVER_ERROR, "exitCause": "infra_failure"}
            )
            if cancel_queued:
                self._emit(
                    worker_channel(worker_id),
                    "worker:command",
                    {"action": "abort", "timestamp": epoch_ms(self.clock.now()), "reason": TAKEOVER_ERROR},
                )
            move_task(self.store, task, "failed", now)
            worker_event(worker, "worker:failed", self._emit, {"error": TAKEOVER_ERROR})
            return {"ok": True}

    def worker_sessions(
        self, principal: Principal, worker_id: str, session_id: str | None, limit: int | None, offset: int | None
    ) -> dict[str, Any]:
        """What the worker's runner would answer: its one session, or that session's messages (its milestones)."""
        with self.store.lock:
            worker = access.worker_for(self.store, principal, worker_id)
            if not worker.get("localUiUrl"):
                raise NotFound.of("Runner")
            own = f"session-{worker_id}"
            if session_id is None:
                task = self.store.get("tasks", worker.get("taskId")) or {}
                return self._out(
                    {
                        "sessions": [
                            {
                                "sessionId": own,
                                "summary": str(task.get("title") or worker["name"]),
                                "lastModified": epoch_ms(parse_iso(str(worker["updatedAt"]))),
                                "cwd": None,
                            }
                        ]
                    }
                )
            if session_id != own:
                return {"messages": []}
            start = max(offset or 0, 0)
            page = (worker.get("milestones") or [])[start : start + (limit or 50)]
            messages = [
                {
                    "type": "assistant",
                    "uuid": f"{own}-{start + i}",
                    "session_id": own,
                    "message": {"role": "assistant", "content": [{"type": "text", "text": str(m.get("label", ""))}]},
                }
                for i, m in enumerate(page)
            ]
            return self._out({"messages": messages})
