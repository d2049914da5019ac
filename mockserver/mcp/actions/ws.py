"""Actions of the `buildd` tool over the workspace extras: skills, workspace artifacts, schedule suggestions and
bulk pause (manage_workspaces, whose create_repo this area serves, needs
routes of other areas for its other sub-actions). Params and texts follow packages/core/mcp-tools.ts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.resources import properties_of
from contracts.spec import load_spec
from mockserver.mcp.actions import (
    ActionContext,
    ActionInputError,
    Api,
    ApiError,
    Outcome,
    _pick,
    _require,
    _workspace_id,
    action,
)

__all__ = ()

# a skill's fields as the tool forwards them (mcp-tools.ts): the spec's SkillFields less the two it never sends;
# register_skill sets name, content and source itself and leaves enabled, repoUrl and defaultBackend to updates
_SKILL_BODY_FIELDS = tuple(
    f
    for f in properties_of(load_spec(), {"$ref": "#/components/schemas/SkillFields"})
    if f not in ("metadata", "accountId")
)
_SKILL_FIELDS = tuple(
    f for f in _SKILL_BODY_FIELDS if f not in ("name", "content", "source", "enabled", "repoUrl", "defaultBackend")
)


def _workspace(params: Mapping[str, Any], ctx: ActionContext) -> str:
    ws = _workspace_id(params, ctx)
    if not ws:
        raise ActionInputError("Could not determine workspace. Provide workspaceId.")
    return ws


async def _skill_id(api: Api, ws: str, slug: str) -> str:
    """The real tool resolves a skill's id from its slug through the list."""
    skills = (await api("GET", f"/api/workspaces/{ws}/skills")).get("skills") or []
    match = next((s for s in skills if s.get("slug") == slug), None)
    if match is None:
        raise ActionInputError(f'Skill with slug "{slug}" not found in workspace')
    return str(match["id"])


def _skill_body(params: Mapping[str, Any]) -> dict[str, Any]:
    body = _pick(params, *(f for f in _SKILL_BODY_FIELDS if f != "defaultBackend"))
    if params.get("defaultBackend") in ("claude", "codex") or (
        "defaultBackend" in params and not params["defaultBackend"]
    ):
        body["defaultBackend"] = params.get("defaultBackend") or None
    return body


def _skill_line(skill: Mapping[str, Any]) -> str:
    tags = ", ".join(
        t for t in ("role" if skill.get("isRole") else "skill", "" if skill.get("enabled") else "DISABLED") if t
    )
    return f"- **{skill.get('name')}** (`{skill.get('slug')}`) [{tags}]"


# -- skills (admin) ----------------------------------------------------------------------------------------------


