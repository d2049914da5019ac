"""The `buildd` tool's mission actions: `manage_missions`, `manage_initiatives` (each with its own `action` param,
as in the real tool) and `link_tracker`. Every sub-action is one or two REST calls of the mock's own API."""

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
    _workspace_id,
    action,
)

__all__ = ()

_MISSION_FIELDS = (
    "title",
    "description",
    "cronExpression",
    "priority",
    "initiativeId",
    "skillSlugs",
    "model",
    "status",
    "isHeartbeat",
    "heartbeatChecklist",
    "activeHoursStart",
    "activeHoursEnd",
    "activeHoursTimezone",
    "maxConcurrentTasks",
    "dependsOnMission",
    "gateCondition",
    "orchestrationMode",
    "costBudgetUsd",
    "pacingMode",
    "pacingMaxPerHour",
    "startAt",
    "startIn",
    "startAfter",
    "startMode",
    "goalCriteria",
    "autoVerify",
)
_INITIATIVE_FIELDS = ("title", "description", "status", "priority", "kpis", "autoVerify")
_MISSION_ACTIONS = "list, create, get, update, arm, delete, link_task, unlink_task, evaluate, get_criteria_state"
_INITIATIVE_ACTIONS = "list, create, get, update, delete, link_mission, unlink_mission, evaluate, get_kpi_state"


def _sub_action(params: Mapping[str, Any], known: str) -> str:
    sub = params.get("action")
    if not sub:
        raise ActionInputError(f"action is required ({known})")
    return str(sub)


def _query(params: Mapping[str, Any], ctx: ActionContext) -> dict[str, str]:
    query = {"status": str(params["status"])} if params.get("status") else {}
    ws = _workspace_id(params, ctx)
    return {**query, "workspaceId": ws} if ws else query


def _criteria_lines(state: Mapping[str, Any] | None) -> str:
    return "\n".join(
        f"  • [{c.get('verdict')}] {c.get('label') or c.get('type')}: {c.get('evidence', '')}"
        for c in (state or {}).get("criteria") or []
    )


