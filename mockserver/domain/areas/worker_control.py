"""Worker sub-operations: heartbeats and runner lists, commands, instructions, activity, recover, respond."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.areas.workers import MILESTONES_KEPT, Workers, result_of
from mockserver.domain.auth import Principal
from mockserver.domain.claims import max_concurrent_workers
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound
from mockserver.domain.events import worker_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import (
    HEARTBEAT_WINDOW,
    TERMINAL_WORKER_STATUSES,
    move_task,
    set_worker_status,
    task_status_for_worker,
)
from mockserver.domain.records import new_task
from mockserver.domain.runtime import epoch_ms, parse_iso, to_iso
from mockserver.domain.store import Record

__all__ = ("WorkerControl",)

HISTORY_KEPT = 30
COMMAND_ACTIONS = ("pause", "resume", "abort", "message", "recover")
RECOVERY_MODES = ("diagnose", "complete", "restart")


class WorkerControl(Area):
    def send_heartbeat(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        url = self._str(body, "localUiUrl", required=True, message="localUiUrl is required")
        count = self._int(body, "activeWorkerCount", minimum=0) or 0
        with self.store.transaction():
            account = self._caller_account(principal)
            key = f"{account['id']}|{url}"
            existing = self.store.get("heartbeats", key)
            beat = {
                "id": existing["id"] if existing else self.ids.uuid4(),
                "accountId": account["id"],
                "localUiUrl": url,
                "viewerToken": existing["viewerToken"] if existing else self.ids.hex(16),
                "maxConcurrentWorkers": max_concurrent_workers(account),
                "activeWorkerCount": count,
                "environment": body.get("environment", existing.get("environment") if existing else None),
                "lastHeartbeatAt": self._now(),
            }
            self.store.upsert("heartbeats", beat)
            pending = sum(
                len(self.store.pending_entries(id_of(ws))) for ws in access.claimable_workspaces(self.store, account)
            )
            return {"ok": True, "viewerToken": beat["viewerToken"], "pendingTaskCount": pending, "latestCommit": None}

    def list_active_workers(self, principal: Principal) -> dict[str, Any]:
        """Runners that sent a heartbeat in the last 150 minutes, most capacity first: a session sees its teams'
        runners, a key only its own account's (viewer tokens are not for every key of the team)."""
        with self.store.lock:
            horizon = self.clock.now() - HEARTBEAT_WINDOW
            if principal.account is not None:
                accounts = [self._caller_account(principal)]
            else:
                accounts = [a for team in sorted(principal.team_ids) for a in self.store.find("accounts", "team", team)]
            out = []
            for account in accounts:
                workspaces = [
                    ws
                    for ws in access.claimable_workspaces(self.store, account)
                    if access.can_see_workspace(self.store, principal, ws)
                ]
                for beat in self.store.find("heartbeats", "account", id_of(account)):
                    if parse_iso(text(beat, "lastHeartbeatAt")) < horizon:
                        continue
                    maximum = int(beat.get("maxConcurrentWorkers") or 0)
                    active = int(beat.get("activeWorkerCount") or 0)
                    out.append(
                        {
                            "localUiUrl": beat["localUiUrl"],
                            "viewerToken": beat["viewerToken"],
                            "accountId": account["id"],
                            "accountName": account["name"],
                            "maxConcurrent": maximum,
                            "activeWorkers": active,
                            "capacity": maximum - active,
                            "workspaceIds": [ws["id"] for ws in workspaces],
                            "workspaceNames": [ws["name"] for ws in workspaces],
                            "environment": beat.get("environment"),
                            "lastUpdated": beat["lastHeartbeatAt"],
                        }
                    )
            out.sort(key=lambda item: -int(item["capacity"]))
            return {"activeLocalUis": self._out(out)}

    # -- control ------------------------------------------------------------------------------------------------

    def send_worker_command(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        action = self._choice(body, "action", COMMAND_ACTIONS)
        if action is None:
            raise BadRequest(f"action must be one of: {', '.join(COMMAND_ACTIONS)}")
        with self.store.transaction():
            access.worker_for(self.store, principal, worker_id)
            self._emit(
                worker_channel(worker_id),
                "worker:command",
                {"action": action, "text": body.get("text"), "timestamp": epoch_ms(self.clock.now())},
            )
            return {"ok": True, "action": action}

    def instruct_worker(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Session, or an admin-level key that can see the worker's workspace. Urgent ones go out now."""
        message = self._str(body, "message", required=True, message="message is required") or ""
        urgent = body.get("priority") == "urgent"
        with self.store.transaction():
            worker = self._team_worker(principal, worker_id)
            if principal.is_key and not principal.is_admin_key:
                raise Forbidden("Instructions need a session or an admin-level API key")
            if worker["status"] in TERMINAL_WORKER_STATUSES:
                raise BadRequest("Worker has finished; it takes no more instructions", actualStatus=worker["status"])
            now = self._now()
            entry = {
                "type": "instruction",
                "message": message,
                "timestamp": now,
                "deliveryState": "delivered" if urgent else "queued",
            }
            changes: dict[str, Any] = {
                "instructionHistory": ([*(worker.get("instructionHistory") or []), entry][-HISTORY_KEPT:])
            }
            if urgent:
                self._emit(
                    worker_channel(worker_id),
                    "worker:command",
                    {"action": "message", "text": message, "timestamp": epoch_ms(self.clock.now())},
                )
            else:
                changes["pendingInstructions"] = [*(worker.get("pendingInstructions") or []), message]
            self.store.update("workers", worker_id, changes)
            return {
                "ok": True,
                "workerId": worker_id,
                "delivered": "sent" if urgent else "queued",
                "message": "Instruction sent" if urgent else "Instruction queued for the next worker update",
            }

    def _team_worker(self, principal: Principal, worker_id: str) -> Record:
        """A worker in a workspace the caller can see (keys included), else 404 Worker not found."""
        worker = self.store.get("workers", worker_id)
        workspace = self.store.get("workspaces", worker.get("workspaceId")) if worker else None
        if worker is None or workspace is None or not access.can_see_workspace(self.store, principal, workspace):
            raise NotFound.of("Worker")
        return worker

    def record_worker_activity(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        tool = self._str(body, "toolName", required=True, message="toolName is required") or ""
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            now = self.clock.now()
            ts = self._activity_ts(body.get("timestamp"), now)
            label = _activity_label(tool, body.get("toolInput"))
            milestones = list(worker.get("milestones") or [])
            last = milestones[-1] if milestones else None
            if last and last.get("label") == label and isinstance(last.get("ts"), int) and abs(last["ts"] - ts) < 1000:
                return {"ok": True, "deduplicated": True}
            milestone = {"type": "action", "label": label, "ts": ts}
            self.store.update(
                "workers",
                worker_id,
                {
                    "milestones": [*milestones, milestone][-MILESTONES_KEPT:],
                    "currentAction": label,
                    "updatedAt": to_iso(now),
                },
            )
            return {"ok": True, "milestone": milestone}

    def _activity_ts(self, value: Any, now: datetime) -> int:
        """Epoch ms from the request's `timestamp` (epoch ms or ISO), else now."""
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        moment = parse_iso(self._timestamp(value, "timestamp")) if value else now
        ts = epoch_ms(moment)
        if ts < 0:  # a milestone's `ts` is epoch ms >= 0 (the spec's Milestone): a year before 1970 is bad input
            raise BadRequest("timestamp must not be before 1970-01-01")
        return ts

    def recover_worker(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        mode = self._choice(body, "mode", RECOVERY_MODES)
        if mode is None:
            raise BadRequest(f"mode must be one of: {', '.join(RECOVERY_MODES)}")
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            task = self.store.get("tasks", worker["taskId"])
            assert task is not None
            if worker["status"] in TERMINAL_WORKER_STATUSES:
                try:
                    self.api.area(Workers).check_reactivation(worker, task, "running")
                except Conflict as exc:
                    raise BadRequest("Worker cannot be recovered: its task was reassigned or closed") from exc
            now = self._now()
            was_terminal = worker["status"] in TERMINAL_WORKER_STATUSES
            changes = {"error": None, "exitCause": None, **({} if worker.get("startedAt") else {"startedAt": now})}
            worker = set_worker_status(self.store, worker, "running", now, changes)
            self.api.area(Workers).task_follows(worker, task, "running", now, reactivated=was_terminal)
            self._emit(
                worker_channel(worker_id),
                "worker:command",
                {"action": "recover", "recoveryMode": mode, "timestamp": epoch_ms(self.clock.now())},
            )
            return {"ok": True, "mode": mode, "workerId": worker_id}

    def respond_to_worker(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a worker waiting for input: it completes, and a `Continue: …` task carries the answer on."""
        message = self._str(body, "message", required=True, message="message is required") or ""
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            if worker["status"] != "waiting_input":
                raise BadRequest("Worker is not waiting for input")
            task = self.store.get("tasks", worker["taskId"])
            assert task is not None
            now = self._now()
            context = task.get("context") or {}
            follow_up = self.store.insert(
                "tasks",
                new_task(
                    id=self.ids.uuid4(),
                    workspace_id=text(task, "workspaceId"),
                    now=now,
                    fields={
                        **{
                            k: task.get(k)
                            for k in (
                                "description",
                                "priority",
                                "mode",
                                "runnerPreference",
                                "requiredCapabilities",
                                "outputRequirement",
                                "backend",
                                "category",
                            )
                        },
                        "title": f"Continue: {task['title']}"[:500],
                        "parentTaskId": task["id"],
                        "createdByAccountId": principal.account_id,
                        "creationSource": "api",
                        "context": {
                            "baseBranch": worker.get("branch"),
                            "userInput": message,
                            "previousAttempt": {
                                "workerId": worker["id"],
                                "summary": worker.get("summary"),
                                "waitingFor": worker.get("waitingFor"),
                            },
                            "iteration": int(context.get("iteration") or 0) + 1,
                        },
                    },
                ),
            )
            history = [
                *(worker.get("instructionHistory") or []),
                {"type": "response", "message": message, "timestamp": now},
            ][-HISTORY_KEPT:]
            worker = set_worker_status(
                self.store, worker, "completed", now, {"waitingFor": None, "instructionHistory": history}
            )
            target = task_status_for_worker("completed", task)
            if target is not None:
                move_task(self.store, task, target, now, {"result": result_of(worker)})
            self._announce_new_task(follow_up)
            return {"taskId": follow_up["id"]}


def _activity_label(tool: str, tool_input: Any) -> str:
    if isinstance(tool_input, Mapping):
        for key in ("file_path", "file", "path", "command", "pattern", "url", "query"):
            value = tool_input.get(key)
            if isinstance(value, str) and value:
                return f"{tool}: {value}"[:500]
    return tool[:500]
