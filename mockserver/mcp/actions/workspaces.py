"""`manage_workspaces` (admin): list, get, create, update, create_repo and init over the workspace routes.

Params and texts follow packages/core/mcp-tools.ts. The real tool also moves the calling mission to a new
workspace (`missionId`); here that happens only when `missionId` is passed explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, Outcome, _pick, _workspace_id, action

__all__ = ()

WORKSPACE_ACTIONS = ("list", "get", "create", "update", "create_repo", "init")
_GIT_SHORTCUTS = ("autoMergePR", "autoMergeMaxLines", "autoMergeDenyPaths")


def _needs_workspace(params: Mapping[str, Any], ctx: ActionContext, verb: str) -> str:
    ws = _workspace_id(params, ctx)
    if not ws:
        raise ActionInputError(f"workspaceId is required for {verb}")
    return ws


async def _move_mission(api: Api, params: Mapping[str, Any], workspace_id: str) -> str:
    """The line the real tool appends when it moved the mission (never fails the action, as there)."""
    mission = params.get("missionId")
    if not mission:
        return ""
    try:
        await api("PATCH", f"/api/missions/{mission}", body={"workspaceId": workspace_id})
    except Exception:  # the real tool ignores a failed move too
        return ""
    return f"\nMission {mission} migrated to this workspace."


async def _list(api: Api) -> Outcome:
    data = await api("GET", "/api/workspaces")
    rows = data.get("workspaces") or []
    if not rows:
        return Outcome("No workspaces found.", data)
    lines = [
        f"- **{w.get('name')}**"
        + (f" ({w['repo']})" if w.get("repo") else " (no repo)")
        + f"\n  ID: {w.get('id')}"
        + (f" | Access: {w['accessMode']}" if w.get("accessMode") else "")
        for w in rows
    ]
    return Outcome(f"{len(rows)} workspace(s):\n\n" + "\n\n".join(lines), data)


async def _create(api: Api, params: Mapping[str, Any]) -> Outcome:
    if not params.get("name") and not params.get("repoUrl"):
        raise ActionInputError("name or repoUrl is required")
    data = await api("POST", "/api/workspaces", body=_pick(params, "name", "repoUrl", "defaultBranch", "accessMode"))
    ws = data.get("workspace", data) if isinstance(data, dict) else {}
    repo = f"\nRepo: {ws['repo']}" if ws.get("repo") else ""
    moved = await _move_mission(api, params, str(ws.get("id")))
    return Outcome(f'Workspace created: "{ws.get("name")}" (ID: {ws.get("id")}){repo}{moved}', data)


async def _update(api: Api, params: Mapping[str, Any], ws: str) -> Outcome:
    body = _pick(params, "name", "repoUrl", "defaultBranch", "accessMode", "maxConcurrentTasks")
    git = dict(params["gitConfig"]) if isinstance(params.get("gitConfig"), dict) else {}
    git.update(_pick(params, *_GIT_SHORTCUTS))
    if git:
        body["gitConfig"] = git
    if params.get("releaseConfig") is not None:  # the release config lives on the config route
        await api("POST", f"/api/workspaces/{ws}/config", body={"releaseConfig": params["releaseConfig"]})
    data = await api("PATCH", f"/api/workspaces/{ws}", body=body) if body else {"workspaceId": ws}
    notes = [
        f" Repo set to: {body['repoUrl']}" if body.get("repoUrl") else "",
        f" Name set to: {body['name']}" if body.get("name") else "",
        " Release config updated." if params.get("releaseConfig") is not None else "",
        f" gitConfig merged: {json.dumps(git, separators=(',', ':'))}." if git else "",
        f" Concurrency cap set to {body['maxConcurrentTasks']}." if "maxConcurrentTasks" in body else "",
    ]
    return Outcome(f"Workspace {ws} updated." + "".join(notes), data)


async def _create_repo(api: Api, params: Mapping[str, Any], ws: str) -> Outcome:
    if not params.get("name"):
        raise ActionInputError("name (repo name) is required for create_repo")
    body: dict[str, Any] = {"name": params["name"], "private": params.get("private") is not False}
    body.update(_pick(params, "org", "description"))
    data = await api("POST", f"/api/workspaces/{ws}/create-repo", body=body)
    moved = await _move_mission(api, params, ws)
    return Outcome(f"Repository created: {data.get('repoUrl')}\nWorkspace updated with new repo URL.{moved}", data)


@action(
    "manage_workspaces",
    "admin",
    "Workspaces. Params: action (list|get|create|update|create_repo|init), workspaceId?, name?, repoUrl?, "
    "defaultBranch?, accessMode?, releaseConfig?, maxConcurrentTasks?, gitConfig?, autoMergePR?, org?, private?, "
    "description?, missionId?",
)
async def manage_workspaces(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    verb = params.get("action")
    if not verb:
        raise ActionInputError("action is required (list, get, create, update, create_repo, init)")
    if verb not in WORKSPACE_ACTIONS:
        raise ActionInputError(f"Unknown workspaces action: {verb}. Use one of: {', '.join(WORKSPACE_ACTIONS)}")
    if verb == "list":
        return await _list(api)
    if verb == "create":
        return await _create(api, params)
    ws = _needs_workspace(params, ctx, str(verb))
    if verb == "get":
        config = await api("GET", f"/api/workspaces/{ws}/config")
        return Outcome(f"Workspace {ws} config:\n{json.dumps(config, indent=2)}", config)
    if verb == "update":
        return await _update(api, params, ws)
    if verb == "create_repo":
        return await _create_repo(api, params, ws)
    return Outcome(  # init: the runner creates the directory; nothing to call
        f"Workspace {ws} directory will be auto-created by the runner when a task is claimed. To set up the "
        "project:\n1. The runner creates the directory automatically\n2. Run `git init` in the workspace directory"
        "\n3. Use manage_workspaces action=create_repo or action=update to link a remote repo",
        {"workspaceId": ws},
    )
