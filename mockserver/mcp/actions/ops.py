"""`buildd` actions of area `ops`: the plan flow, file uploads, error traces, the budget forecast and releases."""

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

__all__ = ()

TRACE_LIMIT_DEFAULT = 50


def _source(trace: Mapping[str, Any]) -> str:
    return f" [{trace['source']}]" if trace.get("source") else ""


@action("approve_plan", "admin", "Approve a completed planning task's plan (creates its child tasks). Params: taskId")
async def approve_plan(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "taskId")
    data = await api("POST", f"/api/tasks/{params['taskId']}/approve-plan")
    ids = data.get("tasks") or []
    return Outcome(f"Plan approved! Created {len(ids)} child task(s):\n" + "\n".join(f"- {i}" for i in ids), data)


@action(
    "reject_plan",
    "admin",
    "Reject a planning task's plan with feedback (a revised planning task). Params: taskId, feedback",
)
async def reject_plan(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "taskId", "feedback")
    data = await api("POST", f"/api/tasks/{params['taskId']}/reject-plan", body={"feedback": params["feedback"]})
    return Outcome(f"Plan rejected. Revised planning task created: {data.get('taskId')}", data)


@action(
    "upload_artifact",
    "worker",
    "Get an upload URL for a file artifact. Params: filename, mimeType, sizeBytes, title?, type?, metadata?, workerId?",
)
async def upload_artifact(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker_id = _worker_id(params, ctx)
    if not (params.get("filename") and params.get("mimeType") and params.get("sizeBytes")):
        raise ActionInputError("filename, mimeType, and sizeBytes are required")
    body = {"workerId": worker_id, **_pick(params, "filename", "mimeType", "sizeBytes", "title", "type")}
    if isinstance(params.get("metadata"), Mapping):
        body["metadata"] = params["metadata"]
    data = await api("POST", "/api/artifacts/upload-url", body=body)
    lines = [
        "Upload URL ready (expires in 10 minutes).",
        "",
        "Upload the file:",
        f'curl -X PUT -H "Content-Type: {params["mimeType"]}" --data-binary @./{params["filename"]} "{data["uploadUrl"]}"',
        "",
        "Download URL (permanent, for markdown embedding):",
        data["downloadUrl"],
        "",
        f"Share URL: {data['shareUrl']}",
        f"Artifact ID: {data['artifactId']}",
    ]
    if str(params["mimeType"]).startswith("image/"):
        lines += ["", f"Markdown image: ![{params.get('title') or params['filename']}]({data['downloadUrl']})"]
    return Outcome("\n".join(lines), data)


@action("get_error_traces", "worker", "Error traces of a worker or a task. Params: workerId?, taskId?, limit?, since?")
async def get_error_traces(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    limit = params.get("limit")
    query = {"limit": str(min(max(limit, 1), 500) if isinstance(limit, int) else TRACE_LIMIT_DEFAULT)}
    if isinstance(params.get("since"), str):
        query["since"] = params["since"]
    if isinstance(params.get("workerId"), str):
        path, scope = f"/api/workers/{params['workerId']}/error-traces", f"worker {params['workerId']}"
    elif isinstance(params.get("taskId"), str):
        path, scope = f"/api/tasks/{params['taskId']}/error-traces", f"task {params['taskId']}"
    elif ctx.worker_id:
        task_id = (await api("GET", f"/api/workers/{ctx.worker_id}")).get("taskId")
        if not task_id:
            raise ActionInputError("Could not determine taskId from context. Pass workerId or taskId explicitly.")
        path, scope = f"/api/tasks/{task_id}/error-traces", f"task {task_id} (current)"
    else:
        raise ActionInputError("No workerId, taskId, or worker context provided.")
    data = await api("GET", path, query=query)
    traces = data.get("traces") or []
    if not traces:
        return Outcome(f"No error traces for {scope}.", data)
    lines = [f"- **{t.get('pattern')}**{_source(t)} at {t.get('ts')}\n  {t.get('excerpt')}" for t in traces]
    return Outcome(f"{len(traces)} error trace(s) for {scope}:\n\n" + "\n".join(lines), data)


@action("get_budget_forecast", "worker", "The team's budget forecast. Params: workspaceId?")
async def get_budget_forecast(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = params.get("workspaceId")
    data = await api("GET", "/api/health/budget", query={"workspaceId": str(ws)} if ws else None)
    forecast = data.get("forecast") or {}
    lines = [
        f"Claude session ({s['accountName']}): learning — {s['episodes']} episode(s) recorded, need 3+ for estimates"
        if s.get("state") == "learning"
        else f"Claude session ({s['accountName']}): {s['pressurePct']}% used · confidence: {s.get('confidence') or 'low'}"
        for s in forecast.get("oauthSessions") or []
    ]
    if monthly := forecast.get("monthly"):
        lines.append(
            f"Monthly budget: ${monthly['spentUsd']:.2f} / ${monthly['budgetUsd']:.0f} ({monthly['pctUsed']}%)"
            f" · confidence: {monthly['confidence']}"
        )
    return Outcome("\n".join(lines) or "No budget pressure data yet.", data)


def _release_target(params: Mapping[str, Any], ctx: ActionContext) -> dict[str, str]:
    ws = _workspace_id(params, ctx)
    if not ws and not params.get("repo"):
        raise ActionInputError("workspaceId or repo is required (owner/name)")
    target = {"workspaceId": ws} if ws else {}
    return {**target, **({"repo": str(params["repo"])} if params.get("repo") else {})}


@action(
    "trigger_release",
    "admin",
    "Dispatch the workspace's release workflow. Params: workspaceId? or repo?, ref?, workflowFile?, inputs?, force?",
)
async def trigger_release(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    body: dict[str, Any] = {**_release_target(params, ctx), **_pick(params, "ref", "workflowFile", "inputs", "force")}
    data = await api("POST", "/api/releases/trigger", body=body)
    run = (
        f"\nRun: {data['runUrl']} (status: {data.get('runStatus') or 'unknown'})"
        if data.get("runUrl")
        else f"\nFollow: {data.get('runsUrl')}"
    )
    return Outcome(
        f"Release dispatched on {data['repo']} ({data['workflowFile']}, ref={data['ref']}).{run}\n"
        "Note: this opens the release PR — it does not deploy. Prod ships when that PR passes CI and merges.",
        data,
    )


@action("release_status", "admin", "What a release would ship now. Params: workspaceId? or repo?, ref?, prodBranch?")
async def release_status(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    query = {**_release_target(params, ctx), **{k: str(v) for k, v in _pick(params, "ref", "prodBranch").items()}}
    data = await api("GET", "/api/releases/status", query=query)
    commits = "\n".join(f"  - {c['sha']} {c['message']}" for c in (data.get("shippableCommits") or [])[:15])
    return Outcome(
        f"Release preflight for {data['repo']} ({data['ref']} → {data['prodBranch']}):\n"
        f"Strategy: {data.get('strategy') or 'unconfigured'} | CI on {data['ref']}: {data.get('ciState')} | "
        f"{data['aheadBy']} commit(s) ahead" + (f"\nWould ship:\n{commits}" if commits else "\nNothing to ship."),
        data,
    )
