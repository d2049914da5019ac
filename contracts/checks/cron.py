"""Suite `cron`: the platform's scheduled jobs answer only their secret, and a due schedule makes a task.

    every /api/cron/* job without the secret (and with the API key instead) -> 401
    create an every-minute schedule in a workspace of ours -> wait until its nextRunAt (on the mock: move the
    mock's clock there) -> GET /api/cron/schedules with the secret -> the schedule's lastTaskId is a new pending
    task of that schedule

The due-schedule rule needs `--cron-secret` (the deployment's CRON_SECRET): without it, it is skipped with that
reason, since a deployment that does not hand the secret to its testers exposes no way to run its jobs; it is also
skipped under --read-only. The 401 probes need no secret.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from contracts.context import AUTH_KEY, Skip, SuiteContext
from contracts.failures import AuthNotEnforced, LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule, suite
from contracts.target import Exchange
from contracts.workbench import WorkbenchError

SUITE = "cron"
RUN = "GET /api/cron/schedules"
SECRET_RULE, DUE_RULE = "cron.secret-required", "cron.due-schedule-runs"
NO_SECRET = "needs --cron-secret (the deployment's CRON_SECRET) to run its scheduled jobs"
MAX_WAIT_SECONDS = 75  # an every-minute schedule is due within a minute


def _cron_operations(ctx: SuiteContext) -> list[Any]:
    return [op for op in ctx.spec.api_operations() if op.path.startswith("/api/cron/") and ctx.selected(op)]


@rule(
    SECRET_RULE,
    suite=SUITE,
    title="A cron job refuses a request without the cron secret (401)",
    failure=AuthNotEnforced,
    hint="Compare `Authorization: Bearer <token>` with CRON_SECRET before anything else; an API key is not it.",
)
def secret_required(ctx: SuiteContext, subject: Subject) -> None:
    op = subject.op
    assert op is not None
    for auth, what in ((None, "no credentials"), (AUTH_KEY, "the API key instead of the secret")):
        exchange = ctx.send(op.method, op.path, auth=auth)
        if exchange.status != 401:
            failure = ServerError if exchange.status == 0 or exchange.status >= 500 else AuthNotEnforced
            ctx.fail(failure, SECRET_RULE, op.label, expected=f"401 with {what}", exchange=exchange)


def _json(exchange: Exchange) -> dict[str, Any]:
    body = exchange.json()
    return body if isinstance(body, dict) else {}


def _wait_until(ctx: SuiteContext, due: datetime) -> None:
    """Until `due` on the server's clock: the mock's clock is moved there, anyone else's is waited for."""
    clock = ctx.send("GET", "/__mock/clock", auth=None)
    now_text = _json(clock).get("now") if clock.status == 200 else None
    if isinstance(now_text, str):
        ahead = (due - datetime.fromisoformat(now_text.replace("Z", "+00:00"))).total_seconds()
        if ahead > 0:
            ctx.send("POST", "/__mock/clock", auth=None, json={"advanceSeconds": ahead + 1})
        return
    wait = (due - datetime.now(UTC)).total_seconds() + 2
    if wait > MAX_WAIT_SECONDS:
        raise Skip(f"the schedule is due only at {due.isoformat()}: more than {MAX_WAIT_SECONDS}s away")
    time.sleep(max(wait, 0))


@rule(
    DUE_RULE,
    suite=SUITE,
    title="A schedule due on the clock makes a pending task when the schedules job runs",
    failure=LifecycleRuleBroken,
    hint="In the schedules job, create a task from each enabled schedule whose nextRunAt has passed, with "
    "scheduleId set, and record it as the schedule's lastTaskId.",
)
def due_schedule_runs(ctx: SuiteContext, subject: Subject) -> None:
    secret: str = subject.state
    try:
        workspace = ctx.workbench.workspace_id()
        schedule = ctx.workbench.create_schedule(workspace, cron_expression="* * * * *", enabled=True)
    except WorkbenchError as exc:
        raise Skip(f"setup failed: {exc}") from None
    due_text = schedule.get("nextRunAt")
    if not isinstance(due_text, str):
        raise Skip(f"the new schedule has no nextRunAt ({schedule.get('nextRunAt')!r})")
    _wait_until(ctx, datetime.fromisoformat(due_text.replace("Z", "+00:00")))
    run = ctx.send("GET", "/api/cron/schedules", auth={"Authorization": f"Bearer {secret}"})
    if run.status != 200:
        failure = ServerError if run.status == 0 or run.status >= 500 else LifecycleRuleBroken
        ctx.fail(failure, DUE_RULE, RUN, expected="200 from the schedules job with the cron secret", exchange=run)
    path = f"/api/workspaces/{workspace}/schedules/{schedule['id']}"
    after = _json(ctx.send("GET", path)).get("schedule") or {}
    task_id = after.get("lastTaskId")
    if not task_id:
        ctx.fail(
            LifecycleRuleBroken,
            DUE_RULE,
            RUN,
            expected="the due schedule's lastTaskId names the task the run created",
            exchange=run,
            actual=f"lastTaskId {task_id!r}, totalRuns {after.get('totalRuns')!r}: {run.describe(200)}",
        )
    ctx.workbench.track("task", str(task_id))
    task = _json(ctx.send("GET", f"/api/tasks/{task_id}"))
    if task.get("scheduleId") != schedule["id"] or task.get("status") != "pending":
        ctx.fail(
            LifecycleRuleBroken,
            DUE_RULE,
            RUN,
            expected="a pending task with the schedule's id as scheduleId",
            actual=f"task {task_id}: status {task.get('status')!r}, scheduleId {task.get('scheduleId')!r}",
        )


@suite("cron", title="Scheduled jobs (cron secret)", order=55, needs=("key",), mutates=True)
def run_cron(ctx: SuiteContext) -> None:
    """Every cron job answers 401 without its secret; a due schedule makes a task when the schedules job runs."""
    operations = _cron_operations(ctx)
    ctx.progress.total(len(operations) + 1)
    secret = ctx.credentials.cron_secret
    for op in operations:  # refusing without the secret needs no secret to check
        with ctx.checking(SECRET_RULE, op.label):
            secret_required(ctx, Subject(op.label, op=op))
        ctx.progress.advance()
    with ctx.checking(DUE_RULE, RUN):
        if ctx.options.read_only:
            raise Skip("the cron suite writes (a schedule and its task); skipped under --read-only")
        if not secret:
            raise Skip(NO_SECRET)
        due_schedule_runs(ctx, Subject(RUN, state=secret))
    ctx.progress.advance()
