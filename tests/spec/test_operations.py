"""The spec covers every operation of the issue, with the security the real server uses and an ownership rule
wherever an operation acts on one resource.

The table is derived from ../shared/reference/buildd-api.md (§1 legend: K = API key, S = session, K|S = either,
§1.4/§8 for the worker, schedule and artifact sub-routes, §7 for the device flow). Where buildd-api.md says
"S, or an admin key" (schedule mutations, instruct) the spec accepts either scheme and leaves the level check
to the operation.
"""

from __future__ import annotations

import pytest

from contracts.spec import DEFAULT_SPEC_PATH, Operation, load_spec

KEY = frozenset({"apiKey"})
SESSION = frozenset({"session"})
EITHER = frozenset({"apiKey", "session"})
PUBLIC: frozenset[str] = frozenset()

# operationId: (tag, accepted schemes, x-ownership resource or None)    buildd-api.md
EXPECTED: dict[str, tuple[str, frozenset[str], str | None]] = {
    # accounts
    "listAccounts": ("accounts", SESSION, None),  # §1.1 GET /api/accounts (S)
    "createAccount": ("accounts", SESSION, None),  # §1.1 POST /api/accounts (S)
    "getAccount": ("accounts", SESSION, "account"),  # §1.1 GET /api/accounts/[id] (S)
    "deleteAccount": ("accounts", SESSION, "account"),  # §1.1 DELETE (S)
    "regenerateAccountKey": ("accounts", SESSION, "account"),  # §1.1 regenerate-key (S)
    "getMe": ("accounts", KEY, None),  # §1.1 GET /api/accounts/me (K)
    # workspaces
    "listWorkspaces": ("workspaces", EITHER, None),  # §1.2 (K|S)
    "createWorkspace": ("workspaces", EITHER, None),  # §1.2 (K|S)
    "getWorkspace": ("workspaces", SESSION, "workspace"),  # §1.2 GET [id] (S only)
    "updateWorkspace": ("workspaces", EITHER, "workspace"),  # §1.2 PATCH [id] (K|S)
    "deleteWorkspace": ("workspaces", SESSION, "workspace"),  # §1.2 DELETE [id] (S, owner)
    "listWorkspaceAccounts": ("workspaces", SESSION, "workspace"),  # §1.2 [id]/accounts (S)
    "linkWorkspaceAccount": ("workspaces", SESSION, "workspace"),
    "unlinkWorkspaceAccount": ("workspaces", SESSION, "workspace"),
    "getWorkspaceByRepo": ("workspaces", KEY, None),  # §1.2 by-repo (K); looked up by repo, answers null
    "listSchedules": ("workspaces", EITHER, "workspace"),  # §8 schedules GET (K|S)
    "createSchedule": ("workspaces", EITHER, "workspace"),  # §8 POST (S or admin key)
    "getSchedule": ("workspaces", EITHER, "workspace"),  # §8 [scheduleId] GET
    "updateSchedule": ("workspaces", EITHER, "workspace"),  # §8 [scheduleId] PATCH (S or admin key)
    "deleteSchedule": ("workspaces", EITHER, "workspace"),  # §8 [scheduleId] DELETE (S or admin key)
    # tasks
    "listTasks": ("tasks", EITHER, None),  # §1.3 (K|S)
    "createTask": ("tasks", EITHER, "workspace"),  # §1.3 (K|S); the body's workspaceId
    "getTask": ("tasks", EITHER, "task"),
    "updateTask": ("tasks", EITHER, "task"),
    "deleteTask": ("tasks", EITHER, "task"),
    "startTask": ("tasks", EITHER, "task"),  # §1.3 key if a header is present, else S
    "reassignTask": ("tasks", EITHER, "task"),
    "listTaskMessages": ("tasks", EITHER, "task"),
    "createTaskNote": ("tasks", EITHER, "task"),
    # workers
    "claimTasks": ("workers", KEY, None),  # §1.4 (K only)
    "getWorker": ("workers", KEY, "worker"),  # §1.4 (K), 403 for other accounts
    "updateWorker": ("workers", KEY, "worker"),
    "listMyWorkers": ("workers", KEY, None),  # §1.4 mine (K)
    "sendHeartbeat": ("workers", KEY, None),  # §1.4 heartbeat (K)
    "listActiveWorkers": ("workers", EITHER, None),  # §1.4 active (K|S)
    "sendWorkerCommand": ("workers", EITHER, "worker"),  # §1.4 cmd (K owner / S)
    "instructWorker": ("workers", EITHER, "worker"),  # §1.4 instruct (S, or admin key)
    "recordWorkerActivity": ("workers", KEY, "worker"),  # §1.4 activity (K)
    "listWorkerArtifacts": ("workers", KEY, "worker"),  # §1.4 artifacts (K, owner)
    "createWorkerArtifact": ("workers", KEY, "worker"),
    "recoverWorker": ("workers", EITHER, "worker"),  # §1.4 recover (K owner / S)
    "respondToWorker": ("workers", EITHER, "worker"),  # §1.4 respond (K owner / S)
    # artifacts
    "listArtifacts": ("artifacts", EITHER, None),  # §8 /api/artifacts GET (K|S)
    "getArtifact": ("artifacts", KEY, "artifact"),  # §8 /[artifactId] GET (K)
    "updateArtifact": ("artifacts", KEY, "artifact"),  # §8 /[artifactId] PATCH (K)
    # device login
    "createDeviceCode": ("auth", PUBLIC, None),  # §7 device/code (public)
    "exchangeDeviceToken": ("auth", PUBLIC, None),  # §7 device/token (public)
    "approveDevice": ("auth", SESSION, None),  # §7 device/approve (S)
    # MCP (issue 11): the key is checked by the route itself, before any JSON-RPC
    "mcpRequest": ("mcp", KEY, None),  # POST /api/mcp (K)
    "mcpStream": ("mcp", PUBLIC, None),  # GET /api/mcp: always 405
    "mcpEndSession": ("mcp", KEY, None),  # DELETE /api/mcp (K)
    "listMcpRegistry": ("mcp", PUBLIC, None),  # GET /api/mcp/registry (no auth in the real route)
    # runner support (issue 10): routes apps/runner calls besides the worker protocol
    "getVersion": ("workers", PUBLIC, None),  # GET /api/version (public)
    "matchRepos": ("workspaces", KEY, None),  # POST /api/workspaces/match-repos (K)
    "cleanupTasks": ("tasks", EITHER, None),  # POST /api/tasks/cleanup (S or admin K)
    "getWorkspaceConfig": ("workspaces", EITHER, "workspace"),  # GET /api/workspaces/{id}/config
    "saveWorkspaceConfig": ("workspaces", EITHER, "workspace"),  # POST /api/workspaces/{id}/config
    "updateReleaseConfig": ("workspaces", EITHER, "workspace"),  # PATCH /api/workspaces/{id}/config
    "listWorkerErrorTraces": ("workers", EITHER, "worker"),  # GET /api/workers/{id}/error-traces (K owner / S)
    "listTaskErrorTraces": ("tasks", EITHER, "task"),  # GET /api/tasks/{id}/error-traces
    # teams (issue 14): getUserFromRequest (K|S, a key acts as its team's owner) unless the route reads the session
    "cliLogin": ("auth", PUBLIC, None),  # GET /api/auth/cli (public: redirects to sign-in without a session)
    "listTeams": ("teams", EITHER, None),
    "createTeam": ("teams", EITHER, None),
    "getTeam": ("teams", EITHER, "team"),
    "updateTeam": ("teams", EITHER, "team"),
    "deleteTeam": ("teams", EITHER, "team"),
    "listTeamInvitations": ("teams", EITHER, "team"),
    "createTeamInvitation": ("teams", EITHER, "team"),
    "deleteTeamInvitation": ("teams", EITHER, "team"),
    "listTeamMembers": ("teams", EITHER, "team"),
    "addTeamMember": ("teams", EITHER, "team"),
    "updateTeamMember": ("teams", EITHER, "team"),
    "removeTeamMember": ("teams", EITHER, "team"),
    "getTeamNotifications": ("teams", SESSION, "team"),  # getCurrentUser (S)
    "updateTeamNotifications": ("teams", SESSION, "team"),
    "acceptInvitation": ("teams", EITHER, "invitation"),  # the token is the proof
    "listRoles": ("roles", EITHER, None),  # GET /api/roles (K|S)
    "createRole": ("roles", SESSION, None),  # POST reads getCurrentUser (S)
    "getRole": ("roles", SESSION, "role"),
    "updateRole": ("roles", SESSION, "role"),
    "deleteRole": ("roles", SESSION, "role"),
    "createRoleOverride": ("roles", SESSION, "role"),
    "backfillEntityGraph": ("admin", EITHER, None),  # K(A)|S
    "backfillMergedPrs": ("admin", EITHER, None),
    "refreshModelAliases": ("admin", EITHER, None),
    "listFeedback": ("feedback", SESSION, None),  # S
    "submitFeedback": ("feedback", SESSION, None),
    # area cred (issue 13): credentials, secrets and models (buildd-api.md §9 credentials, roles / runner)
    "getClaudeCredential": ("credentials", SESSION, "workspace"),
    "saveClaudeCredential": ("credentials", SESSION, "workspace"),
    "deleteClaudeCredential": ("credentials", SESSION, "workspace"),
    "startClaudeOAuth": ("credentials", SESSION, "workspace"),
    "exchangeClaudeOAuth": ("credentials", SESSION, "workspace"),
    "refreshClaudeCredential": ("credentials", SESSION, "workspace"),
    "getCodexCredential": ("credentials", SESSION, "workspace"),
    "saveCodexCredential": ("credentials", SESSION, "workspace"),
    "deleteCodexCredential": ("credentials", SESSION, "workspace"),
    "startCodexDeviceLogin": ("credentials", SESSION, "workspace"),
    "pollCodexDeviceLogin": ("credentials", SESSION, "workspace"),
    "refreshCodexCredential": ("credentials", SESSION, "workspace"),
    "verifyCodexCredential": ("credentials", SESSION, "workspace"),
    "writeBackCodexCredential": ("credentials", KEY, "workspace"),  # the runner's key (not trigger level)
    "credentialLease": ("credentials", KEY, None),  # POST /api/runner/credential-lease (K)
    "credentialRefresh": ("credentials", KEY, None),  # POST /api/runner/credential-refresh (K)
    "listSecrets": ("secrets", EITHER, None),
    "createSecret": ("secrets", EITHER, None),
    "deleteSecret": ("secrets", EITHER, "secret"),  # names the secret in the query: ?id=
    "verifySecret": ("secrets", SESSION, "secret"),
    "listModels": ("models", SESSION, None),
    "getModelTiers": ("models", EITHER, "workspace"),  # S or admin K; an optional ?workspaceId (404 outside reach)
    "setModelTier": ("models", EITHER, "workspace"),  # the body's optional workspaceId
    "deleteModelTier": ("models", EITHER, "workspace"),  # an optional ?workspaceId, as GET
    # area ws (issue #13): workspace extras
    "validateScheduleCron": ("workspaces", SESSION, "workspace"),  # GET schedules/validate (S)
    "suggestScheduleUpdate": ("workspaces", EITHER, "workspace"),  # POST schedules/{scheduleId}/suggestion
    "approveScheduleSuggestion": ("workspaces", EITHER, "workspace"),  # PATCH (S, or an admin key)
    "dismissScheduleSuggestion": ("workspaces", EITHER, "workspace"),  # DELETE (S, or an admin key)
    "listWorkspaceArtifacts": ("artifacts", EITHER, "workspace"),  # GET /api/workspaces/{id}/artifacts
    "listMemories": ("memory", EITHER, "workspace"),  # GET /api/workspaces/{id}/memory
    "saveMemory": ("memory", EITHER, "workspace"),  # POST /api/workspaces/{id}/memory
    "updateMemory": ("memory", EITHER, "workspace"),  # PATCH .../memory/{memoryId}
    "deleteMemory": ("memory", EITHER, "workspace"),  # DELETE .../memory/{memoryId}
    "memoryQuickstart": ("memory", PUBLIC, None),  # POST /api/memory/quickstart (public, rate limited)
    "listSkills": ("skills", EITHER, "workspace"),  # GET /api/workspaces/{id}/skills (S, or an admin key)
    "createSkill": ("skills", EITHER, "workspace"),
    "getSkill": ("skills", EITHER, "workspace"),
    "updateSkill": ("skills", EITHER, "workspace"),
    "deleteSkill": ("skills", EITHER, "workspace"),
    "getWorkspaceSettings": ("workspace-settings", EITHER, "workspace"),
    "updateWorkspaceSettings": ("workspace-settings", EITHER, "workspace"),
    "listWorkspaceProjects": ("workspace-settings", EITHER, "workspace"),
    "upsertWorkspaceProject": ("workspace-settings", EITHER, "workspace"),
    "replaceWorkspaceProjects": ("workspace-settings", EITHER, "workspace"),
    "listWorkspaceRunners": ("workspace-settings", SESSION, "workspace"),  # GET runners (S)
    "getKnowledgeHealth": ("workspace-settings", EITHER, "workspace"),
    "getLastRelease": ("workspace-settings", EITHER, "workspace"),
    "createWorkspaceRepo": ("workspace-settings", EITHER, "workspace"),
    "reserveMigrationSlot": ("workspace-settings", KEY, "workspace"),  # POST migration-slot (K)
    "precheckWorkspaceMigration": ("workspace-settings", EITHER, "workspace"),  # migrate/precheck (S, admin key)
    "executeWorkspaceMigration": ("workspace-settings", EITHER, "workspace"),
    "repairWorkspaceMigration": ("workspace-settings", EITHER, "workspace"),
    # area ext (issue #14): connectors take an admin key or a session (apps/web/src/app/api/connectors/**)
    "listConnectors": ("connectors", EITHER, None),
    "createConnector": ("connectors", EITHER, None),
    "connectorOAuthCallback": ("connectors", PUBLIC, None),  # the state cookie authenticates the flow
    "getConnector": ("connectors", EITHER, "connector"),
    "updateConnector": ("connectors", EITHER, "connector"),
    "deleteConnector": ("connectors", EITHER, "connector"),
    "mintConnectorAssertion": ("connectors", KEY, "connector"),
    "connectConnector": ("connectors", EITHER, "connector"),
    "disconnectConnector": ("connectors", EITHER, "connector"),
    "listConnectorShares": ("connectors", EITHER, "connector"),
    "shareConnector": ("connectors", EITHER, "connector"),
    "unshareConnector": ("connectors", EITHER, "connector"),
    "getConnectorStatus": ("connectors", EITHER, "connector"),
    "transferConnector": ("connectors", EITHER, "connector"),
    "listWorkspaceConnectors": ("connectors", EITHER, "workspace"),
    "toggleWorkspaceConnector": ("connectors", EITHER, "workspace"),
    "discordInteraction": ("integrations", PUBLIC, None),  # Ed25519-signed
    "slackEvent": ("integrations", PUBLIC, None),  # HMAC-signed
    "getWorkspaceSlack": ("integrations", SESSION, "workspace"),
    "updateWorkspaceSlack": ("integrations", SESSION, "workspace"),
    "ingestWebhook": ("webhooks", KEY, None),  # key + HMAC signature
    "linearWebhook": ("webhooks", PUBLIC, "workspace"),  # HMAC-signed per workspace
    "saveWorkspaceWebhook": ("webhooks", SESSION, "workspace"),
    "testWorkspaceWebhook": ("webhooks", SESSION, "workspace"),
    "registerOAuthClient": ("oauth", PUBLIC, None),
    "authorizeOAuthClient": ("oauth", SESSION, None),
    "exchangeOAuthToken": ("oauth", PUBLIC, None),
    "mcpOAuthStream": ("oauth", PUBLIC, "workspace"),
    "mcpOAuthRequest": ("oauth", PUBLIC, "workspace"),  # an OAuth access token (JWT), not a key
    "mcpOAuthEndSession": ("oauth", PUBLIC, "workspace"),
    "getJwks": ("oauth", PUBLIC, None),
    # area `know` (issues 13, 14): knowledge ingest jobs, watched projects, the GitHub App and PRs
    "listIngestJobs": ("knowledge", KEY, None),  # GET /api/knowledge/ingest-jobs (admin K)
    "createIngestJob": ("knowledge", KEY, "workspace"),  # POST (worker/admin K); the body's workspaceId
    "claimIngestJob": ("knowledge", KEY, None),  # POST .../claim (K)
    "completeIngestJob": ("knowledge", KEY, "ingestJob"),
    "uploadIngestJobFiles": ("knowledge", KEY, "ingestJob"),
    "pushIngestJobGraph": ("knowledge", KEY, "ingestJob"),
    "getWatchedProject": ("watched-projects", EITHER, "watchedProject"),
    "updateWatchedProject": ("watched-projects", EITHER, "watchedProject"),
    "deleteWatchedProject": ("watched-projects", EITHER, "watchedProject"),
    "runWatchedProject": ("watched-projects", EITHER, "watchedProject"),
    "listWatchedProjects": ("watched-projects", EITHER, "workspace"),
    "createWatchedProject": ("watched-projects", EITHER, "workspace"),
    "startGithubInstall": ("github", SESSION, None),  # GET /api/github/install (S; redirects)
    "completeGithubInstall": ("github", SESSION, None),  # GET /api/github/callback (S; redirects)
    "listGithubInstallations": ("github", SESSION, None),
    "deleteGithubInstallation": ("github", SESSION, "installation"),
    "listGithubInstallationRepos": ("github", SESSION, "installation"),
    "syncGithubInstallationRepos": ("github", SESSION, "installation"),
    "getPullRequest": ("github", KEY, "worker"),  # GET /api/github/pr (K): by workerId or prNumber
    "createPullRequest": ("github", KEY, "worker"),  # the body's workerId, team rule
    "mergePullRequest": ("github", KEY, None),  # PUT: by workerId or prNumber
    "closePullRequest": ("github", KEY, "worker"),
    "receiveGithubWebhook": ("github", PUBLIC, None),  # signed with the App's webhook secret, not a credential
    "getEscalationInbox": ("github", SESSION, None),  # GET /api/prs/escalation-inbox (S)
    "mergeEscalatedPullRequest": ("github", SESSION, "pullRequest"),  # POST /api/prs/{prNumber}/merge (S)
    # missions and initiatives (issue 14): buildd-api.md §8; keys below admin get 403 where the route says so
    "listInitiatives": ("initiatives", EITHER, None),
    "createInitiative": ("initiatives", EITHER, None),
    "getInitiativeEffort": ("initiatives", EITHER, "workspace"),
    "getInitiative": ("initiatives", EITHER, "initiative"),
    "updateInitiative": ("initiatives", EITHER, "initiative"),
    "deleteInitiative": ("initiatives", EITHER, "initiative"),
    "listInitiativeArtifacts": ("initiatives", EITHER, "initiative"),
    "createInitiativeArtifact": ("initiatives", EITHER, "initiative"),
    "getInitiativeKpiState": ("initiatives", EITHER, "initiative"),
    "evaluateInitiative": ("initiatives", EITHER, "initiative"),
    "getInitiativeTrackerProgress": ("initiatives", EITHER, "initiative"),
    "listMissions": ("missions", EITHER, None),
    "createMission": ("missions", EITHER, None),
    "getMissionCapabilities": ("missions", PUBLIC, None),
    "getMission": ("missions", EITHER, "mission"),
    "updateMission": ("missions", EITHER, "mission"),
    "deleteMission": ("missions", EITHER, "mission"),
    "listMissionArtifacts": ("missions", EITHER, "mission"),
    "createMissionArtifact": ("missions", EITHER, "mission"),
    "getMissionCriteriaState": ("missions", EITHER, "mission"),
    "evaluateMission": ("missions", EITHER, "mission"),
    "linkMissionTracker": ("missions", EITHER, "mission"),
    "listMissionNotes": ("missions", EITHER, "mission"),
    "createMissionNote": ("missions", EITHER, "mission"),
    "replyToMissionNote": ("missions", EITHER, "mission"),
    "reconcileMission": ("missions", EITHER, "mission"),
    "runMission": ("missions", EITHER, "mission"),
    "getMissionTrackerProgress": ("missions", EITHER, "mission"),
    # area `ops` (issue #13)
    "bulkTasks": ("tasks", EITHER, "workspace"),  # POST /api/tasks/bulk (S or admin K)
    "listWaitingInputTasks": ("tasks", SESSION, None),  # GET /api/tasks/waiting-input
    "approvePlan": ("tasks", EITHER, "task"),  # POST /api/tasks/{id}/approve-plan
    "rejectPlan": ("tasks", EITHER, "task"),  # POST /api/tasks/{id}/reject-plan
    "getTaskSummary": ("tasks", SESSION, "task"),  # GET /api/tasks/{id}/summary
    "listTaskWorkers": ("tasks", SESSION, "task"),  # GET /api/tasks/{id}/workers
    "interruptWorker": ("workers", SESSION, "worker"),  # POST /api/workers/{id}/interrupt
    "listWorkerSessions": ("workers", EITHER, "worker"),  # GET /api/workers/{id}/sessions (K owner / S)
    "createArtifactUploadUrl": ("artifacts", KEY, "worker"),  # POST /api/artifacts/upload-url
    "downloadArtifact": ("artifacts", PUBLIC, "artifact"),  # GET /api/artifacts/{id}/download (token, else K|S)
    "shareArtifact": ("artifacts", EITHER, "artifact"),  # POST /api/artifacts/{id}/share
    "unshareArtifact": ("artifacts", EITHER, "artifact"),  # DELETE /api/artifacts/{id}/share
    "getSharedArtifact": ("artifacts", PUBLIC, None),  # GET /api/share/{token}
    "createAttachmentUploads": ("artifacts", EITHER, "workspace"),  # POST /api/attachments/upload
    "runDueSchedules": ("cron", PUBLIC, None),  # GET /api/cron/schedules (cron secret)
    "archiveStaleTasks": ("cron", PUBLIC, None),  # GET /api/cron/task-archive
    "guardLeaseExpiry": ("cron", PUBLIC, None),  # GET /api/cron/lease-expiry-guard
    "notifyStalledReviews": ("cron", PUBLIC, None),  # POST /api/cron/stall-notify
    "reconcilePullRequests": ("cron", PUBLIC, None),  # GET /api/cron/pr-reconcile
    "calibrateRouting": ("cron", PUBLIC, None),  # GET /api/cron/routing-calibration
    "digestFeedback": ("cron", PUBLIC, None),  # POST /api/cron/feedback-digest
    "rotateSigningKeys": ("cron", PUBLIC, None),  # GET /api/cron/jwks-rotation
    "refreshCodexTokens": ("cron", PUBLIC, None),  # GET /api/cron/codex-token-refresh
    "proxyRunner": ("platform", SESSION, "heartbeat"),  # GET /api/runners/{heartbeatId}/proxy
    "getBudgetForecast": ("platform", KEY, "workspace"),  # GET /api/health/budget (workspaceId: optional query)
    "getReleaseStatus": ("platform", EITHER, "workspace"),  # GET /api/releases/status (S or admin K)
    "triggerRelease": ("platform", EITHER, "workspace"),  # POST /api/releases/trigger (S or admin K)
    "judgeQaCapture": ("platform", KEY, None),  # POST /api/qa/judge
    "getCbmMetrics": ("platform", EITHER, None),  # GET /api/cbm/metrics (S or admin K)
}


