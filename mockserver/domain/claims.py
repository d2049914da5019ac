"""The claim algorithm (POST /api/workers/claim), buildd-api.md §3, with the intended rules.

    1. trigger keys -> 403; `runner` required (400)
    2. this account's stale workers are failed first (their tasks requeued)
    3. limits -> 429 {error, limit, current}: live workers, daily cost (api), sessions (oauth)
    4. oauth accounts seeing several workspaces must name one (400)
    5. slots = min(maxTasks, maxConcurrentWorkers - live); 0 -> diagnostics no_slots
    6. workspaces: the team's open ones + restricted ones linked with canClaim; none -> no_workspaces
    7. candidates, best first (priority desc, createdAt asc): pending, claim free or expired, startAt due,
       runnerPreference fits, no live worker, dependencies completed/cancelled, runner not cooling down
       -> none: no_pending_tasks
    8. requiredCapabilities ⊆ capabilities -> none: capability_mismatch
    9. claim: task assigned + lease, idle worker, branch; `task:claimed` per task

Not modelled (the spec's claimTasks does not list them): the real server's per-workspace task cap and its
mission/budget/path deferrals, so `all_candidates_deferred` and `race_lost` never occur here. The workspace
cap remains a gate of POST /tasks/{id}/start (422 workspace_cap_reached).

Everything runs inside the caller's store transaction, so two claimers never get the same task.
Candidates come from the per-workspace claim queue of the store (pending tasks bucketed by requiredCapabilities and
runnerPreference; a future startAt or an unfinished dependency held back); nothing scans the whole store.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mockserver.domain.access import claimable_workspaces
from mockserver.domain.errors import BadRequest, Forbidden, LimitExceeded
from mockserver.domain.events import workspace_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import (
    LIVE_WORKER_STATUSES,
    Emit,
    expire_stale_workers,
    move_task,
)
from mockserver.domain.records import DEFAULT_MAX_CONCURRENT_WORKERS, new_worker, task_view
from mockserver.domain.runtime import Clock, Ids, micros, parse_iso, to_iso
from mockserver.domain.store import Record, Store

__all__ = ("branch_name", "claim_tasks", "derive_capabilities", "lease_minutes", "max_concurrent_workers", "slugify")

DEFAULT_MAX_TASKS = 3
DEFAULT_LEASE_MINUTES = 15
MAX_LEASE_MINUTES = 240
RUNNER_COOLDOWN = timedelta(seconds=60)


def slugify(title: str) -> str:
    """Lower-cased, each run of non-[a-z0-9] replaced by `-`, cut to 30 chars, no trimming."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower())[:30]


def branch_name(task: Mapping[str, Any], workspace: Mapping[str, Any]) -> str:
    """§3.12: context.headBranch, else the workspace's gitConfig strategy, else `buildd/<id8>-<slug>`."""
    context = task.get("context") or {}
    if context.get("headBranch"):
        return str(context["headBranch"])
    git = workspace.get("gitConfig") or {}
    id8, slug = id_of(task)[:8], slugify(str(task.get("title") or ""))
    if git.get("branchingStrategy") == "none":
        return f"task-{id8}"
    if git.get("useBuildBranch") or not git.get("branchPrefix"):
        return f"buildd/{id8}-{slug}"
    return f"{git['branchPrefix']}{id8}-{slug}"


def lease_minutes(task: Mapping[str, Any]) -> float:
    timeout = (task.get("context") or {}).get("timeoutMinutes")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        timeout = DEFAULT_LEASE_MINUTES
    return float(min(timeout, MAX_LEASE_MINUTES))


def derive_capabilities(body: Mapping[str, Any]) -> frozenset[str]:
    """`capabilities`, or when empty, what `environment` shows: tool names, env keys and `mcp:<name>`."""
    given = [str(c) for c in body.get("capabilities") or []]
    environment = body.get("environment")
    if given or not isinstance(environment, Mapping):
        return frozenset(given)
    derived = {str(t.get("name")) for t in environment.get("tools") or [] if isinstance(t, Mapping) and t.get("name")}
    derived |= {str(k) for k in environment.get("envKeys") or []}
    for server in environment.get("mcp") or []:
        name = server.get("name") if isinstance(server, Mapping) else server
        if name:
            derived.add(f"mcp:{name}")
    return frozenset(derived)


def _max_tasks(body: Mapping[str, Any]) -> int:
    value = body.get("maxTasks", DEFAULT_MAX_TASKS)
    if value is None:
        return DEFAULT_MAX_TASKS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise BadRequest("maxTasks must be an integer")
    return max(0, int(value))


def max_concurrent_workers(account: Mapping[str, Any]) -> int:
    """The account's limit of live workers, or the default when it has none."""
    return int(account.get("maxConcurrentWorkers") or DEFAULT_MAX_CONCURRENT_WORKERS)


