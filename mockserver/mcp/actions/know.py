"""The `buildd` tool's GitHub PR actions (`/api/github/pr`) and `manage_watched_projects`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import (
    ActionContext,
    ActionInputError,
    Api,
    Outcome,
    _pick,
    _require,
    _worker_id,
    _workspace_id,
    action,
)

WATCHED_FIELDS = (
    "repo",
    "enabled",
    "vercelProjectId",
    "inFlightWindowMin",
    "prodGraceMin",
    "roleSlug",
    "pushoverApp",
    "releasePrFilter",
    "notes",
)
WATCHED_ACTIONS = ("list", "create", "update", "delete", "run")


def _optional_worker(params: Mapping[str, Any], ctx: ActionContext) -> str | None:
    value = str(params.get("workerId") or "") or ctx.worker_id
    return value or None


# -- pull requests -------------------------------------------------------------------------------------------------


@action(
    "create_pr",
    "worker",
    "Open a PR for the worker's branch. Params: title, head, body?, base?, draft?, prUrl?, workerId?",
)
async def create_pr(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    if not params.get("title") or not params.get("head"):
        raise ActionInputError("title and head branch are required")
    body = {"workerId": worker, **_pick(params, "title", "body", "head", "base", "draft", "prUrl")}
    data = await api("POST", "/api/github/pr", body=body)
    pr = data.get("pr") or {}
    return Outcome(
        f"Pull request created!\n\n**PR #{pr.get('number')}:** {pr.get('title')}\n**URL:** {pr.get('url')}\n"
        f"**State:** {pr.get('state')}",
        data,
    )


@action("close_pr", "worker", "Close a PR without merging. Params: prNumber, workerId?")
async def close_pr(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    _require(params, "prNumber")
    data = await api("PATCH", "/api/github/pr", body={"workerId": worker, "prNumber": params["prNumber"]})
    pr = data.get("pr") or {}
    title = f" — {pr['title']}" if pr.get("title") else ""
    return Outcome(
        f"Pull request #{pr.get('number')} closed{title}\n**URL:** {pr.get('url')}\n**State:** {pr.get('state')}", data
    )


@action("merge_pr", "worker", "Merge a PR. Params: prNumber, mergeMethod? (squash), workerId?, workspaceId?")
async def merge_pr(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "prNumber")
    body: dict[str, Any] = {
        "workerId": _optional_worker(params, ctx),
        "prNumber": params["prNumber"],
        "mergeMethod": params.get("mergeMethod") or "squash",
    }
    if params.get("workspaceId") is not None:
        body["workspaceId"] = params["workspaceId"]
    data = await api("PUT", "/api/github/pr", body=body)
    pr = data.get("pr") or {}
    if not data.get("merged"):
        hint = f"\n\n**Action required:** {data['hint']}" if data.get("hint") else ""
        return Outcome(f"PR #{pr.get('number', params['prNumber'])} merge failed: {data.get('message')}{hint}", data)
    return Outcome(
        f"PR #{pr.get('number')} merged successfully.\n**URL:** {pr.get('url')}\n**Message:** {data.get('message')}",
        data,
    )


@action("get_pr", "worker", "A PR with its CI checks and reviews. Params: prNumber? or workerId?, workspaceId?")
async def get_pr(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _optional_worker(params, ctx)
    if not worker and not params.get("prNumber"):
        raise ActionInputError("workerId or prNumber is required")
    query = {"workerId": worker, "prNumber": params.get("prNumber"), "workspaceId": params.get("workspaceId")}
    data = await api("GET", "/api/github/pr", query={k: str(v) for k, v in query.items() if v})
    pr, checks, reviews = data.get("pr") or {}, data.get("checks") or {}, data.get("reviews") or {}
    ci = (
        "CI: none configured"
        if not checks.get("total")
        else f"CI: {checks.get('state')} ({checks.get('passed')}/{checks.get('total')} passed)"
    )
    lines = [
        f"**PR #{pr.get('number')}: {pr.get('title') or '(no title)'}**",
        f"State: {pr.get('state')} | Mergeable: {'yes' if pr.get('mergeable') else 'no' if pr.get('mergeable') is False else 'unknown'}",
        ci,
        f"Reviews: {reviews.get('approved', 0)} approved" if reviews.get("approved") else "Reviews: none",
        f"URL: {pr.get('url')}",
    ]
    return Outcome("\n".join(lines), data)


# -- watched projects -----------------------------------------------------------------------------------------------


@action(
    "manage_watched_projects",
    "admin",
    "Watched projects. Params: action (list|create|update|delete|run), workspaceId?, projectId?, and the fields "
    "repo, enabled, vercelProjectId, inFlightWindowMin, prodGraceMin, roleSlug, pushoverApp, releasePrFilter, notes",
)
async def manage_watched_projects(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    verb = params.get("action")
    if not verb:
        raise ActionInputError("action is required (list, create, update, delete, run)")
    if verb not in WATCHED_ACTIONS:
        raise ActionInputError(f"Unknown watched_projects action: {verb}. Use one of: {', '.join(WATCHED_ACTIONS)}")
    fields = {f: params[f] for f in WATCHED_FIELDS if f in params}
    if verb in ("list", "create"):
        ws = _workspace_id(params, ctx)
        if not ws:
            raise ActionInputError(f"workspaceId is required for {verb}")
        if verb == "list":
            data = await api("GET", f"/api/workspaces/{ws}/watched-projects")
            rows = data.get("watchedProjects") or []
            if not rows:
                return Outcome("No watched projects in this workspace.", data)
            lines = [
                f"- **{r['repo']}** {'(enabled)' if r.get('enabled') else '(disabled)'}\n  ID: {r['id']}" for r in rows
            ]
            return Outcome(f"{len(rows)} watched project(s):\n\n" + "\n\n".join(lines), data)
        _require(params, "repo")
        data = await api("POST", f"/api/workspaces/{ws}/watched-projects", body=fields)
        row = data.get("watchedProject") or {}
        return Outcome(f"Watched project created: {row.get('repo')} (ID: {row.get('id')})", data)
    if not params.get("projectId"):
        raise ActionInputError(f"projectId is required for {verb}")
    path = f"/api/watched-projects/{params['projectId']}"
    if verb == "update":
        if not fields:
            raise ActionInputError("At least one field to update is required")
        data = await api("PATCH", path, body=fields)
        return Outcome(f"Watched project {params['projectId']} updated.", data)
    if verb == "delete":
        data = await api("DELETE", path)
        return Outcome(f"Watched project {params['projectId']} deleted.", data)
    data = await api("POST", f"{path}/run")
    return Outcome(f"Watcher ran for {params['projectId']}. Fired {data.get('fired', 0)} alert(s).", data)
