"""Every error is `{"error": ...}`: route misses, wrong methods (with `Allow`), domain errors, and a logged 500."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from litestar.testing import TestClient

from mockserver import MockSettings, create_app
from mockserver.http.routes import HANDLERS, Call, load_all


def test_an_unknown_route_is_404_with_an_error_body(client: Any) -> None:
    response = client.get("/api/nothing-here")
    assert (response.status_code, response.json()) == (404, {"error": "Not found"})


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/tasks", {"GET", "POST"}),
        ("PUT", "/api/tasks/00000000-0000-4000-8000-000000000000", {"GET", "PATCH", "DELETE"}),
        ("TRACE", "/api/workers/claim", {"POST"}),
        ("GET", "/api/workers/claim", {"POST"}),
        ("PATCH", "/api/workspaces/by-repo", {"GET"}),
        ("POST", "/openapi.yaml", {"GET"}),
    ],
)
def test_a_wrong_method_is_405_with_allow_and_an_error_body(
    client: Any, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (405, {"error": "Method not allowed"})
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed | {"OPTIONS"}


def test_options_lists_every_method_of_the_path(client: Any) -> None:
    response = client.options("/api/workspaces/00000000-0000-4000-8000-000000000000/accounts")
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST", "DELETE", "OPTIONS"}


def test_a_domain_error_keeps_its_status_and_body(client: Any, key_auth: Any) -> None:
    response = client.get("/api/tasks/00000000-0000-4000-8000-000000000000", headers=key_auth("acme-admin"))
    assert (response.status_code, response.json()) == (404, {"error": "Task not found"})


@pytest.fixture
def broken_app(monkeypatch: pytest.MonkeyPatch, fixture_world: dict[str, Any]) -> Any:
    def explode(call: Call) -> Any:
        raise RuntimeError("boom")

    load_all()
    monkeypatch.setitem(HANDLERS, "getMe", explode)
    return create_app(MockSettings(strict=True), world=copy.deepcopy(fixture_world))


def test_an_unexpected_exception_is_a_logged_500(
    broken_app: Any, key_auth: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mockserver.http"), TestClient(broken_app) as client:
        response = client.get("/api/accounts/me", headers=key_auth("acme-admin"))
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    record = next(r for r in caplog.records if r.name == "mockserver.http")
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
