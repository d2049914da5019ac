"""Lifecycle rules of area cred: the runner's credential lease is exclusive (run by the `lifecycle` suite).

store a secret -> runner A acquires -> runner B is refused -> B's heartbeat is 404 (stolen, with `error`)
-> A's heartbeat renews -> A releases -> B acquires; then B releases and the secret is deleted.
"""

from __future__ import annotations

from contracts.checks.errors import ERROR_BODY_RULE
from contracts.context import AUTH_KEY, Skip, SuiteContext
from contracts.failures import ErrorBodyMalformed, LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule
from contracts.target import Exchange

__all__ = ("credential_lease",)

LEASE = "POST /api/runner/credential-lease"
RULE = "lifecycle.credential-lease"


def _broken(ctx: SuiteContext, expected: str, exchange: Exchange) -> None:
    failure = ServerError if exchange.status == 0 or exchange.status >= 500 else LifecycleRuleBroken
    ctx.fail(failure, RULE, LEASE, expected=expected, exchange=exchange)


@rule(
    RULE,
    suite="lifecycle",
    title="A credential lease is held by one runner at a time until it is released",
    failure=LifecycleRuleBroken,
    hint="Acquire only a free or expired lease; answer another runner's heartbeat 404 and let the holder release.",
)
def credential_lease(ctx: SuiteContext, subject: Subject) -> None:
    value = f"buildd-check-{ctx.uuid()}"
    stored = ctx.send(
        "POST",
        "/api/secrets",
        auth=AUTH_KEY,
        json={"value": value, "purpose": "custom", "label": ctx.workbench.title("lease probe")},
    )
    body = stored.json()
    if stored.status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise Skip(f"could not store a secret to lease: {stored.describe(160)}")
    secret_id = body["id"]
    runner_a, runner_b = f"buildd-check-{ctx.uuid()[:8]}", f"buildd-check-{ctx.uuid()[:8]}"

    def lease(runner: str, action: str) -> Exchange:
        payload = {"credentialId": secret_id, "runnerId": runner, "action": action}
        return ctx.send("POST", "/api/runner/credential-lease", auth=AUTH_KEY, json=payload)

    try:
        first = lease(runner_a, "acquire")
        if first.status != 200 or (first.json() or {}).get("acquired") is not True:
            _broken(ctx, 'runner A: 200 {"acquired": true, "leaseId": ...} for a free lease', first)
        second = lease(runner_b, "acquire")
        if second.status != 200 or (second.json() or {}).get("acquired") is not False:
            _broken(ctx, 'runner B: 200 {"acquired": false} while A holds the lease', second)
        stolen = lease(runner_b, "heartbeat")
        if stolen.status != 404:
            _broken(ctx, "runner B's heartbeat: 404 (it holds no lease)", stolen)
        if not isinstance((stolen.json() or {}).get("error"), str):
            ctx.fail(
                ErrorBodyMalformed,
                ERROR_BODY_RULE,
                LEASE,
                expected='a 4xx body with a string "error"',
                exchange=stolen,
            )
        renewed = lease(runner_a, "heartbeat")
        if renewed.status != 200:
            _broken(ctx, "runner A's heartbeat: 200 (it holds the lease)", renewed)
        lease(runner_a, "release")
        taken = lease(runner_b, "acquire")
        if taken.status != 200 or (taken.json() or {}).get("acquired") is not True:
            _broken(ctx, 'runner B: 200 {"acquired": true} once A released the lease', taken)
    finally:
        lease(runner_b, "release")
        ctx.send("DELETE", "/api/secrets", auth=AUTH_KEY, params={"id": secret_id})


credential_lease.operation = LEASE  # type: ignore[attr-defined]
