"""`--strict`: a response or an event the spec does not allow becomes a loud 500 that says what was wrong."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from mockserver import MockSettings, create_app
from mockserver.domain.areas.accounts import Accounts
from mockserver.domain.events import Event
from mockserver.http.routes import HANDLERS, Call, load_all


@pytest.fixture
def app_where(monkeypatch: pytest.MonkeyPatch, fixture_world: dict[str, Any]) -> Callable[..., Any]:
    """`app_where("getMe", handler, strict=True)`: a mock whose getMe is `handler`."""

    def build(operation_id: str, handler: Callable[[Call], Any], *, strict: bool = True) -> Any:
        load_all()
        monkeypatch.setitem(HANDLERS, operation_id, handler)
        return create_app(MockSettings(strict=strict), world=copy.deepcopy(fixture_world))

    return build


def me(call: Call) -> dict[str, Any]:
    return call.api.area(Accounts).get_me(call.principal)


def test_a_body_off_the_schema_is_replaced_by_a_500_that_explains_it(
    app_where: Any, key_auth: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_where("getMe", lambda call: {**me(call), "level": "emperor"})
    with caplog.at_level(logging.ERROR), TestClient(app) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert response.status_code == 500
    error = response.json()["error"]
    assert error.startswith("strict mode: getMe (GET /api/accounts/me) answered 200 with a body that violates")
    assert 'level: "emperor" is not one of' in error
    assert any("strict" in r.getMessage() for r in caplog.records)


def test_an_undocumented_status_is_replaced_by_a_500(app_where: Any, key_auth: Any) -> None:
    app = app_where("getMe", lambda call: (418, {"error": "I am a teapot"}))
    with TestClient(app) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert response.status_code == 500
    assert "answered 418, which it does not document (200, 401)" in response.json()["error"]


def test_an_event_off_x_events_is_replaced_by_a_500(app_where: Any, key_auth: Any) -> None:
    def me_and_a_bad_event(call: Call) -> Any:
        call.api.outbox.append(Event("workspace-1", "task:created", {"task": {"id": 1}}))
        return me(call)

    app = app_where("getMe", me_and_a_bad_event)
    with TestClient(app) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert response.status_code == 500
    assert "event 'task:created' on 'workspace-1' violates" in response.json()["error"]


def test_an_unknown_event_is_replaced_by_a_500(app_where: Any, key_auth: Any) -> None:
    def me_and_an_unknown_event(call: Call) -> Any:
        call.api.outbox.append(Event("task-1", "task:exploded", {}))
        return me(call)

    with TestClient(app_where("getMe", me_and_an_unknown_event)) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert response.status_code == 500
    assert "'task:exploded' on 'task-1' is not in the spec's x-events" in response.json()["error"]


def test_without_strict_the_wrong_body_goes_out_as_is(app_where: Any, key_auth: Any) -> None:
    app = app_where("getMe", lambda call: {**me(call), "level": "emperor"}, strict=False)
    with TestClient(app) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert (response.status_code, response.json()["level"]) == (200, "emperor")


def test_the_mocks_own_answers_pass_strict_mode(client: Any, key_auth: Any) -> None:
    for path in ("/api/accounts/me", "/api/workers/mine", "/api/tasks", "/api/artifacts"):
        assert client.get(path, headers=key_auth("acme-admin")).status_code == 200, path