def _check_limits(account: Mapping[str, Any], live: int) -> None:
    max_workers = max_concurrent_workers(account)
    if live >= max_workers:
        raise LimitExceeded("Max concurrent workers limit reached", limit=max_workers, current=live)
    if account.get("authType", "api") == "api" and account.get("maxCostPerDay") is not None:
        limit, spent = Decimal(text(account, "maxCostPerDay")), Decimal(str(account.get("totalCost") or "0"))
        if spent >= limit:  # the spec's RateLimitError sends numbers, also for USD
            raise LimitExceeded("Daily cost limit exceeded", limit=float(limit), current=float(spent))
    if account.get("authType") == "oauth" and account.get("maxConcurrentSessions") is not None:
        limit_sessions, sessions = int(account["maxConcurrentSessions"]), int(account.get("activeSessions") or 0)
        if sessions >= limit_sessions:
            raise LimitExceeded("Max concurrent sessions limit reached", limit=limit_sessions, current=sessions)


class _Candidates:
    """Walks the claim queue of the claimable workspaces, best first, applying the §3.7 query.

    The store keeps each workspace's pending tasks in buckets by (requiredCapabilities, runnerPreference), without
    those whose startAt is still ahead or whose dependencies have not finished: a claim merges only the buckets
    this claimer can take, so it does not re-reject, on every call, the tasks it cannot take. `ok` still judges
    every task it yields: the queue only leaves out what `ok` (or `fits`) would reject.
    """

    def __init__(
        self,
        store: Store,
        account: Mapping[str, Any],
        runner: str,
        now: datetime,
        body: Mapping[str, Any],
        capabilities: frozenset[str],
    ) -> None:
        self.store, self.account, self.runner, self.now = store, account, runner, now
        self.skills = frozenset(str(s) for s in body.get("availableSkills") or [])
        self.capabilities = capabilities
        self.now_us = micros(now)

    def walk(self, workspaces: list[Record], task_id: str | None) -> Iterator[Record]:
        """The claimable tasks whose requiredCapabilities this claimer has, best first."""
        if task_id is not None:
            task = self._requested(workspaces, task_id)
            if task is not None and self.ok(task) and self.fits(task):
                yield task
            return
        lists = [
            entries
            for (caps, _preference), entries in self._buckets(workspaces)
            if caps is None or self.capabilities.issuperset(caps)
        ]
        for entry in heapq.merge(*lists):
            task = self.store.get("tasks", entry[2])
            if task is not None and self.ok(task) and self.fits(task):
                yield task

    def mismatched(self, workspaces: list[Record], task_id: str | None) -> int:
        """How many claimable tasks need a capability this claimer lacks (what an empty claim reports)."""
        if task_id is not None:
            task = self._requested(workspaces, task_id)
            return int(task is not None and self.ok(task) and not self.fits(task))
        count = 0
        for (caps, _preference), entries in self._buckets(workspaces):
            if caps is None or not self.capabilities.issuperset(caps):
                for entry in entries:
                    task = self.store.get("tasks", entry[2])
                    if task is not None and self.ok(task) and not self.fits(task):
                        count += 1
        return count

    def fits(self, task: Mapping[str, Any]) -> bool:
        return set(task.get("requiredCapabilities") or []) <= self.capabilities

    def _requested(self, workspaces: list[Record], task_id: str) -> Record | None:
        task = self.store.get("tasks", task_id)
        ids = {id_of(ws) for ws in workspaces}
        if task is not None and task["status"] == "pending" and task["workspaceId"] in ids:
            return task
        return None

    def _buckets(self, workspaces: list[Record]) -> Iterator[tuple[tuple[Any, Any], list[tuple[int, int, str]]]]:
        """The due pending tasks' buckets whose runnerPreference this account fits (`ok` rejects the rest)."""
        kind = self.account.get("type")
        for ws in workspaces:
            for bucket, entries in list(self.store.claim_queue(id_of(ws), self.now_us).items()):
                if kind == "user" or bucket[1] in (None, "any", kind):
                    yield bucket, entries

    def ok(self, task: Mapping[str, Any]) -> bool:
        if task.get("claimedBy") and task.get("expiresAt") and parse_iso(text(task, "expiresAt")) >= self.now:
            return False
        if task.get("startAt") and parse_iso(text(task, "startAt")) > self.now:
            return False
        kind = self.account.get("type")
        if kind != "user" and task.get("runnerPreference") not in (None, "any", kind):
            return False
        if self.skills and task.get("roleSlug") and task["roleSlug"] not in self.skills:
            return False
        workers = self.store.find("workers", "task", id_of(task))
        if any(w["status"] in LIVE_WORKER_STATUSES for w in workers):
            return False
        if any(self._cooling(w) for w in workers):
            return False
        return self._dependencies_done(task)

    def _cooling(self, worker: Mapping[str, Any]) -> bool:
        return (
            worker.get("runner") == self.runner
            and worker["status"] in ("error", "failed")
            and self.now - parse_iso(text(worker, "updatedAt")) < RUNNER_COOLDOWN
        )

    def _dependencies_done(self, task: Mapping[str, Any]) -> bool:
        if (task.get("context") or {}).get("bypassDepsGate"):
            return True
        for dep_id in task.get("dependsOn") or []:
            dep = self.store.get("tasks", dep_id)
            if dep is not None and dep["status"] not in ("completed", "cancelled"):
                return False
        return True


