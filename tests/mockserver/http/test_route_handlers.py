"""The operation handlers: one per spec operation, each a plain translation onto one `Buildd` method."""

from __future__ import annotations

from typing import Any

import pytest

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
        # area ops
        "bulkTasks": ("ada", {"body": {"action": "cancel", "dryRun": True}}),
        "listWaitingInputTasks": ("ada", {}),
        "approvePlan": ("ada", {"path": {"id": task}}),
        "rejectPlan": ("ada", {"path": {"id": task}, "body": {"feedback": "f"}}),
        "getTaskSummary": ("ada", {"path": {"id": task}}),
        "listTaskWorkers": ("ada", {"path": {"id": task}}),
        "interruptWorker": ("ada", {"path": {"id": worker_id}, "body": {}}),
        "listWorkerSessions": ("svc", {"path": {"id": worker_id}}),
        "createArtifactUploadUrl": (
            "svc",
            {"body": {"workerId": worker_id, "filename": "f.txt", "mimeType": "text/plain", "sizeBytes": 3}},
        ),
        "downloadArtifact": ("", {"path": {"artifactId": artifact_id}}),
        "shareArtifact": ("svc", {"path": {"artifactId": artifact_id}}),
        "unshareArtifact": ("svc", {"path": {"artifactId": artifact_id}}),
        "getSharedArtifact": ("", {"path": {"token": "no-such-token"}}),
        "createAttachmentUploads": (
            "svc",
            {"body": {"workspaceId": WEB, "files": [{"filename": "a.png", "mimeType": "image/png", "sizeBytes": 1}]}},
        ),
        **dict.fromkeys(CRON_OPERATIONS, ("", CRON)),
        "proxyRunner": ("ada", {"path": {"heartbeatId": "no-such-runner"}, "query": {"path": "doctor"}}),
        "getBudgetForecast": ("svc", {}),
        "getReleaseStatus": ("ada", {"query": {"workspaceId": WEB, "prodBranch": "production"}}),
        "triggerRelease": ("ada", {"body": {"workspaceId": WEB, "workflowFile": "release.yml", "ref": "main"}}),
        "judgeQaCapture": ("svc", {"body": {"route": {"id": "r", "expectations": []}, "capture": {"url": "u"}}}),
        "getCbmMetrics": ("ada", {}),
    }


CRON = {"headers": {"authorization": "Bearer buildd-mock-cron-secret"}}
CRON_OPERATIONS = (
    "runDueSchedules",
    "archiveStaleTasks",
    "guardLeaseExpiry",
    "notifyStalledReviews",
    "reconcilePullRequests",
    "calibrateRouting",
    "digestFeedback",
    "rotateSigningKeys",
    "refreshCodexTokens",
)


EXPECTED_STATUS = {
    "createSchedule": 201,
    "createTaskNote": 201,
    "exchangeDeviceToken": 400,
    "approveDevice": 400,
    "respondToWorker": 400,
    "approvePlan": 400,  # the test world's task is not a completed planning task
    "rejectPlan": 400,
    "interruptWorker": 400,  # nor a review task
    "listWorkerSessions": 404,  # the worker reported no runner URL
    "downloadArtifact": 401,  # no token and no credentials
    "getSharedArtifact": 404,
    "proxyRunner": 404,
}


@pytest.mark.parametrize("operation_id", sorted(HANDLERS))
def test_handler_translates_its_call_into_one_service_call(api, key, user, operation_id):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    schedule = api.create_schedule(
        user("ada"), WEB, {"name": "s", "cronExpression": "0 * * * *", "taskTemplate": {"title": "t"}}
    )["schedule"]
    artifact = api.create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "r"})["artifact"]
    who, fields = _calls(worker["id"], schedule["id"], artifact["id"])[operation_id]
    principal = None if not who else key(who) if who in ACCOUNT_IDS else user(who)
    call = Call(
        operation_id=operation_id,
        api=api,
        principal=principal,
        path=fields.get("path", {}),
        query={k: v for k, v in fields.get("query", {}).items() if v},
        body=fields.get("body"),
        headers=fields.get("headers", {}),
    )
    try:
        reply = HANDLERS[operation_id](call)
    except DomainError as exc:
        status = exc.status
    else:
        status = reply[0] if isinstance(reply, tuple) else 200
    assert status == EXPECTED_STATUS.get(operation_id, 200)
