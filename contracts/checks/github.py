"""Suite `github`: the GitHub App's webhook takes only deliveries signed with the App's webhook secret.

`POST /api/github/webhook` is public (GitHub holds no buildd credential); what authenticates a delivery is
`X-Hub-Signature-256`, an HMAC-SHA256 of the raw body under the App's secret. `check` does not know the secret,
so it proves the other half: a harmless `ping` delivery with no signature, and one signed with a wrong secret,
are both refused with 401 and an error body. A server that skips the check would act on anyone's forged
`pull_request` event (merge state, installations).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from contracts.context import SuiteContext
from contracts.failures import AuthNotEnforced
from contracts.registry import Subject, rule, suite

SUITE = "github"
WEBHOOK = "POST /api/github/webhook"
SIGNATURE_RULE = "github.webhook-signature"
_FORGED_SECRET = b"buildd-api-check: not the App's webhook secret"


@rule(
    SIGNATURE_RULE,
    suite=SUITE,
    title="An unsigned or wrongly signed webhook delivery is refused (401)",
    failure=AuthNotEnforced,
    hint=(
        "Verify `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the raw body under the App's webhook secret, "
        'compared in constant time) before parsing the payload; answer 401 {"error": ...} when it is missing or wrong.'
    ),
)
def webhook_signature(ctx: SuiteContext, subject: Subject) -> None:
    raw = json.dumps({"zen": "buildd-api check: this delivery must be refused", "hook_id": 0}).encode()
    forged = "sha256=" + hmac.new(_FORGED_SECRET, raw, hashlib.sha256).hexdigest()
    base = {"content-type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": ctx.uuid()}
    for label, headers in (
        ("without a signature", base),
        ("signed with another secret", {**base, "X-Hub-Signature-256": forged}),
    ):
        exchange = ctx.send("POST", "/api/github/webhook", auth=None, headers=headers, content=raw)
        body = exchange.json()
        if exchange.status != 401 or not isinstance(body, dict) or not isinstance(body.get("error"), str):
            ctx.fail(
                AuthNotEnforced,
                SIGNATURE_RULE,
                WEBHOOK,
                expected=f'401 {{"error": ...}} for a delivery {label}',
                exchange=exchange,
                actual=f"{exchange.describe(200)} for a `ping` delivery {label}",
            )


@suite(SUITE, title="GitHub App webhook", order=55, needs=(), mutates=True)
def run_github(ctx: SuiteContext) -> None:
    """A webhook delivery without a valid `X-Hub-Signature-256` is refused."""
    ctx.progress.total(1)
    op = ctx.spec.find("POST", "/api/github/webhook")
    if op is None or not ctx.selected(op):  # a spec without the webhook: nothing to judge
        ctx.progress.advance()
        return
    if ctx.options.read_only:
        ctx.skip(SIGNATURE_RULE, WEBHOOK, "sends webhook deliveries; skipped under --read-only")
    else:
        with ctx.checking(SIGNATURE_RULE, WEBHOOK):
            webhook_signature(ctx, Subject(WEBHOOK))
    ctx.progress.advance()
