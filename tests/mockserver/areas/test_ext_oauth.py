"""The OAuth server for MCP clients over HTTP, end to end: register -> authorize (session, PKCE S256) -> token,
then the access token opens the workspace's MCP-OAuth endpoint and verifies against the JWKS."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

REDIRECT = "http://127.0.0.1:33418/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-a-long-enough-verifier"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def client(mock_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(mock_app) as c:
        yield c


@pytest.fixture
def ada(session_auth: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return session_auth("ada@acme.example")


def workspace_of(client: TestClient[Litestar], auth: dict[str, str]) -> dict[str, Any]:
    return client.get("/api/workspaces", headers=auth).json()["workspaces"][0]  # type: ignore[no-any-return]


def register(client: TestClient[Litestar]) -> str:
    r = client.post("/api/oauth/register", json={"redirect_uris": [REDIRECT], "client_name": "Claude"})
    assert r.status_code == 201, r.text
    assert r.json()["token_endpoint_auth_method"] == "none"
    return str(r.json()["client_id"])


def authorize(client: TestClient[Litestar], auth: dict[str, str], client_id: str, **extra: str) -> Any:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        "state": "xyz",
        **extra,
    }
    return client.get("/api/oauth/authorize", params=params, headers=auth, follow_redirects=False)


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def token(client: TestClient[Litestar], **form: str) -> Any:
    return client.post("/api/oauth/token", data=form)  # form-encoded, as OAuth clients send it


def test_connect_flow_end_to_end_with_pkce(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    client_id = register(client)
    workspace = workspace_of(client, ada)

    consent = authorize(client, ada, client_id)
    assert consent.status_code == 200 and consent.headers["content-type"].startswith("text/html")
    assert f"workspace={workspace['id']}" in consent.text  # the consent page links back with each workspace

    code = code_from(authorize(client, ada, client_id, workspace=workspace["id"]))
    r = token(
        client,
        grant_type="authorization_code",
        code=code,
        client_id=client_id,
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "mcp"
    assert r.headers["cache-control"] == "no-store"

    # the access token verifies against the published key set and names the workspace
    jwks = client.get("/api/.well-known/jwks.json").json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(
        tokens["access_token"], key, algorithms=["ES256"], options={"verify_aud": False, "verify_exp": False}
    )
    assert claims["workspace_id"] == workspace["id"] and claims["client_id"] == client_id

    # ... and opens that workspace's MCP-OAuth endpoint, and no other
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = client.post(
        f"/api/mcp-oauth/{workspace['id']}", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=bearer
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["result"]["tools"][0]["name"] == "buildd"
    other = client.post(
        "/api/mcp-oauth/another-workspace", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=bearer
    )
    assert other.status_code == 401 and "resource_metadata" in other.headers["www-authenticate"]

    # the code is single-use; the refresh token rotates
    again = token(
        client,
        grant_type="authorization_code",
        code=code,
        client_id=client_id,
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refreshed = token(client, grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_id=client_id)
    assert refreshed.status_code == 200, refreshed.text
    reused = token(client, grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_id=client_id)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_a_wrong_verifier_is_refused_and_spends_nothing(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    client_id = register(client)
    workspace = workspace_of(client, ada)
    code = code_from(authorize(client, ada, client_id, workspace=workspace["id"]))
    wrong = client.post(
        "/api/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_verifier": "not-the-verifier",
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = token(
        client,
        grant_type="authorization_code",
        code=code,
        client_id=client_id,
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    )
    assert right.status_code == 200, right.text


def test_authorize_refuses_what_oauth_2_1_forbids(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    client_id = register(client)
    assert client.get("/api/oauth/authorize", params={"client_id": client_id}).status_code == 401  # no session
    assert authorize(client, ada, "c_unknown").status_code == 400
    unregistered = client.get(
        "/api/oauth/authorize",
        params={"response_type": "code", "client_id": client_id, "redirect_uri": "https://evil.example/cb"},
        headers=ada,
    )
    assert unregistered.status_code == 400
    plain = authorize(client, ada, client_id, code_challenge_method="plain")
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]

    # loopback hosts are interchangeable (same scheme, port and path), other ports are not
    def loopback(uri: str) -> int:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": uri,
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
        }
        return client.get("/api/oauth/authorize", params=params, headers=ada).status_code

    assert loopback("http://localhost:33418/callback") == 200
    assert loopback("http://127.0.0.1:9999/callback") == 400
    foreign = authorize(client, ada, client_id, workspace="not-a-workspace-of-ada")
    assert foreign.status_code == 403


def test_register_refuses_a_client_without_redirect_uris(client: TestClient[Litestar]) -> None:
    r = client.post("/api/oauth/register", json={"redirect_uris": ["not a url"]})
    assert r.status_code == 400 and r.json()["error"]
    assert client.post("/api/oauth/register", json={"client_name": "x"}).status_code == 400


def test_unsupported_grant_and_missing_parameters(client: TestClient[Litestar]) -> None:
    assert token(client, grant_type="password").json() == {"error": "unsupported_grant_type"}
    missing = token(client, grant_type="authorization_code", code="x")
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_mcp_oauth_without_a_token_points_at_discovery(client: TestClient[Litestar], ada: dict[str, str]) -> None:
    workspace = workspace_of(client, ada)
    r = client.post(f"/api/mcp-oauth/{workspace['id']}", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert r.status_code == 401 and r.json() == {"error": "Unauthorized"}
    assert r.headers["www-authenticate"].startswith('Bearer realm="buildd"')
    assert client.get(f"/api/mcp-oauth/{workspace['id']}").status_code == 405


def test_jwks_is_deterministic_es256(client: TestClient[Litestar]) -> None:
    first = client.get("/api/.well-known/jwks.json")
    assert first.status_code == 200 and "max-age=3600" in first.headers["cache-control"]
    (key,) = first.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert client.get("/api/.well-known/jwks.json").json() == first.json()
