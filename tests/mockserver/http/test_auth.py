"""Authentication from each operation's `security`: key first, then the session cookie, else 401 before anything."""

from __future__ import annotations

from typing import Any

import pytest

UNAUTHORIZED = {"error": "Unauthorized"}
UNKNOWN_KEY = "bld_" + "0" * 64
KEY_ONLY = "/api/accounts/me"  # getMe: [{apiKey: []}]
SESSION_ONLY = "/api/accounts"  # listAccounts: [{session: []}]
EITHER = "/api/workspaces"  # listWorkspaces: key or session


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no header"),
        pytest.param("Bearer ", id="empty key"),
        pytest.param("Bearer bld_1234", id="malformed key"),
        pytest.param("Bearer bld_" + "G" * 64, id="not lowercase hex"),
        pytest.param(f"Bearer {UNKNOWN_KEY}", id="unknown key"),
    ],
)
def test_a_key_operation_without_a_usable_key_is_401(client: Any, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(KEY_ONLY, headers=headers)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("scheme", ["Token", "Basic", "bearer", "BEARER"])
def test_a_valid_key_under_another_scheme_word_is_401(client: Any, fixture_keys: dict[str, str], scheme: str) -> None:
    response = client.get(KEY_ONLY, headers={"Authorization": f"{scheme} {fixture_keys['acme-admin']}"})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_valid_key_is_accepted(client: Any, key_auth: Any, fixture_keys: dict[str, str]) -> None:
    response = client.get(KEY_ONLY, headers=key_auth("acme-admin"))
    assert response.status_code == 200
    assert response.json()["name"] == "acme-admin"


def test_a_session_only_operation_refuses_a_key(client: Any, key_auth: Any) -> None:
    response = client.get(SESSION_ONLY, headers=key_auth("acme-admin"))
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_key_only_operation_refuses_a_session(client: Any, session_auth: Any) -> None:
    response = client.get(KEY_ONLY, headers=session_auth("ada@acme.example"))
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_an_unknown_session_cookie_is_401(client: Any) -> None:
    response = client.get(SESSION_ONLY, headers={"Cookie": "authjs.session-token=sess_unknown"})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_session_is_accepted_where_the_operation_allows_it(client: Any, session_auth: Any) -> None:
    assert client.get(SESSION_ONLY, headers=session_auth("ada@acme.example")).status_code == 200
    assert client.get(EITHER, headers=session_auth("ada@acme.example")).status_code == 200


def test_with_a_key_and_a_session_the_account_wins(
    client: Any, key_auth: Any, session_auth: Any, fixture_world: dict[str, Any]
) -> None:
    headers = {**key_auth("acme-ci"), **session_auth("ada@acme.example")}
    assert client.get(EITHER, headers=headers).status_code == 200
    logged = client.get("/__mock/requests", params={"limit": 2}).json()["requests"][-1]
    ci = next(a for a in fixture_world["accounts"] if a["name"] == "acme-ci")
    assert (logged["operationId"], logged["accountId"]) == ("listWorkspaces", ci["id"])


def test_an_invalid_key_falls_back_to_the_session(client: Any, session_auth: Any) -> None:
    headers = {"Authorization": f"Bearer {UNKNOWN_KEY}", **session_auth("ada@acme.example")}
    assert client.get(EITHER, headers=headers).status_code == 200


def test_401_comes_before_body_validation(client: Any) -> None:
    response = client.post("/api/tasks", content=b"{not json", headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_401_comes_before_path_validation(client: Any) -> None:
    response = client.get("/api/tasks/not-a-uuid")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_public_operation_needs_no_credential(client: Any) -> None:
    response = client.post("/api/auth/device/code", json={"clientName": "tests"})
    assert response.status_code == 200
    assert set(response.json()) >= {"user_code", "device_token"}
