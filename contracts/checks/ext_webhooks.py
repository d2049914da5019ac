"""Lifecycle rule `lifecycle.webhook-signature`: an incoming webhook without a valid signature changes nothing.

Linear's webhook (`POST /api/webhooks/linear/{workspaceId}`) is public: its HMAC signature over the raw body is
the only thing that authenticates a delivery. The rule sends a well-formed, labelled issue for the key's
workspace twice, once unsigned and once with a wrong signature; both must be refused with 401 (a server that
accepts either lets anyone who knows a workspace id create tasks in it). Runs inside the lifecycle suite (it
writes if the server is broken), so it is skipped under --read-only.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.context import Skip, SuiteContext
from contracts.failures import LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule
from contracts.workbench import WorkbenchError

__all__ = ("webhook_signature",)

OPERATION = "POST /api/webhooks/linear/{workspaceId}"


def _delivery(tag: str) -> bytes:
    issue = {
        "id": f"buildd-check-{tag}",
        "title": f"buildd-check unsigned delivery {tag}",
        "labels": [{"name": "buildd"}],
    }
    return json.dumps({"action": "create", "type": "Issue", "data": issue}).encode()


@rule(
    "lifecycle.webhook-signature",
    suite="lifecycle",
    title="An unsigned or badly signed incoming webhook is refused (401) and creates nothing",
    failure=LifecycleRuleBroken,
    hint="verify the HMAC-SHA256 of the raw body against the workspace's signing secret before acting.",
)
def webhook_signature(ctx: SuiteContext, subject: Subject) -> None:
    try:
        workspace = ctx.workbench.workspace_id()
    except WorkbenchError as exc:
        raise Skip(f"no workspace to deliver to: {exc}") from None
    path = f"/api/webhooks/linear/{workspace}"
    probes: list[tuple[str, dict[str, Any]]] = [
        ("unsigned", {}),
        ("badly signed", {"linear-signature": "0" * 64}),
    ]
    for what, signature in probes:
        exchange = ctx.send(
            "POST",
            path,
            auth=None,
            headers={"content-type": "application/json", **signature},
            content=_delivery(what.replace(" ", "-")),
        )
        if exchange.status == 0 or exchange.status >= 500:
            ctx.fail(ServerError, "lifecycle.webhook-signature", OPERATION, expected="401", exchange=exchange)
        if exchange.status != 401:
            ctx.fail(
                LifecycleRuleBroken,
                "lifecycle.webhook-signature",
                OPERATION,
                expected=f"401 for an {what} delivery",
                exchange=exchange,
                actual=f"{what} delivery answered {exchange.status}",
            )


webhook_signature.operation = OPERATION  # type: ignore[attr-defined]