def claim_tasks(
    store: Store,
    clock: Clock,
    ids: Ids,
    emit: Emit,
    view: Callable[[Record], dict[str, Any]],
    *,
    account: Record,
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """Run the claim for the (stored) `account`; the caller holds the store transaction. Returns the body."""
    account_id = id_of(account)
    if account.get("level") == "trigger":
        raise Forbidden("Trigger tokens cannot claim tasks. Use a worker or admin token.")
    runner = body.get("runner")
    if not isinstance(runner, str) or not runner.strip():
        raise BadRequest("runner is required")
    max_tasks = _max_tasks(body)
    now = clock.now()
    expire_stale_workers(store, now, emit, view, account_id=account_id)

    live = store.count_in("workers", "liveAccount", account_id)
    _check_limits(account, live)
    workspace_id = body.get("workspaceId")
    workspaces = claimable_workspaces(store, account, workspace_id)
    if (
        account.get("authType") == "oauth"
        and workspace_id is None
        and not body.get("claimAcrossAccessible")
        and len(workspaces) > 1
    ):
        raise BadRequest(
            "workspaceId required for OAuth tokens with access to multiple workspaces",
            accessibleWorkspaces=len(workspaces),
            hint="Pass workspaceId, or claimAcrossAccessible: true to claim from any of them.",
        )
    max_workers = max_concurrent_workers(account)
    slots = min(max_tasks, max_workers - live)
    if account.get("authType") == "oauth" and account.get("maxConcurrentSessions") is not None:
        # each worker of an oauth account holds a session, so a claim cannot outgrow the session limit either
        slots = min(slots, int(account["maxConcurrentSessions"]) - int(account.get("activeSessions") or 0))
    if slots <= 0:
        return {
            "workers": [],
            "diagnostics": {"reason": "no_slots", "activeWorkers": live, "maxConcurrent": max_workers},
        }
    if not workspaces:
        return {"workers": [], "diagnostics": {"reason": "no_workspaces"}}

    candidates = _Candidates(store, account, runner, now, body, derive_capabilities(body))
    chosen = list(itertools.islice(candidates.walk(workspaces, body.get("taskId")), slots))
    if not chosen:
        # every claimable task lacks a capability (capability_mismatch), or there is none (no_pending_tasks)
        pending = candidates.mismatched(workspaces, body.get("taskId"))
        if pending == 0:
            return {"workers": [], "diagnostics": {"reason": "no_pending_tasks", "availableSlots": slots}}
        return {
            "workers": [],
            "diagnostics": {"reason": "capability_mismatch", "pendingTasks": pending, "matchedTasks": 0},
        }

    by_id = {id_of(ws): ws for ws in workspaces}
    return {
        "workers": [
            _claim_one(store, clock, ids, emit, account, by_id[text(t, "workspaceId")], t, runner) for t in chosen
        ]
    }


def _claim_one(
    store: Store, clock: Clock, ids: Ids, emit: Emit, account: Record, workspace: Record, task: Record, runner: str
) -> dict[str, Any]:
    now = clock.now()
    stamp = to_iso(now)
    task = move_task(
        store,
        task,
        "assigned",
        stamp,
        {
            "claimedBy": account["id"],
            "claimedAt": stamp,
            "expiresAt": to_iso(now + timedelta(minutes=lease_minutes(task))),
        },
    )
    branch = branch_name(task, workspace)
    worker = store.insert(
        "workers", new_worker(id=ids.uuid4(), account=account, task=task, runner=runner, branch=branch, now=stamp)
    )
    changes: dict[str, Any] = {"totalTasks": int(account.get("totalTasks") or 0) + 1}
    if account.get("authType") == "oauth":
        changes["activeSessions"] = int(account.get("activeSessions") or 0) + 1
    store.update("accounts", id_of(account), changes)
    emit(
        workspace_channel(text(task, "workspaceId")),
        "task:claimed",
        {
            "task": {
                "id": task["id"],
                "title": task["title"],
                "status": "assigned",
                "workspaceId": task["workspaceId"],
            },
            "worker": {"id": worker["id"], "name": account["name"], "status": "idle"},
        },
    )
    return {"id": worker["id"], "taskId": task["id"], "branch": branch, "task": task_view(task, workspace)}
