"""Task and worker statuses and the transitions between them, as declared tables.

A worker drives its task (the intended behaviour; the real server never writes `in_progress` or `review`):

    worker status        task status
    running          ->  in_progress
    completed        ->  completed, or review when task.requiresReview
    failed | error   ->  failed

The tables and checks come first; then the effects that apply a transition to the store (inside the caller's
transaction) with its bookkeeping and events, shared by the service, the claim and the sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mockserver.domain.errors import BadRequest, Conflict
from mockserver.domain.events import worker_channel, workspace_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.runtime import micros, parse_iso, to_iso

if TYPE_CHECKING:
    from datetime import datetime

    from mockserver.domain.store import Record, Store

Emit = Callable[[str, str, dict[str, Any]], None]

__all__ = (
    "ACTIVE_WORKER_STATUSES",
    "CAPPED_WORKER_STATUSES",
    "CLAIM_RELEASED",
    "HEARTBEAT_WINDOW",
    "LIVE_WORKER_STATUSES",
    "TASK_FOLLOWS_WORKER",
    "TASK_OWNED_BY_WORKER",
    "TASK_PATCH_STATUSES",
    "TASK_STATUSES",
    "TASK_TRANSITIONS",
    "TERMINAL_TASK_STATUSES",
    "TERMINAL_WORKER_STATUSES",
    "TERMINATED_MARKERS",
    "WORKER_EVENT_FOR_STATUS",
    "WORKER_STATUSES",
    "WORKER_TRANSITIONS",
    "Emit",
    "check_task_patch_status",
    "check_task_transition",
    "check_worker_status",
    "check_worker_transition",
    "expire_claims",
    "expire_stale_workers",
    "fail_worker",
    "move_task",
    "requeue_task",
    "set_worker_status",
    "task_status_for_worker",
    "worker_event",
    "worker_event_name",
)

WORKER_STATUSES = ("idle", "starting", "running", "waiting_input", "paused", "completed", "error", "failed")
LIVE_WORKER_STATUSES = frozenset({"idle", "starting", "running", "waiting_input"})
# a worker in one of these holds its task against completion by PATCH /tasks (409)
ACTIVE_WORKER_STATUSES = frozenset({"running", "waiting_input"})
TERMINAL_WORKER_STATUSES = frozenset({"completed", "failed", "error"})
# a repo-backed workspace counts these against its maxConcurrentTasks
CAPPED_WORKER_STATUSES = frozenset({"idle", "starting", "running"})
# a terminal worker whose error says it was taken away can never come back with `running`
TERMINATED_MARKERS = ("human takeover", "expired", "timed out", "went offline", "runner restarted", "reassigned")

TASK_STATUSES = ("pending", "assigned", "in_progress", "review", "completed", "failed", "cancelled")
TERMINAL_TASK_STATUSES = frozenset({"completed", "failed", "cancelled"})
TASK_PATCH_STATUSES = ("pending", "completed", "failed", "cancelled")

# from -> the statuses it may move to (claims, worker updates, PATCH /tasks, reassign, sweeps)
TASK_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"pending", "assigned", "completed", "failed", "cancelled"}),
    "assigned": frozenset({"pending", "assigned", "in_progress", "review", "completed", "failed", "cancelled"}),
    "in_progress": frozenset({"pending", "in_progress", "review", "completed", "failed", "cancelled"}),
    "review": frozenset({"pending", "review", "completed", "failed", "cancelled"}),
    # assigned from completed/failed: the task's worker came back with `running` (reactivation)
    "completed": frozenset({"pending", "assigned", "completed", "failed", "cancelled"}),
    "failed": frozenset({"pending", "assigned", "completed", "failed", "cancelled"}),
    "cancelled": frozenset({"pending", "completed", "failed", "cancelled"}),
}

# a terminal worker only comes back through `running` (reactivation, recover); the rest may go anywhere
WORKER_TRANSITIONS: Mapping[str, frozenset[str]] = {
    status: frozenset({"running"}) if status in TERMINAL_WORKER_STATUSES else frozenset(WORKER_STATUSES)
    for status in WORKER_STATUSES
}

# worker status -> task status it moves the task to (None: the task keeps its status)
TASK_FOLLOWS_WORKER: Mapping[str, str] = {
    "running": "in_progress",
    "completed": "completed",
    "failed": "failed",
    "error": "failed",
}
# the task statuses a worker may still move (a cancelled or requeued task is not the worker's any more)
TASK_OWNED_BY_WORKER = frozenset({"assigned", "in_progress", "review"})

WORKER_EVENT_FOR_STATUS: Mapping[str, str] = {"completed": "worker:completed", "failed": "worker:failed"}


def check_worker_status(status: Any) -> str:
    if status not in WORKER_STATUSES:
        raise BadRequest(f"Invalid status. Allowed: {', '.join(WORKER_STATUSES)}")
    return str(status)


def check_task_patch_status(status: Any) -> str:
    if status not in TASK_PATCH_STATUSES:
        raise BadRequest(f"Invalid status. Allowed: {', '.join(TASK_PATCH_STATUSES)}")
    return str(status)


def check_worker_transition(current: str, new: str) -> None:
    if new not in WORKER_TRANSITIONS.get(current, frozenset(WORKER_STATUSES)):
        raise Conflict(f"Cannot move worker from {current} to {new}")


def check_task_transition(current: str, new: str) -> None:
    if new not in TASK_TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"Cannot move task from {current} to {new}")


def task_status_for_worker(worker_status: str, task: Mapping[str, Any]) -> str | None:
    """The status a task takes when its worker reports `worker_status`, or None to leave it alone."""
    if task.get("status") not in TASK_OWNED_BY_WORKER:
        return None
    target = TASK_FOLLOWS_WORKER.get(worker_status)
    if target == "completed" and task.get("requiresReview"):
        return "review"
    if worker_status == "running" and task.get("status") == "review":
        return None
    return target


def worker_event_name(worker_status: str) -> str:
    """completed -> worker:completed, failed -> worker:failed, anything else (incl. error) -> worker:progress."""
    return WORKER_EVENT_FOR_STATUS.get(worker_status, "worker:progress")


# -- effects: the transitions applied to the store (inside the caller's transaction) ------------------------------

CLAIM_RELEASED: Mapping[str, Any] = {"claimedBy": None, "claimedAt": None, "expiresAt": None}
STALE_AFTER = {"running": timedelta(minutes=15), "starting": timedelta(minutes=15), "idle": timedelta(minutes=5)}
# a runner (account) without a heartbeat for this long is offline
HEARTBEAT_WINDOW = timedelta(minutes=150)


def move_task(store: Store, task: Record, status: str, now: str, changes: Mapping[str, Any] | None = None) -> Record:
    check_task_transition(text(task, "status"), status)
    return store.update("tasks", id_of(task), {**(changes or {}), "status": status, "updatedAt": now})


def requeue_task(
    store: Store,
    task: Record,
    now: str,
    emit: Emit,
    *,
    event_task: dict[str, Any],
    changes: Mapping[str, Any] | None = None,
) -> Record:
    """Back to `pending` with the claim released; runners hear `task:assigned` and claim again."""
    task = move_task(store, task, "pending", now, {**CLAIM_RELEASED, **(changes or {})})
    emit(
        workspace_channel(text(task, "workspaceId")),
        "task:assigned",
        {"task": {**event_task, "status": "pending"}, "targetLocalUiUrl": None},
    )
    return task


def set_worker_status(
    store: Store, worker: Record, status: str, now: str, changes: Mapping[str, Any] | None = None
) -> Record:
    """Write a worker status with its bookkeeping: completedAt and oauth session counts on entering/leaving
    a terminal status."""
    check_worker_transition(str(worker.get("status")), status)
    update: dict[str, Any] = {**(changes or {}), "status": status, "updatedAt": now}
    was_terminal = worker.get("status") in TERMINAL_WORKER_STATUSES
    is_terminal = status in TERMINAL_WORKER_STATUSES
    if is_terminal and not was_terminal:
        update.setdefault("completedAt", now)
        _adjust_sessions(store, worker, -1)
    elif was_terminal and not is_terminal:
        update.setdefault("completedAt", None)
        _adjust_sessions(store, worker, +1)
    return store.update("workers", id_of(worker), update)


def _adjust_sessions(store: Store, worker: Record, delta: int) -> None:
    account = store.get("accounts", worker.get("accountId"))
    if account is not None and account.get("authType") == "oauth":
        sessions = max(0, int(account.get("activeSessions") or 0) + delta)
        store.update("accounts", id_of(account), {"activeSessions": sessions})


def worker_event(worker: Mapping[str, Any], name: str, emit: Emit, extra: Mapping[str, Any] | None = None) -> None:
    """worker:progress|completed|failed on the worker's and the workspace's channels."""
    payload = {
        "workerId": worker["id"],
        "taskId": worker.get("taskId"),
        "status": worker["status"],
        "updatedAt": worker.get("updatedAt"),
        **(extra or {}),
    }
    emit(worker_channel(id_of(worker)), name, payload)
    emit(workspace_channel(text(worker, "workspaceId")), name, dict(payload))


def fail_worker(store: Store, worker: Record, now: str, emit: Emit, *, error: str, exit_cause: str) -> Record:
    worker = set_worker_status(store, worker, "failed", now, {"error": error, "exitCause": exit_cause})
    worker_event(worker, "worker:failed", emit, {"error": error})
    return worker


def expire_stale_workers(
    store: Store, now: datetime, emit: Emit, view: Callable[[Record], dict[str, Any]], *, account_id: str | None = None
) -> int:
    """Fail live workers that stopped reporting (running/starting 15 min, idle 5 min, or any live worker of an
    account silent for 150 min) and requeue their tasks. `view` renders a task for `task:assigned`."""
    if account_id is not None:
        # the store keeps each live worker's earliest possible expiry: on most claims none has passed
        overdue = [store.get("workers", wid) for wid in store.overdue_workers(account_id, micros(now))]
        if not overdue:
            return 0
        if not any(w is not None and text(w, "status") in STALE_AFTER for w in overdue) and not _account_silent(
            store, account_id, now
        ):
            return 0  # only the heartbeat rule could fail these, and the account is not silent
        workers = store.find("workers", "liveAccount", account_id)
    else:
        workers = [w for status in LIVE_WORKER_STATUSES for w in store.find("workers", "status", status)]
    stamp = to_iso(now)
    expired = 0
    for worker in workers:
        idle_for = now - parse_iso(text(worker, "updatedAt"))
        limit = STALE_AFTER.get(text(worker, "status"))
        if limit is not None and idle_for > limit:
            error = f"Stale worker expired (no update for {int(limit.total_seconds() // 60)} min)"
        elif idle_for > HEARTBEAT_WINDOW and _account_silent(store, text(worker, "accountId"), now):
            error = "Runner went offline (no heartbeat for 150 min)"
        else:
            continue
        fail_worker(store, worker, stamp, emit, error=error, exit_cause="infra_failure")
        task = store.get("tasks", worker.get("taskId"))
        if task is not None and task["status"] in TASK_OWNED_BY_WORKER and not _has_live_worker(store, task):
            requeue_task(store, task, stamp, emit, event_task=view(task))
        expired += 1
    return expired


def expire_claims(store: Store, now: datetime, emit: Emit, view: Callable[[Record], dict[str, Any]]) -> int:
    """Claimed tasks past `expiresAt` with no live worker go back to pending."""
    stamp = to_iso(now)
    expired = 0
    for status in ("assigned", "in_progress"):
        for task in store.find("tasks", "status", status):
            expires = task.get("expiresAt")
            if expires and parse_iso(str(expires)) < now and not _has_live_worker(store, task):
                requeue_task(store, task, stamp, emit, event_task=view(task))
                expired += 1
    return expired


def _has_live_worker(store: Store, task: Mapping[str, Any]) -> bool:
    return any(w["status"] in LIVE_WORKER_STATUSES for w in store.find("workers", "task", id_of(task)))


def _account_silent(store: Store, account_id: str, now: datetime) -> bool:
    beats = store.find("heartbeats", "account", account_id)
    last = max((parse_iso(text(b, "lastHeartbeatAt")) for b in beats if b.get("lastHeartbeatAt")), default=None)
    return last is None or now - last > HEARTBEAT_WINDOW
