"""The runner's credential broker (lease, refresh) and the model tier registry over HTTP; each rule's wrong request
refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .cred_support import ADA, GRACE, advance, mock, workspace_of

pytestmark = pytest.mark.http

LEASE, REFRESH = "/api/runner/credential-lease", "/api/runner/credential-refresh"
BLOB = json.dumps({"access_token": "sk-ant-oat01-a", "refresh_token": "sk-ant-ort01-r", "expires_at": 4102444800})


def _claude_secret(http: Any, world: dict[str, Any], ada: dict[str, str], admin: dict[str, str]) -> str:
    ws = workspace_of(world, "acme-admin")
    assert http.post(f"/api/workspaces/{ws}/claude-credential", headers=ada, json={"credentialsJson": BLOB}).is_success
    return str(next(s["id"] for s in http.get("/api/secrets", headers=admin).json()["secrets"]))


def test_a_lease_is_held_until_it_expires_then_stolen(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    laptop = key_auth("acme-laptop")
    with mock(fixture_world) as http:
        sid = _claude_secret(http, fixture_world, session_auth(ADA), key_auth("acme-admin"))

        def lease(runner: str, action: str) -> Any:
            return http.post(LEASE, headers=laptop, json={"credentialId": sid, "runnerId": runner, "action": action})

        first = lease("r1", "acquire").json()
        assert first["acquired"] is True and first["leaseId"]
        assert lease("r2", "acquire").json() == {"acquired": False}
        assert lease("r1", "acquire").json() == {"acquired": False}, "a live lease is never re-acquired"
        advance(http, 240)
        assert lease("r1", "heartbeat").json() == {"ok": True}
        advance(http, 240)
        assert lease("r2", "acquire").json() == {"acquired": False}, "the heartbeat renewed it"
        advance(http, 61)
        assert lease("r2", "acquire").json()["acquired"] is True
        stolen = lease("r1", "heartbeat")
        assert (stolen.status_code, stolen.json()) == (404, {"error": "Lease not found", "ok": False, "stolen": True})
        assert lease("r1", "release").json() == {"ok": True}, "releasing someone else's lease is silent"
        assert lease("r3", "acquire").json() == {"acquired": False}
        assert lease("r2", "release").json() == {"ok": True}
        assert lease("r3", "acquire").json()["acquired"] is True


def test_a_lease_needs_a_credential_of_the_keys_team(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    with mock(fixture_world) as http:
        sid = _claude_secret(http, fixture_world, session_auth(ADA), key_auth("acme-admin"))
        body = {"credentialId": sid, "runnerId": "r", "action": "acquire"}
        other = http.post(LEASE, headers=key_auth("globex-laptop"), json=body)
        assert (other.status_code, other.json()) == (403, {"error": "Forbidden"})
        missing = http.post(LEASE, headers=key_auth("acme-laptop"), json={**body, "credentialId": "nope"})
        assert (missing.status_code, missing.json()) == (404, {"error": "Credential not found"})
        assert http.post(LEASE, headers=key_auth("acme-laptop"), json={**body, "action": "steal"}).status_code == 400
        assert http.post(LEASE, headers=key_auth("acme-laptop"), json={}).status_code == 400
        assert http.post(LEASE, headers=session_auth(ADA), json=body).status_code == 401, "key only"


def test_runner_refresh_locks_commits_bootstraps_and_revokes(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    laptop, ada = key_auth("acme-laptop"), session_auth(ADA)
    with mock(fixture_world) as http:
        sid = _claude_secret(http, fixture_world, ada, key_auth("acme-admin"))

        def refresh(action: str, **extra: Any) -> Any:
            body = {"secretId": sid, "purpose": "claude_credential", "action": action, **extra}
            return http.post(REFRESH, headers=laptop, json=body)

        assert refresh("lock").json() == {"locked": False}, "just stored = just refreshed"
        advance(http, 3601)
        locked = refresh("lock").json()
        assert locked == {"locked": True, "refreshToken": "sk-ant-ort01-r", "expiresAt": "2100-01-01T00:00:00.000Z"}
        assert refresh("lock").json() == {"locked": False}
        assert refresh("commit", accessToken="at2").status_code == 400
        committed = refresh("commit", accessToken="at2", refreshToken="rt2", expiresAt="2100-06-01T00:00:00Z")
        assert committed.json() == {"ok": True}
        denied = refresh("bootstrap", runnerId="r1")
        assert (denied.status_code, denied.json()) == (
            403,
            {"error": "Forbidden: runner does not hold the active lease"},
        )
        assert refresh("bootstrap").status_code == 400
        http.post(LEASE, headers=laptop, json={"credentialId": sid, "runnerId": "r1", "action": "acquire"})
        boot = refresh("bootstrap", runnerId="r1").json()
        assert boot == {"accessToken": "at2", "refreshToken": "rt2", "expiresAt": "2100-06-01T00:00:00.000Z"}
        assert refresh("revoke", reason="invalid_grant: refresh token revoked").json() == {"ok": True}
        status = http.get(f"/api/workspaces/{workspace_of(fixture_world, 'acme-admin')}/claude-credential", headers=ada)
        assert status.json()["healthStatus"] == "revoked" and status.json()["expired"] is True


def test_runner_refresh_reads_only_the_keys_team_and_the_named_purpose(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    with mock(fixture_world) as http:
        sid = _claude_secret(http, fixture_world, session_auth(ADA), key_auth("acme-admin"))
        body = {"secretId": sid, "purpose": "claude_credential", "action": "lock"}
        other = http.post(REFRESH, headers=key_auth("globex-laptop"), json=body)
        assert (other.status_code, other.json()) == (404, {"error": "Secret not found"})
        wrong = http.post(REFRESH, headers=key_auth("acme-laptop"), json={**body, "purpose": "codex_credential"})
        assert wrong.status_code == 404
        bad = http.post(REFRESH, headers=key_auth("acme-laptop"), json={**body, "purpose": "oauth_token"})
        assert bad.status_code == 400


def test_models_are_a_fixed_catalogue_for_sessions(
    fixture_world: dict[str, Any], session_auth: Any, key_auth: Any
) -> None:
    with mock(fixture_world) as http:
        models = http.get("/api/models", headers=session_auth(ADA)).json()["models"]
        ids = [m["id"] for m in models]
        assert ids == sorted(ids, reverse=True) and "claude-opus-5" in ids
        assert http.get("/api/models", headers=key_auth("acme-admin")).status_code == 401


def test_tiers_resolve_workspace_then_team_then_default(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    admin, ws = key_auth("acme-admin"), workspace_of(fixture_world, "acme-admin")
    with mock(fixture_world) as http:
        assert http.get("/api/model-tiers", headers=admin).json()["premium"]["source"] == "default"
        team_row = {"tier": "premium", "provider": "openai-codex", "model": "gpt-5-codex", "defaultEffort": "high"}
        assert http.post("/api/model-tiers", headers=admin, json=team_row).json() == {
            "ok": True,
            "tier": "premium",
            "provider": "openai-codex",
            "model": "gpt-5-codex",
        }
        ws_row = {"tier": "premium", "provider": "anthropic", "model": "claude-opus-5", "workspaceId": ws}
        http.post("/api/model-tiers", headers=admin, json={**ws_row, "defaultMaxTurns": 40})
        in_ws = http.get("/api/model-tiers", headers=admin, params={"workspaceId": ws}).json()["premium"]
        assert in_ws == {
            "provider": "anthropic",
            "model": "claude-opus-5",
            "defaultMaxTurns": 40,
            "source": "workspace",
        }
        team = http.get("/api/model-tiers", headers=session_auth(ADA)).json()["premium"]
        assert team == {"provider": "openai-codex", "model": "gpt-5-codex", "defaultEffort": "high", "source": "team"}
        http.delete("/api/model-tiers", headers=admin, params={"tier": "premium", "workspaceId": ws})
        assert (
            http.get("/api/model-tiers", headers=admin, params={"workspaceId": ws}).json()["premium"]["source"]
            == "team"
        )
        http.delete("/api/model-tiers", headers=admin, params={"tier": "premium"})
        assert http.get("/api/model-tiers", headers=admin).json()["premium"]["source"] == "default"


def test_tiers_need_an_admin_key_and_a_reachable_workspace(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    acme_ws = workspace_of(fixture_world, "acme-admin")
    row = {"tier": "budget", "provider": "anthropic", "model": "m"}
    with mock(fixture_world) as http:
        low = http.post("/api/model-tiers", headers=key_auth("acme-ci"), json=row)
        assert (low.status_code, low.json()) == (403, {"error": "Admin token required"})
        for auth in (key_auth("globex-admin"), session_auth(GRACE)):
            other = http.post("/api/model-tiers", headers=auth, json={**row, "workspaceId": acme_ws})
            assert (other.status_code, other.json()) == (404, {"error": "Workspace not found"})
            read = http.get("/api/model-tiers", headers=auth, params={"workspaceId": acme_ws})
            assert read.status_code == 404
        assert (
            http.post("/api/model-tiers", headers=key_auth("acme-admin"), json={**row, "tier": "ultra"}).status_code
            == 400
        )
        assert http.delete("/api/model-tiers", headers=key_auth("acme-admin")).status_code == 400
        assert http.get("/api/model-tiers", headers=key_auth("acme-admin")).json()["budget"]["source"] == "default"
