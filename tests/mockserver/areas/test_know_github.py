"""The simulated GitHub App: PRs (MCP create/get/merge/close), the signed webhook, installations, the merge inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

Auth = Callable[[str], dict[str, str]]
SECRET = b"mock-github-webhook-secret"  # the App's webhook secret, as the spec documents it


def _sign(raw: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()


def _delivery(event: str, payload: dict[str, Any], signature: str | None = "sign") -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = _sign(raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return raw, headers


def _closed(number: int, repo: str = "acme/web", *, merged: bool = True) -> dict[str, Any]:
    pr = {"number": number, "merged": merged, "html_url": f"https://github.com/{repo}/pull/{number}"}
    return {
        "action": "closed",
        "pull_request": {**pr, "head": {"ref": "buildd/x", "sha": "1a2b3c4"}},
        "repository": {"full_name": repo},
    }


def _web_worker(world: dict[str, Any], account: str = "acme-ci") -> dict[str, Any]:
    """A worker of acme-web (linked to the fixture installation) that has no PR yet."""
    web = next(ws["id"] for ws in world["workspaces"] if ws["name"] == "acme-web")
    owner = next(a["id"] for a in world["accounts"] if a["name"] == account)
    return next(
        w for w in world["workers"] if w["workspaceId"] == web and w["accountId"] == owner and not w["prNumber"]
    )


def _open_pr(
    client: httpx.Client | TestClient[Litestar], auth: dict[str, str], worker: dict[str, Any]
) -> dict[str, Any]:
    body = {"workerId": worker["id"], "title": "Fix the login bug", "head": f"buildd/{worker['id'][:8]}-fix"}
    opened = client.post("/api/github/pr", json=body, headers=auth)
    assert opened.status_code == 200, opened.text
    return dict(opened.json()["pr"])


# -- the webhook --------------------------------------------------------------------------------------------------


@pytest.mark.http
def test_a_signed_webhook_merges_the_pr_over_http(
    live_server: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    auth = {"Authorization": f"Bearer {fixture_keys['acme-laptop']}"}
    worker = _web_worker(fixture_world, "acme-laptop")
    with httpx.Client(base_url=live_server, timeout=5) as client:
        pr = _open_pr(client, auth, worker)
        assert (pr["state"], pr["url"]) == ("open", f"https://github.com/acme/web/pull/{pr['number']}")

        raw, headers = _delivery("pull_request", _closed(pr["number"]), signature=_sign(b"tampered"))
        refused = client.post("/api/github/webhook", content=raw, headers=headers)
        assert (refused.status_code, refused.json()) == (401, {"error": "Unauthorized"})
        unsigned = client.post(
            "/api/github/webhook", content=raw, headers=_delivery("pull_request", _closed(pr["number"]), None)[1]
        )
        assert unsigned.status_code == 401
        assert (
            client.get("/api/github/pr", params={"workerId": worker["id"]}, headers=auth).json()["pr"]["state"]
            == "open"
        )

        raw, headers = _delivery("pull_request", _closed(pr["number"]))
        accepted = client.post("/api/github/webhook", content=raw, headers=headers)
        assert (accepted.status_code, accepted.json()) == (200, {"ok": True})
        after = client.get("/api/github/pr", params={"workerId": worker["id"]}, headers=auth).json()["pr"]
        assert (after["state"], after["headSha"]) == ("closed", "1a2b3c4")
        seen = client.get(f"/api/workers/{worker['id']}", headers=auth).json()
        assert seen["prLifecycleStatus"] == "merged" and seen["mergedAt"]


def test_the_signature_is_over_the_exact_bytes(client: TestClient[Litestar]) -> None:
    raw, headers = _delivery("ping", {"zen": "Keep it logically awesome."})
    assert client.post("/api/github/webhook", content=raw, headers=headers).json() == {"ok": True}
    respaced = json.dumps({"zen": "Keep it logically awesome."}, indent=2).encode()  # same JSON, other bytes
    assert client.post("/api/github/webhook", content=respaced, headers=headers).status_code == 401
    other_secret = {**headers, "X-Hub-Signature-256": _sign(raw, b"another-secret")}
    assert client.post("/api/github/webhook", content=raw, headers=other_secret).status_code == 401


def test_opened_and_conflicting_events_set_the_lifecycle(
    client: TestClient[Litestar], key_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    auth, worker = key_auth("acme-ci"), _web_worker(fixture_world)
    pr = _open_pr(client, auth, worker)
    payload = {
        "action": "synchronize",
        "pull_request": {
            "number": pr["number"],
            "merged": False,
            "mergeable": False,
            "html_url": pr["url"],
            "head": {"ref": "b", "sha": "fff0000"},
        },
        "repository": {"full_name": "acme/web"},
    }
    raw, headers = _delivery("pull_request", payload)
    assert client.post("/api/github/webhook", content=raw, headers=headers).status_code == 200
    assert client.get(f"/api/workers/{worker['id']}", headers=auth).json()["prLifecycleStatus"] == "conflict"


def test_installation_events_add_and_remove_installations(client: TestClient[Litestar], session_auth: Auth) -> None:
    ada = session_auth("ada@acme.example")
    created = {
        "action": "created",
        "installation": {"id": 555, "account": {"login": "acme-labs", "type": "Organization"}},
        "repositories": [{"id": 9, "full_name": "acme-labs/x"}],
    }
    raw, headers = _delivery("installation", created)
    assert client.post("/api/github/webhook", content=raw, headers=headers).status_code == 200
    # not linked to a workspace nor installed by Ada through the dashboard: not hers to see
    logins = [i["accountLogin"] for i in client.get("/api/github/installations", headers=ada).json()["installations"]]
    assert logins == ["acme"]
    raw, headers = _delivery("installation", {"action": "deleted", "installation": {"id": 41_000_001}})
    assert client.post("/api/github/webhook", content=raw, headers=headers).status_code == 200
    assert client.get("/api/github/installations", headers=ada).json()["installations"] == []


# -- pull requests (the MCP actions' routes) -----------------------------------------------------------------------


def test_create_get_close_and_merge(
    client: TestClient[Litestar], key_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    auth, worker = key_auth("acme-ci"), _web_worker(fixture_world)
    pr = _open_pr(client, auth, worker)
    again = client.post(
        "/api/github/pr", json={"workerId": worker["id"], "title": "t", "head": "h"}, headers=auth
    ).json()
    assert again["deduplicated"] is True and again["pr"]["number"] == pr["number"]
    detail = client.get("/api/github/pr", params={"prNumber": pr["number"]}, headers=auth).json()
    assert detail["pr"]["title"] == "Fix the login bug" and detail["checks"]["state"] == "none"

    merged = client.put("/api/github/pr", json={"prNumber": pr["number"]}, headers=auth).json()
    assert (merged["ok"], merged["merged"], merged["pr"]["number"]) == (True, True, pr["number"])
    gone = client.put("/api/github/pr", json={"prNumber": pr["number"]}, headers=auth)
    assert (gone.status_code, gone.json()) == (404, {"error": "Pull request not found"})  # merged: no open PR left
    refused = client.put(
        "/api/github/pr", json={"prNumber": pr["number"], "workerId": worker["id"]}, headers=auth
    ).json()
    assert (refused["ok"], refused["message"]) == (False, "Pull Request is not mergeable")


def test_close_then_merge_is_refused_by_github(
    client: TestClient[Litestar], key_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    auth, worker = key_auth("acme-ci"), _web_worker(fixture_world)
    pr = _open_pr(client, auth, worker)
    closed = client.patch("/api/github/pr", json={"workerId": worker["id"], "prNumber": pr["number"]}, headers=auth)
    assert closed.json()["pr"]["state"] == "closed"
    assert client.get(f"/api/workers/{worker['id']}", headers=auth).json()["prLifecycleStatus"] == "closed"
    merge = client.put("/api/github/pr", json={"prNumber": pr["number"], "workerId": worker["id"]}, headers=auth).json()
    assert merge["merged"] is False


def test_pr_routes_refuse_other_teams_and_unlinked_workspaces(
    client: TestClient[Litestar], key_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    worker = _web_worker(fixture_world)
    body = {"workerId": worker["id"], "title": "t", "head": "h"}
    other = client.post("/api/github/pr", json=body, headers=key_auth("globex-ci"))
    assert (other.status_code, other.json()) == (403, {"error": "Forbidden"})
    missing = client.post("/api/github/pr", json={**body, "title": ""}, headers=key_auth("acme-ci"))
    assert missing.status_code == 400
    globex_ws = {ws["id"] for ws in fixture_world["workspaces"] if ws["name"] == "globex-platform"}
    globex_worker = next(w for w in fixture_world["workers"] if w["workspaceId"] in globex_ws and not w["prNumber"])
    owner = next(a["name"] for a in fixture_world["accounts"] if a["id"] == globex_worker["accountId"])
    unlinked = client.post("/api/github/pr", json={**body, "workerId": globex_worker["id"]}, headers=key_auth(owner))
    assert (unlinked.status_code, unlinked.json()) == (400, {"error": "Workspace not linked to GitHub repo"})
    assert client.get("/api/github/pr", headers=key_auth("acme-ci")).status_code == 400


# -- installations and the merge inbox (sessions) ------------------------------------------------------------------


def test_installations_are_seen_and_synced_by_their_team(client: TestClient[Litestar], session_auth: Auth) -> None:
    ada, grace = session_auth("ada@acme.example"), session_auth("grace@globex.example")
    installations = client.get("/api/github/installations", headers=ada).json()
    assert installations["configured"] is True
    (acme,) = installations["installations"]
    repos = client.get(f"/api/github/installations/{acme['id']}/repos", headers=ada).json()["repos"]
    assert {(r["fullName"], r["hasWorkspace"]) for r in repos} == {
        ("acme/web", True),
        ("acme/api", True),
        ("acme/docs", False),
    }
    assert client.get("/api/github/installations", headers=grace).json()["installations"] == []
    hidden = client.delete(f"/api/github/installations/{acme['id']}", headers=grace)
    assert (hidden.status_code, hidden.json()) == (404, {"error": "Installation not found"})
    synced = client.post(f"/api/github/installations/{acme['id']}/repos", headers=ada).json()
    assert (synced["synced"], synced["linked"]) == (3, 0)  # the matching workspaces are linked already
    assert client.delete(f"/api/github/installations/{acme['id']}", headers=ada).json() == {"ok": True}
    assert client.get("/api/github/installations", headers=ada).json()["installations"] == []


def test_the_install_flow_redirects_and_records_the_installation(
    client: TestClient[Litestar], session_auth: Auth
) -> None:
    ada = session_auth("ada@acme.example")
    start = client.get(
        "/api/github/install", params={"returnUrl": "/app/settings"}, headers=ada, follow_redirects=False
    )
    assert start.status_code == 302 and start.headers["location"].startswith("https://github.com/apps/")
    state = start.headers["location"].split("state=")[1]
    back = client.get(
        "/api/github/callback", params={"installation_id": 777, "state": state}, headers=ada, follow_redirects=False
    )
    assert back.status_code == 302 and back.headers["location"].endswith(
        "/app/settings?github_connected=true&org=mock-org-777"
    )
    logins = {i["accountLogin"] for i in client.get("/api/github/installations", headers=ada).json()["installations"]}
    assert logins == {"acme", "mock-org-777"}
    assert client.get("/api/github/install", follow_redirects=False).status_code == 401


def test_the_merge_inbox_lists_manual_workspaces_and_merges(
    client: TestClient[Litestar], key_auth: Auth, session_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    ada = session_auth("ada@acme.example")
    api_ws = next(ws["id"] for ws in fixture_world["workspaces"] if ws["name"] == "acme-api")  # mergePolicy: manual
    worker = next(w for w in fixture_world["workers"] if w["workspaceId"] == api_ws and not w["prNumber"])
    owner = next(a["name"] for a in fixture_world["accounts"] if a["id"] == worker["accountId"])
    pr = _open_pr(client, key_auth(owner), worker)
    inbox = client.get("/api/prs/escalation-inbox", headers=ada).json()
    assert pr["number"] in [i["prNumber"] for i in inbox["items"]] and inbox["count"] == len(inbox["items"])
    merged = client.post(f"/api/prs/{pr['number']}/merge", json={"workspaceId": api_ws}, headers=ada)
    assert merged.json() == {"ok": True, "merged": True}
    assert pr["number"] not in [
        i["prNumber"] for i in client.get("/api/prs/escalation-inbox", headers=ada).json()["items"]
    ]
    again = client.post(f"/api/prs/{pr['number']}/merge", headers=ada)
    assert (again.status_code, again.json()) == (404, {"error": "Pull request not found"})
    assert (
        client.post(f"/api/prs/{pr['number']}/merge", headers=session_auth("grace@globex.example")).status_code == 404
    )
