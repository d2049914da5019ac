"""The operation handlers: one per spec operation, each a plain translation onto one `Buildd` method."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.errors import DomainError
from mockserver.http.routes import Call, load_all
from mockserver.mcp import MCP_OPERATIONS
from tests.mockserver.domain.world import ACCOUNT_IDS, BOB, EVE, T1, T2, TASK_IDS, WEB, claim, uid

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
        "getArtifact": ("svc", {"path": {"artifactId": artifact_id}}),  # the resource layer's generic handler
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
        # teams area (issue 14)
        "cliLogin": ("", {"query": {"callback": "http://localhost:8766/cb"}}),
        "listTeams": ("ada", {}),
        "createTeam": ("ada", {"body": {"name": "Labs", "slug": "labs"}}),
        "getTeam": ("ada", {"path": {"id": T1}}),
        "updateTeam": ("ada", {"path": {"id": T1}, "body": {"name": "Acme 2"}}),
        "deleteTeam": ("eve", {"path": {"id": T2}}),
        "listTeamInvitations": ("ada", {"path": {"id": T1}}),
        "createTeamInvitation": ("ada", {"path": {"id": T1}, "body": {"email": "new@example.com", "role": "member"}}),
        "deleteTeamInvitation": ("ada", {"path": {"id": T1, "invitationId": uid(99)}}),
        "listTeamMembers": ("ada", {"path": {"id": T1}}),
        "addTeamMember": ("ada", {"path": {"id": T1}, "body": {"userId": EVE, "role": "member"}}),
        "updateTeamMember": ("ada", {"path": {"id": T1, "userId": BOB}, "body": {"role": "admin"}}),
        "removeTeamMember": ("ada", {"path": {"id": T1, "userId": BOB}}),
        "getTeamNotifications": ("ada", {"path": {"id": T1}}),
        "updateTeamNotifications": ("ada", {"path": {"id": T1}, "body": {"preferences": {"taskClaimed": False}}}),
        "acceptInvitation": ("bob", {"path": {"token": "no-such-token"}}),
        "listRoles": ("svc", {}),
        "createRole": ("ada", {"body": {"name": "Reviewer", "content": "Review."}}),
        "getRole": ("ada", {"path": {"id": uid(99)}}),
        "updateRole": ("ada", {"path": {"id": uid(99)}, "body": {"name": "x"}}),
        "deleteRole": ("ada", {"path": {"id": uid(99)}}),
        "createRoleOverride": ("ada", {"path": {"id": uid(99)}, "body": {"workspaceId": WEB}}),
        "backfillEntityGraph": ("admin", {"body": None}),
        "backfillMergedPrs": ("admin", {}),
        "refreshModelAliases": ("admin", {"body": {"opus": "claude-opus-5"}}),
        "listFeedback": ("ada", {"query": {"entityType": "note"}}),
        "submitFeedback": ("ada", {"body": {"entityType": "note", "entityId": "n1", "signal": "up"}}),
        # area ws: ids that do not exist answer the domain's 404 (EXPECTED_STATUS), which proves the translation
        "validateScheduleCron": ("ada", {"path": {"id": WEB}, "query": {"cron": "0 3 * * *"}}),
        "suggestScheduleUpdate": (
            "svc",
            {"path": {"id": WEB, "scheduleId": schedule_id}, "body": {"reason": "r", "enabled": False}},
        ),
        "approveScheduleSuggestion": ("ada", {"path": {"id": WEB, "scheduleId": schedule_id}}),
        "dismissScheduleSuggestion": ("ada", {"path": {"id": WEB, "scheduleId": schedule_id}}),
        "listWorkspaceArtifacts": ("svc", {"path": {"id": WEB}, "query": {"limit": "5"}}),
        "listMemories": ("svc", {"path": {"id": WEB}, "query": {"search": "login"}}),
        "saveMemory": ("svc", {"path": {"id": WEB}, "body": {"type": "gotcha", "title": "t", "content": "c"}}),
        "updateMemory": ("svc", {"path": {"id": WEB, "memoryId": task}, "body": {"title": "t"}}),
        "deleteMemory": ("svc", {"path": {"id": WEB, "memoryId": task}}),
        "memoryQuickstart": ("", {}),
        "listSkills": ("admin", {"path": {"id": WEB}, "query": {"enabled": "true"}}),
        "createSkill": ("admin", {"path": {"id": WEB}, "body": {"name": "UI audit", "content": "c"}}),
        "getSkill": ("admin", {"path": {"id": WEB, "skillId": task}}),
        "updateSkill": ("admin", {"path": {"id": WEB, "skillId": task}, "body": {"enabled": False}}),
        "deleteSkill": ("admin", {"path": {"id": WEB, "skillId": task}}),
        "getWorkspaceSettings": ("svc", {"path": {"id": WEB}}),
        "updateWorkspaceSettings": ("svc", {"path": {"id": WEB}, "body": {"workTrackerConfig": None}}),
        "listWorkspaceProjects": ("svc", {"path": {"id": WEB}}),
        "upsertWorkspaceProject": ("svc", {"path": {"id": WEB}, "body": {"name": "web"}}),
        "replaceWorkspaceProjects": ("svc", {"path": {"id": WEB}, "body": {"projects": [{"name": "web"}]}}),
        "listWorkspaceRunners": ("ada", {"path": {"id": WEB}}),
        "getKnowledgeHealth": ("svc", {"path": {"id": WEB}}),
        "getLastRelease": ("svc", {"path": {"id": WEB}}),
        "createWorkspaceRepo": ("svc", {"path": {"id": WEB}, "body": {"name": "fresh-repo"}}),
        "reserveMigrationSlot": ("svc", {"path": {"id": WEB}, "body": {"currentMax": 3}}),
        "precheckWorkspaceMigration": ("ada", {"path": {"id": WEB}, "body": {"destinationTeamId": acct}}),
        "executeWorkspaceMigration": (
            "ada",
            {"path": {"id": WEB}, "body": {"destinationTeamId": acct, "dryRunToken": "1.x"}},
        ),
        "repairWorkspaceMigration": ("ada", {"path": {"id": WEB}, "body": {"runId": task}}),
        # area ext: connector calls on a missing connector answer its 404 (EXPECTED_STATUS)
        "listConnectors": ("admin", {}),
        "createConnector": ("admin", {"body": {"name": "c", "url": "https://m.example/mcp"}}),
        "connectorOAuthCallback": ("", {}),
        "getConnector": ("admin", {"path": {"id": "missing"}}),
        "updateConnector": ("admin", {"path": {"id": "missing"}, "body": {"name": "x"}}),
        "deleteConnector": ("admin", {"path": {"id": "missing"}}),
        "mintConnectorAssertion": ("svc", {"path": {"id": "missing"}, "body": {"workerId": worker_id, "taskId": task}}),
        "connectConnector": ("admin", {"path": {"id": "missing"}}),
        "disconnectConnector": ("admin", {"path": {"id": "missing"}}),
        "listConnectorShares": ("admin", {"path": {"id": "missing"}}),
        "shareConnector": ("admin", {"path": {"id": "missing"}, "body": {"teamId": "t"}}),
        "unshareConnector": ("admin", {"path": {"id": "missing"}, "query": {"teamId": "t"}}),
        "getConnectorStatus": ("admin", {"path": {"id": "missing"}}),
        "transferConnector": ("admin", {"path": {"id": "missing"}, "body": {"teamId": "t"}}),
        "listWorkspaceConnectors": ("ada", {"path": {"id": WEB}}),
        "toggleWorkspaceConnector": ("ada", {"path": {"id": WEB}, "body": {"connectorId": "missing", "enabled": True}}),
        "discordInteraction": ("", {"body": {"type": 1}}),
        "slackEvent": ("", {"body": {"type": "url_verification", "challenge": "c"}}),
        "getWorkspaceSlack": ("ada", {"path": {"id": WEB}}),
        "updateWorkspaceSlack": ("ada", {"path": {"id": WEB}, "body": {"enabled": True}}),
        "ingestWebhook": ("svc", {"body": {"issue": {"id": "1", "title": "t"}, "project": {"repo": "acme/web"}}}),
        "linearWebhook": ("", {"path": {"workspaceId": WEB}, "body": {}}),
        "saveWorkspaceWebhook": ("ada", {"path": {"id": WEB}, "body": {"url": "http://x"}}),
        "testWorkspaceWebhook": ("ada", {"path": {"id": WEB}, "body": {"url": "http://x"}}),
        "registerOAuthClient": ("", {"body": {"redirect_uris": ["http://127.0.0.1/cb"]}}),
        "authorizeOAuthClient": ("ada", {}),
        "exchangeOAuthToken": ("", {"body": {"grant_type": "password"}}),
        "mcpOAuthStream": ("", {"path": {"workspace": WEB}}),
        "mcpOAuthRequest": ("", {"path": {"workspace": WEB}, "body": {"jsonrpc": "2.0", "id": 1, "method": "ping"}}),
        "mcpOAuthEndSession": ("", {"path": {"workspace": WEB}}),
        "getJwks": ("", {}),
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
        **_cred_calls(),
    }


def _cred_calls() -> dict[str, tuple[str, dict[str, Any]]]:
    """Area cred; a secret id that exists nowhere where the operation needs one (answered 404)."""
    claude = '{"access_token": "a", "refresh_token": "r"}'
    return {
        "getClaudeCredential": ("ada", {"path": {"id": WEB}, "query": {"scope": "workspace"}}),
        "saveClaudeCredential": ("ada", {"path": {"id": WEB}, "body": {"credentialsJson": claude}}),
        "deleteClaudeCredential": ("ada", {"path": {"id": WEB}}),
        "startClaudeOAuth": ("ada", {"path": {"id": WEB}}),
        "exchangeClaudeOAuth": ("ada", {"path": {"id": WEB}, "body": {"code": "c", "verifier": "v"}}),
        "refreshClaudeCredential": ("ada", {"path": {"id": WEB}}),
        "getCodexCredential": ("ada", {"path": {"id": WEB}}),
        "saveCodexCredential": ("ada", {"path": {"id": WEB}, "body": {"authJson": '{"api_key": "sk-x"}'}}),
        "deleteCodexCredential": ("ada", {"path": {"id": WEB}}),
        "startCodexDeviceLogin": ("ada", {"path": {"id": WEB}}),
        "pollCodexDeviceLogin": ("ada", {"path": {"id": WEB}, "body": {"deviceAuthId": "d", "userCode": "u"}}),
        "refreshCodexCredential": ("ada", {"path": {"id": WEB}}),
        "verifyCodexCredential": ("ada", {"path": {"id": WEB}}),
        "writeBackCodexCredential": ("svc", {"path": {"id": WEB}, "body": {"accessToken": "a", "refreshToken": "r"}}),
        "credentialLease": ("svc", {"body": {"credentialId": "missing", "runnerId": "r", "action": "acquire"}}),
        "credentialRefresh": (
            "svc",
            {"body": {"secretId": "missing", "purpose": "claude_credential", "action": "lock"}},
        ),
        "listSecrets": ("ada", {}),
        "createSecret": ("admin", {"body": {"value": "v", "purpose": "custom"}}),
        "deleteSecret": ("ada", {"query": {"id": "missing"}}),
        "verifySecret": ("ada", {"path": {"id": "missing"}}),
        "listModels": ("ada", {}),
        "getModelTiers": ("admin", {}),
        "setModelTier": ("admin", {"body": {"tier": "budget", "provider": "anthropic", "model": "m"}}),
        "deleteModelTier": ("admin", {"query": {"tier": "budget"}}),
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
    "cliLogin": 302,
    "deleteTeamInvitation": 404,
    "acceptInvitation": 404,
    "createRole": 201,
    "getRole": 404,
    "updateRole": 404,
    "deleteRole": 404,
    "createRoleOverride": 404,
    "submitFeedback": 201,
    # area cred
    "deleteClaudeCredential": 204,
    "deleteCodexCredential": 204,
    "exchangeClaudeOAuth": 400,
    "verifyCodexCredential": 404,
    "credentialLease": 404,
    "credentialRefresh": 404,
    "deleteSecret": 404,
    "verifySecret": 404,
    # area ws
    "approveScheduleSuggestion": 404,  # no pending suggestion
    "dismissScheduleSuggestion": 404,
    "saveMemory": 201,
    "updateMemory": 404,  # no such memory
    "deleteMemory": 404,
    "createSkill": 201,
    "getSkill": 404,  # no such skill
    "updateSkill": 404,
    "deleteSkill": 404,
    "upsertWorkspaceProject": 201,
    "precheckWorkspaceMigration": 404,  # the destination is no team of the caller's
    "executeWorkspaceMigration": 404,
    "repairWorkspaceMigration": 404,  # no such run
    # area ext
    "createConnector": 201,
    "connectorOAuthCallback": 302,
    **dict.fromkeys(
        (
            "getConnector",
            "updateConnector",
            "deleteConnector",
            "mintConnectorAssertion",
            "connectConnector",
            "disconnectConnector",
            "listConnectorShares",
            "shareConnector",
            "unshareConnector",
            "getConnectorStatus",
            "transferConnector",
            "toggleWorkspaceConnector",
        ),
        404,
    ),
    "discordInteraction": 401,  # unsigned
    "ingestWebhook": 400,  # no x-webhook-event header
    "linearWebhook": 401,  # unsigned
    "registerOAuthClient": 201,
    "authorizeOAuthClient": 400,  # no client_id
    "exchangeOAuthToken": 400,  # unsupported_grant_type
    "mcpOAuthStream": 405,
    "mcpOAuthRequest": 401,  # no access token
    "mcpOAuthEndSession": 401,
    "approvePlan": 400,  # the test world's task is not a completed planning task
    "rejectPlan": 400,
    "interruptWorker": 400,  # nor a review task
    "listWorkerSessions": 404,  # the worker reported no runner URL
    "downloadArtifact": 401,  # no token and no credentials
    "getSharedArtifact": 404,
    "proxyRunner": 404,
}


# the core operations; the handlers of an area (mockserver/http/routes/<area>.py) are exercised over HTTP by its
# tests in tests/mockserver/areas, so this table does not grow with every area
CORE = sorted(_calls("", "", ""))


@pytest.mark.parametrize("operation_id", CORE)
def test_handler_translates_its_call_into_one_service_call(api, key, user, operation_id):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    schedule = api.serve_resource(
        "createSchedule",
        user("ada"),
        {"id": WEB},
        {},
        {"name": "s", "cronExpression": "0 * * * *", "taskTemplate": {"title": "t"}},
    )[1]["schedule"]
    artifact = api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "r"})[
        "artifact"
    ]
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
