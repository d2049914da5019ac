"""Suite `lifecycle`: a task and its worker move through the documented statuses, and claims are exclusive.

    create task (pending) -> claim with taskId (assigned, a worker of ours) -> PATCH running (in_progress)
    -> PATCH progress -> PATCH completed (completed) -> PATCH again: 409 {"abort": true}, task still completed

Then: a claim with `maxTasks: 1` in a scratch workspace holding two of our tasks returns at most one worker, and
two claimers racing for one task never both get it. Last, schemathesis' state machine follows the spec's
links (create -> read/update/claim/delete ...) with a small budget. Everything created is tagged and deleted.
Skipped entirely under --read-only.
"""

from __future__ import annotations

import threading
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings

from contracts.context import AUTH_KEY, Skip, SuiteContext
from contracts.failures import (
    ContractFailure,
    DoubleClaim,
    ErrorBodyMalformed,
    LifecycleRuleBroken,
    ServerError,
    UndocumentedStatus,
)
from contracts.plan import looks_like_uuid
from contracts.registry import RULES, Subject, declare, rule, suite
from contracts.target import Exchange
from contracts.workbench import WorkbenchError

SUITE = "lifecycle"
CREATE, CLAIM, WORKER = "POST /api/tasks", "POST /api/workers/claim", "PATCH /api/workers/{id}"
LINKS_RULE = "lifecycle.links"

declare(
    LINKS_RULE,
    suite=SUITE,
    title="Following the spec's links (state machine) breaks no check",
    failure=LifecycleRuleBroken,
)


class Flow:
    """State shared by the steps of the main flow; a step that cannot run skips with the reason."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self.task: dict[str, Any] | None = None
        self.worker: dict[str, Any] | None = None
        self.blocked: str | None = None
        self.workspace: str | None = None
        self.scratch = False

    def prepare(self) -> None:
        """A scratch workspace of our own (no other pending tasks, no repo cap), else the key's workspace."""
        wb = self.ctx.workbench
        try:
            if not self.ctx.credentials.session_cookie:
                raise WorkbenchError("deleting it afterwards needs --session-cookie")
            self.workspace = str(wb.create_workspace("lifecycle scratch")["id"])
            self.scratch = True
        except (WorkbenchError, KeyError) as exc:
            self.ctx.recorder.note(SUITE, f"no scratch workspace ({exc}); using the key's workspace")
            try:
                self.workspace = wb.workspace_id()
            except WorkbenchError as inner:
                self.blocked = str(inner)

    def need(self, what: str) -> None:
        if self.blocked:
            raise Skip(self.blocked)
        if getattr(self, what) is None:
            raise Skip(f"no {what} from the previous step")

    def task_status(self) -> tuple[str | None, Exchange]:
        assert self.task is not None
        exchange = self.ctx.send("GET", f"/api/tasks/{self.task['id']}")
        body = exchange.json()
        return (body.get("status") if exchange.status == 200 and isinstance(body, dict) else None), exchange

    def patch(self, body: dict[str, Any]) -> Exchange:
        assert self.worker is not None
        return self.ctx.send("PATCH", f"/api/workers/{self.worker['id']}", json=body)


def _limited(flow: Flow, exchange: Exchange) -> None:
    """A 429 (an account limit) is a legitimate answer: the rule cannot be verified now."""
    if exchange.status == 429:
        body = exchange.json()
        detail = f"limit {body.get('limit')}, current {body.get('current')}" if isinstance(body, dict) else ""
        raise Skip(f"the key's account is at a limit (429 {detail}); free a worker slot and rerun")


def _broken(
    ctx: SuiteContext, rule_id: str, op: str, expected: str, exchange: Exchange, actual: str | None = None
) -> None:
    if exchange.status == 0 or exchange.status >= 500:
        ctx.fail(ServerError, rule_id, op, expected=expected, exchange=exchange)
    ctx.fail(LifecycleRuleBroken, rule_id, op, expected=expected, exchange=exchange, actual=actual)


def _expect_task(ctx: SuiteContext, flow: Flow, rule_id: str, op: str, status: str) -> None:
    actual, exchange = flow.task_status()
    if actual != status:
        _broken(
            ctx,
            rule_id,
            op,
            f"the task's status becomes {status!r}",
            exchange,
            f"task status {actual!r}: {exchange.describe(200)}",
        )


