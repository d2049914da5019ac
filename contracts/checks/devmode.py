"""Suite `devmode`: does the deployment answer like buildd's `NODE_ENV=development` mocks?

Those mocks answer 200 before any auth check: `{"account": null}` / `{"workspace": null}` for missing
resources, an echo task for any id, `dev-task`-style ids for created resources, and they accept a key
outside the `bld_` + 64 hex format. Each probe below looks for one of these tells.
"""

from __future__ import annotations

from contracts.context import AUTH_KEY, AUTH_SESSION, Skip, SuiteContext
from contracts.failures import DevelopmentModeDetected
from contracts.plan import looks_like_uuid
from contracts.registry import RULES, Subject, rule, suite
from contracts.target import Exchange

SUITE = "devmode"
DEV_KEY = "bld_dev_key_123"


def _dev(ctx: SuiteContext, rule_id: str, op: str, expected: str, exchange: Exchange, tell: str) -> None:
    ctx.fail(
        DevelopmentModeDetected,
        rule_id,
        op,
        expected=expected,
        exchange=exchange,
        actual=f"{exchange.describe(200)} ({tell})",
    )


# rule id -> the probes it runs, one check call each (the label names the request, as reports show it)
PROBES: dict[str, tuple[str, ...]] = {
    "devmode.null-for-missing": ("GET /api/accounts/{id}", "GET /api/workspaces/{id}", "GET /api/tasks/{id}"),
    "devmode.non-uuid-id": ("POST /api/tasks", "GET /api/tasks/{id}"),
    "devmode.dev-key-accepted": ("GET /api/accounts/me", "GET /api/workers/mine"),
    "devmode.unauthenticated-200": ("GET /api/accounts", "GET /api/workspaces", "GET /api/tasks"),
}
_ENVELOPES = {"GET /api/accounts/{id}": "account", "GET /api/workspaces/{id}": "workspace"}


def _path(label: str) -> str:
    return label.split(" ", 1)[1]


@rule(
    "devmode.null-for-missing",
    suite=SUITE,
    title="A missing resource is 404, not 200 with null (or an echo)",
    failure=DevelopmentModeDetected,
)
def null_for_missing(ctx: SuiteContext, subject: Subject) -> None:
    label = subject.label
    if label == "GET /api/tasks/{id}":
        missing = ctx.uuid()
        exchange = ctx.send("GET", f"/api/tasks/{missing}", auth=AUTH_KEY)
        if exchange.status == 200:
            body = exchange.json()
            tell = (
                "echoes the id as a task"
                if isinstance(body, dict) and body.get("id") == missing
                else "200 for an id that exists nowhere"
            )
            _dev(ctx, "devmode.null-for-missing", label, "404 Task not found", exchange, tell)
        return
    envelope = _ENVELOPES[label]
    session = AUTH_SESSION if ctx.credentials.session_cookie else None
    exchange = ctx.send("GET", _path(label).replace("{id}", ctx.uuid()), auth=session)
    body = exchange.json()
    expected = "404 (or 401 without a session)"
    if exchange.status == 200 and isinstance(body, dict) and body.get(envelope) is None:
        _dev(ctx, "devmode.null-for-missing", label, expected, exchange, f"200 with {envelope}: null")
    if exchange.status == 200:
        _dev(ctx, "devmode.null-for-missing", label, expected, exchange, "200 for an id that exists nowhere")


@rule("devmode.non-uuid-id", suite=SUITE, title="Ids are UUIDs (no `dev-task`)", failure=DevelopmentModeDetected)
def non_uuid_id(ctx: SuiteContext, subject: Subject) -> None:
    if ctx.credentials.key is None:
        raise Skip("needs --key")
    if subject.label == "POST /api/tasks":
        if ctx.options.read_only:
            raise Skip("creates a task; skipped under --read-only")
        body = {"title": ctx.workbench.title("devmode probe")}
        if ctx.credentials.workspace:
            body["workspaceId"] = ctx.workbench.workspace_id()
        exchange = ctx.send("POST", "/api/tasks", auth=AUTH_KEY, json=body)
        created_body = exchange.json()
        ctx.guard.observe("createTask", exchange.status, created_body)
        if exchange.status == 200 and isinstance(created_body, dict) and not looks_like_uuid(created_body.get("id")):
            _dev(ctx, "devmode.non-uuid-id", "POST /api/tasks", "a UUID id", exchange, f"id {created_body.get('id')!r}")
        return
    exchange = ctx.send("GET", "/api/tasks/dev-task", auth=AUTH_KEY)
    if exchange.status == 200:
        _dev(
            ctx,
            "devmode.non-uuid-id",
            "GET /api/tasks/{id}",
            "400 (not a UUID) or 404",
            exchange,
            "a non-UUID id answered 200",
        )


@rule(
    "devmode.dev-key-accepted",
    suite=SUITE,
    title="The development key `bld_dev_key_123` is refused",
    failure=DevelopmentModeDetected,
)
def dev_key_accepted(ctx: SuiteContext, subject: Subject) -> None:
    exchange = ctx.send("GET", _path(subject.label), auth={"Authorization": f"Bearer {DEV_KEY}"})
    if exchange.status != 401:
        expected = "401 for a key outside bld_ + 64 hex"
        _dev(ctx, "devmode.dev-key-accepted", subject.label, expected, exchange, f"{DEV_KEY} not refused")


@rule(
    "devmode.unauthenticated-200",
    suite=SUITE,
    title="Unauthenticated list requests are not answered 200",
    failure=DevelopmentModeDetected,
)
def unauthenticated_200(ctx: SuiteContext, subject: Subject) -> None:
    exchange = ctx.send("GET", _path(subject.label), auth=None)
    if exchange.status == 200:
        expected = "401 without credentials"
        _dev(ctx, "devmode.unauthenticated-200", subject.label, expected, exchange, "answered without credentials")


@suite("devmode", title="Development-mode detector", order=60, needs=())
def run_devmode(ctx: SuiteContext) -> None:
    """Flags a deployment that answers like the real server's NODE_ENV=development mocks."""
    planned = [
        (r.id, label, r.check)
        for r in RULES
        if r.suite == SUITE and r.check is not None
        for label in PROBES[r.id]
        if ctx.selected(label)
    ]
    ctx.progress.total(len(planned))
    for rule_id, label, check in planned:
        with ctx.checking(rule_id, label):
            check(ctx, Subject(label))
        ctx.progress.advance()
