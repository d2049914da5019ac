"""`Prefer: code=` / `Prefer: example=` force a documented answer, after auth and validation, changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.spec import Spec
from mockserver.http.prefer import Preferences, Refused, parse_prefer

MISSING_TASK = "00000000-0000-4000-8000-000000000000"


def task_count(client: Any) -> int:
    return len(client.get("/__mock/state").json()["tasks"])


def test_code_forces_a_documented_error_with_its_example(
    client: Any, key_auth: Any, fixture_world: dict[str, Any]
) -> None:
    task = fixture_world["tasks"][0]["id"]
    response = client.get(f"/api/tasks/{task}", headers={**key_auth("acme-admin"), "Prefer": "code=404"})
    assert (response.status_code, response.json()) == (404, {"error": "Task not found"})
    assert response.headers["preference-applied"] == "code=404"


def test_code_429_gets_a_synthesized_rate_limit_body_and_claims_nothing(client: Any, key_auth: Any) -> None:
    response = client.post(
        "/api/workers/claim", json={"runner": "r1"}, headers={**key_auth("acme-ci"), "Prefer": "code=429"}
    )
    assert response.status_code == 429
    body = response.json()
    assert isinstance(body["error"], str) and isinstance(body["limit"], int) and isinstance(body["current"], int)
    assert client.get("/__mock/events").json()["events"] == []


def test_a_forced_answer_changes_no_state(client: Any, key_auth: Any, fixture_world: dict[str, Any]) -> None:
    before = task_count(client)
    web = next(w["id"] for w in fixture_world["workspaces"] if w["name"] == "acme-web")
    response = client.post(
        "/api/tasks",
        json={"title": "never created", "workspaceId": web},
        headers={**key_auth("acme-admin"), "Prefer": "code=400"},
    )
    assert (response.status_code, response.json()) == (400, {"error": "Bad Request"})
    assert response.headers["preference-applied"] == "code=400"
    assert task_count(client) == before
    assert client.get("/__mock/events").json()["events"] == []


def test_prefer_never_overrides_a_401(client: Any) -> None:
    response = client.get("/api/accounts/me", headers={"Prefer": "code=200"})
    assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})


def test_prefer_never_overrides_a_400(client: Any, key_auth: Any) -> None:
    response = client.post("/api/tasks", json={"title": 7}, headers={**key_auth("acme-admin"), "Prefer": "code=404"})
    assert response.status_code == 400


def test_a_shared_error_example_of_another_operation_is_not_forced(client: Any, key_auth: Any) -> None:
    # the shared BadRequest response's example is createTask's rule; listing tasks must not claim it
    response = client.get("/api/tasks", headers={**key_auth("acme-admin"), "Prefer": "code=400"})
    assert (response.status_code, response.json()) == (400, {"error": "Bad Request"})
    assert response.headers["preference-applied"] == "code=400"


@pytest.mark.parametrize(
    ("prefer", "names"),
    [
        ("code=429", "getMe documents 200, 401"),
        ("code=418", "getMe documents"),
        ("code=abc", "code=abc cannot be applied"),
        ("example=nope", "no example 'nope'"),
    ],
)
def test_a_preference_that_cannot_be_applied_is_refused(client: Any, key_auth: Any, prefer: str, names: str) -> None:
    response = client.get("/api/accounts/me", headers={**key_auth("acme-admin"), "Prefer": prefer})
    assert response.status_code == 400
    assert names in response.json()["error"]
    assert "preference-applied" not in response.headers


def test_a_refusal_changes_no_state(client: Any, key_auth: Any, fixture_world: dict[str, Any]) -> None:
    before = task_count(client)
    web = next(w["id"] for w in fixture_world["workspaces"] if w["name"] == "acme-web")
    response = client.post(
        "/api/tasks",
        json={"title": "never created", "workspaceId": web},
        headers={**key_auth("acme-admin"), "Prefer": "code=418"},
    )
    assert response.status_code == 400
    assert task_count(client) == before


def test_a_documented_2xx_without_example_runs_the_handler_and_says_so(client: Any, key_auth: Any) -> None:
    response = client.get("/api/accounts/me", headers={**key_auth("acme-admin"), "Prefer": "code=200"})
    assert response.status_code == 200
    assert response.json()["name"] == "acme-admin"
    assert response.headers["preference-applied"] == "code=200"


def test_other_preferences_are_ignored(client: Any, key_auth: Any) -> None:
    response = client.get("/api/accounts/me", headers={**key_auth("acme-admin"), "Prefer": "respond-async, wait=5"})
    assert response.status_code == 200
    assert "preference-applied" not in response.headers


def test_parse_prefer_reads_several_preferences_and_quotes() -> None:
    assert parse_prefer('code=404, example="busy"; wait=5') == {"code": "404", "example": "busy", "wait": "5"}
    assert parse_prefer(None) == {}


SPEC = Spec(
    {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "operationId": "listThings",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "required": ["things"]},
                                    "examples": {
                                        "two": {"value": {"things": [1, 2]}},
                                        "none": {"value": {"things": []}},
                                    },
                                }
                            },
                        },
                        "503": {
                            "description": "down",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["error"],
                                        "properties": {"error": {"type": "string"}},
                                    },
                                    "examples": {"maintenance": {"value": {"error": "Down for maintenance"}}},
                                }
                            },
                        },
                    },
                }
            }
        },
    }
)


@pytest.fixture
def things() -> Preferences:
    return Preferences.build(SPEC, SPEC.operations["listThings"])


def test_example_forces_the_named_example_with_its_status(things: Preferences) -> None:
    forced = things.choose("example=maintenance")
    assert forced is not None and (forced.status, forced.body) == (503, {"error": "Down for maintenance"})


def test_example_with_code_looks_only_under_that_code(things: Preferences) -> None:
    assert isinstance(things.choose("code=200, example=maintenance"), Refused)
    forced = things.choose("code=200, example=none")
    assert forced is not None and (forced.status, forced.body) == (200, {"things": []})


def test_code_takes_the_first_named_example(things: Preferences) -> None:
    forced = things.choose("code=200")
    assert forced is not None and forced.body == {"things": [1, 2]}
