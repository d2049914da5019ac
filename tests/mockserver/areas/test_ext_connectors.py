"""Connectors over HTTP: who may create them, the (team, name) rule, the simulated OAuth connect flow through the
mock's own callback, credential status, shares across teams, transfer, workspace toggles and the assertion grant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(mock_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(mock_app) as c:
        yield c


def teams(client: TestClient[Litestar]) -> dict[str, str]:
    return {t["name"]: t["id"] for t in client.get("/__mock/state").json()["teams"]}


def create(client: TestClient[Litestar], headers: dict[str, str], **body: Any) -> Any:
    payload = {"name": "linear", "url": "https://mcp.linear.app/mcp", **body}
    return client.post("/api/connectors", json={k: v for k, v in payload.items() if v is not None}, headers=headers)


def test_who_may_create_and_the_name_rule(client: TestClient[Litestar], key_auth: Auth, session_auth: Auth) -> None:
    assert create(client, key_auth("acme-ci")).status_code == 403  # a worker key
    assert create(client, session_auth("katherine@acme.example")).status_code == 403  # a plain member
    created = create(client, key_auth("acme-admin"))
    assert created.status_code == 201, created.text
    connector = created.json()["connector"]
    assert connector["authMode"] == "oauth" and connector["clientId"]  # simulated discovery + registration
    assert create(client, session_auth("ada@acme.example")).json() == {"error": "connector_name_taken"}
    reused = create(client, key_auth("acme-admin"), reuseIfExists=True)
    assert reused.status_code == 200 and reused.json()["reused"] is True
    for body, error in (
        ({"name": "x", "url": None}, "url is required"),
        ({"name": "x", "transport": "stdio"}, "command_required"),
        ({"name": "x", "authMode": "header"}, "header_name_required"),
        ({"name": "x", "authMode": "assertion"}, "assertion_audience_required"),
    ):
        payload = {"url": "https://x.example/mcp", **body}
        payload = {k: v for k, v in payload.items() if v is not None}
        r = client.post("/api/connectors", json=payload, headers=key_auth("acme-admin"))
        assert (r.status_code, r.json()) == (400, {"error": error})
    stdio = create(client, key_auth("acme-admin"), name="fs", transport="stdio", command="npx", url=None)
    assert stdio.status_code == 201 and stdio.json()["connector"]["authMode"] == "none"


def test_other_teams_never_see_a_connector(client: TestClient[Litestar], key_auth: Auth) -> None:
    connector = create(client, key_auth("acme-admin")).json()["connector"]
    globex = key_auth("globex-admin")
    for method, path in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/status"),
        ("POST", "/connect"),
        ("POST", "/disconnect"),
        ("GET", "/shares"),
    ):
        kwargs: dict[str, Any] = {"json": {"name": "stolen"}} if method == "PATCH" else {}
        r = client.request(method, f"/api/connectors/{connector['id']}{path}", headers=globex, **kwargs)
        assert (r.status_code, r.json()) == (404, {"error": "Connector not found"}), (method, path)
    assert connector["id"] not in {c["id"] for c in client.get("/api/connectors", headers=globex).json()["connectors"]}
    assert (
        client.get(f"/api/connectors/{connector['id']}", headers=key_auth("acme-admin")).json()["connector"]["name"]
        == "linear"
    )


def test_the_connect_flow_runs_offline_through_the_mock(client: TestClient[Litestar], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    connector = create(client, admin).json()["connector"]
    base = f"/api/connectors/{connector['id']}"
    assert client.get(f"{base}/status", headers=admin).json() == {"status": "not_connected"}
    started = client.post(f"{base}/connect", headers=admin)
    assert started.status_code == 200, started.text
    assert "buildd_mcp_oauth_state=" in started.headers["set-cookie"]
    url = urlsplit(started.json()["authorizationUrl"])
    assert url.path == "/api/connectors/callback"

    # a callback whose state does not match the cookie's flow is refused, and the flow survives it
    mismatch = client.get(url.path, params={"code": "c", "state": "other"}, follow_redirects=False)
    assert mismatch.status_code == 302 and "error=state_mismatch" in mismatch.headers["location"]

    done = client.get(f"{url.path}?{url.query}", follow_redirects=False)  # the TestClient keeps the cookie
    assert done.status_code == 302, done.text
    assert done.headers["location"].endswith(f"/app/connections?connected={connector['id']}")
    status = client.get(f"{base}/status", headers=admin).json()
    assert status["status"] == "connected" and status["expiresAt"]
    listed = client.get("/api/connectors", headers=admin).json()["connectors"]
    assert [c["status"] for c in listed if c["id"] == connector["id"]] == ["connected"]

    assert client.post(f"{base}/disconnect", headers=admin).json() == {"success": True}
    assert client.post(f"{base}/disconnect", headers=admin).json() == {"success": True, "alreadyDisconnected": True}
    replay = client.get(f"{url.path}?{url.query}", follow_redirects=False)
    assert "error=" in replay.headers["location"]  # the flow is spent


def test_connect_needs_an_oauth_connector(client: TestClient[Litestar], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    header = create(client, admin, name="h", authMode="header", headerName="X-Key", headerValue="s").json()["connector"]
    r = client.post(f"/api/connectors/{header['id']}/connect", headers=admin)
    assert (r.status_code, r.json()) == (400, {"error": "Connector does not use OAuth"})
    assert client.get(f"/api/connectors/{header['id']}/status", headers=admin).json() == {"status": "connected"}


def test_shares_and_transfer_across_teams(client: TestClient[Litestar], session_auth: Auth) -> None:
    ids = teams(client)
    alan = session_auth("alan@consulting.example")  # Acme member, Globex admin
    in_globex = {**alan, "Cookie": alan["Cookie"] + f"; buildd-team={ids['Globex']}"}
    assert create(client, alan).status_code == 403  # his first team is Acme, where he is a member
    connector = create(client, in_globex).json()["connector"]
    assert connector["teamId"] == ids["Globex"]
    base = f"/api/connectors/{connector['id']}/shares"
    assert client.post(base, json={"teamId": ids["Globex"]}, headers=alan).json() == {"error": "self_share_not_allowed"}
    shared = client.post(base, json={"teamId": ids["Acme"]}, headers=alan)
    assert shared.status_code == 201, shared.text
    assert client.post(base, json={"teamId": ids["Acme"]}, headers=alan).status_code == 200  # idempotent
    listing = client.get(base, headers=alan).json()
    assert listing["ownerTeamId"] == ids["Globex"] and [s["teamName"] for s in listing["shares"]] == ["Acme"]

    ada = session_auth("ada@acme.example")
    seen = client.get("/api/connectors", headers=ada).json()["connectors"]
    mine = [(c["id"], c.get("shared"), c.get("ownerTeamName")) for c in seen if c["id"] == connector["id"]]
    assert mine == [(connector["id"], True, "Globex")]  # beside Acme's own seeded connectors
    acme_ws = client.get("/api/workspaces", headers=ada).json()["workspaces"][0]["id"]
    before = {c["id"] for c in client.get(f"/api/workspaces/{acme_ws}/connectors", headers=ada).json()["connectors"]}
    toggled = client.patch(
        f"/api/workspaces/{acme_ws}/connectors", json={"connectorId": connector["id"], "enabled": True}, headers=ada
    )
    assert toggled.status_code == 200, toggled.text
    enabled = client.get(f"/api/workspaces/{acme_ws}/connectors", headers=ada).json()["connectors"]
    assert {c["id"] for c in enabled} == before | {connector["id"]} and connector["id"] not in before

    # alan is only a member of Acme: he may not move the connector there
    r = client.post(f"/api/connectors/{connector['id']}/transfer", json={"teamId": ids["Acme"]}, headers=alan)
    assert r.status_code == 403
    assert client.delete(base, params={"teamId": ids["Acme"]}, headers=alan).json() == {"success": True}
    assert client.delete(base, params={"teamId": ids["Acme"]}, headers=alan).json() == {"error": "Share not found"}
    assert connector["id"] not in {c["id"] for c in client.get("/api/connectors", headers=ada).json()["connectors"]}


def test_toggle_refuses_a_connector_the_team_cannot_see(
    client: TestClient[Litestar], key_auth: Auth, session_auth: Auth
) -> None:
    globex = create(client, key_auth("globex-admin")).json()["connector"]
    ada = session_auth("ada@acme.example")
    ws = client.get("/api/workspaces", headers=ada).json()["workspaces"][0]["id"]
    r = client.patch(
        f"/api/workspaces/{ws}/connectors", json={"connectorId": globex["id"], "enabled": True}, headers=ada
    )
    assert (r.status_code, r.json()) == (404, {"error": "Connector not found"})


def _active_worker(client: TestClient[Litestar], account_id: str) -> dict[str, Any]:
    state = client.get("/__mock/state").json()
    return next(
        w for w in state["workers"] if w["accountId"] == account_id and w["status"] in ("running", "idle", "starting")
    )


def test_the_assertion_grant(client: TestClient[Litestar], key_auth: Auth) -> None:
    ci = key_auth("acme-ci")
    me = client.get("/api/accounts/me", headers=ci).json()
    worker = _active_worker(client, me["id"])
    connector = create(
        client,
        key_auth("acme-admin"),
        name="idp",
        authMode="assertion",
        assertionAudience="https://rs.example",
        assertionTokenEndpoint="https://rs.example/token",
    ).json()["connector"]
    path = f"/api/connectors/{connector['id']}/assertion"
    body = {"workerId": worker["id"], "taskId": worker["taskId"]}
    minted = client.post(path, json=body, headers=ci)
    assert minted.status_code == 200, minted.text
    key = jwt.PyJWK(client.get("/api/.well-known/jwks.json").json()["keys"][0])
    claims = jwt.decode(
        minted.json()["assertion"],
        key,
        algorithms=["ES256"],
        audience="https://rs.example",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["act"] == {"sub": f"worker:{worker['id']}", "tid": worker["taskId"]}
    wrong_task = client.post(path, json={**body, "taskId": "other"}, headers=ci)
    assert wrong_task.status_code == 403 and wrong_task.json()["error_description"]
    others = client.post(path, json=body, headers=key_auth("acme-admin"))  # not the admin's worker
    assert others.status_code == 403
    foreign = client.post(path, json=body, headers=key_auth("globex-ci"))
    assert (foreign.status_code, foreign.json()["error"]) == (404, "Connector not found")
    for _ in range(11):
        assert client.post(path, json=body, headers=ci).status_code == 200
    limited = client.post(path, json=body, headers=ci)
    assert limited.status_code == 429 and limited.json()["limit"] == 12
