"""The `/__mock` control API: reset, state, keys, clock, sessions, faults and the request log."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC
from typing import Any

import pytest
from litestar.testing import TestClient

from mockserver import MockSettings, create_app
from mockserver.http.faults import ConnectionDropped

PLAINTEXT_KEY = re.compile(r"bld_[0-9a-f]{64}")


def web_id(world: dict[str, Any]) -> str:
    return next(w["id"] for w in world["workspaces"] if w["name"] == "acme-web")


# ------------------------------------------------------------------------------------------------------ reset/state
def test_reset_returns_to_the_scenario_world(client: Any, key_auth: Any, fixture_world: dict[str, Any]) -> None:
    created = client.post(
        "/api/tasks", json={"title": "temporary", "workspaceId": web_id(fixture_world)}, headers=key_auth("acme-admin")
    ).json()
    response = client.post("/__mock/reset", json={})
    assert response.status_code == 200
    assert response.json()["scenario"] == "default"
    assert response.json()["counts"]["tasks"] == len(fixture_world["tasks"])
    assert client.get(f"/api/tasks/{created['id']}", headers=key_auth("acme-admin")).status_code == 404


def test_reset_loads_another_scenario(client: Any) -> None:
    response = client.post("/__mock/reset", json={"scenario": "empty"})
    assert response.status_code == 200
    assert response.json()["scenario"] == "empty"
    assert response.json()["counts"]["tasks"] == 0


def test_reset_to_an_unknown_scenario_is_400(client: Any) -> None:
    response = client.post("/__mock/reset", json={"scenario": "nowhere"})
    assert response.status_code == 400
    assert "nowhere" in response.json()["error"]


def test_the_state_dump_holds_key_hashes_only(client: Any, fixture_keys: dict[str, str]) -> None:
    dump = client.get("/__mock/state").json()
    assert all(set(cred) == {"accountId", "apiKeyHash"} for cred in dump["credentials"])
    assert not PLAINTEXT_KEY.search(json.dumps(dump))


def test_keys_lists_the_documented_fixture_keys_and_users(client: Any, fixture_keys: dict[str, str]) -> None:
    keys = client.get("/__mock/keys").json()
    assert {a["name"]: a["key"] for a in keys["accounts"]} == fixture_keys
    assert "ada@acme.example" in {u["email"] for u in keys["users"]}


# ------------------------------------------------------------------------------------------------------------ clock
def test_advancing_the_clock_expires_a_claim(client: Any, key_auth: Any) -> None:
    claimed = client.post("/api/workers/claim", json={"runner": "r1", "maxTasks": 1}, headers=key_auth("acme-ci"))
    task_id = claimed.json()["workers"][0]["taskId"]
    before = client.get("/__mock/clock").json()

    moved = client.post("/__mock/clock", json={"advanceSeconds": 16 * 60}).json()

    assert moved["offsetSeconds"] == before["offsetSeconds"] + 960
    assert moved["now"] > before["now"]
    assert sum(moved["swept"].values()) >= 1
    task = client.get(f"/api/tasks/{task_id}", headers=key_auth("acme-ci")).json()
    assert (task["status"], task["claimedBy"]) == ("pending", None)


def test_the_clock_starts_at_the_worlds_epoch(client: Any, fixture_world: dict[str, Any]) -> None:
    assert client.get("/__mock/clock").json()["now"][:16] == fixture_world["meta"]["epoch"][:16]


def test_a_frozen_clock_stands_still(fixture_world: dict[str, Any]) -> None:
    from datetime import datetime

    app = create_app(MockSettings(frozen_clock=datetime(2026, 3, 1, tzinfo=UTC)), world=fixture_world)
    with TestClient(app) as client:
        assert client.get("/__mock/clock").json() == {"now": "2026-03-01T00:00:00.000Z", "offsetSeconds": 0.0}
        assert client.post("/__mock/clock", json={"advanceSeconds": 90}).json()["now"] == "2026-03-01T00:01:30.000Z"


# ---------------------------------------------------------------------------------------------------------- session
def test_a_mock_session_cookie_works_on_a_session_route(client: Any) -> None:
    response = client.post("/__mock/session", json={"email": "Grace@Globex.example"})
    assert response.status_code == 200
    session = response.json()
    assert session["user"]["email"] == "grace@globex.example"
    assert session["cookie"] == f"authjs.session-token={session['token']}"
    assert response.headers["set-cookie"].startswith(f"{session['cookie']}; Path=/; HttpOnly")

    fresh = TestClient(client.app)  # no cookie jar from the response: send the cookie as a client would
    accounts = fresh.get("/api/accounts", headers={"Cookie": session["cookie"]})
    assert accounts.status_code == 200
    assert {a["name"] for a in accounts.json()["accounts"]} >= {"globex-admin"}


def test_a_session_for_an_unknown_user_is_404(client: Any) -> None:
    response = client.post("/__mock/session", json={"email": "nobody@example.com"})
    assert (response.status_code, response.json()) == (404, {"error": "User not found"})


# ----------------------------------------------------------------------------------------------------------- faults
def test_a_fault_rule_answers_its_status(client: Any, key_auth: Any) -> None:
    rules = {"rules": [{"method": "GET", "path": "/api/workers/*", "status": 503}]}
    assert client.put("/__mock/faults", json=rules).json() == rules
    response = client.get("/api/workers/mine", headers=key_auth("acme-ci"))
    assert (response.status_code, response.json()) == (503, {"error": "Injected fault"})
    assert client.post("/api/workers/claim", json={"runner": "r"}, headers=key_auth("acme-ci")).status_code == 200
    assert client.get("/__mock/faults").json() == rules
    assert client.delete("/__mock/faults").json() == {"rules": []}
    assert client.get("/api/workers/mine", headers=key_auth("acme-ci")).status_code == 200


def test_a_fault_rule_delays(client: Any, key_auth: Any) -> None:
    client.put("/__mock/faults", json={"rules": [{"path": "/api/accounts/me", "delayMs": 150, "jitterMs": 50}]})
    started = time.perf_counter()
    assert client.get("/api/accounts/me", headers=key_auth("acme-ci")).status_code == 200
    assert 0.15 <= time.perf_counter() - started < 2


def test_fault_draws_are_deterministic(client: Any, key_auth: Any) -> None:
    rules = {"rules": [{"path": "/api/accounts/me", "errorRate": 0.5, "status": 500}]}

    def statuses() -> list[int]:
        client.put("/__mock/faults", json=rules)  # setting the rules re-seeds the draws
        return [client.get("/api/accounts/me", headers=key_auth("acme-ci")).status_code for _ in range(20)]

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first


def test_a_drop_rule_closes_the_connection_without_an_answer(client: Any, key_auth: Any) -> None:
    client.put("/__mock/faults", json={"rules": [{"path": "/api/accounts/me", "drop": True}]})
    with pytest.raises(ConnectionDropped):  # in-process there is no socket: the drop surfaces as an exception
        client.get("/api/accounts/me", headers=key_auth("acme-ci"))


def test_the_control_api_is_never_faulted(client: Any) -> None:
    client.put("/__mock/faults", json={"rules": [{"path": "*", "status": 500}]})
    assert client.get("/__mock/faults").status_code == 200
    assert client.delete("/__mock/faults").status_code == 200


# ------------------------------------------------------------------------------------------------------ request log
def test_the_request_log_masks_credentials(client: Any, fixture_keys: dict[str, str]) -> None:
    key = fixture_keys["acme-ci"]
    client.get(f"/api/accounts/me?token=s3cret&note={key}", headers={"Authorization": f"Bearer {key}"})
    log = client.get("/__mock/requests", params={"limit": 5}).json()["requests"]
    entry = log[-1]
    assert (entry["method"], entry["path"], entry["status"], entry["operationId"]) == (
        "GET",
        "/api/accounts/me",
        200,
        "getMe",
    )
    assert entry["query"] == "token=***&note=bld_***"
    assert key not in json.dumps(log) and "s3cret" not in json.dumps(log)


def test_the_request_log_is_bounded_and_newest_last(fixture_world: dict[str, Any]) -> None:
    app = create_app(MockSettings(strict=True, request_log_size=3), world=copy.deepcopy(fixture_world))
    with TestClient(app) as client:
        for n in range(5):
            client.get(f"/nowhere/{n}")
        log = client.get("/__mock/requests").json()["requests"]
    assert [e["path"] for e in log] == ["/nowhere/2", "/nowhere/3", "/nowhere/4"]
    assert all(e["status"] == 404 and e["operationId"] is None for e in log)


def test_without_the_control_api_there_is_no_mock_route(fixture_world: dict[str, Any]) -> None:
    app = create_app(MockSettings(control_api=False), world=fixture_world)
    with TestClient(app) as client:
        for path in ("/__mock/state", "/__mock/keys", "/__mock/events", "/__mock/requests"):
            assert client.get(path).status_code == 404, path
