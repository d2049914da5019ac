"""Team scope and ownership: what a caller may see (404 outside it) and touch (403 for another account's worker).

- A key acts in its account's team; a session in the user's teams (memberships).
- A workspace is visible to a session in one of its teams; to a key of its team when it is `open`, or
  `restricted` with an accountWorkspaces link. Open workspaces are open within their team, never across teams.
- Tasks, schedules and artifacts are visible with their workspace; accounts with their team. Outside reach they
  are "not found" (404 hides existence).
- Workers: looked up first (404 `Worker not found`); a key must be the worker's account (403 `Forbidden`);
  a session needs the worker's workspace (else 404).
"""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.domain.auth import Principal
from mockserver.domain.errors import Forbidden, NotFound
from mockserver.domain.fields import id_of, text
from mockserver.domain.store import Record, Store

__all__ = (
    "account_for",
    "artifact_for",
    "can_see_workspace",
    "claimable_workspaces",
    "link_of",
    "require_admin_level",
    "require_team_role",
    "schedule_for",
    "task_for",
    "team_role",
    "visible_workspaces",
    "worker_for",
    "workspace_for",
)

ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}


def team_role(store: Store, user_id: str | None, team_id: str) -> str | None:
    if user_id is None:
        return None
    membership = store.get("memberships", f"{team_id}|{user_id}")
    return text(membership, "role") if membership else None


def link_of(store: Store, account_id: str, workspace_id: str) -> Record | None:
    return store.get("accountWorkspaces", f"{account_id}|{workspace_id}")


def can_see_workspace(store: Store, principal: Principal, workspace: Record) -> bool:
    if text(workspace, "teamId") not in principal.team_ids:
        return False
    if not principal.is_key or workspace.get("accessMode", "open") == "open":
        return True
    return link_of(store, str(principal.account_id), id_of(workspace)) is not None


def visible_workspaces(store: Store, principal: Principal, team_id: str | None = None) -> list[Record]:
    teams: Iterable[str] = principal.team_ids if team_id is None else ({team_id} & principal.team_ids)
    found = [ws for team in sorted(teams) for ws in store.find("workspaces", "team", team)]
    return [ws for ws in found if can_see_workspace(store, principal, ws)]


def workspace_for(store: Store, principal: Principal, workspace_id: str | None) -> Record:
    workspace = store.get("workspaces", workspace_id)
    if workspace is None or not can_see_workspace(store, principal, workspace):
        raise NotFound.of("Workspace")
    return workspace


def task_for(store: Store, principal: Principal, task_id: str | None) -> tuple[Record, Record]:
    """The task and its workspace, or 404 `Task not found`."""
    task = store.get("tasks", task_id)
    workspace = store.get("workspaces", task["workspaceId"]) if task else None
    if task is None or workspace is None or not can_see_workspace(store, principal, workspace):
        raise NotFound.of("Task")
    return task, workspace


def account_for(store: Store, principal: Principal, account_id: str | None) -> Record:
    account = store.get("accounts", account_id)
    if account is None or text(account, "teamId") not in principal.team_ids:
        raise NotFound.of("Account")
    return account


def schedule_for(store: Store, principal: Principal, workspace_id: str, schedule_id: str | None) -> Record:
    workspace_for(store, principal, workspace_id)
    schedule = store.get("schedules", schedule_id)
    if schedule is None or schedule["workspaceId"] != workspace_id:
        raise NotFound.of("Schedule")
    return schedule


def artifact_for(store: Store, principal: Principal, artifact_id: str | None) -> Record:
    artifact = store.get("artifacts", artifact_id)
    workspace = store.get("workspaces", artifact.get("workspaceId")) if artifact else None
    if artifact is None or workspace is None or not can_see_workspace(store, principal, workspace):
        raise NotFound.of("Artifact")
    return artifact


def worker_for(store: Store, principal: Principal, worker_id: str | None) -> Record:
    """Lookup first (404), then ownership: another account's key -> 403, a session outside the workspace -> 404."""
    worker = store.get("workers", worker_id)
    if worker is None:
        raise NotFound.of("Worker")
    if principal.is_key:
        if worker.get("accountId") != principal.account_id:
            raise Forbidden()
        return worker
    workspace = store.get("workspaces", worker.get("workspaceId"))
    if workspace is None or not can_see_workspace(store, principal, workspace):
        raise NotFound.of("Worker")
    return worker


def require_admin_level(principal: Principal, message: str | None = None) -> None:
    """Sessions pass; a key must be admin-level, else 403 `message` (the level check of the real routes that take a
    session or an admin key; some answer 401 there, see docs/deviations.md)."""
    if principal.is_key and not principal.is_admin_key:
        raise Forbidden(message)


def require_team_role(store: Store, principal: Principal, team_id: str, minimum: str, *, hide_as: str) -> None:
    """A session user's role in `team_id` must be at least `minimum`, else 404 `<hide_as> not found`."""
    role = team_role(store, principal.user_id, team_id)
    if role is None or ROLE_RANK.get(role, 0) < ROLE_RANK[minimum]:
        raise NotFound.of(hide_as)


def claimable_workspaces(store: Store, account: Record, workspace_id: str | None = None) -> list[Record]:
    """The account's team's open workspaces plus restricted ones linked with canClaim (optionally just one)."""
    if workspace_id is not None:
        workspace = store.get("workspaces", workspace_id)
        candidates: list[Record] = [workspace] if workspace is not None else []
    else:
        candidates = store.find("workspaces", "team", text(account, "teamId"))
    out = []
    for ws in candidates:
        if ws["teamId"] != account["teamId"]:
            continue
        if ws.get("accessMode", "open") == "open":
            out.append(ws)
            continue
        link = link_of(store, id_of(account), id_of(ws))
        if link is not None and link.get("canClaim", True):
            out.append(ws)
    return out
