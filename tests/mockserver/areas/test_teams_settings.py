"""Roles, notifications, feedback, admin maintenance and the CLI login hand-off, over HTTP (strict mock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

Auth = Callable[[str], dict[str, str]]
ADA, KATHERINE, GRACE, ALAN = (
    "ada@acme.example",
    "katherine@acme.example",
    "grace@globex.example",
    "alan@consulting.example",
)


def _team(client: Any, headers: dict[str, str], slug: str) -> str:
    return str(next(t["id"] for t in client.get("/api/teams", headers=headers).json()["teams"] if t["slug"] == slug))


# -- roles ----------------------------------------------------------------------------------------------------


def test_a_team_role_is_listed_for_the_teams_workspaces_and_hidden_from_others(
    client: Any, session_auth: Auth, key_auth: Auth
) -> None:
    created = client.post(
        "/api/roles", json={"name": "Code Reviewer", "content": "Review PRs."}, headers=session_auth(ADA)
    )
    assert created.status_code == 201, created.text
    role = created.json()["skill"]
    assert (role["slug"], role["workspaceId"], role["isRole"]) == ("code-reviewer", None, True)
    assert "code-reviewer" in {
        r["slug"] for r in client.get("/api/roles", headers=key_auth("acme-admin")).json()["roles"]
    }
    assert "code-reviewer" not in {
        r["slug"] for r in client.get("/api/roles", headers=key_auth("globex-admin")).json()["roles"]
    }
    assert client.get(f"/api/roles/{role['id']}", headers=session_auth(KATHERINE)).status_code == 200
    hidden = client.get(f"/api/roles/{role['id']}", headers=session_auth(GRACE))
    assert (hidden.status_code, hidden.json()) == (404, {"error": "Role not found"})
    assert client.delete(f"/api/roles/{role['id']}", headers=session_auth(GRACE)).status_code == 404
    duplicate = client.post("/api/roles", json={"name": "Code reviewer", "content": "x"}, headers=session_auth(ADA))
    assert duplicate.status_code == 409


def test_an_override_copies_the_default_and_wins_in_its_workspace(client: Any, session_auth: Auth) -> None:
    role = client.post(
        "/api/roles", json={"name": "Shipper", "content": "Build.", "model": "sonnet"}, headers=session_auth(ADA)
    ).json()["skill"]
    workspace = client.get("/api/workspaces", headers=session_auth(ADA)).json()["workspaces"][0]
    body = {"workspaceId": workspace["id"], "model": "opus"}
    first = client.post(f"/api/roles/{role['id']}/overrides", json=body, headers=session_auth(ADA))
    assert first.status_code == 201, first.text
    override = first.json()["skill"]
    assert (override["workspaceId"], override["model"], override["content"]) == (workspace["id"], "opus", "Build.")
    second = client.post(
        f"/api/roles/{role['id']}/overrides", json={**body, "color": "#000000"}, headers=session_auth(ADA)
    )
    assert (second.status_code, second.json()["skill"]["id"]) == (200, override["id"])
    roles = client.get("/api/roles", headers=session_auth(ADA)).json()["roles"]
    assert next(r for r in roles if r["slug"] == "shipper")["model"] in ("opus", "sonnet")
    outsider = client.post(f"/api/roles/{role['id']}/overrides", json=body, headers=session_auth(GRACE))
    assert (outsider.status_code, outsider.json()) == (404, {"error": "Team-level role not found or not accessible"})


def test_a_role_update_changes_only_what_is_sent(client: Any, session_auth: Auth) -> None:
    role = client.post("/api/roles", json={"name": "Docs", "content": "Write docs."}, headers=session_auth(ADA)).json()[
        "skill"
    ]
    updated = client.patch(
        f"/api/roles/{role['id']}", json={"content": "Write better docs."}, headers=session_auth(KATHERINE)
    )
    assert updated.status_code == 200
    skill = updated.json()["skill"]
    assert (skill["name"], skill["content"]) == ("Docs", "Write better docs.")
    assert skill["contentHash"] != role["contentHash"]


# -- notifications --------------------------------------------------------------------------------------------


def test_notification_settings_never_echo_secrets_and_validate_channels(client: Any, session_auth: Auth) -> None:
    acme = _team(client, session_auth(ADA), "acme")
    path = f"/api/teams/{acme}/notifications"
    start = client.get(path, headers=session_auth(KATHERINE)).json()
    assert start == {
        "channels": {"pushover": False, "webhook": False},
        "preferences": dict.fromkeys(("taskClaimed", "taskCompleted", "taskFailed", "credentialExpired"), True),
    }
    half = client.put(path, json={"pushoverAppToken": "app-token"}, headers=session_auth(ADA))
    assert half.status_code == 400
    bad_url = client.put(path, json={"webhookUrl": "ftp://example.com"}, headers=session_auth(ADA))
    assert (bad_url.status_code, bad_url.json()) == (400, {"error": "webhookUrl must be an http(s) URL"})
    done = client.put(
        path,
        json={
            "pushoverAppToken": "app-token",
            "pushoverUserKey": "user-key",
            "webhookUrl": "https://h.example/x",
            "preferences": {"taskClaimed": False, "bogus": True},
        },
        headers=session_auth(ADA),
    )
    assert done.status_code == 200
    assert done.json()["channels"] == {"pushover": True, "webhook": True}
    assert done.json()["preferences"]["taskClaimed"] is False
    assert "app-token" not in done.text
    outsider = client.get(path, headers=session_auth(GRACE))
    assert (outsider.status_code, outsider.json()) == (404, {"error": "Team not found"})


# -- feedback -------------------------------------------------------------------------------------------------


def test_feedback_is_created_changed_and_withdrawn(client: Any, session_auth: Auth) -> None:
    body = {"entityType": "note", "entityId": "n-1", "signal": "up"}
    first = client.post("/api/feedback", json=body, headers=session_auth(KATHERINE))
    assert (first.status_code, first.json()["signal"]) == (201, "up")
    changed = client.post(
        "/api/feedback", json={**body, "signal": "down", "comment": "meh"}, headers=session_auth(KATHERINE)
    )
    assert (changed.status_code, changed.json()["signal"]) == (200, "down")
    listed = client.get("/api/feedback", params={"entityType": "note"}, headers=session_auth(KATHERINE))
    assert listed.json() == {"feedback": {"n-1": "down"}}
    assert client.get("/api/feedback", params={"entityType": "note"}, headers=session_auth(ADA)).json() == {
        "feedback": {}
    }
    withdrawn = client.post("/api/feedback", json={**body, "signal": "down"}, headers=session_auth(KATHERINE))
    assert withdrawn.json() == {"removed": True, "entityType": "note", "entityId": "n-1"}
    assert client.get("/api/feedback", params={"entityType": "bogus"}, headers=session_auth(ADA)).status_code == 400


# -- admin ----------------------------------------------------------------------------------------------------


def test_admin_maintenance_needs_an_admin_key_or_a_team_admin(client: Any, session_auth: Auth, key_auth: Auth) -> None:
    for path in (
        "/api/admin/backfill-merged-prs",
        "/api/admin/refresh-model-aliases",
        "/api/admin/backfill-entity-graph",
    ):
        assert client.post(path, headers=key_auth("acme-admin")).status_code == 200, path
        assert client.post(path, headers=session_auth(ALAN)).status_code == 200, path  # admin of Globex
        worker = client.post(path, headers=key_auth("acme-ci"))
        assert (worker.status_code, worker.json()) == (403, {"error": "Requires admin-level API key"})
        assert client.post(path, headers=session_auth(KATHERINE)).status_code == 403  # a plain member
        assert client.post(path).status_code == 401
    aliases = client.post(
        "/api/admin/refresh-model-aliases", json={"opus": "claude-opus-9"}, headers=key_auth("acme-admin")
    )
    assert aliases.json()["aliases"]["opus"] == "claude-opus-9"


# -- CLI login ------------------------------------------------------------------------------------------------


def test_cli_login_without_a_session_goes_to_sign_in(client: Any) -> None:
    response = client.get(
        "/api/auth/cli",
        params={"client": "runner", "callback": "http://localhost:8766/auth/callback"},
        follow_redirects=False,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/app/auth/signin"
    assert parse_qs(location.query)["callbackUrl"][0].startswith("/api/auth/cli?")


def test_cli_login_hands_the_runner_a_working_key_and_rotates_it(client: Any, session_auth: Auth) -> None:
    params = {"client": "runner", "callback": "http://localhost:8766/auth/callback"}
    first = client.get("/api/auth/cli", params=params, headers=session_auth(KATHERINE), follow_redirects=False)
    assert first.status_code == 302, first.text
    location = urlsplit(first.headers["location"])
    assert (location.hostname, location.port, location.path) == ("localhost", 8766, "/auth/callback")
    query = parse_qs(location.query)
    token = query["token"][0]
    assert query["email"] == [KATHERINE]
    me = client.get("/api/accounts/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["name"], me["level"]) == ("Runner", "worker")
    second = client.get("/api/auth/cli", params=params, headers=session_auth(KATHERINE), follow_redirects=False)
    fresh = parse_qs(urlsplit(second.headers["location"]).query)["token"][0]
    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {fresh}"}).json()["id"] == me["id"]


def test_cli_login_refuses_a_callback_off_localhost(client: Any, session_auth: Auth) -> None:
    for callback, error in (
        ("https://evil.example/cb", "Callback must be localhost"),
        ("not a url", "Invalid callback URL"),
    ):
        response = client.get(
            "/api/auth/cli", params={"callback": callback}, headers=session_auth(ADA), follow_redirects=False
        )
        assert (response.status_code, response.json()) == (400, {"error": error})
    assert client.get("/api/auth/cli", follow_redirects=False).status_code == 400
