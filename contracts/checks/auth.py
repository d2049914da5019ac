"""Suite `auth`: every secured operation refuses requests without a usable credential, and accepts valid ones.

One request plan per operation (random path ids, its example body — `{}` under --read-only, so a broken
guard can still change nothing), then one probe per rule. A refusal is `401` with `{"error": ...}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks.errors import error_body_problem
from contracts.context import AUTH_KEY, AUTH_SESSION, NotApplicable, Skip, SuiteContext
from contracts.failures import AuthNotEnforced, CredentialRefused, ErrorBodyMalformed, ServerError
from contracts.fuzz import UNDELETABLE_WITHOUT_SESSION
from contracts.registry import RULES, Subject, rule, suite
from contracts.target import Exchange

if TYPE_CHECKING:
    from contracts.spec import Operation

__all__ = ("expect_refused",)

SUITE = "auth"
REFUSED = '401 {"error": "Unauthorized"}'


def expect_refused(ctx: SuiteContext, rule_id: str, op: Operation, exchange: Exchange) -> None:
    """The probe must have been answered 401 with an error body."""
    if exchange.status == 0:
        ctx.fail(ServerError, rule_id, op.label, expected=REFUSED, exchange=exchange)
    if exchange.status != 401:
        ctx.fail(AuthNotEnforced, rule_id, op.label, expected=REFUSED, exchange=exchange)
    problem = error_body_problem(exchange.status, exchange.content_type, exchange.body)
    if problem:
        ctx.fail(ErrorBodyMalformed, rule_id, op.label, expected=REFUSED, exchange=exchange, actual=f"401: {problem}")


@rule("auth.no-credentials", suite=SUITE, title="No credentials → 401", failure=AuthNotEnforced)
def no_credentials(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    expect_refused(ctx, "auth.no-credentials", op, ctx.call(plan, auth=None))


@rule("auth.malformed-key", suite=SUITE, title="A key that is not `bld_` + 64 hex → 401", failure=AuthNotEnforced)
def malformed_key(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    exchange = ctx.call(plan, auth={"Authorization": "Bearer not-a-buildd-key"})
    expect_refused(ctx, "auth.malformed-key", op, exchange)


@rule("auth.unknown-key", suite=SUITE, title="A well-formed key nobody holds → 401", failure=AuthNotEnforced)
def unknown_key(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    exchange = ctx.call(plan, auth={"Authorization": f"Bearer {ctx.random_key()}"})
    expect_refused(ctx, "auth.unknown-key", op, exchange)


@rule(
    "auth.wrong-scheme",
    suite=SUITE,
    title="A valid key after `Token` or lowercase `bearer` → 401",
    failure=AuthNotEnforced,
    hint="Accept only the exact, case-sensitive `Bearer ` prefix before the key.",
)
def wrong_scheme(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    key = ctx.credentials.key
    for word in ("Token", "bearer"):
        exchange = ctx.call(plan, auth={"Authorization": f"{word} {key}"})
        expect_refused(ctx, "auth.wrong-scheme", op, exchange)


@rule(
    "auth.key-on-session-route",
    suite=SUITE,
    title="A valid key on a session-only operation → 401",
    failure=AuthNotEnforced,
    hint="This operation's `security` lists only the dashboard session: ignore API keys here.",
)
def key_on_session_route(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    if op.schemes != frozenset({"session"}):
        raise NotApplicable
    expect_refused(ctx, "auth.key-on-session-route", op, ctx.call(plan, auth=AUTH_KEY))


@rule(
    "auth.session-on-key-route",
    suite=SUITE,
    title="A valid session cookie on a key-only operation → 401",
    failure=AuthNotEnforced,
    hint="This operation's `security` lists only API keys: ignore the session cookie here.",
)
def session_on_key_route(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    if op.schemes != frozenset({"apiKey"}):
        raise NotApplicable
    if not ctx.credentials.session_cookie:
        raise Skip("needs --session-cookie")
    expect_refused(ctx, "auth.session-on-key-route", op, ctx.call(plan, auth=AUTH_SESSION))


@rule("auth.valid-credential", suite=SUITE, title="A valid credential is not answered 401", failure=CredentialRefused)
def valid_credential(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    if (
        ctx.options.read_only
        and op.method != "GET"
        and (not op.body_pointer or ctx.spec.check(op.body_pointer).is_valid({}))
    ):
        # no body to make invalid (none, or `{}` is valid): an accepted credential would run the write itself
        # (e.g. POST /api/tasks/cleanup, POST /api/admin/refresh-model-aliases resetting the aliases)
        raise Skip("a write whose empty body is valid cannot be probed harmlessly under --read-only")
    auth = ctx.default_auth(op)
    exchange = ctx.call(plan, auth=auth)
    if exchange.status == 401:
        which = "key" if auth == AUTH_KEY else "session"
        ctx.fail(
            CredentialRefused,
            "auth.valid-credential",
            op.label,
            expected=f"anything but 401 for a valid {which}",
            exchange=exchange,
        )


@suite("auth", title="Authentication", order=10, needs=("key",))
def run_auth(ctx: SuiteContext) -> None:
    """Every secured operation answers 401 to missing, malformed, unknown and wrong-scheme credentials."""
    operations = [op for op in ctx.spec.api_operations() if not op.is_public and ctx.selected(op)]
    rules = [r for r in RULES if r.suite == SUITE and r.check is not None]
    ctx.progress.total(len(operations))
    for op in operations:
        # a body that cannot succeed where success would change state we may not undo
        harmless = (ctx.options.read_only and op.method != "GET") or (
            op.operation_id in UNDELETABLE_WITHOUT_SESSION and not ctx.credentials.session_cookie
        )
        body: dict[str, Any] | None = {} if harmless and op.body_pointer else None
        plan = ctx.plan(op, body=body)
        for r in rules:
            with ctx.checking(r.id, op.label):
                assert r.check is not None
                r.check(ctx, Subject(op.label, op, plan))
        ctx.progress.advance()