@pytest.fixture(scope="module")
def operations() -> dict[str, Operation]:
    return {op.operation_id: op for op in load_spec(DEFAULT_SPEC_PATH).api_operations()}


def test_every_issue_operation_is_in_the_spec(operations: dict[str, Operation]) -> None:
    missing = sorted(set(EXPECTED) - set(operations))
    assert not missing, f"operations of the issue missing from openapi.yaml: {missing}"


def test_the_spec_has_no_unlisted_buildd_operation(operations: dict[str, Operation]) -> None:
    extra = sorted(set(operations) - set(EXPECTED))
    assert not extra, f"operations not in the reference table (add them to EXPECTED with their security): {extra}"


@pytest.mark.parametrize("op_id", sorted(EXPECTED))
def test_operation_security_tag_and_ownership(operations: dict[str, Operation], op_id: str) -> None:
    tag, schemes, resource = EXPECTED[op_id]
    op = operations[op_id]
    assert tag in op.tags
    have, want = sorted(op.schemes) or "public", sorted(schemes) or "public"
    assert op.schemes == schemes, f"{op_id}: security {have}, reference says {want}"
    if resource is None:
        assert op.ownership is None, f"{op_id} has an x-ownership rule but acts on no single resource"
    else:
        assert op.ownership is not None, f"{op_id} acts on one {resource} but has no x-ownership rule"
        assert op.ownership.resource == resource
        if op.ownership.location in ("path", "query"):
            assert op.ownership.name in {p["name"] for p in op.parameters if p["in"] == op.ownership.location}


