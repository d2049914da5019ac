"""A workspace's Claude and Codex credentials over HTTP: paste, scopes, the connect flows step by step, refresh,
verify and the runner's write-back; each rule's wrong request refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .cred_support import ADA, ALAN, GRACE, advance, mock, workspace_of

pytestmark = pytest.mark.http

CLAUDE_JSON = json.dumps(
    {"access_token": "sk-ant-oat01-a", "refresh_token": "sk-ant-ort01-r", "expires_at": 4102444800}
)
CODEX_OAUTH = json.dumps(
    {"tokens": {"access_token": "at", "refresh_token": "rt", "account_id": "acct_1", "id_token": "id"}}
)


def test_claude_paste_is_stored_per_scope_and_answers_a_status_only(
    fixture_world: dict[str, Any], session_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/claude-credential"
    with mock(fixture_world) as http:
        assert http.get(base, headers=ada).json()["connected"] is False
        saved = http.post(base, headers=ada, json={"credentialsJson": CLAUDE_JSON, "scope": "workspace"})
        assert saved.status_code == 200, saved.text
        assert saved.json()["scope"] == "workspace" and saved.json()["expired"] is False
        assert "sk-ant" not in saved.text
        assert http.get(base, headers=ada).json()["connected"] is False, "the team scope is another credential"
        assert http.get(base, headers=ada, params={"scope": "workspace"}).json()["connected"] is True
        assert http.delete(base, headers=ada).status_code == 204, "nothing at team scope is no error"
        assert http.delete(base, headers=ada, params={"scope": "workspace"}).status_code == 204
        assert http.get(base, headers=ada, params={"scope": "workspace"}).json()["connected"] is False


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", "credentialsJson must be valid JSON"),
        ("[1]", "Must be a JSON object"),
        (json.dumps({"refresh_token": "r"}), "Must contain access_token"),
        (json.dumps({"access_token": "a"}), "Must contain refresh_token"),
    ],
)
def test_a_claude_paste_without_its_tokens_is_refused(
    fixture_world: dict[str, Any], session_auth: Any, text: str, error: str
) -> None:
    ws = workspace_of(fixture_world, "acme-admin")
    with mock(fixture_world) as http:
        refused = http.post(
            f"/api/workspaces/{ws}/claude-credential", headers=session_auth(ADA), json={"credentialsJson": text}
        )
        assert (refused.status_code, refused.json()) == (400, {"error": error})


def test_credentials_of_another_teams_workspace_are_not_found(
    fixture_world: dict[str, Any], session_auth: Any, key_auth: Any
) -> None:
    ws, grace = workspace_of(fixture_world, "acme-admin"), session_auth(GRACE)
    with mock(fixture_world) as http:
        for method, path, body in [
            ("GET", "claude-credential", None),
            ("POST", "claude-credential", {"credentialsJson": CLAUDE_JSON}),
            ("POST", "claude-credential/oauth/start", None),
            ("POST", "codex-credential/device/start", None),
            ("POST", "codex-credential", {"authJson": CODEX_OAUTH}),
            ("DELETE", "codex-credential", None),
        ]:
            answer = http.request(method, f"/api/workspaces/{ws}/{path}", headers=grace, json=body)
            assert (answer.status_code, answer.json()) == (404, {"error": "Workspace not found"}), path
        writes = http.post(
            f"/api/workspaces/{ws}/codex-credential/write-back",
            headers=key_auth("globex-admin"),
            json={"accessToken": "a", "refreshToken": "r"},
        )
        assert (writes.status_code, writes.json()) == (404, {"error": "Workspace not found"})
        assert http.get(f"/api/workspaces/{ws}/claude-credential", headers=key_auth("acme-admin")).status_code == 401


def test_claude_oauth_is_simulated_step_by_step(fixture_world: dict[str, Any], session_auth: Any) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/claude-credential"
    with mock(fixture_world) as http:
        started = http.post(f"{base}/oauth/start", headers=ada).json()
        assert f"state={started['state']}" in started["authorizeUrl"]
        assert "code_challenge_method=S256" in started["authorizeUrl"]
        exchange = f"{base}/oauth/exchange"
        wrong = http.post(exchange, headers=ada, json={"code": f"c#{started['state']}", "verifier": "other"})
        assert wrong.status_code == 400 and "invalid_grant" in wrong.json()["error"]
        unknown = http.post(exchange, headers=ada, json={"code": "c#nostate", "verifier": started["verifier"]})
        assert unknown.status_code == 400
        empty = http.post(exchange, headers=ada, json={"code": f"#{started['state']}", "verifier": "v"})
        assert empty.json() == {"error": "No authorization code provided"}
        assert http.get(base, headers=ada).json()["connected"] is False
        body = {"code": "pasted-code", "verifier": started["verifier"], "state": started["state"]}
        connected = http.post(exchange, headers=ada, json=body)
        assert connected.status_code == 200, connected.text
        assert connected.json()["status"] == "connected" and connected.json()["scope"] == "team"
        assert http.get(base, headers=ada).json()["connected"] is True
        assert http.post(exchange, headers=ada, json=body).status_code == 400, "a code is single-use"


def test_claude_oauth_expires_and_can_fan_out_to_every_team(fixture_world: dict[str, Any], session_auth: Any) -> None:
    ws, alan = workspace_of(fixture_world, "acme-admin"), session_auth(ALAN)
    exchange = f"/api/workspaces/{ws}/claude-credential/oauth/exchange"
    with mock(fixture_world) as http:
        old = http.post(f"/api/workspaces/{ws}/claude-credential/oauth/start", headers=alan).json()
        advance(http, 601)
        late = http.post(exchange, headers=alan, json={"code": "c", "verifier": old["verifier"], "state": old["state"]})
        assert late.status_code == 400
        fresh = http.post(f"/api/workspaces/{ws}/claude-credential/oauth/start", headers=alan).json()
        body = {"code": "c", "verifier": fresh["verifier"], "state": fresh["state"], "scope": "all_teams"}
        fanned = http.post(exchange, headers=alan, json=body).json()
        assert fanned == {"status": "connected", "teams": 2, "totalTeams": 2}
        globex_ws = workspace_of(fixture_world, "globex-admin")
        assert http.get(f"/api/workspaces/{globex_ws}/claude-credential", headers=alan).json()["connected"] is True


def test_claude_refresh_is_locked_for_an_hour_then_rotates_or_revokes(
    fixture_world: dict[str, Any], session_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/claude-credential"
    with mock(fixture_world) as http:
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "no_credential"}
        http.post(base, headers=ada, json={"credentialsJson": CLAUDE_JSON})
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "locked"}, "saved = just refreshed"
        advance(http, 3601)
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "refreshed"}
        assert http.get(base, headers=ada).json()["healthStatus"] == "healthy"
        doomed = json.dumps({"access_token": "a", "refresh_token": "sk-ant-ort01-revoked"})
        http.post(base, headers=ada, json={"credentialsJson": doomed})
        advance(http, 3601)
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "error"}
        status = http.get(base, headers=ada).json()
        assert status["healthStatus"] == "revoked" and status["expired"] is True


@pytest.mark.parametrize(
    ("auth_json", "error"),
    [
        ({"tokens": {"access_token": "a", "refresh_token": "r"}}, "Must be either"),
        ({"access_token": "a", "refresh_token": "r", "account_id": "x"}, "missing required field 'id_token'"),
    ],
)
def test_an_incomplete_codex_auth_json_is_refused(
    fixture_world: dict[str, Any], session_auth: Any, auth_json: dict[str, Any], error: str
) -> None:
    ws = workspace_of(fixture_world, "acme-admin")
    with mock(fixture_world) as http:
        refused = http.post(
            f"/api/workspaces/{ws}/codex-credential",
            headers=session_auth(ADA),
            json={"authJson": json.dumps(auth_json)},
        )
        assert refused.status_code == 400 and error in refused.json()["error"]


def test_codex_device_login_is_pending_until_the_simulated_user_approves(
    fixture_world: dict[str, Any], session_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/codex-credential"
    with mock(fixture_world) as http:
        started = http.post(f"{base}/device/start", headers=ada).json()
        poll = {"deviceAuthId": started["deviceAuthId"], "userCode": started["userCode"], "scope": "workspace"}
        assert http.post(f"{base}/device/poll", headers=ada, json=poll).json() == {"status": "pending"}
        advance(http, started["interval"])
        assert http.post(f"{base}/device/poll", headers=ada, json=poll).json() == {"status": "pending"}
        wrong = {**poll, "userCode": "ZZZZ-0000"}
        advance(http, started["interval"])
        assert http.post(f"{base}/device/poll", headers=ada, json=wrong).json() == {"status": "pending"}
        assert http.post(f"{base}/device/poll", headers=session_auth(ALAN), json=poll).json()["status"] == "pending"
        connected = http.post(f"{base}/device/poll", headers=ada, json=poll).json()
        assert connected["status"] == "connected" and connected["scope"] == "workspace"
        assert connected["accountId"].startswith("acct_sim_")
        assert http.get(base, headers=ada, params={"scope": "workspace"}).json()["connected"] is True
        missing = http.post(f"{base}/device/poll", headers=ada, json={"deviceAuthId": "x"})
        assert missing.status_code == 400, "deviceAuthId and userCode are required"


def test_an_expired_device_code_is_the_providers_refusal(fixture_world: dict[str, Any], session_auth: Any) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/codex-credential"
    with mock(fixture_world) as http:
        started = http.post(f"{base}/device/start", headers=ada).json()
        advance(http, 901)
        poll = {"deviceAuthId": started["deviceAuthId"], "userCode": started["userCode"]}
        expired = http.post(f"{base}/device/poll", headers=ada, json=poll)
        assert expired.status_code == 502 and expired.json()["status"] == "error"
        assert http.get(base, headers=ada).json()["connected"] is False


def test_codex_verify_and_refresh_follow_the_simulated_provider(
    fixture_world: dict[str, Any], session_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/codex-credential"
    with mock(fixture_world) as http:
        none = http.post(f"{base}/verify", headers=ada)
        assert (none.status_code, none.json()) == (404, {"error": "Codex credential not found"})
        http.post(base, headers=ada, json={"authJson": json.dumps({"api_key": "sk-invalid"})})
        verdict = http.post(f"{base}/verify", headers=ada).json()
        assert verdict["verified"] is False and verdict["status"]["lastVerificationError"] == verdict["error"]
        advance(http, 3601)
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "no_credential"}, "an API key"
        http.post(base, headers=ada, json={"authJson": CODEX_OAUTH})
        assert http.post(f"{base}/verify", headers=ada).json()["verified"] is True
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "locked"}
        revoked = json.dumps({"access_token": "a", "refresh_token": "rt-revoked", "account_id": "x", "id_token": "i"})
        http.post(base, headers=ada, json={"authJson": revoked})
        advance(http, 3601)
        assert http.post(f"{base}/refresh", headers=ada).json() == {"status": "revoked"}


def test_write_back_updates_the_runners_credential_and_refuses_trigger_keys(
    fixture_world: dict[str, Any], session_auth: Any, key_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    base = f"/api/workspaces/{ws}/codex-credential"
    tokens = {"accessToken": "new-at", "refreshToken": "new-rt", "accountId": "acct_2", "expiresIn": 60}
    with mock(fixture_world) as http:
        trigger = http.post(f"{base}/write-back", headers=key_auth("acme-trigger"), json=tokens)
        assert (trigger.status_code, trigger.json()) == (403, {"error": "Trigger tokens cannot write back credentials"})
        assert http.post(f"{base}/write-back", headers=key_auth("acme-ci"), json=tokens).json() == {"ok": True}
        http.post(base, headers=ada, json={"authJson": CODEX_OAUTH})
        http.post(f"{base}/write-back", headers=key_auth("acme-ci"), json=tokens)
        assert http.get(base, headers=ada).json()["accountId"] == "acct_1", "written back within 30 s: skipped"
        advance(http, 31)
        assert http.post(f"{base}/write-back", headers=key_auth("acme-ci"), json=tokens).json() == {"ok": True}
        status = http.get(base, headers=ada).json()
        assert status["accountId"] == "acct_2" and status["expired"] is False
        advance(http, 61)
        assert http.get(base, headers=ada).json()["expired"] is True, "expiresIn set the new expiry"
        bad = http.post(f"{base}/write-back", headers=key_auth("acme-ci"), json={"accessToken": "a"})
        assert bad.status_code == 400


def test_a_scope_without_a_credential_answers_every_status_field_empty(
    fixture_world: dict[str, Any], session_auth: Any
) -> None:
    ws, ada = workspace_of(fixture_world, "acme-admin"), session_auth(ADA)
    empty = {"connected": False, "expired": False, "lastRefreshedAt": None, "lastVerifiedAt": None}
    empty |= {"lastVerificationError": None, "scope": None}
    with mock(fixture_world) as http:
        claude = http.get(f"/api/workspaces/{ws}/claude-credential", headers=ada, params={"scope": "workspace"})
        assert claude.json() == {**empty, "healthStatus": None}
        codex = http.get(f"/api/workspaces/{ws}/codex-credential", headers=ada, params={"scope": "workspace"})
        assert codex.json() == {**empty, "accountId": None}