@action(
    "register_skill",
    "admin",
    "Create or replace (same slug) a workspace skill. Params: name, content, description?, source?, slug?, "
    "workspaceId?, model?, allowedTools?, canDelegateTo?, background?, maxTurns?, color?, mcpServers?, "
    "requiredEnvVars?, connectorRefs?, isRole?",
)
async def register_skill(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    if not params.get("name") or not params.get("content"):
        raise ActionInputError("name and content are required")
    ws = _workspace(params, ctx)
    body: dict[str, Any] = {
        "name": params["name"],
        "content": params["content"],
        "source": params.get("source") or "mcp",
    }
    body.update(_pick(params, "description", "slug", *_SKILL_FIELDS))
    data = await api("POST", f"/api/workspaces/{ws}/skills", body=body)
    skill = data.get("skill") or {}
    text = f'Skill registered: "{skill.get("name")}" (slug: {skill.get("slug")})\nOrigin: {skill.get("origin")}'
    return Outcome(f"{text}\nEnabled: {skill.get('enabled')}", data)


@action("list_skills", "admin", "List a workspace's skills and roles. Params: workspaceId?, enabled?, isRole?")
async def list_skills(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    query = {k: str(params[k]).lower() for k in ("enabled", "isRole") if isinstance(params.get(k), bool)}
    ws = _workspace_id(params, ctx)
    workspaces = [ws] if ws else [w["id"] for w in (await api("GET", "/api/workspaces")).get("workspaces") or []]
    skills: list[Any] = []
    for wid in workspaces:
        skills += (await api("GET", f"/api/workspaces/{wid}/skills", query=query or None)).get("skills") or []
    if not skills:
        return Outcome("No skills found.", {"skills": skills})
    return Outcome(f"{len(skills)} skill(s):\n\n" + "\n".join(map(_skill_line, skills)), {"skills": skills})


@action("get_skill", "admin", "A skill's full body and config. Params: slug, workspaceId?")
async def get_skill(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "slug")
    ws = _workspace(params, ctx)
    data = await api("GET", f"/api/workspaces/{ws}/skills/{await _skill_id(api, ws, str(params['slug']))}")
    skill = data.get("skill") or {}
    return Outcome(f"**{skill.get('name')}** (`{skill.get('slug')}`)\n\n{skill.get('content')}", data)


@action("update_skill", "admin", "Update a skill by slug. Params: slug, workspaceId?, and the fields to change")
async def update_skill(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "slug")
    ws = _workspace(params, ctx)
    body = _skill_body(params)
    if not body:
        raise ActionInputError("No fields to update. Provide at least one field (name, content, mcpServers, etc.)")
    skill_id = await _skill_id(api, ws, str(params["slug"]))
    data = await api("PATCH", f"/api/workspaces/{ws}/skills/{skill_id}", body=body)
    skill = data.get("skill") or {}
    return Outcome(
        f'Skill updated: "{skill.get("name")}" (slug: {skill.get("slug")})\nEnabled: {skill.get("enabled")}', data
    )


@action("delete_skill", "admin", "Delete a skill by slug. Params: slug, workspaceId?")
async def delete_skill(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "slug")
    ws = _workspace(params, ctx)
    data = await api("DELETE", f"/api/workspaces/{ws}/skills/{await _skill_id(api, ws, str(params['slug']))}")
    return Outcome(f'Skill "{params["slug"]}" deleted successfully.', data)


# -- artifacts of a workspace (trigger) ----------------------------------------------------------------------------


@action("list_artifacts", "trigger", "List workspace artifacts. Params: workspaceId?, missionId?, key?, type?, limit?")
async def list_artifacts(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    query = {k: str(v) for k, v in _pick(params, "missionId", "key", "type", "limit").items()}
    ws = _workspace_id(params, ctx)
    workspaces = [ws] if ws else [w["id"] for w in (await api("GET", "/api/workspaces")).get("workspaces") or []]
    found: list[Any] = []
    for wid in workspaces:
        found += (await api("GET", f"/api/workspaces/{wid}/artifacts", query=query or None)).get("artifacts") or []
    if not found:
        return Outcome(
            "No artifacts found" + (f' with key "{params["key"]}"' if params.get("key") else "") + ".", found
        )
    lines = [f"- **{a.get('title')}** ({a.get('type')})\n  ID: {a.get('id')}" for a in found]
    return Outcome(f"{len(found)} artifact(s):\n\n" + "\n\n".join(lines), {"artifacts": found})


# -- schedules ---------------------------------------------------------------------------------------------------


@action(
    "suggest_schedule_update",
    "worker",
    "Propose a schedule change for human approval. Params: reason, cronExpression?, enabled?, scheduleId?, "
    "workspaceId?, workerId?",
)
async def suggest_schedule_update(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "reason")
    if params.get("cronExpression") is None and params.get("enabled") is None:
        raise ActionInputError("At least one of cronExpression or enabled must be provided")
    schedule_id, ws = params.get("scheduleId"), _workspace_id(params, ctx)
    worker_id = params.get("workerId") or ctx.worker_id
    worker: dict[str, Any] = {}
    if worker_id:
        worker = await api("GET", f"/api/workers/{worker_id}")
        context = (worker.get("task") or {}).get("context") or {}
        schedule_id = schedule_id or context.get("scheduleId")
        ws = ws or worker.get("workspaceId")
    if not schedule_id:
        raise ActionInputError("scheduleId is required — pass it explicitly or run from a scheduled task")
    if not ws:
        raise ActionInputError("Could not determine workspace.")
    body = {"reason": params["reason"], **_pick(params, "cronExpression", "enabled")}
    if worker_id:
        body["workerId"] = str(worker_id)
        if worker.get("taskId"):
            body["taskId"] = worker["taskId"]
    data = await api("POST", f"/api/workspaces/{ws}/schedules/{schedule_id}/suggestion", body=body)
    return Outcome(f"Schedule suggestion created for schedule {schedule_id}. It is pending human approval.", data)


@action(
    "pause_schedules",
    "admin",
    "Pause (or resume with enabled=true) schedules. Params: workspaceId?, scheduleIds?, namePattern?, enabled?",
)
async def pause_schedules(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _workspace(params, ctx)
    wanted = params.get("enabled") is True
    everything = (await api("GET", f"/api/workspaces/{ws}/schedules")).get("schedules") or []
    ids, pattern = params.get("scheduleIds"), str(params.get("namePattern") or "").lower()
    if isinstance(ids, list):
        targets = [s for s in everything if s["id"] in ids]
        missing = [i for i in ids if i not in {s["id"] for s in targets}]
        if missing:
            raise ActionInputError(f"Schedule(s) not found in this workspace: {', '.join(map(str, missing))}")
    else:
        targets = [s for s in everything if pattern in str(s.get("name", "")).lower()]
    flip = [s for s in targets if s.get("enabled") is not wanted]
    done, failed = [], []
    for schedule in flip:
        try:
            await api("PATCH", f"/api/workspaces/{ws}/schedules/{schedule['id']}", body={"enabled": wanted})
            done.append(schedule)
        except ApiError as exc:
            failed.append((schedule, exc))
    verb = "Resumed" if wanted else "Paused"
    text = f"{verb} {len(done)}/{len(flip)} schedule(s) of {len(targets)} matched."
    if failed:
        raise ApiError(failed[0][1].status, {"error": text, "failed": [s["id"] for s, _ in failed]})
    return Outcome(text, {"changed": [s["id"] for s in done]})
