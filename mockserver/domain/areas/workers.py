"""The worker protocol: claim, read, and progress updates (PATCH) with their effects on the task."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from mockserver.domain import access, claims
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict
from mockserver.domain.events import task_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import (
    LIVE_WORKER_STATUSES,
    TASK_OWNED_BY_WORKER,
    TERMINAL_WORKER_STATUSES,
    TERMINATED_MARKERS,
    check_worker_status,
    move_task,
    set_worker_status,
    task_status_for_worker,
    worker_event,
    worker_event_name,
)
from mockserver.domain.records import decimal_str, public_workspace, worker_view
from mockserver.domain.runtime import epoch_ms
from mockserver.domain.store import Record

__all__ = ("Workers", "result_of")

MILESTONES_KEPT = 50
MCP_CALLS_KEPT = 100
ERROR_TRACES_PER_REQUEST = 50
_COPIED = (
    "error",
    "localUiUrl",
    "currentAction",
    "waitingFor",
    "branch",
    "lastCommitSha",
    "prUrl",
    "prNumber",
    "summary",
    "structuredOutput",
    "nextSuggestion",
)
_COUNTERS = ("inputTokens", "outputTokens", "turns")
_GIT_STATS = ("commitCount", "filesChanged", "linesAdded", "linesRemoved")
_MINE_FIELDS = ("id", "taskId", "status", "error", "createdAt", "updatedAt", "startedAt", "completedAt")


class Workers(Area):
    # -- claim / read -------------------------------------------------------------------------------------------

    def claim_tasks(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """See `mockserver.domain.claims`; atomic against every other call."""
        with self.store.transaction():
            result = claims.claim_tasks(
                self.store,
                self.clock,
                self.ids,
                self._emit,
                self._event_task,
                account=self._caller_account(principal),
                body=body,
            )
            return self._out(result)

    def get_worker(self, principal: Principal, worker_id: str) -> dict[str, Any]:
        with self.store.lock:
            worker = access.worker_for(self.store, principal, worker_id)
            task = self.store.get("tasks", worker["taskId"])
            workspace = self.store.get("workspaces", worker["workspaceId"])
            # one copy of the whole body (the parts share nothing with each other)
            return self._out({**worker, "task": task, "workspace": public_workspace(workspace) if workspace else None})

    def list_my_workers(self, principal: Principal, statuses: list[str] | None = None) -> dict[str, Any]:
        wanted = {check_worker_status(s) for s in statuses} if statuses else None
        with self.store.lock:
            workers = self.store.find("workers", "account", str(principal.account_id))
            rows = [
                {k: w.get(k) for k in _MINE_FIELDS}
                for w in reversed(workers)
                if wanted is None or w["status"] in wanted
            ]
            return {"workers": rows}

    # -- PATCH --------------------------------------------------------------------------------------------------

    def update_worker(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a progress report; terminal statuses move the task. Returns the worker + queued `instructions`."""
        status = check_worker_status(body["status"]) if body.get("status") is not None else None
        changes = self._patch_fields(body)
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            task = self.store.get("tasks", worker["taskId"])
            assert task is not None, "a worker's task is deleted with it"
            previous_status = text(worker, "status")
            if previous_status in TERMINAL_WORKER_STATUSES:
                self.check_reactivation(worker, task, status)
            warning = self._completion_gate(worker, task, changes) if status == "completed" else None
            now = self._now()
            changes = self._merge(worker, changes)
            if status in ("completed", "failed"):
                changes["milestones"] = [
                    *((changes["milestones"] if "milestones" in changes else worker.get("milestones")) or []),
                    _transition(previous_status, status, self.clock.now()),
                ]
            first_run = status == "running" and not worker.get("startedAt")
            if status == "running":
                changes.setdefault("waitingFor", None)
                if first_run:
                    changes["startedAt"] = now
                if previous_status in TERMINAL_WORKER_STATUSES:
                    changes.setdefault("error", None)
                    changes["exitCause"] = None
            cost_before = worker.get("costUsd")
            if status is not None and status != previous_status:
                worker = set_worker_status(self.store, worker, status, now, changes)
            else:
                worker = self.store.update("workers", worker_id, {**changes, "updatedAt": now})
            self._charge(text(worker, "accountId"), cost_before, worker.get("costUsd"))
            progress = body.get("taskProgress")
            extra = {"taskProgress": progress} if isinstance(progress, list) and progress else None
            worker_event(worker, worker_event_name(text(worker, "status")), self._emit, extra)
            if first_run:
                worker_event(worker, "worker:started", self._emit)
            if status is not None:
                self.task_follows(worker, task, status, now, reactivated=previous_status in TERMINAL_WORKER_STATUSES)
            instructions = self._deliver_instructions(worker)
            out = {**worker_view(worker), "instructions": instructions}
            if warning:
                out["outputWarning"] = warning
            return out

    def _patch_fields(self, body: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {f: body[f] for f in _COPIED if f in body}
        for field in (*_COUNTERS, *_GIT_STATS):
            value = self._int(body, field, minimum=0)
            if value is not None:
                changes[field] = value
        if body.get("progress") is not None:
            progress = body["progress"]
            if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not 0 <= progress <= 100:
                raise BadRequest("progress must be a number between 0 and 100")
            changes["progress"] = round(progress)
        if body.get("costUsd") is not None:
            cost = body["costUsd"]
            if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
                raise BadRequest("costUsd must be a non-negative number")
            changes["costUsd"] = decimal_str(cost, 6)
        for field in ("milestones", "appendMilestones"):
            if body.get(field) is not None:
                changes[field] = [_milestone(m, field) for m in _list(body[field], field)]
        if "resultMeta" in body:
            changes["resultMeta"] = body["resultMeta"]
            num_turns = body["resultMeta"].get("numTurns") if isinstance(body["resultMeta"], Mapping) else None
            if (
                "turns" not in changes
                and isinstance(num_turns, int)
                and not isinstance(num_turns, bool)
                and num_turns > 0
            ):
                changes["turns"] = num_turns
        if isinstance(body.get("subagentSpans"), list):
            changes["subagentSpans"] = body["subagentSpans"]
        for field in ("subagentSpansObserved", "backgroundAgentMs"):
            value = body.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                changes[field] = value
        if isinstance(body.get("appendMcpCalls"), list):
            changes["appendMcpCalls"] = [c for c in body["appendMcpCalls"] if isinstance(c, Mapping)]
        if isinstance(body.get("appendErrorTraces"), list):
            changes["appendErrorTraces"] = _error_traces(body["appendErrorTraces"])
        if changes.get("waitingFor") is not None and not isinstance(changes["waitingFor"], Mapping):
            raise BadRequest("waitingFor must be an object or null")
        return changes

    def _merge(self, worker: Record, changes: dict[str, Any]) -> dict[str, Any]:
        """Changes relative to the stored worker: milestones appended, non-zero git stats never reset to 0."""
        merged = dict(changes)
        appended = merged.pop("appendMilestones", None)
        if appended is not None:
            base = merged.get("milestones", worker.get("milestones") or [])
            merged["milestones"] = (list(base or []) + appended)[-MILESTONES_KEPT:]
        elif "milestones" in merged:
            merged["milestones"] = merged["milestones"][-MILESTONES_KEPT:]
        calls = merged.pop("appendMcpCalls", None)
        if calls:
            merged["mcpCalls"] = (list(worker.get("mcpCalls") or []) + calls)[-MCP_CALLS_KEPT:]
        traces = merged.pop("appendErrorTraces", None)
        if traces:
            stamped = [
                {"id": self.ids.uuid4(), **t, "workerId": worker["id"], "taskId": worker["taskId"], "ts": self._now()}
                for t in traces
            ]
            merged["errorTraces"] = list(worker.get("errorTraces") or []) + stamped
        for field in _GIT_STATS:
            if merged.get(field) == 0 and worker.get(field):
                del merged[field]
        return merged

    def check_reactivation(self, worker: Record, task: Record, status: str | None) -> None:
        """A terminal worker may only come back with `running`, and only if its task is still its own."""
        error = str(worker.get("error") or "").lower()
        terminated = (
            any(marker in error for marker in TERMINATED_MARKERS)
            or worker.get("exitCause") == "reassigned"
            or task["status"] not in (*TASK_OWNED_BY_WORKER, "completed", "failed")
            or task.get("claimedBy") not in (None, worker["accountId"])
            or any(
                w["status"] in LIVE_WORKER_STATUSES
                for w in self.store.find("workers", "task", id_of(task))
                if w["id"] != worker["id"]
            )
        )
        if status == "running" and not terminated:
            return
        has_deliverables = bool(
            worker.get("prUrl")
            or worker.get("commitCount")
            or self.store.count_in("artifacts", "worker", id_of(worker))
        )
        message = "Worker was terminated - task may have been reassigned" if terminated else "Worker already completed"
        raise Conflict(
            message,
            abort=True,
            reason=worker.get("error"),
            actualStatus=worker["status"],
            hasDeliverables=has_deliverables,
        )

    def _completion_gate(self, worker: Record, task: Record, changes: Mapping[str, Any]) -> str | None:
        has_pr = bool(changes.get("prUrl") or changes.get("prNumber") or worker.get("prUrl") or worker.get("prNumber"))
        has_artifact = self.store.count_in("artifacts", "worker", id_of(worker)) > 0
        requirement = task.get("outputRequirement") or "auto"
        if requirement == "pr_required" and not has_pr:
            raise BadRequest(
                "This task requires a pull request before completing. Use create_pr to open one.", hint="create_pr"
            )
        if requirement == "artifact_required" and not (has_pr or has_artifact):
            raise BadRequest(
                "This task requires a pull request or an artifact before completing. Use create_pr or create_artifact.",
                hint="create_pr or create_artifact",
            )
        commits = changes.get("commitCount") or worker.get("commitCount")
        if requirement == "auto" and commits and not (has_pr or has_artifact):
            return "The worker made commits but opened no pull request and attached no artifact"
        return None

    def _charge(self, account_id: str, before: Any, after: Any) -> None:
        """Cost reported by a worker adds to its account's totalCost (what the daily cost limit reads)."""
        delta = Decimal(str(after or "0")) - Decimal(str(before or "0"))
        account = self.store.get("accounts", account_id)
        if account is not None and delta > 0:
            total = Decimal(str(account.get("totalCost") or "0")) + delta
            self.store.update("accounts", account_id, {"totalCost": decimal_str(total, 6)})

    def task_follows(self, worker: Record, task: Record, status: str, now: str, *, reactivated: bool) -> None:
        if reactivated and status == "running" and task["status"] in ("completed", "failed"):
            task = move_task(self.store, task, "assigned", now, {"result": None})
        target = task_status_for_worker(status, task)
        if target is None or target == task["status"]:
            return
        changes: dict[str, Any] = {}
        if target in ("completed", "review"):
            changes["result"] = result_of(worker)
        elif target == "failed":
            changes["result"] = {
                "error": worker.get("error"),
                "branch": worker.get("branch"),
                "sha": worker.get("lastCommitSha"),
            }
            changes["context"] = {
                **(task.get("context") or {}),
                "resumeBranch": worker.get("branch"),
                "lastCommitSha": worker.get("lastCommitSha"),
                "failureContext": worker.get("error"),
            }
        task = move_task(self.store, task, target, now, changes)
        if target in ("completed", "review", "failed"):
            name = "task:failed" if target == "failed" else "task:completed"
            self._emit(
                task_channel(id_of(task)),
                name,
                {
                    "taskId": task["id"],
                    "workspaceId": task["workspaceId"],
                    "status": task["status"],
                    "workerId": worker["id"],
                },
            )

    def _deliver_instructions(self, worker: Record) -> list[str]:
        queued = list(worker.get("pendingInstructions") or [])
        if queued:
            history = [
                {**entry, "deliveryState": "delivered"} if entry.get("deliveryState") == "queued" else entry
                for entry in worker.get("instructionHistory") or []
            ]
            self.store.update("workers", id_of(worker), {"pendingInstructions": [], "instructionHistory": history})
        return queued


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be an array")
    return value


def _milestone(value: Any, field: str) -> dict[str, Any]:
    """The runner's milestone, kept as sent: `{type, label?, ts (epoch ms), progress?, event?, metadata?, ...}`."""
    ts = value.get("ts") if isinstance(value, Mapping) else None
    if isinstance(ts, float) and ts.is_integer():
        ts = int(ts)  # JSON Schema's integer: 4225.0 is one
    if (
        not isinstance(value, Mapping)
        or not isinstance(value.get("type"), str)
        or not value["type"]
        or isinstance(ts, bool)
        or not isinstance(ts, int)
        or ts < 0
    ):
        raise BadRequest(f"{field} items need a type and an epoch-millisecond ts")
    return {**value, "ts": ts}


def _transition(previous: str, status: str, now: datetime) -> dict[str, Any]:
    """The audit entry the real route appends when a worker ends (completed or failed)."""
    return {
        "type": "statusTransition",
        "label": f"Status: {previous} \u2192 {status}",
        "from": previous,
        "to": status,
        "ts": epoch_ms(now),
        "source": "api",
    }


def _error_traces(items: list[Any]) -> list[dict[str, Any]]:
    """Traces with a string pattern and excerpt, clamped like the real route (50 a request, 100/500/50 chars)."""
    kept = [
        t
        for t in items
        if isinstance(t, Mapping) and isinstance(t.get("pattern"), str) and isinstance(t.get("excerpt"), str)
    ][:ERROR_TRACES_PER_REQUEST]
    return [
        {
            "pattern": t["pattern"][:100],
            "excerpt": t["excerpt"][:500],
            "source": t["source"][:50] if isinstance(t.get("source"), str) else None,
        }
        for t in kept
    ]


def result_of(worker: Mapping[str, Any]) -> dict[str, Any]:
    """The task result (TaskResult) a completing worker leaves behind."""
    return {
        "summary": worker.get("summary"),
        "branch": worker.get("branch"),
        "commits": worker.get("commitCount"),
        "sha": worker.get("lastCommitSha"),
        "files": worker.get("filesChanged"),
        "added": worker.get("linesAdded"),
        "removed": worker.get("linesRemoved"),
        "prUrl": worker.get("prUrl"),
        "prNumber": worker.get("prNumber"),
        "structuredOutput": worker.get("structuredOutput"),
        "nextSuggestion": worker.get("nextSuggestion"),
    }
