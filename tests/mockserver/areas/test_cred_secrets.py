"""Team secrets over HTTP: stored sealed, listed as metadata, each rule's wrong request refused, and a value that
shows up nowhere (answers, errors, request log, events, state dump, state file) after it was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.mockserver.wire.conftest import claim_body

from .cred_support import ADA, GRACE, mock, team_of, workspace_of

pytestmark = pytest.mark.http


def _create(http: Any, auth: dict[str, str], **body: Any) -> Any:
    return http.post("/api/secrets", headers=auth, json=body)


def test_a_secret_is_listed_as_metadata_and_deleted_by_id(fixture_world: dict[str, Any], key_auth: Any) -> None:
    admin = key_auth("acme-admin")
    with mock(fixture_world) as http:
        created = _create(http, admin, value="ghp_token", purpose="mcp_credential", label="GITHUB_TOKEN")
        assert created.status_code == 200, created.text
        sid = created.json()["id"]
        (listed,) = [s for s in http.get("/api/secrets", headers=admin).json()["secrets"] if s["id"] == sid]
        assert listed["label"] == "GITHUB_TOKEN" and listed["healthStatus"] == "unknown"
        assert listed["accountId"] is None, "an MCP credential is team-wide"
        assert listed["teamId"] == team_of(fixture_world, "acme-admin")
        assert http.delete("/api/secrets", headers=admin, params={"id": sid}).json() == {"success": True}
        assert sid not in {s["id"] for s in http.get("/api/secrets", headers=admin).json()["secrets"]}
        assert http.delete("/api/secrets", headers=admin, params={"id": sid}).status_code == 404


def test_a_resave_at_the_same_scope_replaces_and_quotes_are_stripped(
    fixture_world: dict[str, Any], key_auth: Any
) -> None:
    admin = key_auth("acme-admin")
    with mock(fixture_world) as http:
        first = _create(http, admin, value='"sk-ant-oat01-first"', purpose="oauth_token").json()["id"]
        second = _create(http, admin, value="sk-ant-oat01-second", purpose="oauth_token").json()["id"]
        ids = {s["id"] for s in http.get("/api/secrets", headers=admin).json()["secrets"]}
        assert second in ids and first not in ids
        listed = next(s for s in http.get("/api/secrets", headers=admin).json()["secrets"] if s["id"] == second)
        assert listed["accountId"] is not None, "a key's non-MCP secret is scoped to its account"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"value": "sk-ant-api-x", "purpose": "oauth_token"}, "Token must start with sk-ant-oat…"),
        ({"value": "sk-ant-oat01-x", "purpose": "anthropic_api_key"}, "Token must start with sk-ant-api…"),
        ({"value": "x", "purpose": "mcp_credential"}, "label"),  # the schema's if/then
        ({"value": "x", "purpose": "mcp_credential", "label": ""}, "label"),
        ({"value": "  ''  ", "purpose": "custom"}, "value"),  # the schema's pattern: more than blanks and quotes
    ],
)
def test_each_value_rule_refuses_the_wrong_request(
    fixture_world: dict[str, Any], key_auth: Any, body: dict[str, Any], error: str
) -> None:
    with mock(fixture_world) as http:
        refused = _create(http, key_auth("acme-admin"), **body)
        assert refused.status_code == 400 and error in refused.json()["error"], refused.text
        assert http.get("/api/secrets", headers=key_auth("acme-admin")).json()["secrets"] == []


def test_scope_fields_outside_the_callers_reach_are_not_found(fixture_world: dict[str, Any], key_auth: Any) -> None:
    admin = key_auth("acme-admin")
    globex_ws = workspace_of(fixture_world, "globex-admin")
    globex_account = next(a["id"] for a in fixture_world["accounts"] if a["name"] == "globex-ci")
    globex_team = team_of(fixture_world, "globex-admin")
    with mock(fixture_world) as http:
        cases = [
            ({"teamId": globex_team}, "Team not found"),
            ({"workspaceId": globex_ws}, "Workspace not found"),
            ({"accountId": globex_account}, "Account not found"),
        ]
        for extra, error in cases:
            refused = _create(http, admin, value="v", purpose="custom", **extra)
            assert (refused.status_code, refused.json()) == (404, {"error": error}), extra
        assert http.get("/api/secrets", headers=admin, params={"teamId": globex_team}).status_code == 404
        assert http.get("/api/secrets", headers=key_auth("globex-admin")).json()["secrets"] == []


def test_another_teams_secret_cannot_be_deleted_or_verified(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    with mock(fixture_world) as http:
        sid = _create(http, key_auth("acme-admin"), value="sk-ant-oat01-x", purpose="oauth_token").json()["id"]
        gone = http.delete("/api/secrets", headers=key_auth("globex-admin"), params={"id": sid})
        assert (gone.status_code, gone.json()) == (404, {"error": "Secret not found"})
        verify = http.post(f"/api/secrets/{sid}/verify", headers=session_auth(GRACE))
        assert (verify.status_code, verify.json()) == (403, {"error": "Forbidden"})
        missing = http.post("/api/secrets/00000000-0000-4000-8000-000000000000/verify", headers=session_auth(ADA))
        assert (missing.status_code, missing.json()) == (404, {"error": "Credential not found"})
        assert sid in {s["id"] for s in http.get("/api/secrets", headers=key_auth("acme-admin")).json()["secrets"]}


def test_verify_follows_the_simulated_provider_and_the_health_machine(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any
) -> None:
    admin, ada = key_auth("acme-admin"), session_auth(ADA)
    with mock(fixture_world) as http:
        good = _create(http, admin, value="sk-ant-api03-good", purpose="anthropic_api_key").json()["id"]
        assert http.post(f"/api/secrets/{good}/verify", headers=ada).json() == {"verified": True, "error": None}
        bad = _create(http, admin, value="sk-ant-oat01-invalid", purpose="oauth_token").json()["id"]
        refused = http.post(f"/api/secrets/{bad}/verify", headers=ada).json()
        assert refused == {"verified": False, "error": "HTTP 401: Invalid bearer token"}
        secrets = {s["id"]: s for s in http.get("/api/secrets", headers=admin).json()["secrets"]}
        assert secrets[good]["healthStatus"] == "healthy" and secrets[good]["lastVerifiedAt"] is not None
        assert secrets[bad]["healthStatus"] == "revoked" and secrets[bad]["lastVerificationError"] == refused["error"]
        custom = _create(http, admin, value="x", purpose="custom").json()["id"]
        unsupported = http.post(f"/api/secrets/{custom}/verify", headers=ada)
        assert (unsupported.status_code, unsupported.json()) == (
            400,
            {"error": "Verification not supported for this credential type"},
        )
        assert http.post(f"/api/secrets/{good}/verify", headers=admin).status_code == 401, "session only"


def test_storing_a_claude_credential_requeues_tasks_that_failed_on_auth(
    fixture_world: dict[str, Any], key_auth: Any
) -> None:
    laptop = key_auth("acme-laptop")
    with mock(fixture_world) as http:
        (worker,) = http.post("/api/workers/claim", headers=laptop, json=claim_body()).json()["workers"]
        failed = {"status": "failed", "error": "API Error: 401 Invalid bearer token"}
        assert http.patch(f"/api/workers/{worker['id']}", headers=laptop, json=failed).status_code == 200
        assert http.get(f"/api/tasks/{worker['taskId']}", headers=laptop).json()["status"] == "failed"
        custom = _create(http, key_auth("acme-admin"), value="x", purpose="custom").json()
        assert custom["requeued"] == 0, "only Claude credentials recover tasks"
        stored = _create(http, key_auth("acme-admin"), value="sk-ant-oat01-fresh", purpose="oauth_token").json()
        assert stored["requeued"] == 1
        assert http.get(f"/api/tasks/{worker['taskId']}", headers=laptop).json()["status"] == "pending"


def test_a_value_appears_in_no_answer_log_event_dump_or_state_file(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any, tmp_path: Path, caplog: Any
) -> None:
    """Everything the mock shows after a secret and two credentials were stored holds none of their values."""
    values = ["sk-ant-oat01-LEAKCHECK-7f3a", "LEAK-access-91c2", "LEAK-refresh-5d0e", "sk-proj-LEAK-codex-44b1"]
    admin, ada = key_auth("acme-admin"), session_auth(ADA)
    ws = workspace_of(fixture_world, "acme-admin")
    state = tmp_path / "state.db"
    seen: list[str] = []
    with mock(fixture_world, state_file=state) as http:

        def keep(response: Any) -> Any:
            seen.append(response.text)
            return response

        sid = keep(_create(http, admin, value=f"  {values[0]} ", purpose="oauth_token")).json()["id"]
        keep(_create(http, admin, value=values[0], purpose="bogus"))  # refused by the schema
        keep(_create(http, admin, value=values[0], purpose="anthropic_api_key"))  # refused by the prefix rule
        claude = json.dumps({"access_token": values[1], "refresh_token": values[2]})
        keep(http.post(f"/api/workspaces/{ws}/claude-credential", headers=ada, json={"credentialsJson": claude}))
        keep(http.post(f"/api/workspaces/{ws}/claude-credential", headers=ada, json={"credentialsJson": claude[:-1]}))
        codex = json.dumps({"api_key": values[3]})
        keep(
            http.post(
                f"/api/workspaces/{ws}/codex-credential", headers=ada, json={"authJson": codex, "scope": "workspace"}
            )
        )
        keep(http.get("/api/secrets", headers=admin))
        keep(http.get(f"/api/workspaces/{ws}/claude-credential", headers=ada))
        keep(http.get(f"/api/workspaces/{ws}/codex-credential", headers=ada, params={"scope": "workspace"}))
        keep(http.post(f"/api/secrets/{sid}/verify", headers=ada))
        keep(http.post(f"/api/workspaces/{ws}/codex-credential/verify", headers=ada, params={"scope": "workspace"}))
        keep(http.get("/__mock/requests"))
        keep(http.get("/__mock/events"))
        keep(http.get("/__mock/state"))
    seen.append(state.read_bytes().decode("latin-1"))
    seen.extend(record.getMessage() for record in caplog.records)
    shown = "\n".join(seen)
    assert '"secrets"' in shown and '"connected":true' in shown, "the answers were collected"
    for value in values:
        assert value not in shown, f"{value} leaked"


def test_a_value_never_reaches_the_servers_own_output(
    fixture_world: dict[str, Any], key_auth: Any, session_auth: Any, tmp_path: Path
) -> None:
    """Over a `buildd-api serve` process, whose real stdout/stderr (access log included) is read back."""
    import httpx

    from tests.hardening._proc import MockProcess

    value, token = "sk-ant-oat01-PROCLEAK-0c1d", "PROCLEAK-refresh-77aa"
    ws = workspace_of(fixture_world, "acme-admin")
    with MockProcess(tmp_path / "serve.log", "--strict", lifetime=120) as server:
        with httpx.Client(base_url=server.base_url, timeout=15) as http:
            admin, ada = key_auth("acme-admin"), session_auth(ADA)
            assert http.post("/api/secrets", headers=admin, json={"value": value, "purpose": "oauth_token"}).is_success
            assert http.post("/api/secrets", headers=admin, json={"value": value, "purpose": "nope"}).status_code == 400
            claude = json.dumps({"access_token": value, "refresh_token": token})
            saved = http.post(f"/api/workspaces/{ws}/claude-credential", headers=ada, json={"credentialsJson": claude})
            assert saved.is_success
            http.post(f"/api/workspaces/{ws}/claude-credential", headers=ada, content=claude.encode())  # not JSON body
        output = server.output()
    assert output.strip(), "the server's output was captured"
    assert value not in output and token not in output
