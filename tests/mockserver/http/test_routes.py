"""The app's route table is the spec's operations: none missing, none extra; plus the spec served as-is."""

from __future__ import annotations

import re
from typing import Any

from litestar.routes import HTTPRoute

from contracts.spec import DEFAULT_SPEC_PATH, load_spec
from mockserver import MockSettings, create_app
from mockserver.mcp import MCP_OPERATIONS, MCP_PATH

# routes the mock serves that are not operations of the spec: the spec itself, the Pusher transports, the pages
# for people (/docs, /__mock/console) with their assets and the object store behind upload URLs (raw bytes)
NOT_OPERATIONS = re.compile(r"^/(openapi\.yaml|app/|apps/|pusher/|docs(/|$)|__mock/console(/|$)|mock-storage/)")
LITESTAR_PARAM = re.compile(r"\{(\w+):\w+\}")


def routed_operations(app: Any) -> set[tuple[str, str]]:
    """(METHOD, spec path) for every HTTP route in Litestar's own route table (OPTIONS is Litestar's)."""
    routed = {
        (method, LITESTAR_PARAM.sub(r"{\1}", route.path))
        for route in app.routes
        if isinstance(route, HTTPRoute) and not NOT_OPERATIONS.match(route.path)
        for method in route.methods - {"OPTIONS"}
    }
    if any(route.path == MCP_PATH for route in app.routes):  # one ASGI mount serves the MCP operations
        ops = load_spec().operations.values()
        routed |= {(op.method, op.path) for op in ops if op.operation_id in MCP_OPERATIONS}
    return routed


def test_the_app_routes_exactly_the_operations_of_the_spec(mock_app: Any) -> None:
    declared = {(op.method, op.path) for op in load_spec().operations.values()}
    routed = routed_operations(mock_app)
    assert declared - routed == set(), "operations of the spec the mock does not route"
    assert routed - declared == set(), "routes of the mock the spec does not declare"


def test_every_path_is_one_route_carrying_all_its_methods(mock_app: Any) -> None:
    paths = [route.path for route in mock_app.routes if isinstance(route, HTTPRoute)]
    assert len(paths) == len(set(paths))


def test_without_the_control_api_no_mock_operation_is_routed(fixture_world: dict[str, Any]) -> None:
    app = create_app(MockSettings(control_api=False), world=fixture_world)
    routed = routed_operations(app)
    assert not any(path.startswith("/__mock") for _, path in routed)
    assert {(op.method, op.path) for op in load_spec().api_operations()} == routed


def test_the_spec_is_served_byte_for_byte_as_yaml(client: Any) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.content == DEFAULT_SPEC_PATH.read_bytes()


def test_litestar_generates_no_schema_of_its_own(client: Any) -> None:
    for path in ("/schema", "/schema/openapi.json", "/schema/swagger"):
        assert client.get(path).status_code == 404


def test_a_malformed_path_id_reaches_validation_instead_of_missing_the_route(client: Any, key_auth: Any) -> None:
    response = client.get("/api/tasks/not-a-uuid", headers=key_auth("acme-admin"))
    assert response.status_code == 400
    assert response.json()["error"].startswith("id: ")