# path-addressed operations with no owner to check (operationId -> why)
UNOWNED = {
    "getSharedArtifact": "public by its share token: the token is the credential",
    "proxyRunner": "names a runner (heartbeat), not one of the ownership resources; its access rule is in the spec",
}


def test_every_single_resource_operation_has_an_ownership_rule(operations: dict[str, Operation]) -> None:
    """An operation with a path parameter acts on one resource, so it must say who may touch it."""
    without = sorted(
        op_id for op_id, op in operations.items() if op.path_params() and op.ownership is None and op_id not in UNOWNED
    )
    assert not without


def test_worker_ownership_matches_the_reference(operations: dict[str, Operation]) -> None:
    """§4: another account's worker is 403 Forbidden for keys; sessions without access get 404 Worker not found."""
    for op_id in ("getWorker", "updateWorker", "recordWorkerActivity", "listWorkerArtifacts", "createWorkerArtifact"):
        rule = operations[op_id].ownership
        assert rule is not None and (rule.rule, rule.status, rule.error) == ("owner", 403, "Forbidden"), op_id
    for op_id in ("sendWorkerCommand", "recoverWorker", "respondToWorker"):
        rule = operations[op_id].ownership
        assert rule is not None and rule.session is not None, op_id
        assert (rule.status, rule.session.status, rule.session.error) == (403, 404, "Worker not found"), op_id
    task_ops = (
        "getTask",
        "updateTask",
        "deleteTask",
        "startTask",
        "reassignTask",
        "listTaskMessages",
        "createTaskNote",
    )
    for op_id in task_ops:
        rule = operations[op_id].ownership
        assert rule is not None and (rule.status, rule.error) == (404, "Task not found"), op_id
