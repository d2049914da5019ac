"""Signed incoming webhooks create tasks and a bad signature changes nothing; the outgoing webhook's deliveries are
recorded (never sent) and read back through the control API; Slack and Discord check their signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from litestar import Litestar
from litestar.testing import TestClient


@pytest.fixture
def client(mock_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(mock_app) as c:
        yield c


@pytest.fixture
def ada(session_auth: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return session_auth("ada@acme.example")


def workspace_of(client: TestClient[Litestar], auth: dict[str, str]) -> dict[str, Any]:
    return client.get("/api/workspaces", headers=auth).json()["workspaces"][0]  # type: ignore[no-any-return]


def secrets(client: TestClient[Litestar], workspace_id: str | None = None) -> dict[str, Any]:
    params = {"workspaceId": workspace_id} if workspace_id else {}
    return client.get("/__mock/webhook-secrets", params=params).json()  # type: ignore[no-any-return]


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def now_ms(client: TestClient[Litestar]) -> int:
    from datetime import datetime

    return int(
        datetime.fromisoformat(client.get("/__mock/clock").json()["now"].replace("Z", "+00:00")).timestamp() * 1000
    )


def linear_issue(client: TestClient[Litestar], issue_id: str = "lin-1", **extra: Any) -> bytes:
    payload = {
        "action": "create",
        "type": "Issue",
        "data": {
            "id": issue_id,
            "title": "Fix login",
            "url": "https://linear.app/acme/issue/ENG-1",
            "labels": [{"name": "buildd"}],
        },
        "webhookTimestamp": now_ms(client),
        **extra,
    }
    return json.dumps(payload).encode()


def tasks_of(client: TestClient[Litestar], auth: dict[str, str], workspace_id: str) -> list[dict[str, Any]]:
    return client.get("/api/tasks", params={"workspaceId": workspace_id, "limit": 100}, headers=auth).json()["tasks"]


def test_a_signed_linear_issue_creates_one_task(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    secret = secrets(client, workspace["id"])["linear"]
    before = len(tasks_of(client, ada, workspace["id"]))
    raw = linear_issue(client)
    r = client.post(
        f"/api/webhooks/linear/{workspace['id']}",
        content=raw,
        headers={"content-type": "application/json", "linear-signature": sign(secret, raw)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "created"
    task_id = r.json()["taskId"]
    assert client.get(f"/api/tasks/{task_id}", headers=ada).json()["title"] == "Fix login"
    assert len(tasks_of(client, ada, workspace["id"])) == before + 1
    # a redelivery is idempotent on the issue
    again = client.post(
        f"/api/webhooks/linear/{workspace['id']}",
        content=raw,
        headers={"content-type": "application/json", "linear-signature": sign(secret, raw)},
    )
    assert again.json() == {"ok": True, "action": "exists", "taskId": task_id}
    # closing the issue cancels the task
    closed = linear_issue(
        client, action="update", data={"id": "lin-1", "title": "Fix login", "state": {"type": "completed"}}
    )
    r = client.post(
        f"/api/webhooks/linear/{workspace['id']}",
        content=closed,
        headers={"content-type": "application/json", "linear-signature": sign(secret, closed)},
    )
    assert r.json()["action"] == "cancelled"


@pytest.mark.parametrize("signature", [None, "00" * 32, "not-hex"])
def test_a_linear_delivery_without_a_valid_signature_is_refused(
    client: TestClient[Litestar], ada: dict[str, str], signature: str | None
) -> None:
    workspace = workspace_of(client, ada)
    before = len(tasks_of(client, ada, workspace["id"]))
    headers = {"content-type": "application/json", **({"linear-signature": signature} if signature else {})}
    r = client.post(f"/api/webhooks/linear/{workspace['id']}", content=linear_issue(client), headers=headers)
    assert r.status_code == 401 and r.json() == {"error": "Invalid signature"}
    assert len(tasks_of(client, ada, workspace["id"])) == before


def test_another_workspaces_secret_does_not_sign(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    raw = linear_issue(client)
    foreign = secrets(client, "some-other-workspace")["linear"]
    r = client.post(
        f"/api/webhooks/linear/{workspace['id']}",
        content=raw,
        headers={"content-type": "application/json", "linear-signature": sign(foreign, raw)},
    )
    assert r.status_code == 401


def test_a_stale_linear_delivery_is_refused(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    secret = secrets(client, workspace["id"])["linear"]
    raw = linear_issue(client, webhookTimestamp=now_ms(client) - 120_000)
    r = client.post(
        f"/api/webhooks/linear/{workspace['id']}",
        content=raw,
        headers={"content-type": "application/json", "linear-signature": sign(secret, raw)},
    )
    assert r.status_code == 401 and r.json() == {"error": "Stale delivery"}
    assert (
        client.post(
            "/api/webhooks/linear/no-such-workspace", content=raw, headers={"content-type": "application/json"}
        ).status_code
        == 404
    )


def test_the_ingest_hook_needs_its_signature(
    client: TestClient[Litestar], ada: dict[str, str], key_auth: Callable[[str], dict[str, str]]
) -> None:
    workspace = workspace_of(client, ada)
    assert workspace.get("repo"), "the default world's first workspace has a repo"
    secret = secrets(client, workspace["id"])["ingest"]
    payload = {
        "issue": {
            "id": "77",
            "title": "From the tracker",
            "body": "b",
            "state": "open",
            "url": "https://tracker.example/77",
            "labels": [],
        },
        "project": {"id": "p", "name": "web", "repo": workspace["repo"]},
    }
    raw = json.dumps(payload).encode()
    base = {**key_auth("acme-admin"), "content-type": "application/json", "x-webhook-event": "issue.created"}
    bad = client.post("/api/webhooks/ingest", content=raw, headers={**base, "x-webhook-signature": "sha256=00"})
    assert bad.status_code == 403  # the key is valid, the delivery is not
    unsigned = client.post("/api/webhooks/ingest", content=raw, headers=base)
    assert unsigned.status_code == 403
    good = client.post(
        "/api/webhooks/ingest", content=raw, headers={**base, "x-webhook-signature": "sha256=" + sign(secret, raw)}
    )
    assert good.status_code == 200, good.text
    task = client.get(f"/api/tasks/{good.json()['taskId']}", headers=ada).json()
    assert task["title"] == "From the tracker" and task["creationSource"] == "webhook"
    no_event = client.post(
        "/api/webhooks/ingest", content=raw, headers={**key_auth("acme-admin"), "content-type": "application/json"}
    )
    assert no_event.status_code == 400


def test_outgoing_deliveries_are_recorded_not_sent(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    ws = workspace["id"]
    saved = client.post(
        f"/api/workspaces/{ws}/webhook",
        headers=ada,
        json={"url": "http://127.0.0.1:9/hooks/agent", "token": "t0k", "enabled": True},
    )
    assert saved.status_code == 200 and saved.json()["webhookConfig"]["enabled"] is True
    test = client.post(
        f"/api/workspaces/{ws}/webhook/test",
        headers=ada,
        json={"url": "http://127.0.0.1:9/hooks/agent", "token": "t0k"},
    )
    assert test.status_code == 200 and test.json() == {"message": "Connection successful"}
    assert client.post(f"/api/workspaces/{ws}/webhook/test", headers=ada, json={}).status_code == 400

    # a task created by a signed Linear delivery goes to the enabled webhook too
    raw = linear_issue(client, issue_id="lin-dispatch")
    secret = secrets(client, ws)["linear"]
    created = client.post(
        f"/api/webhooks/linear/{ws}",
        content=raw,
        headers={"content-type": "application/json", "linear-signature": sign(secret, raw)},
    )
    deliveries = client.get("/__mock/webhook-deliveries", params={"workspaceId": ws}).json()["deliveries"]
    assert [d["event"] for d in deliveries] == ["test", "task.created"]
    assert deliveries[0]["url"] == "http://127.0.0.1:9/hooks/wake"
    assert deliveries[0]["headers"]["Authorization"] == "Bearer t0k"
    assert deliveries[1]["body"]["sessionKey"] == f"buildd-{created.json()['taskId']}"
    assert client.get("/__mock/webhook-deliveries", params={"limit": 1}).json()["deliveries"] == deliveries[-1:]

    cleared = client.post(f"/api/workspaces/{ws}/webhook", headers=ada, json={})
    assert cleared.json() == {"success": True, "webhookConfig": None}


def test_slack_commands_need_a_signature(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    ws = workspace["id"]
    patched = client.patch(
        f"/api/workspaces/{ws}/integrations/slack",
        headers=ada,
        json={"teamId": "T1", "botToken": "xoxb-1", "enabled": True},
    )
    assert patched.json()["slackConfig"] == {"teamId": "T1", "channelId": "", "hasBotToken": True, "enabled": True}
    assert client.get(f"/api/workspaces/{ws}/integrations/slack", headers=ada).json() == {
        "slackConfig": patched.json()["slackConfig"]
    }
    form = b"text=ship+the+thing&team_id=T1&user_id=U1&user_name=ada"
    stamp = str(now_ms(client) // 1000)
    secret = secrets(client)["slackSigningSecret"]
    signature = "v0=" + sign(secret, f"v0:{stamp}:".encode() + form)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": stamp}
    unsigned = client.post("/api/integrations/slack", content=form, headers=headers)
    assert unsigned.status_code == 401
    before = len(tasks_of(client, ada, ws))
    ok = client.post("/api/integrations/slack", content=form, headers={**headers, "x-slack-signature": signature})
    assert ok.status_code == 200 and ok.json()["text"].startswith("Task created")
    assert len(tasks_of(client, ada, ws)) == before + 1
    challenge = client.post("/api/integrations/slack", json={"type": "url_verification", "challenge": "c1"})
    assert challenge.json() == {"challenge": "c1"}


def test_discord_checks_its_ed25519_signature(client: TestClient[Litestar]) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secrets(client)["discordPrivateKey"]))
    raw, stamp = b'{"type": 1}', "1700000000"
    signature = key.sign(stamp.encode() + raw).hex()
    base = {"content-type": "application/json", "x-signature-timestamp": stamp}
    assert client.post("/api/integrations/discord", content=raw, headers=base).status_code == 401
    tampered = client.post(
        "/api/integrations/discord", content=b'{"type": 2}', headers={**base, "x-signature-ed25519": signature}
    )
    assert tampered.status_code == 401
    pong = client.post("/api/integrations/discord", content=raw, headers={**base, "x-signature-ed25519": signature})
    assert pong.status_code == 200 and pong.json() == {"type": 1}
