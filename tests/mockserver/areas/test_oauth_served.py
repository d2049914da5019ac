"""The OAuth connect flows end to end over real HTTP (a mock served on a free 127.0.0.1 port), the way a browser
and a client drive them with no network beyond the mock: MCP-OAuth (register -> authorize with PKCE S256 ->
redirect with the code -> token -> the MCP endpoint), a connector's connect -> callback with the state cookie,
the GitHub App's install -> callback, and Claude's PKCE start -> exchange."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from tests.mockserver.areas.served import Served

ADA = "ada@acme.example"
REDIRECT = "http://127.0.0.1:33418/callback"
VERIFIER = "served-mock-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _workspace(mock: Served) -> dict[str, Any]:
    return mock.get("/api/workspaces", as_user=ADA).json()["workspaces"][0]  # type: ignore[no-any-return]


def test_mcp_oauth_register_authorize_token_then_call_the_workspace_endpoint(mock: Served) -> None:
    registered = mock.post("/api/oauth/register", json={"redirect_uris": [REDIRECT], "client_name": "Claude Code"})
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    workspace = _workspace(mock)
    authorize = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        "state": "st-1",
    }
    # a browser without a session is refused; with one it gets the consent page, then the redirect with the code
    assert mock.get("/api/oauth/authorize", params=authorize).status_code == 401
    consent = mock.get("/api/oauth/authorize", params=authorize, as_user=ADA)
    assert consent.status_code == 200 and consent.headers["content-type"].startswith("text/html")
    approved = mock.get("/api/oauth/authorize", params={**authorize, "workspace": workspace["id"]}, as_user=ADA)
    assert approved.status_code == 302, approved.text
    location = approved.headers["location"]
    assert location.startswith(REDIRECT + "?")
    back = _query(location)
    assert back["state"] == "st-1"

    exchange = {"grant_type": "authorization_code", "code": back["code"], "client_id": client_id}
    exchange["redirect_uri"] = REDIRECT
    wrong = mock.post("/api/oauth/token", data={**exchange, "code_verifier": "not-" + VERIFIER})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")  # PKCE: the verifier must match
    tokens = mock.post("/api/oauth/token", data={**exchange, "code_verifier": VERIFIER})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["token_type"] == "Bearer" and tokens.headers["cache-control"] == "no-store"
    spent = mock.post("/api/oauth/token", data={**exchange, "code_verifier": VERIFIER})
    assert (spent.status_code, spent.json()["error"]) == (400, "invalid_grant")  # single use

    access = tokens.json()["access_token"]
    key = jwt.PyJWK(mock.get("/api/.well-known/jwks.json").json()["keys"][0])
    claims = jwt.decode(access, key, algorithms=["ES256"], options={"verify_aud": False, "verify_exp": False})
    assert (claims["workspace_id"], claims["client_id"]) == (workspace["id"], client_id)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    listed = mock.post(f"/api/mcp-oauth/{workspace['id']}", json=call, headers={"Authorization": f"Bearer {access}"})
    assert listed.status_code == 200, listed.text
    assert listed.json()["result"]["tools"]
    anonymous = mock.post(f"/api/mcp-oauth/{workspace['id']}", json=call)
    assert anonymous.status_code == 401 and "resource_metadata" in anonymous.headers["www-authenticate"]


def test_connector_connect_and_callback_with_the_state_cookie(mock: Served) -> None:
    created = mock.post(
        "/api/connectors", json={"name": "linear", "url": "https://mcp.linear.app/mcp"}, key="acme-admin"
    )
    assert created.status_code == 201, created.text
    connector = created.json()["connector"]
    base = f"/api/connectors/{connector['id']}"
    assert mock.get(f"{base}/status", key="acme-admin").json() == {"status": "not_connected"}

    started = mock.post(f"{base}/connect", key="acme-admin")
    assert started.status_code == 200, started.text
    cookie = started.cookies.get("buildd_mcp_oauth_state")
    assert cookie, started.headers.get("set-cookie")
    mock.http.cookies.clear()  # the cookie goes only where the test sends it
    url = urlsplit(started.json()["authorizationUrl"])
    assert (f"{url.scheme}://{url.netloc}", url.path) == (mock.base_url, "/api/connectors/callback")
    callback = f"{url.path}?{url.query}"

    # the provider's redirect lands in the browser that started the flow: without its cookie, or with another
    # state, the callback refuses and the flow survives
    headers = {"Cookie": f"buildd_mcp_oauth_state={cookie}"}
    no_cookie = mock.get(callback)
    assert no_cookie.status_code == 302 and "error=missing_state_cookie" in no_cookie.headers["location"]
    forged = mock.get(url.path, params={"code": _query(callback)["code"], "state": "forged"}, headers=headers)
    assert forged.status_code == 302 and "error=state_mismatch" in forged.headers["location"]
    done = mock.get(callback, headers=headers)
    assert done.status_code == 302, done.text
    assert done.headers["location"].endswith(f"/app/connections?connected={connector['id']}")
    status = mock.get(f"{base}/status", key="acme-admin").json()
    assert status["status"] == "connected" and status["expiresAt"]
    replay = mock.get(callback, headers=headers)
    assert "error=" in replay.headers["location"]  # the flow is spent


def test_github_app_install_then_callback_records_the_installation(mock: Served) -> None:
    before = {i["id"] for i in mock.get("/api/github/installations", as_user=ADA).json()["installations"]}
    started = mock.get("/api/github/install", params={"returnUrl": "/app/settings"}, as_user=ADA)
    assert started.status_code == 302, started.text
    state = _query(started.headers["location"])["state"]
    assert mock.get("/api/github/install").status_code == 401  # a session starts it

    done = mock.get(
        "/api/github/callback",
        params={"installation_id": 987654, "setup_action": "install", "state": state},
        as_user=ADA,
    )
    assert done.status_code == 302, done.text
    location = urlsplit(done.headers["location"])
    assert location.path == "/app/settings"
    assert _query(done.headers["location"]) == {"github_connected": "true", "org": "mock-org-987654"}
    after = mock.get("/api/github/installations", as_user=ADA).json()["installations"]
    assert len({i["id"] for i in after} - before) == 1

    missing = mock.get("/api/github/callback", params={"state": state}, as_user=ADA)
    assert "error=no_installation_id" in missing.headers["location"]


def test_claude_oauth_start_then_exchange_with_pkce(mock: Served) -> None:
    workspace = _workspace(mock)
    base = f"/api/workspaces/{workspace['id']}/claude-credential/oauth"
    started = mock.post(f"{base}/start", as_user=ADA)
    assert started.status_code == 200, started.text
    login = started.json()
    authorize = _query(login["authorizeUrl"])
    assert authorize["code_challenge"] == s256(login["verifier"]) and authorize["code_challenge_method"] == "S256"
    assert authorize["state"] == login["state"]

    pasted = f"code-from-the-page#{login['state']}"
    wrong = mock.post(f"{base}/exchange", json={"code": pasted, "verifier": "not-the-verifier"}, as_user=ADA)
    assert wrong.status_code == 400 and isinstance(wrong.json()["error"], str)
    connected = mock.post(f"{base}/exchange", json={"code": pasted, "verifier": login["verifier"]}, as_user=ADA)
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "connected"
    again = mock.post(f"{base}/exchange", json={"code": pasted, "verifier": login["verifier"]}, as_user=ADA)
    assert again.status_code == 400  # single use
