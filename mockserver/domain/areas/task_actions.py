"""Task sub-operations: start (announce now), reassign, the worker conversation, notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, Unprocessable
from mockserver.domain.events import task_channel, workspace_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import (
    CAPPED_WORKER_STATUSES,
    HEARTBEAT_WINDOW,
    LIVE_WORKER_STATUSES,
    requeue_task,
    set_worker_status,
    worker_event,
)
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record

__all__ = ("ReassignRefused", "TaskActions")

NOTE_TYPES = ("decision", "question", "warning", "suggestion", "update")


class ReassignRefused(Forbidden):
    """403 with `{error, reassigned: false, reason, status, isStale}`."""


class TaskActions(Area):
    def start_task(self, principal: Principal, task_id: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """Announce a pending task to runners now (`task:assigned`); 422 when a gate holds it back."""
        body = body or {}
        force, cap_exempt = bool(body.get("forceOverride")), bool(body.get("capExempt"))
        target = self._str(body, "targetLocalUiUrl")
        with self.store.transaction():
            task, workspace = access.task_for(self.store, principal, task_id)
            if task["status"] != "pending":
                raise BadRequest("Only pending tasks can be started", status=task["status"])
            self._check_start_gates(task, workspace, force=force, cap_exempt=cap_exempt)
            context = dict(task.get("context") or {})
            first_start = "manualStartAt" not in context
            context["manualStartAt"] = self._now()
            if force:
                context["bypassDepsGate"] = True
            if cap_exempt:
                context["capExempt"] = True
            changes: dict[str, Any] = {"context": context, "updatedAt": self._now()}
            if force:
                changes["startAt"] = None
            if first_start:
                changes["priority"] = int(task.get("priority") or 0) + 1
            task = self.store.update("tasks", task_id, changes)
            self._emit(
                workspace_channel(text(task, "workspaceId")),
                "task:assigned",
                {"task": {**self._event_task(task), "status": task["status"]}, "targetLocalUiUrl": target},
            )
            return {"started": True, "taskId": task_id, "targetLocalUiUrl": target}

    def _check_start_gates(self, task: Record, workspace: Record, *, force: bool, cap_exempt: bool) -> None:
        if not force and task.get("startAt") and parse_iso(text(task, "startAt")) > self.clock.now():
            raise Unprocessable(
                "Task is scheduled to start later", gateReason="deferred_start", startAt=task["startAt"], canForce=True
            )
        if not force and not (task.get("context") or {}).get("bypassDepsGate"):
            blocking = []
            for dep_id in task.get("dependsOn") or []:
                dep = self.store.get("tasks", dep_id)
                if dep is not None and dep["status"] not in ("completed", "cancelled"):
                    latest = (self.store.find("workers", "task", dep_id) or [{}])[-1]
                    blocking.append(
                        {
                            "taskId": dep["id"],
                            "taskTitle": dep["title"],
                            "prUrl": latest.get("prUrl"),
                            "prNumber": latest.get("prNumber"),
                        }
                    )
            if blocking:
                raise Unprocessable(
                    "Dependencies have not completed",
                    gateReason="unmerged_dep_pr",
                    blockingDeps=blocking,
                    canForce=True,
                )
        if workspace.get("repo") and not cap_exempt and not (task.get("context") or {}).get("capExempt"):
            cap = int(workspace.get("maxConcurrentTasks") or 3)
            active = sum(
                1
                for w in self.store.find("workers", "liveWorkspace", id_of(workspace))
                if w["status"] in CAPPED_WORKER_STATUSES
            )
            if active >= cap:
                queue = [entry[2] for entry in self.store.pending_entries(id_of(workspace))]
                position = queue.index(task["id"]) + 1 if task["id"] in queue else 0
                raise Unprocessable(
                    "The workspace is running as many tasks as it may",
                    gateReason="workspace_cap_reached",
                    active=active,
                    cap=cap,
                    queuePosition=position,
                    canExempt=True,
                )

    def reassign_task(
        self, principal: Principal, task_id: str, *, force: bool = False, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = body or {}
        backend = self._choice(body, "backend", ("claude", "codex"))
        with self.store.transaction():
            task, workspace = access.task_for(self.store, principal, task_id)
            status = text(task, "status")
            live = [w for w in self.store.find("workers", "task", task_id) if w["status"] in LIVE_WORKER_STATUSES]
            stale = self._is_stale(task, live)
            may_take_over = self._may_take_over(principal, workspace)
            if status in ("assigned", "in_progress"):
                if not force:
                    return {
                        "reassigned": False,
                        "taskId": task_id,
                        "status": status,
                        "isStale": stale,
                        "canTakeover": may_take_over or stale,
                        "reason": "Task is claimed; pass force=true to take it over",
                    }
                if not (may_take_over or stale):
                    raise ReassignRefused(
                        "Only a team admin can take over a fresh claim",
                        reassigned=False,
                        reason="not_owner",
                        status=status,
                        isStale=stale,
                    )
            elif status == "pending":
                if force and not may_take_over:
                    raise ReassignRefused(
                        "Only a team admin can force a reassign",
                        reassigned=False,
                        reason="not_owner",
                        status=status,
                        isStale=stale,
                    )
            elif status != "failed":
                return {
                    "reassigned": False,
                    "taskId": task_id,
                    "status": status,
                    "reason": f"Cannot reassign task with status: {status}",
                }
            return self._reassign(task, live, backend, was_assigned=status in ("assigned", "in_progress"))

    def _reassign(self, task: Record, live: list[Record], backend: str | None, *, was_assigned: bool) -> dict[str, Any]:
        now = self._now()
        for worker in live:
            worker = set_worker_status(
                self.store, worker, "failed", now, {"error": "Task was reassigned", "exitCause": "reassigned"}
            )
            worker_event(worker, "worker:failed", self._emit, {"error": "Task was reassigned"})
        switched = backend is not None and backend != task.get("backend")
        changes: dict[str, Any] = {"result": None, **({"backend": backend} if backend else {})}
        task = requeue_task(self.store, task, now, self._emit, event_task=self._event_task(task), changes=changes)
        runners, capacity = self._runner_capacity(text(task, "workspaceId"))
        out: dict[str, Any] = {
            "reassigned": True,
            "taskId": task["id"],
            "wasAssigned": was_assigned,
            "backend": task.get("backend"),
            "backendSwitched": switched,
            "onlineRunners": runners,
            "availableCapacity": capacity,
        }
        if runners == 0:
            out["warning"] = "No runner is online for this workspace; the task waits until one claims it"
        return out

    def _is_stale(self, task: Record, live: list[Record]) -> bool:
        expires = task.get("expiresAt")
        if not live:
            return True
        return bool(expires) and parse_iso(str(expires)) < self.clock.now()

    def _may_take_over(self, principal: Principal, workspace: Record) -> bool:
        if principal.is_key:
            return True  # a key that sees the workspace may take its tasks over
        role = access.team_role(self.store, principal.user_id, text(workspace, "teamId"))
        return access.ROLE_RANK.get(role or "", 0) >= access.ROLE_RANK["admin"]

    def _runner_capacity(self, workspace_id: str) -> tuple[int, int]:
        workspace = self.store.get("workspaces", workspace_id)
        if workspace is None:
            return 0, 0
        horizon = self.clock.now() - HEARTBEAT_WINDOW
        runners = capacity = 0
        for account in self.store.find("accounts", "team", text(workspace, "teamId")):
            if not access.claimable_workspaces(self.store, account, workspace_id):
                continue
            for beat in self.store.find("heartbeats", "account", id_of(account)):
                if parse_iso(text(beat, "lastHeartbeatAt")) >= horizon:
                    runners += 1
                    capacity += max(
                        0, int(beat.get("maxConcurrentWorkers") or 0) - int(beat.get("activeWorkerCount") or 0)
                    )
        return runners, capacity

    # -- messages / notes ---------------------------------------------------------------------------------------

    def list_task_messages(self, principal: Principal, task_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.task_for(self.store, principal, task_id)
            workers = self.store.find("workers", "task", task_id)
            latest = workers[-1] if workers else None
            messages = [
                {k: m[k] for k in ("type", "message", "timestamp", "deliveryState") if k in m}
                for m in (latest or {}).get("instructionHistory") or []
            ]
            return {"taskId": task_id, "workerId": latest["id"] if latest else None, "messages": messages}

    def create_task_note(self, principal: Principal, task_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        note_type = self._choice(body, "type", NOTE_TYPES)
        title = self._str(body, "title", required=True, message="title is required")
        if note_type is None:
            raise BadRequest(f"type must be one of: {', '.join(NOTE_TYPES)}")
        author = self._choice(body, "authorType", ("agent", "user", "system"))
        status = self._choice(body, "status", ("open", "answered", "dismissed"))
        with self.store.transaction():
            task, _workspace = access.task_for(self.store, principal, task_id)
            if task.get("missionId"):
                raise Conflict("Task is linked to a mission; post the note to the mission instead")
            worker_id = body.get("workerId")
            if worker_id is not None and (self.store.get("workers", worker_id) or {}).get("taskId") != task_id:
                raise BadRequest("workerId is not a worker of this task")
            note = self.store.insert(
                "notes",
                {
                    "id": self.ids.uuid4(),
                    "taskId": task_id,
                    "workerId": worker_id,
                    "type": note_type,
                    "title": title,
                    "bodyText": body.get("bodyText"),
                    "authorType": author or ("agent" if principal.is_key else "user"),
                    "status": status or ("open" if note_type == "question" else "answered"),
                    "defaultChoice": body.get("defaultChoice"),
                    "createdAt": self._now(),
                },
            )
            self._emit(
                task_channel(task_id),
                "mission:note_posted",
                {"noteId": note["id"], "type": note_type, "authorType": note["authorType"], "title": title},
            )
            return self._out(note)
