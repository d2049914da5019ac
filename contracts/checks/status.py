"""Suite `status`: documented statuses, `{"error": ...}` bodies, 400 for broken input, never a 5xx.

Generated part (schemathesis engine, positive and negative data): `not_a_server_error`,
`status_code_conformance`, `negative_data_rejection`, our `error_body_shape` and our `valid_data_accepted`
(positive data is not refused unless the operation documents `x-business-rules`). Probe part, one request per
operation with a JSON body: a syntactically broken body and a body with every field of the wrong type must both
get 400 (404 is accepted when the resource in the path does not exist).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.checks.acceptance import EXPECTED as VALID_EXPECTED
from contracts.checks.acceptance import VALID_INPUT_RULE
from contracts.checks.errors import ERROR_BODY_RULE, EXPECTED, error_body_problem
from contracts.context import Skip, SuiteContext
from contracts.failures import (
    ErrorBodyMalformed,
    InvalidInputAccepted,
    ServerError,
    UndocumentedStatus,
    ValidInputRefused,
)
from contracts.plan import INVALID_JSON, example_body, wrong_types
from contracts.registry import RULES, EngineRule, Subject, declare, rule, suite
from contracts.target import Exchange

if TYPE_CHECKING:
    from contracts.spec import Operation

SUITE = "status"
REJECTED = '400 {"error": ...} (or 404 when the path names a missing resource)'

declare("status.server-error", suite=SUITE, title="No 5xx for generated requests", failure=ServerError)
declare(
    "status.documented", suite=SUITE, title="Every status is documented for its operation", failure=UndocumentedStatus
)
declare(
    "status.invalid-input", suite=SUITE, title="Schema-violating requests are rejected", failure=InvalidInputAccepted
)

ENGINE = {
    "not_a_server_error": EngineRule("status.server-error", ServerError, "a non-5xx answer"),
    "status_code_conformance": EngineRule(
        "status.documented", UndocumentedStatus, "one of the documented statuses ({documented})"
    ),
    "negative_data_rejection": EngineRule(
        "status.invalid-input", InvalidInputAccepted, "a 4xx for a request that violates the schema"
    ),
    "error_body_shape": EngineRule(ERROR_BODY_RULE, ErrorBodyMalformed, EXPECTED),
    "valid_data_accepted": EngineRule(VALID_INPUT_RULE, ValidInputRefused, VALID_EXPECTED),
}


def expect_rejected(ctx: SuiteContext, rule_id: str, op: Operation, exchange: Exchange) -> None:
    if exchange.status == 0 or exchange.status >= 500:
        ctx.fail(ServerError, rule_id, op.label, expected=REJECTED, exchange=exchange)
    # 404 only means "the resource in the path does not exist" when the path names one
    accepted = (400, 404) if "{" in op.path else (400,)
    if exchange.status not in accepted:
        failure = UndocumentedStatus if exchange.status not in op.statuses else InvalidInputAccepted
        ctx.fail(failure, rule_id, op.label, expected=REJECTED, exchange=exchange)
    problem = error_body_problem(exchange.status, exchange.content_type, exchange.body)
    if problem:
        ctx.fail(ErrorBodyMalformed, rule_id, op.label, expected=REJECTED, exchange=exchange, actual=problem)


@rule(
    "status.invalid-json",
    suite=SUITE,
    title="A body that is not valid JSON → 400",
    failure=InvalidInputAccepted,
    hint='Parse the body inside a try/except and answer 400 {"error": "Invalid JSON"}; never let it become a 500.',
)
def invalid_json(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    exchange = ctx.call(
        plan, auth=ctx.default_auth(op), content=INVALID_JSON, headers={"Content-Type": "application/json"}
    )
    expect_rejected(ctx, "status.invalid-json", op, exchange)


@rule(
    "status.wrong-types",
    suite=SUITE,
    title="A body whose fields have the wrong JSON types → 400",
    failure=InvalidInputAccepted,
    hint="Validate the body against the operation's request schema before using it; answer 400 naming the field.",
)
def wrong_type_body(ctx: SuiteContext, subject: Subject) -> None:
    op, plan = subject.operation()
    broken = wrong_types(example_body(ctx.spec, op, ctx.uuid))
    plan.body = broken
    exchange = ctx.call(plan, auth=ctx.default_auth(op))
    expect_rejected(ctx, "status.wrong-types", op, exchange)


@suite("status", title="Status codes and error bodies", order=20, needs=("key",), engine=ENGINE)
def run_status(ctx: SuiteContext) -> None:
    """Broken JSON and wrong types are 400, never 500 (the generated part runs in the shared engine)."""
    operations = [op for op in ctx.spec.api_operations() if op.body_pointer is not None and ctx.selected(op)]
    rules = [r for r in RULES if r.suite == SUITE and r.check is not None]
    ctx.progress.total(len(operations))
    for op in operations:
        for r in rules:
            with ctx.checking(r.id, op.label):
                if op.is_public and ctx.options.read_only:
                    raise Skip("public write operations are not probed under --read-only")
                assert r.check is not None
                r.check(ctx, Subject(op.label, op, ctx.plan(op)))
        ctx.progress.advance()
