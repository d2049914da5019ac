"""The operation handlers: one per spec operation, each a plain translation onto one `Buildd` method."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.areas.missions import Missions
from mockserver.domain.areas.missions_initiatives import Initiatives
from mockserver.domain.errors import DomainError
from mockserver.http.routes import Call, load_all
from mockserver.mcp import MCP_OPERATIONS
from tests.mockserver.domain.world import ACCOUNT_IDS, TASK_IDS, WEB, claim

HANDLERS = load_all()


def test_every_api_operation_of_the_spec_has_exactly_one_handler(spec):
    wanted = {op.operation_id for op in spec.api_operations()} - MCP_OPERATIONS  # served by the /api/mcp mount
    assert set(HANDLERS) == wanted


def _calls(worker_id: str, schedule_id: str, artifact_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """operationId -> (who calls, Call fields) for a call that succeeds in the test world."""
    task, acct = TASK_IDS["low"], ACCOUNT_IDS["admin"]
    return {
        "listAccounts": ("ada", {}),
        "createAccount": ("ada", {"body": {"name": "n", "type": "service"}}),
        "getAccount": ("ada", {"path": {"id": acct}}),
        "deleteAccount": ("ada", {"path": {"id": ACCOUNT_IDS["action"]}}),
        "regenerateAccountKey": ("ada", {"path": {"id": acct}}),
        "getMe": ("svc", {}),
        "listWorkspaces": ("ada", {"query": {"teamId": ""}}),
        "createWorkspace": ("ada", {"body": {"name": "w"}}),
        "getWorkspace": ("ada", {"path": {"id": WEB}}),
        "updateWorkspace": ("ada", {"path": {"id": WEB}, "body": {"name": "web2"}}),
        "deleteWorkspace": ("ada", {"path": {"id": WEB}}),
        "listWorkspaceAccounts": ("ada", {"path": {"id": WEB}}),
        "linkWorkspaceAccount": ("ada", {"path": {"id": WEB}, "body": {"accountId": acct}}),
        "unlinkWorkspaceAccount": ("ada", {"path": {"id": WEB}, "query": {"accountId": acct}}),
        "getWorkspaceByRepo": ("svc", {"query": {"repo": "acme/web"}}),
        "listSchedules": ("ada", {"path": {"id": WEB}}),
        "createSchedule": (
            "ada",
            {"path": {"id": WEB}, "body": {"name": "s", "cronExpression": "0 * * * *", "taskTemplate": {"title": "t"}}},
        ),
        "getSchedule": ("ada", {"path": {"id": WEB, "scheduleId": schedule_id}}),
        "updateSchedule": ("ada", {"path": {"id": WEB, "scheduleId": schedule_id}, "body": {"enabled": False}}),
        "deleteSchedule": ("ada", {"path": {"id": WEB, "scheduleId": schedule_id}}),
        "listTasks": ("svc", {"query": {"limit": "5", "offset": "0", "status": "pending"}}),
        "createTask": ("svc", {"body": {"title": "t", "workspaceId": WEB}}),
        "getTask": ("svc", {"path": {"id": task}, "query": {"include": "workers"}}),
        "updateTask": ("svc", {"path": {"id": task}, "body": {"priority": 2}}),
        "deleteTask": ("svc", {"path": {"id": TASK_IDS["docker"]}, "query": {"force": "true"}}),
        "startTask": ("svc", {"path": {"id": TASK_IDS["older-high"]}}),
        "reassignTask": ("ada", {"path": {"id": task}, "query": {"force": "true"}}),
        "listTaskMessages": ("svc", {"path": {"id": task}}),
        "createTaskNote": ("svc", {"path": {"id": task}, "body": {"type": "update", "title": "n"}}),
        "claimTasks": ("svc", {"body": {"runner": "r", "workspaceId": WEB}}),
        "getWorker": ("svc", {"path": {"id": worker_id}}),
        "updateWorker": ("svc", {"path": {"id": worker_id}, "body": {"progress": 5}}),
        "listMyWorkers": ("svc", {"query": {"status": "idle,running"}}),
        "sendHeartbeat": ("svc", {"body": {"localUiUrl": "http://x"}}),
        "listActiveWorkers": ("svc", {}),
        "sendWorkerCommand": ("svc", {"path": {"id": worker_id}, "body": {"action": "pause"}}),
        "instructWorker": ("ada", {"path": {"id": worker_id}, "body": {"message": "m"}}),
        "recordWorkerActivity": ("svc", {"path": {"id": worker_id}, "body": {"toolName": "Edit"}}),
        "listWorkerArtifacts": ("svc", {"path": {"id": worker_id}}),
        "createWorkerArtifact": ("svc", {"path": {"id": worker_id}, "body": {"type": "report", "title": "r"}}),
        "recoverWorker": ("svc", {"path": {"id": worker_id}, "body": {"mode": "diagnose"}}),
        "respondToWorker": ("svc", {"path": {"id": worker_id}, "body": {"message": "m"}}),
        "listArtifacts": ("svc", {"query": {"workspaceId": WEB, "limit": "10"}}),
        "getArtifact": ("svc", {"path": {"artifactId": artifact_id}}),
        "updateArtifact": ("svc", {"path": {"artifactId": artifact_id}, "body": {"title": "r2"}}),
        "createDeviceCode": ("", {"body": None}),
        "exchangeDeviceToken": ("", {"body": {"device_token": "0" * 64}}),
        "approveDevice": ("ada", {"body": {"code": "ABCD-1234"}}),
        "getVersion": ("", {}),
        "matchRepos": ("svc", {"body": {"repos": []}}),
        "cleanupTasks": ("ada", {}),
        "getWorkspaceConfig": ("svc", {"path": {"id": WEB}}),
        "saveWorkspaceConfig": ("svc", {"path": {"id": WEB}, "body": {"requiresPR": True}}),
        "updateReleaseConfig": ("svc", {"path": {"id": WEB}, "body": {"releaseConfig": None}}),
        "listWorkerErrorTraces": ("svc", {"path": {"id": worker_id}}),
        "listTaskErrorTraces": ("svc", {"path": {"id": task}}),
    }


def _mission_calls(mission_id: str, initiative_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The missions area's operations (issue 14), on a mission and an initiative made for the test."""
    mission, initiative = {"path": {"id": mission_id}}, {"path": {"initiativeId": initiative_id}}
    note = {"path": {"id": mission_id, "noteId": initiative_id}, "body": {"title": "t"}}  # no such note: 404
    return {
        "listInitiatives": ("ada", {}),
        "createInitiative": ("ada", {"body": {"title": "i"}}),
        "getInitiativeEffort": ("ada", {"query": {"workspaceId": WEB}}),
        "getInitiative": ("ada", initiative),
        "updateInitiative": ("ada", {**initiative, "body": {"status": "paused"}}),
        "deleteInitiative": ("ada", initiative),
        "listInitiativeArtifacts": ("ada", initiative),
        "createInitiativeArtifact": ("ada", {**initiative, "body": {"type": "report", "title": "r"}}),
        "getInitiativeKpiState": ("ada", initiative),
        "evaluateInitiative": ("ada", initiative),
        "getInitiativeTrackerProgress": ("ada", initiative),
        "listMissions": ("ada", {"query": {"workspaceId": WEB}}),
        "createMission": ("ada", {"body": {"title": "m"}}),
        "getMissionCapabilities": ("", {}),
        "getMission": ("ada", mission),
        "updateMission": ("ada", {**mission, "body": {"priority": 3}}),
        "deleteMission": ("ada", mission),
        "listMissionArtifacts": ("ada", mission),
        "createMissionArtifact": ("ada", {**mission, "body": {"type": "report", "title": "r"}}),
        "getMissionCriteriaState": ("ada", mission),
        "evaluateMission": ("ada", mission),
        "linkMissionTracker": ("ada", {**mission, "body": {"url": "https://linear.app/a/issue/A-1"}}),
        "listMissionNotes": ("ada", {**mission, "query": {"limit": "5"}}),
        "createMissionNote": ("ada", {**mission, "body": {"type": "update", "title": "n"}}),
        "replyToMissionNote": ("ada", note),
        "reconcileMission": ("ada", {**mission, "query": {"dryRun": "true"}}),
        "runMission": ("ada", mission),
        "getMissionTrackerProgress": ("ada", mission),
    }


