"""Webhooks end to end over real HTTP (a mock served on a free 127.0.0.1 port): a signed Linear delivery creates the
task the real route creates, and a bad signature changes nothing; the workspace's outgoing webhook gets every new
task (from a delivery or from the dashboard), recorded instead of sent and read back through `/__mock`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import pytest

from tests.mockserver.areas.served import Served

ADA = "ada@acme.example"
ISSUE = {
    "id": "lin-served-1",
    "title": "Fix the login redirect",
    "url": "https://linear.app/acme/issue/ENG-7",
    "labels": [{"name": "buildd"}],
}


def _workspace_id(mock: Served) -> str:
    return str(mock.get("/api/workspaces", as_user=ADA).json()["workspaces"][0]["id"])


def _now_ms(mock: Served) -> int:
    now = mock.get("/__mock/clock").json()["now"]
    return int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() * 1000)


def _delivery(mock: Served, **data: Any) -> bytes:
    payload = {"action": "create", "type": "Issue", "data": {**ISSUE, **data}, "webhookTimestamp": _now_ms(mock)}
    return json.dumps(payload).encode()


def _linear(mock: Served, workspace_id: str, raw: bytes, signature: str | None) -> Any:
    headers = {"content-type": "application/json", **({"linear-signature": signature} if signature else {})}
    return mock.post(f"/api/webhooks/linear/{workspace_id}", content=raw, headers=headers)


def _sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _secret(mock: Served, workspace_id: str) -> str:
    return str(mock.get("/__mock/webhook-secrets", params={"workspaceId": workspace_id}).json()["linear"])


def _task_ids(mock: Served, workspace_id: str) -> set[str]:
    listed = mock.get("/api/tasks", params={"workspaceId": workspace_id, "limit": 100}, as_user=ADA).json()["tasks"]
    return {t["id"] for t in listed}


def test_a_signed_linear_delivery_creates_the_task_the_real_route_creates(mock: Served) -> None:
    workspace_id = _workspace_id(mock)
    before = _task_ids(mock, workspace_id)
    raw = _delivery(mock)
    created = _linear(mock, workspace_id, raw, _sign(_secret(mock, workspace_id), raw))
    assert created.status_code == 200, created.text
    assert created.json()["ok"] is True and created.json()["action"] == "created"
    task_id = created.json()["taskId"]
    assert _task_ids(mock, workspace_id) == before | {task_id}

    task = mock.get(f"/api/tasks/{task_id}", as_user=ADA).json()
    assert {k: task.get(k) for k in ("title", "description", "status", "creationSource", "workspaceId")} == {
        "title": ISSUE["title"],
        "description": f"Imported from Linear: {ISSUE['url']}",
        "status": "pending",
        "creationSource": "webhook",
        "workspaceId": workspace_id,
    }
    # announced like any new task, so runners waiting on the workspace channel claim it
    events = mock.get("/__mock/events", params={"limit": 50}).json()["events"]
    assert any(e["event"] == "task:created" and e["data"]["task"]["id"] == task_id for e in events), events

    again = _linear(mock, workspace_id, raw, _sign(_secret(mock, workspace_id), raw))
    assert again.json() == {"ok": True, "action": "exists", "taskId": task_id}  # a redelivery creates nothing
    assert _task_ids(mock, workspace_id) == before | {task_id}


@pytest.mark.parametrize("how", ["unsigned", "another workspace's secret", "a tampered body"])
def test_a_badly_signed_linear_delivery_is_refused_and_creates_nothing(mock: Served, how: str) -> None:
    workspace_id = _workspace_id(mock)
    before = _task_ids(mock, workspace_id)
    raw = _delivery(mock)
    signature = {
        "unsigned": None,
        "another workspace's secret": _sign(_secret(mock, "another-workspace"), raw),
        "a tampered body": _sign(_secret(mock, workspace_id), _delivery(mock, title="Something else")),
    }[how]
    refused = _linear(mock, workspace_id, raw, signature)
    assert (refused.status_code, refused.json()) == (401, {"error": "Invalid signature"})
    assert _task_ids(mock, workspace_id) == before
    assert mock.get("/__mock/webhook-deliveries", params={"workspaceId": workspace_id}).json()["deliveries"] == []


def test_the_outgoing_webhook_gets_every_new_task_recorded_through_the_control_api(mock: Served) -> None:
    workspace_id = _workspace_id(mock)
    hook = {"url": "http://127.0.0.1:9/hooks/agent", "token": "hook-token", "enabled": True}
    saved = mock.post(f"/api/workspaces/{workspace_id}/webhook", json=hook, as_user=ADA)
    assert saved.status_code == 200, saved.text
    assert mock.post(f"/api/workspaces/{workspace_id}/webhook/test", json=hook, as_user=ADA).status_code == 200

    raw = _delivery(mock)
    from_linear = _linear(mock, workspace_id, raw, _sign(_secret(mock, workspace_id), raw)).json()["taskId"]
    from_dashboard = mock.post(
        "/api/tasks", json={"title": "Typed in the dashboard", "workspaceId": workspace_id}, as_user=ADA
    )
    assert from_dashboard.status_code in (200, 201), from_dashboard.text

    deliveries = mock.get("/__mock/webhook-deliveries", params={"workspaceId": workspace_id}).json()["deliveries"]
    assert [d["event"] for d in deliveries] == ["test", "task.created", "task.created"]
    test, *created = deliveries
    assert test["url"] == "http://127.0.0.1:9/hooks/wake"  # the test pings the wake endpoint beside the agent hook
    for delivery, task_id in zip(created, (from_linear, from_dashboard.json()["id"]), strict=True):
        assert delivery["url"] == hook["url"] and delivery["headers"]["Authorization"] == "Bearer hook-token"
        assert delivery["body"]["sessionKey"] == f"buildd-{task_id}"
        assert f"Task ID: {task_id}" in delivery["body"]["message"]

    # switched off, the next task goes nowhere
    mock.post(f"/api/workspaces/{workspace_id}/webhook", json={**hook, "enabled": False}, as_user=ADA)
    mock.post("/api/tasks", json={"title": "Quiet", "workspaceId": workspace_id}, as_user=ADA)
    assert len(mock.get("/__mock/webhook-deliveries", params={"workspaceId": workspace_id}).json()["deliveries"]) == 3


def test_a_signed_github_delivery_is_acted_on_and_a_forged_one_is_refused(mock: Served) -> None:
    secret = "mock-github-webhook-secret"  # the App's webhook secret on the mock (the operation's description)
    raw = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    headers = {"content-type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1"}
    signed = mock.post(
        "/api/github/webhook", content=raw, headers={**headers, "X-Hub-Signature-256": "sha256=" + _sign(secret, raw)}
    )
    assert (signed.status_code, signed.json()) == (200, {"ok": True})
    forged = mock.post(
        "/api/github/webhook", content=raw, headers={**headers, "X-Hub-Signature-256": "sha256=" + _sign("x", raw)}
    )
    assert forged.status_code == 401 and isinstance(forged.json()["error"], str)
