"""Route misses like the real server's route table: 405 + Allow only where the path exists, else 404 {error}."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.spec import load_spec
from mockserver.http.misses import ExistingPaths

UUID = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/workers/claimz"),
        ("POST", f"/api/workers/{UUID}/plan"),  # not a route of the real server (routes-v0.175.tsv)
        ("GET", "/api/account/level"),
        ("POST", "/api/workspaces/not-an-id"),  # an unknown sub-path under `/api/workspaces/{id}`
        ("PUT", "/api/tasks/not-an-id"),
    ],
)
def test_a_path_the_spec_does_not_have_is_404_with_an_error_body(
    client: Any, key_auth: Any, method: str, path: str
) -> None:
    response = client.request(method, path, headers=key_auth("acme-ci"))
    assert (response.status_code, response.json()) == (404, {"error": "Not found"})
    assert "allow" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", f"/api/tasks/{UUID}", {"GET", "PATCH", "DELETE"}),
        ("PUT", f"/api/workspaces/{UUID}/accounts", {"GET", "POST", "DELETE"}),
    ],
)
def test_an_existing_path_with_another_method_is_405_with_allow(
    client: Any, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (405, {"error": "Method not allowed"})
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed | {"OPTIONS"}


def test_only_parameter_values_their_schema_accepts_make_a_path_exist() -> None:
    paths = ExistingPaths(load_spec())
    assert paths.exists(f"/api/tasks/{UUID}")
    assert not paths.exists("/api/tasks/purge")
    assert not paths.exists(f"/api/tasks/{UUID}/nope")
    paths.add_routes(["/app/{key:str}"])
    assert paths.exists("/app/anything")
