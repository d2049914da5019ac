"""More of tasks, workers and artifacts; attachments, share links, cron, health, releases, QA and metrics."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from contracts.spec import load_spec
from mockserver.domain.areas.ops import TaskOpsArea
from mockserver.domain.areas.ops_cron import Cron
from mockserver.domain.areas.ops_platform import Platform
from mockserver.domain.areas.ops_storage import ArtifactStorage
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.errors import Unauthorized
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import flag, integer

__all__ = ()


# -- tasks and workers ---------------------------------------------------------------------------------------------


@handles("bulkTasks")
def bulk_tasks(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).bulk_tasks(call.principal, call.body)


@handles("listWaitingInputTasks")
def list_waiting_input_tasks(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).waiting_input_tasks(call.principal)


@handles("approvePlan")
def approve_plan(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).approve_plan(call.principal, call.path["id"])


@handles("rejectPlan")
def reject_plan(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).reject_plan(call.principal, call.path["id"], call.body)


@handles("getTaskSummary")
def get_task_summary(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).task_summary(call.principal, call.path["id"])


@handles("listTaskWorkers")
def list_task_workers(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).task_workers(call.principal, call.path["id"])


@handles("interruptWorker")
def interrupt_worker(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).interrupt_worker(call.principal, call.path["id"], call.body)


@handles("listWorkerSessions")
def list_worker_sessions(call: Call) -> Reply:
    return call.api.area(TaskOpsArea).worker_sessions(
        call.principal,
        call.path["id"],
        call.query.get("sessionId"),
        integer(call.query, "limit"),
        integer(call.query, "offset"),
    )


# -- artifacts, attachments, share links ---------------------------------------------------------------------------


def _optional_principal(call: Call) -> Principal | None:
    """The caller of a public route that also takes credentials (download without a token): key, then session."""
    cookie_name = load_spec().raw["components"]["securitySchemes"]["session"]["name"]
    session = None
    try:
        morsel = SimpleCookie(call.headers.get("cookie") or "").get(cookie_name)
        session = morsel.value if morsel is not None else None
    except CookieError:
        session = None
    try:
        return authenticate(
            call.api.store,
            authorization=call.headers.get("authorization"),
            session_token=session,
            accept=("apiKey", "session"),
        )
    except Unauthorized:
        return None


@handles("createArtifactUploadUrl")
def create_artifact_upload_url(call: Call) -> Reply:
    return call.api.area(ArtifactStorage).create_upload_url(call.principal, call.body)


@handles("downloadArtifact")
def download_artifact(call: Call) -> Reply:
    token = call.query.get("token") or None
    principal = _optional_principal(call) if token is None else None
    location, headers = call.api.area(ArtifactStorage).download_location(principal, call.path["artifactId"], token)
    return 302, None, {"Location": location, **headers}


@handles("shareArtifact")
def share_artifact(call: Call) -> Reply:
    return call.api.area(ArtifactStorage).share(call.principal, call.path["artifactId"])


@handles("unshareArtifact")
def unshare_artifact(call: Call) -> Reply:
    return call.api.area(ArtifactStorage).unshare(call.principal, call.path["artifactId"])


@handles("getSharedArtifact")
def get_shared_artifact(call: Call) -> Reply:
    return call.api.area(ArtifactStorage).shared_artifact(call.path["token"])


@handles("createAttachmentUploads")
def create_attachment_uploads(call: Call) -> Reply:
    return call.api.area(ArtifactStorage).create_attachment_uploads(call.principal, call.body)


# -- cron: every job first checks the cron secret -----------------------------------------------------------------


def _cron(call: Call) -> Cron:
    cron: Cron = call.api.area(Cron)
    cron.check_secret(call.headers.get("authorization"))
    return cron


@handles("runDueSchedules")
def run_due_schedules(call: Call) -> Reply:
    return _cron(call).run_due_schedules()


@handles("archiveStaleTasks")
def archive_stale_tasks(call: Call) -> Reply:
    return _cron(call).archive_stale_tasks()


@handles("guardLeaseExpiry")
def guard_lease_expiry(call: Call) -> Reply:
    return _cron(call).guard_lease_expiry()


@handles("notifyStalledReviews")
def notify_stalled_reviews(call: Call) -> Reply:
    return _cron(call).notify_stalled_reviews()


@handles("reconcilePullRequests")
def reconcile_pull_requests(call: Call) -> Reply:
    return _cron(call).reconcile_pull_requests()


@handles("calibrateRouting")
def calibrate_routing(call: Call) -> Reply:
    return _cron(call).calibrate_routing()


@handles("digestFeedback")
def digest_feedback(call: Call) -> Reply:
    return _cron(call).digest_feedback(integer(call.query, "windowHours"))


@handles("rotateSigningKeys")
def rotate_signing_keys(call: Call) -> Reply:
    return _cron(call).rotate_signing_keys(flag(call.query, "force"))


@handles("refreshCodexTokens")
def refresh_codex_tokens(call: Call) -> Reply:
    return _cron(call).refresh_tokens()


# -- platform -----------------------------------------------------------------------------------------------------


@handles("proxyRunner")
def proxy_runner(call: Call) -> Reply:
    return call.api.area(Platform).proxy_runner(call.principal, call.path["heartbeatId"], call.query["path"])


@handles("getBudgetForecast")
def get_budget_forecast(call: Call) -> Reply:
    return call.api.area(Platform).budget_forecast(call.principal, call.query.get("workspaceId"))


@handles("getReleaseStatus")
def get_release_status(call: Call) -> Reply:
    return call.api.area(Platform).release_status(call.principal, call.query)


@handles("triggerRelease")
def trigger_release(call: Call) -> Reply:
    return call.api.area(Platform).trigger_release(call.principal, call.body)


@handles("judgeQaCapture")
def judge_qa_capture(call: Call) -> Reply:
    return call.api.area(Platform).judge(call.body)


@handles("getCbmMetrics")
def get_cbm_metrics(call: Call) -> Reply:
    return call.api.area(Platform).cbm_metrics(call.principal, call.query.get("window"), call.query.get("workspace"))