EXPECTED_STATUS = {
    "createInitiative": 201,
    "createMission": 201,
    "createMissionNote": 201,
    "runMission": 201,
    "linkMissionTracker": 400,  # the test workspace has no Linear tracker
    "replyToMissionNote": 404,
    "createSchedule": 201,
    "createTaskNote": 201,
    "exchangeDeviceToken": 400,
    "approveDevice": 400,
    "respondToWorker": 400,
}


@pytest.mark.parametrize("operation_id", sorted(HANDLERS))
def test_handler_translates_its_call_into_one_service_call(api, key, user, operation_id):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    schedule = api.create_schedule(
        user("ada"), WEB, {"name": "s", "cronExpression": "0 * * * *", "taskTemplate": {"title": "t"}}
    )["schedule"]
    artifact = api.create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "r"})["artifact"]
    mission = api.area(Missions).create_mission(user("ada"), {"title": "m", "workspaceId": WEB, "isHeartbeat": False})
    initiative = api.area(Initiatives).create_initiative(user("ada"), {"title": "i"})
    calls = {**_calls(worker["id"], schedule["id"], artifact["id"]), **_mission_calls(mission["id"], initiative["id"])}
    who, fields = calls[operation_id]
    principal = None if not who else key(who) if who in ACCOUNT_IDS else user(who)
    call = Call(
        operation_id=operation_id,
        api=api,
        principal=principal,
        path=fields.get("path", {}),
        query={k: v for k, v in fields.get("query", {}).items() if v},
        body=fields.get("body"),
    )
    try:
        reply = HANDLERS[operation_id](call)
    except DomainError as exc:
        status = exc.status
    else:
        status = reply[0] if isinstance(reply, tuple) else 200
    assert status == EXPECTED_STATUS.get(operation_id, 200)
