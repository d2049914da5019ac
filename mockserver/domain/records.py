"""New records in the spec's wire shape, and the views of them that responses and events carry.

Records are plain dicts (camelCase); this module only knows their creation defaults and projections.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.domain.store import clone

__all__ = (
    "ACCOUNT_SECRET_FIELDS",
    "DEFAULT_MAX_CONCURRENT_WORKERS",
    "account_view",
    "decimal_str",
    "new_account",
    "new_task",
    "new_worker",
    "new_workspace",
    "normalise_repo",
    "public_workspace",
    "task_event_view",
    "task_view",
    "worker_view",
    "workspace_view",
)

DEFAULT_MAX_CONCURRENT_WORKERS = 3  # an account created without its own limit of live workers

# never leave the store in a response, whatever a world file put in the row
ACCOUNT_SECRET_FIELDS = frozenset({"apiKey", "apiKeyHash", "anthropicApiKey", "oauthToken"})
WORKSPACE_SECRET_FIELDS = frozenset({"webhookConfig", "discordConfig", "slackConfig"})


def decimal_str(value: Any, places: int) -> str:
    """A Postgres decimal as the API sends it: a string with `places` decimals (`12.5` -> "12.50")."""
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc
    return str(number.quantize(Decimal(1).scaleb(-places)))


def normalise_repo(value: str) -> str:
    """`https://github.com/Owner/Name.git` or `git@github.com:Owner/Name` -> `Owner/Name`; `owner/name` as is."""
    text = value.strip().rstrip("/")
    text = re.sub(r"\.git$", "", text)
    text = re.sub(r"^(?:https?://|git@)[^/:]+[/:]", "", text)
    return text


def new_account(*, id: str, team_id: str, fields: Mapping[str, Any], now: str) -> dict[str, Any]:
    max_cost = fields.get("maxCostPerDay")
    return {
        "id": id,
        "teamId": team_id,
        "name": fields["name"],
        "type": fields["type"],
        "level": fields.get("level") or "worker",
        "authType": fields.get("authType") or "api",
        "apiKeyPrefix": None,
        "githubId": None,
        "maxConcurrentWorkers": int(fields.get("maxConcurrentWorkers") or DEFAULT_MAX_CONCURRENT_WORKERS),
        "maxCostPerDay": decimal_str(max_cost, 2) if max_cost is not None else None,
        "totalCost": "0",
        "maxConcurrentSessions": fields.get("maxConcurrentSessions"),
        "activeSessions": 0,
        "budgetExhaustedAt": None,
        "budgetResetsAt": None,
        "totalTasks": 0,
        "createdAt": now,
    }


def account_view(account: Mapping[str, Any]) -> dict[str, Any]:
    return clone({k: v for k, v in account.items() if k not in ACCOUNT_SECRET_FIELDS})  # type: ignore[no-any-return]


def new_workspace(*, id: str, team_id: str, fields: Mapping[str, Any], now: str) -> dict[str, Any]:
    return {
        "id": id,
        "name": fields["name"],
        "teamId": team_id,
        "repo": fields.get("repo"),
        "localPath": fields.get("localPath"),
        "accessMode": fields.get("accessMode") or "open",
        "dataClass": fields.get("dataClass") or "standard",
        "maxConcurrentTasks": int(fields.get("maxConcurrentTasks") or 3),
        "githubInstallationId": fields.get("githubInstallationId"),
        "gitConfig": copy.deepcopy(fields.get("gitConfig")),
        "memory": {},
        "createdAt": now,
        "updatedAt": now,
    }


def workspace_view(workspace: Mapping[str, Any]) -> dict[str, Any]:
    return clone(public_workspace(workspace))  # type: ignore[no-any-return]


def public_workspace(workspace: Mapping[str, Any]) -> dict[str, Any]:
    """The workspace without its secret fields, sharing the stored values: copy it before it leaves the lock."""
    return {k: v for k, v in workspace.items() if k not in WORKSPACE_SECRET_FIELDS}


def new_task(*, id: str, workspace_id: str, fields: Mapping[str, Any], now: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": id,
        "workspaceId": workspace_id,
        "title": fields["title"],
        "description": fields.get("description"),
        "context": copy.deepcopy(fields.get("context") or {}),
        "status": "pending",
        "priority": int(fields.get("priority") or 0),
        "mode": fields.get("mode") or "execution",
        "runnerPreference": fields.get("runnerPreference") or "any",
        "requiredCapabilities": list(fields.get("requiredCapabilities") or []),
        "dependsOn": list(fields.get("dependsOn") or []),
        "claimedBy": None,
        "claimedAt": None,
        "expiresAt": None,
        "createdByAccountId": fields.get("createdByAccountId"),
        "createdByWorkerId": fields.get("createdByWorkerId"),
        "parentTaskId": fields.get("parentTaskId"),
        "creationSource": fields.get("creationSource"),
        "category": fields.get("category"),
        "outputRequirement": fields.get("outputRequirement") or "auto",
        "outputSchema": copy.deepcopy(fields.get("outputSchema")),
        "requiresReview": bool(fields.get("requiresReview") or False),
        "backend": fields.get("backend") or "claude",
        "startAt": fields.get("startAt"),
        "result": None,
        "createdAt": now,
        "updatedAt": now,
    }
    for optional in ("project", "roleSlug", "tier", "attachments", "missionId", "release", "assignToLocalUiUrl"):
        if fields.get(optional) is not None:
            record[optional] = copy.deepcopy(fields[optional])
    return record


def task_view(task: Mapping[str, Any], workspace: Mapping[str, Any] | None) -> dict[str, Any]:
    """The full task row plus its `workspace` (GET /tasks/{id}, claims)."""
    # one deep copy of the whole view (a msgspec round trip) instead of one per part
    return clone(  # type: ignore[no-any-return]
        {**task, "workspace": public_workspace(workspace) if workspace is not None else None}
    )


def task_event_view(task: Mapping[str, Any], workspace: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `task` object of task:created / task:assigned (§5)."""
    view: dict[str, Any] = {
        "id": task["id"],
        "title": task["title"],
        "description": task.get("description"),
        "workspaceId": task["workspaceId"],
        "mode": task.get("mode"),
        "priority": task.get("priority", 0),
    }
    if task.get("missionId"):
        view["missionId"] = task["missionId"]
    if workspace is not None:
        view["workspace"] = {"name": workspace["name"], "repo": workspace.get("repo")}
    return view


def new_worker(
    *, id: str, account: Mapping[str, Any], task: Mapping[str, Any], runner: str, branch: str, now: str
) -> dict[str, Any]:
    return {
        "id": id,
        "taskId": task["id"],
        "workspaceId": task["workspaceId"],
        "accountId": account["id"],
        "name": f"{account['name']}-{str(task['id'])[:8]}",
        "runner": runner,
        "branch": branch,
        "status": "idle",
        "progress": 0,
        "error": None,
        "costUsd": None,
        "inputTokens": 0,
        "outputTokens": 0,
        "turns": 0,
        "localUiUrl": None,
        "currentAction": None,
        "milestones": [],
        "waitingFor": None,
        "pendingInstructions": None,
        "instructionHistory": [],
        "lastCommitSha": None,
        "commitCount": 0,
        "filesChanged": 0,
        "linesAdded": 0,
        "linesRemoved": 0,
        "prUrl": None,
        "prNumber": None,
        "exitCause": None,
        "startedAt": None,
        "completedAt": None,
        "createdAt": now,
        "updatedAt": now,
    }


def worker_view(worker: Mapping[str, Any]) -> dict[str, Any]:
    return clone(dict(worker))  # type: ignore[no-any-return]