@action(
    "manage_missions",
    "admin",
    f"Missions. Params: action ({_MISSION_ACTIONS}), missionId?, taskId?, title?, workspaceId?, and mission fields",
)
async def manage_missions(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    sub = _sub_action(params, _MISSION_ACTIONS)
    mid = params.get("missionId")
    if sub == "list":
        data = await api("GET", "/api/missions", query=_query(params, ctx))
        missions = data.get("missions") or []
        lines = [
            f"- **{m['title']}** [{m['status']}] — {m['progress']}% ({m['completedTasks']}/{m['totalTasks']} tasks)"
            f"\n  ID: {m['id']}"
            for m in missions
        ]
        return Outcome(f"{len(missions)} mission(s):\n\n" + "\n\n".join(lines) if lines else "No missions found.", data)
    if sub == "create":
        _require(params, "title")
        body = _pick(params, *_MISSION_FIELDS)
        ws = params.get("workspaceId")  # an explicit workspace only: the connection's is not implied
        if ws:
            body["workspaceId"] = ws
        data = await api("POST", "/api/missions", body=body)
        organizer = f"\nOrganizer task: {data['organizerTask']['id']}" if data.get("organizerTask") else ""
        text = f'Mission created: "{data["title"]}" (ID: {data["id"]})\nStatus: {data["status"]}{organizer}'
        return Outcome(text, data)
    if sub in ("link_task", "unlink_task"):
        _require(params, *(("missionId", "taskId") if sub == "link_task" else ("taskId",)))
        link = mid if sub == "link_task" else None
        data = await api("PATCH", f"/api/tasks/{params['taskId']}", body={"missionId": link})
        text = f"Task {params['taskId']} linked to mission {mid}" if link else f"Task {params['taskId']} unlinked"
        return Outcome(text, data)
    if sub not in ("get", "update", "arm", "delete", "evaluate", "get_criteria_state"):
        raise ActionInputError(f"Unknown missions action: {sub}. Use one of: {_MISSION_ACTIONS}")
    _require(params, "missionId")
    path = f"/api/missions/{mid}"
    if sub == "get":
        data = await api("GET", path)
        tasks = "\n".join(f"  - [{t['status']}] {t['title']} ({t['id']})" for t in data.get("tasks") or [])
        text = f"**{data['title']}** [{data['status']}]\nID: {data['id']}\nProgress: {data['progress']}%"
        return Outcome(text + (f"\nLinked tasks:\n{tasks}" if tasks else "\nNo linked tasks."), data)
    if sub in ("update", "arm"):
        body = {"arm": True} if sub == "arm" else _pick(params, *_MISSION_FIELDS, "workspaceId")
        if not body:
            raise ActionInputError("At least one field to update is required")
        data = await api("PATCH", path, body=body)
        return Outcome(f'Mission {"armed" if sub == "arm" else "updated"}: "{data["title"]}" [{data["status"]}]', data)
    if sub == "delete":
        data = await api("DELETE", path)
        return Outcome(f"Mission deleted: {mid}", data)
    if sub == "evaluate":
        data = await api("POST", f"{path}/evaluate")
        if data.get("message"):
            return Outcome(str(data["message"]), data)
        state = data.get("goalCriteriaState") or {}
        return Outcome(f"Goal criteria evaluated — Overall: **{state.get('overall')}**\n{_criteria_lines(state)}", data)
    data = await api("GET", f"{path}/evaluate")
    state = data.get("goalCriteriaState")
    if not state:
        return Outcome("No criteria evaluation on record for this mission.", data)
    return Outcome(
        f"Last evaluation: {state['evaluatedAt']}\nOverall: **{state['overall']}**\n{_criteria_lines(state)}", data
    )


@action(
    "manage_initiatives",
    "admin",
    f"Initiatives. Params: action ({_INITIATIVE_ACTIONS}), initiativeId?, missionId?, title?, workspaceId?, kpis?",
)
async def manage_initiatives(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    sub = _sub_action(params, _INITIATIVE_ACTIONS)
    iid = params.get("initiativeId")
    if sub == "list":
        data = await api("GET", "/api/initiatives", query=_query(params, ctx))
        items = data.get("initiatives") or []
        lines = [f"- **{i['title']}** [{i['status']}] — {i['progress']['progress']}%\n  ID: {i['id']}" for i in items]
        return Outcome(
            f"{len(items)} initiative(s):\n\n" + "\n\n".join(lines) if lines else "No initiatives found.", data
        )
    if sub == "create":
        _require(params, "title")
        body = _pick(params, *_INITIATIVE_FIELDS, "workspaceId")
        data = await api("POST", "/api/initiatives", body=body)
        return Outcome(f'Initiative created: "{data["title"]}" (ID: {data["id"]})\nStatus: {data["status"]}', data)
    if sub in ("link_mission", "unlink_mission"):
        _require(params, *(("initiativeId", "missionId") if sub == "link_mission" else ("missionId",)))
        link = iid if sub == "link_mission" else None
        data = await api("PATCH", f"/api/missions/{params['missionId']}", body={"initiativeId": link})
        verb = f"linked to initiative {iid}" if link else "unlinked from its initiative"
        return Outcome(f"Mission {params['missionId']} {verb}", data)
    if sub not in ("get", "update", "delete", "evaluate", "get_kpi_state"):
        raise ActionInputError(f"Unknown initiatives action: {sub}. Use one of: {_INITIATIVE_ACTIONS}")
    _require(params, "initiativeId")
    path = f"/api/initiatives/{iid}"
    if sub == "get":
        data = await api("GET", path)
        rollup = data["progress"]
        missions = "\n".join(f"    - [{m['status']}] {m['title']} ({m['id']})" for m in data.get("missions") or [])
        text = (
            f"**{data['title']}** [{data['status']}]\nID: {data['id']}\nRollup: {rollup['progress']}% — "
            f"{rollup['completedMissions']}/{rollup['totalMissions']} missions"
        )
        return Outcome(text + (f"\nMissions:\n{missions}" if missions else "\nNo missions yet."), data)
    if sub == "update":
        body = _pick(params, *_INITIATIVE_FIELDS, "workspaceId")
        if not body:
            raise ActionInputError("At least one field to update is required")
        data = await api("PATCH", path, body=body)
        return Outcome(f'Initiative updated: "{data["title"]}" [{data["status"]}] (ID: {data["id"]})', data)
    if sub == "delete":
        data = await api("DELETE", path)
        return Outcome(f"Initiative deleted: {iid} (child missions were unlinked, not deleted)", data)
    if sub == "evaluate":
        data = await api("POST", f"{path}/evaluate")
        if data.get("message"):
            return Outcome(str(data["message"]), data)
        return Outcome(f"KPIs evaluated — Overall: **{data['kpiState']['overall']}**", data)
    data = await api("GET", f"{path}/evaluate")
    if not data.get("kpiState"):
        return Outcome("No KPI evaluation on record for this initiative.", data)
    return Outcome(
        f"Last KPI evaluation: {data['kpiState']['evaluatedAt']}\nOverall: **{data['kpiState']['overall']}**", data
    )


@action("link_tracker", "admin", "Link a mission to a Linear project or issue. Params: entityId, url, entityType?")
async def link_tracker(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    entity_type = params.get("entityType") or "mission"
    _require(params, "entityId", "url")
    if entity_type != "mission":
        raise ActionInputError(f'Unsupported entityType: {entity_type}. Phase 1 supports "mission" only.')
    data = await api("POST", f"/api/missions/{params['entityId']}/link", body={"url": params["url"]})
    text = f"Linked mission {params['entityId']} to {data.get('provider')} {data.get('externalId')}"
    return Outcome(f"{text}\nURL: {data.get('externalUrl')}", data)
