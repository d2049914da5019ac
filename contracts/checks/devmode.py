"""Suite `devmode`: does the deployment answer like buildd's `NODE_ENV=development` mocks?

Those mocks answer 200 before any auth check: `{"account": null}` / `{"workspace": null}` for missing
resources, an echo task for any id, `dev-task`-style ids for created resources, and they accept a key
outside the `bld_` + 64 hex format. Each probe below looks for one of these tells.
"""

from __future__ import annotations

from typing import Any

from contracts.context import AUTH_KEY, AUTH_SESSION, Skip, SuiteContext
from contracts.failures import DevelopmentModeDetected
from contracts.plan import looks_like_uuid
from contracts.registry import RULES, rule, suite
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


@rule(
    "devmode.null-for-missing",
    suite=SUITE,
    title="A missing resource is 404, not 200 with null (or an echo)",
    failure=DevelopmentModeDetected,
)
def null_for_missing(ctx: SuiteContext) -> list[tuple[str, Any]]:
    probes: list[tuple[str, Any]] = []
    session = AUTH_SESSION if ctx.credentials.session_cookie else None
    for path, envelope, label in (
        ("/api/accounts/{id}", "account", "GET /api/accounts/{id}"),
        ("/api/workspaces/{id}", "workspace", "GET /api/workspaces/{id}"),
    ):

        def check(path: str = path, envelope: str = envelope, label: str = label) -> None:
            exchange = ctx.send("GET", path.replace("{id}", ctx.uuid()), auth=session)
            body = exchange.json()
            if exchange.status == 200 and isinstance(body, dict) and body.get(envelope) is None:
                _dev(
                    ctx,
                    "devmode.null-for-missing",
                    label,
                    "404 (or 401 without a session)",
                    exchange,
                    f"200 with {envelope}: null",
                )
            if exchange.status == 200:
                _dev(
                    ctx,
                    "devmode.null-for-missing",
                    label,
                    "404 (or 401 without a session)",
                    exchange,
                    "200 for an id that exists nowhere",
                )

        probes.append((label, check))

    def task_echo() -> None:
        missing = ctx.uuid()
        exchange = ctx.send("GET", f"/api/tasks/{missing}", auth=AUTH_KEY)
        if exchange.status == 200:
            body = exchange.json()
            tell = (
                "echoes the id as a task"
                if isinstance(body, dict) and body.get("id") == missing
                else "200 for an id that exists nowhere"
            )
            _dev(ctx, "devmode.null-for-missing", "GET /api/tasks/{id}", "404 Task not found", exchange, tell)

    probes.append(("GET /api/tasks/{id}", task_echo))
    return probes


@rule("devmode.non-uuid-id", suite=SUITE, title="Ids are UUIDs (no `dev-task`)", failure=DevelopmentModeDetected)
def non_uuid_id(ctx: SuiteContext) -> list[tuple[str, Any]]:
    def created() -> None:
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

    def non_uuid_path() -> None:
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

    return [("POST /api/tasks", created), ("GET /api/tasks/{id}", non_uuid_path)]


@rule(
    "devmode.dev-key-accepted",
    suite=SUITE,
    title="The development key `bld_dev_key_123` is refused",
    failure=DevelopmentModeDetected,
)
def dev_key_accepted(ctx: SuiteContext) -> list[tuple[str, Any]]:
    probes = []
    for path, label in (("/api/accounts/me", "GET /api/accounts/me"), ("/api/workers/mine", "GET /api/workers/mine")):

        def check(path: str = path, label: str = label) -> None:
            exchange = ctx.send("GET", path, auth={"Authorization": f"Bearer {DEV_KEY}"})
            if exchange.status != 401:
                _dev(
                    ctx,
                    "devmode.dev-key-accepted",
                    label,
                    "401 for a key outside bld_ + 64 hex",
                    exchange,
                    f"{DEV_KEY} not refused",
                )

        probes.append((label, check))
    return probes


@rule(
    "devmode.unauthenticated-200",
    suite=SUITE,
    title="Unauthenticated list requests are not answered 200",
    failure=DevelopmentModeDetected,
)
def unauthenticated_200(ctx: SuiteContext) -> list[tuple[str, Any]]:
    probes = []
    for path in ("/api/accounts", "/api/workspaces", "/api/tasks"):
        label = f"GET {path}"

        def check(path: str = path, label: str = label) -> None:
            exchange = ctx.send("GET", path, auth=None)
            if exchange.status == 200:
                _dev(
                    ctx,
                    "devmode.unauthenticated-200",
                    label,
                    "401 without credentials",
                    exchange,
                    "answered without credentials",
                )

        probes.append((label, check))
    return probes


@suite("devmode", title="Development-mode detector", order=60, needs=())
def run_devmode(ctx: SuiteContext) -> None:
    """Flags a deployment that answers like the real server's NODE_ENV=development mocks."""
    planned = [
        (r.id, label, check)
        for r in RULES
        if r.suite == SUITE and r.check
        for label, check in r.check(ctx)
        if ctx.selected(label)
    ]
    ctx.progress.total(len(planned))
    for rule_id, label, check in planned:
        with ctx.checking(rule_id, label):
            if ctx.credentials.key is None and rule_id in ("devmode.non-uuid-id",):
                raise Skip("needs --key")
            check()
        ctx.progress.advance()