@rule(
    "lifecycle.create-pending",
    suite=SUITE,
    title="A created task is pending with a UUID id",
    failure=LifecycleRuleBroken,
)
def create_pending(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    if flow.blocked:
        raise Skip(flow.blocked)
    try:
        flow.task = ctx.workbench.create_task("lifecycle", workspace_id=flow.workspace)
    except WorkbenchError as exc:
        flow.blocked = f"creating a task failed: {exc}"
        if exc.exchange is not None:
            _broken(ctx, "lifecycle.create-pending", CREATE, "200 with the new pending task", exc.exchange)
        raise Skip(flow.blocked) from None
    if flow.task.get("status") != "pending" or not looks_like_uuid(flow.task.get("id")):
        ctx.fail(
            LifecycleRuleBroken,
            "lifecycle.create-pending",
            CREATE,
            expected="status 'pending' and a UUID id",
            actual=f"status {flow.task.get('status')!r}, id {flow.task.get('id')!r}",
        )


@rule(
    "lifecycle.claim-assigns",
    suite=SUITE,
    title="Claiming with taskId gives that task, now assigned",
    failure=LifecycleRuleBroken,
)
def claim_assigns(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    flow.need("task")
    assert flow.task is not None
    exchange = ctx.workbench.claim(flow.task["id"], workspace_id=flow.task.get("workspaceId"))
    _limited(flow, exchange)
    body = exchange.json()
    workers = body.get("workers") if exchange.status == 200 and isinstance(body, dict) else None
    if not isinstance(workers, list):
        _broken(ctx, "lifecycle.claim-assigns", CLAIM, '200 {"workers": [...]}', exchange)
    mine = [w for w in workers or [] if isinstance(w, dict) and w.get("taskId") == flow.task["id"]]
    if not mine:
        reason = (body.get("diagnostics") or {}).get("reason") if isinstance(body, dict) else None
        if reason in _CANNOT_CLAIM_NOW:
            # the server's own excuse is evidence only when the account's state confirms it
            _verify_held_back(ctx, str(reason), exchange)
            flow.blocked = f"the claim was held back (diagnostics.reason={reason}, confirmed); free a slot and rerun"
            raise Skip(flow.blocked)
        _broken(ctx, "lifecycle.claim-assigns", CLAIM, "one worker for the pending task named by taskId", exchange)
    flow.worker = mine[0]
    _expect_task(ctx, flow, "lifecycle.claim-assigns", CLAIM, "assigned")


@rule(
    "lifecycle.running",
    suite=SUITE,
    title="Worker `running` moves the task to in_progress",
    failure=LifecycleRuleBroken,
)
def running(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    flow.need("worker")
    exchange = flow.patch({"status": "running", "currentAction": "buildd-check lifecycle"})
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or body.get("status") != "running":
        _broken(ctx, "lifecycle.running", WORKER, "200 with the worker now 'running'", exchange)
    _expect_task(ctx, flow, "lifecycle.running", WORKER, "in_progress")


@rule("lifecycle.progress", suite=SUITE, title="A progress update is stored", failure=LifecycleRuleBroken)
def progress(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    flow.need("worker")
    exchange = flow.patch({"progress": 50, "currentAction": "halfway"})
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or body.get("progress") != 50:
        _broken(ctx, "lifecycle.progress", WORKER, "200 with progress 50", exchange)
    _expect_task(ctx, flow, "lifecycle.progress", WORKER, "in_progress")


@rule("lifecycle.completed", suite=SUITE, title="Worker `completed` completes the task", failure=LifecycleRuleBroken)
def completed(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    flow.need("worker")
    exchange = flow.patch({"status": "completed", "progress": 100, "summary": "buildd-check lifecycle done"})
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or body.get("status") != "completed":
        _broken(ctx, "lifecycle.completed", WORKER, "200 with the worker now 'completed'", exchange)
    _expect_task(ctx, flow, "lifecycle.completed", WORKER, "completed")


@rule(
    "lifecycle.terminal-409",
    suite=SUITE,
    title="A PATCH after a terminal status is 409 with abort: true",
    failure=LifecycleRuleBroken,
    hint='Refuse updates of completed/failed workers (except `running`) with 409 {"abort": true, ...}.',
)
def terminal_conflict(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    flow.need("worker")
    exchange = flow.patch({"status": "failed", "error": "buildd-check: update after completion"})
    body = exchange.json()
    if exchange.status != 409 or not isinstance(body, dict) or body.get("abort") is not True:
        _broken(ctx, "lifecycle.terminal-409", WORKER, '409 {"error": ..., "abort": true}', exchange)
    _expect_task(ctx, flow, "lifecycle.terminal-409", WORKER, "completed")


def _scratch_workspace(flow: Flow) -> str:
    if not flow.scratch or flow.workspace is None:
        raise Skip("needs a scratch workspace of its own (a claim without taskId could take a real task)")
    return flow.workspace


def _claim_one_in(ctx: SuiteContext, flow: Flow, rule_id: str, expected: str, seen: str) -> tuple[list[Any], Exchange]:
    """`maxTasks: 1` in our scratch workspace; the workers it gave are finished at once (their slots freed).
    No worker at all is a skip: the rule `seen` needs one to judge."""
    wb = ctx.workbench
    body_sent = {"runner": wb.runner, "workspaceId": flow.workspace, "maxTasks": 1}
    exchange = ctx.send("POST", "/api/workers/claim", json=body_sent)
    wb.track_claim(exchange)
    _limited(flow, exchange)
    body = exchange.json()
    workers = body.get("workers") if exchange.status == 200 and isinstance(body, dict) else None
    if not isinstance(workers, list):
        _broken(ctx, rule_id, CLAIM, expected, exchange)
    for worker in workers or []:
        if isinstance(worker, dict) and worker.get("id"):
            wb.finish_worker(str(worker["id"]))
    if not workers:
        reason = (body.get("diagnostics") or {}).get("reason") if isinstance(body, dict) else None
        raise Skip(f"the claim gave no worker (diagnostics.reason={reason}), so {seen} was never seen")
    return list(workers or []), exchange


@rule(
    "lifecycle.max-tasks",
    suite=SUITE,
    title="A claim returns at most maxTasks workers",
    failure=LifecycleRuleBroken,
    hint="Claim at most min(maxTasks, free slots) tasks per request.",
)
def max_tasks(ctx: SuiteContext, subject: Subject) -> None:
    flow = subject.lifecycle()
    ws = _scratch_workspace(flow)
    for n in (1, 2):
        ctx.workbench.create_task(f"maxTasks {n}", workspace_id=ws)
    workers, exchange = _claim_one_in(ctx, flow, "lifecycle.max-tasks", "200 with at most 1 worker", "a limit of 1")
    if len(workers) > 1:
        _broken(
            ctx, "lifecycle.max-tasks", CLAIM, "at most 1 worker for maxTasks: 1", exchange, f"{len(workers)} workers"
        )


@rule(
    "lifecycle.claim-order",
    suite=SUITE,
    title="A claim without taskId takes the best task: priority first, then the oldest",
    failure=LifecycleRuleBroken,
    hint="Order claim candidates by priority (highest first), then createdAt (oldest first).",
)
def claim_order(ctx: SuiteContext, subject: Subject) -> None:
    """The claim algorithm itself, not a task pinned by `taskId`: in our scratch workspace, a low-priority task
    made first and two higher ones after it; the claim must take the older of the two higher ones. Nothing outside
    our own workspace can be claimed, so this is safe on a shared server."""
    flow = subject.lifecycle()
    ws = _scratch_workspace(flow)
    wb = ctx.workbench
    wb.create_task("claim order: low", workspace_id=ws, priority=0)
    best = wb.create_task("claim order: high, older", workspace_id=ws, priority=5)
    wb.create_task("claim order: high, newer", workspace_id=ws, priority=5)
    workers, exchange = _claim_one_in(
        ctx, flow, "lifecycle.claim-order", "200 with the best task's worker", "the order"
    )
    taken = workers[0].get("taskId") if isinstance(workers[0], dict) else None
    if taken != best.get("id"):
        _broken(
            ctx,
            "lifecycle.claim-order",
            CLAIM,
            f"the older priority-5 task {best.get('id')}",
            exchange,
            f"task {taken}",
        )


@rule(
    "lifecycle.double-claim", suite=SUITE, title="Two concurrent claimers never both get one task", failure=DoubleClaim
)
def double_claim(ctx: SuiteContext, subject: Subject, rounds: int = 3) -> None:
    flow = subject.lifecycle()
    wb = ctx.workbench
    if flow.workspace is None:
        raise Skip(flow.blocked or "no workspace")
    judged = 0
    for n in range(rounds):
        task = wb.create_task(f"race {n + 1}", workspace_id=flow.workspace)
        answers = _race(ctx, task, runners=(f"{wb.runner}-a", f"{wb.runner}-b"))
        winners = []
        for exchange in answers:
            wb.track_claim(exchange)
            if exchange.status == 0 or exchange.status >= 500:
                ctx.fail(
                    ServerError, "lifecycle.double-claim", CLAIM, expected="an answer to each claim", exchange=exchange
                )
            body = exchange.json()
            for worker in (body.get("workers") or []) if isinstance(body, dict) else []:
                if isinstance(worker, dict) and worker.get("taskId") == task["id"]:
                    winners.append((worker, exchange))
        for worker, _ in winners:
            wb.finish_worker(str(worker["id"]))
        judged += 1 if winners else 0
        if len(winners) > 1:
            ctx.fail(
                DoubleClaim,
                "lifecycle.double-claim",
                CLAIM,
                expected="one worker for the task across both claims",
                actual=f"{len(winners)} workers for task {task['id']}: " + ", ".join(str(w["id"]) for w, _ in winners),
                exchange=winners[1][1],
            )
    if not judged:
        raise Skip(f"no claimer won any of {rounds} races, so exclusiveness was never tested")


# answers that say "not now" for reasons outside this run (account or workspace limits)
_CANNOT_CLAIM_NOW = frozenset({"no_slots", "all_candidates_deferred", "budget_exhausted", "budget_exhausted_partial"})
_LIVE = "idle,starting,running,waiting_input"


def _verify_held_back(ctx: SuiteContext, reason: str, claim: Exchange) -> None:
    """Fail when the account's own state contradicts the claim's excuse; return when it is confirmed.

    `no_slots` is checked against `GET /api/accounts/me` (maxConcurrentWorkers) and the key's live workers
    (`GET /api/workers/mine`); the other excuses (budgets, deferrals) cannot be checked from outside, so they
    stay a skip with the reason (which `--fail-on-skip` turns into a failure).
    """
    if reason != "no_slots":
        return
    me, mine = ctx.send("GET", "/api/accounts/me"), ctx.send("GET", "/api/workers/mine", params={"status": _LIVE})
    me_body, mine_body = me.json(), mine.json()
    limit = me_body.get("maxConcurrentWorkers") if isinstance(me_body, dict) else None
    live = mine_body.get("workers") if isinstance(mine_body, dict) else None
    if not isinstance(limit, int) or not isinstance(live, list):
        raise Skip(f"the claim said no_slots and the account's slots could not be read ({me.describe(80)})")
    if len(live) < limit:
        _broken(
            ctx,
            "lifecycle.claim-assigns",
            CLAIM,
            "a worker for the pending task: the account has free worker slots",
            claim,
            f"diagnostics.reason=no_slots with {len(live)} live workers of maxConcurrentWorkers {limit}: "
            + claim.describe(200),
        )


def _race(ctx: SuiteContext, task: dict[str, Any], runners: tuple[str, ...]) -> list[Exchange]:
    """One claim per runner for `task`, released together (a barrier), each on its own connection.

    A race that did not happen (a claimer never reached the barrier, raised, or never came back) is a skip
    with the reason, never a pass.
    """
    barrier = threading.Barrier(len(runners))
    answers: list[Exchange] = []
    problems: list[str] = []
    lock = threading.Lock()

    def claimer(runner: str) -> None:
        try:
            session = ctx.target.new_session()
            body = {"runner": runner, "taskId": task["id"], "workspaceId": task.get("workspaceId"), "maxTasks": 1}
            barrier.wait(timeout=10)
            exchange = ctx.send("POST", "/api/workers/claim", json=body, session=session)
        except threading.BrokenBarrierError:
            with lock:
                problems.append(f"{runner}: the claimers were not released together")
            return
        except Exception as exc:  # noqa: BLE001  (any failure to race is reported as an unjudged race)
            with lock:
                problems.append(f"{runner}: {type(exc).__name__}: {exc}"[:200])
            return
        with lock:
            answers.append(exchange)

    threads = [threading.Thread(target=claimer, args=(runner,), daemon=True) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ctx.options.timeout * 2 + 10)
    with lock:
        hung = [t.name for t in threads if t.is_alive()]
        if hung:
            problems.append(f"{len(hung)} claimer(s) did not finish within {ctx.options.timeout * 2 + 10:.0f}s")
        if problems or len(answers) != len(runners):
            raise Skip("the race did not run: " + "; ".join(problems or ["a claimer gave no answer"]))
        return list(answers)


MAIN_FLOW = (create_pending, claim_assigns, running, progress, completed, terminal_conflict)
CLAIM_RULES = (max_tasks, claim_order, double_claim)


# ---------------------------------------------------------------------------------------- state machine
_LINK_FAILURES: dict[str, type[ContractFailure]] = {
    "not_a_server_error": ServerError,
    "status_code_conformance": UndocumentedStatus,
    "use_after_free": LifecycleRuleBroken,
    "ensure_resource_availability": LifecycleRuleBroken,
}


def run_links(ctx: SuiteContext, tracker: _LinksTracker | None = None) -> None:
    """schemathesis' state machine over the spec's links, a small seeded budget, no shrinking."""
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.core.failures import Failure, FailureGroup

    from contracts.checks.errors import error_body_shape, registered

    load_all_checks()
    from contracts.fuzz import engine_operations, single_line_curl

    operations = [op.operation_id for op in engine_operations(ctx)[0]]
    # only the spec's own links: inferred ones reuse ids seen in responses (the key's account, real workspaces)
    config: dict[str, Any] = {"phases": {"stateful": {"inference": {"algorithms": []}}}}
    schema = ctx.target.schemathesis_schema(ctx.spec, config).include(operation_id=operations)
    checks = [CHECKS.get_one(name) for name in _LINK_FAILURES] + [error_body_shape]
    headers = ctx.credentials.headers(AUTH_KEY)
    if ctx.credentials.session_cookie:
        headers.update(ctx.credentials.headers("session"))
    secrets = ctx.secrets
    recorder = ctx.recorder
    target = ctx.target

    walks = [0]

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            walks[0] += 1

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": dict(headers), "timeout": ctx.options.timeout}

        def call(self, case: Any, **kwargs: Any) -> Any:
            if target.limiter:
                target.limiter.acquire()
            target.count()
            if tracker is not None:
                tracker.current = case.operation.label
            return super().call(case, **kwargs)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            label = case.operation.label
            try:
                case.validate_response(response, checks=checks, headers=headers, recorder=self.recorder)
            except FailureGroup as group:
                found = list(group.exceptions)
            except Failure as failure:
                found = [failure]
            else:
                recorder.passed(SUITE, LINKS_RULE, label)
                return
            curl = secrets.mask(single_line_curl(case.as_curl_command(headers=headers)))
            for found_failure in found:
                recorder.failed(SUITE, _link_failure(found_failure, label, curl, secrets))

    ctx.guard.bind(schema)
    budget = ctx.options.state_machine_examples
    try:
        with registered():
            for _ in range(budget):  # bounded: each run walks at least once before it can fail
                try:
                    _walk(hypothesis.seed(ctx.rng.getrandbits(63))(Links), budget - walks[0])
                except hypothesis.errors.Flaky as exc:
                    # hypothesis replays choice prefixes of earlier walks; against a stateful server the bundles
                    # those draws came from differ. Not the server's fault: go on with a fresh run for the rest.
                    recorder.note(SUITE, f"links: a fresh run after walk {walks[0]} ({type(exc).__name__})")
                    if walks[0] < budget:
                        continue
                break
    finally:
        ctx.guard.unbind(schema)


def _walk(machine: Any, walks: int) -> None:
    """Seeded walks of the links state machine, a small budget, no shrinking."""
    machine.run(
        settings=settings(
            max_examples=max(1, walks),
            stateful_step_count=6,
            deadline=None,
            derandomize=False,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
    )


def _link_failure(failure: Any, label: str, curl: str, secrets: Any) -> ContractFailure:
    if isinstance(failure, ContractFailure):
        failure.rule = LINKS_RULE if not isinstance(failure, ErrorBodyMalformed) else failure.rule
        failure.request = curl
        return failure
    kind = next((cls for name, cls in _LINK_FAILURES.items() if name in " ".join(getattr(failure, "checks", ()))), None)
    kind = kind or LifecycleRuleBroken
    detail = " ".join(line.strip() for line in (failure.message or "").splitlines() if line.strip())
    return kind(
        rule=LINKS_RULE,
        operation=failure.operation or label,
        expected="every check passes along the spec's links",
        actual=secrets.mask(f"{failure.title}: {detail}"[:600]),
        request=curl,
    )


# ---------------------------------------------------------------------------------------- suite
@suite("lifecycle", title="Task and worker lifecycle", order=50, needs=("key",), mutates=True)
def run_lifecycle(ctx: SuiteContext) -> None:
    """create -> claim -> running -> progress -> completed -> 409; maxTasks; no double claims; links."""
    steps: list[tuple[str, str, Any]] = [(f.rule_id, _op_of(f), f) for f in (*MAIN_FLOW, *CLAIM_RULES)]  # type: ignore[attr-defined]
    steps += _area_steps()
    ctx.progress.total(len(steps) + 1)
    if ctx.options.read_only:
        for rule_id, op, _ in steps:
            ctx.skip(rule_id, op, "the lifecycle suite writes; skipped under --read-only")
        ctx.skip(LINKS_RULE, "(state machine)", "the lifecycle suite writes; skipped under --read-only")
        ctx.progress.advance(len(steps) + 1)
        return
    flow = Flow(ctx)
    flow.prepare()
    for rule_id, op, check in steps:
        with ctx.checking(rule_id, op):
            try:
                check(ctx, Subject(op, flow=flow))
            except WorkbenchError as exc:
                if exc.exchange is not None and (exc.exchange.status == 0 or exc.exchange.status >= 500):
                    ctx.fail(ServerError, rule_id, op, expected="a setup request answered", exchange=exc.exchange)
                raise Skip(f"setup failed: {exc}") from None
        ctx.progress.advance()
    tracker = _LinksTracker()
    try:
        run_links(ctx, tracker)
    except hypothesis.errors.Flaky as exc:
        # hypothesis replays a walk and draws from bundles the server's answers filled: against a server whose state
        # moved on the draws differ. That is the harness's limit, not the step's fault (it was reported as a 500).
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        ctx.skip(
            LINKS_RULE,
            tracker.current or "(state machine)",
            f"hypothesis could not replay a walk ({type(exc).__name__}: {first}); rerun with another --seed",
        )
    except Exception as exc:  # a dropped connection or a crash mid-machine is a finding, never a note
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        if tracker.current is None:
            ctx.skip(LINKS_RULE, "(state machine)", f"the state machine could not start: {detail}")
        else:
            ctx.recorder.failed(
                SUITE,
                ServerError(
                    rule=LINKS_RULE,
                    operation=tracker.current,
                    expected="an HTTP answer to every step along the spec's links",
                    actual=ctx.secrets.mask(f"the step failed with {detail}"),
                ),
            )
    ctx.progress.advance()


class _LinksTracker:
    """The operation the state machine is calling (names the culprit when a step blows up)."""

    def __init__(self) -> None:
        self.current: str | None = None


def _area_steps() -> list[tuple[str, str, Any]]:
    """The lifecycle rules of the API areas (`contracts/checks/<area>.py`, every module imported by the package):
    `@rule(..., suite="lifecycle")` checks taking `(ctx, flow)` that name the operation they judge in an `operation` attribute; run after the
    claim rules, in rule-id order."""
    known = {f.rule_id for f in (*MAIN_FLOW, *CLAIM_RULES)}  # type: ignore[attr-defined]
    area = [r for r in RULES if r.suite == SUITE and r.check is not None and r.id not in known]
    return [(r.id, str(getattr(r.check, "operation", r.id)), r.check) for r in sorted(area, key=lambda r: r.id)]


def _op_of(fn: Any) -> str:
    return {
        "lifecycle.create-pending": CREATE,
        "lifecycle.claim-assigns": CLAIM,
        "lifecycle.max-tasks": CLAIM,
        "lifecycle.claim-order": CLAIM,
        "lifecycle.double-claim": CLAIM,
    }.get(fn.rule_id, getattr(fn, "operation", WORKER))
