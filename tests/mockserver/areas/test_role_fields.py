"""A role's settable fields are the spec's `RoleFields`, read from the spec (not a second list in the domain): a
create stores each of them, and a field outside them is not taken from the body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.resources import properties_of
from contracts.spec import load_spec

Auth = Callable[[str], dict[str, str]]
ADA = "ada@acme.example"
# one value of each RoleFields field, none of them the default a new role gets
SENT: dict[str, Any] = {
    "name": "Field Tester",
    "description": "Checks every field.",
    "content": "Test every field.",
    "model": "opus",
    "defaultBackend": "codex",
    "allowedTools": ["Read"],
    "canDelegateTo": ["builder"],
    "background": True,
    "maxTurns": 7,
    "color": "#123456",
    "mcpServers": {"github": {"command": "gh-mcp"}},
    "requiredEnvVars": {"GITHUB_TOKEN": "a token"},
    "connectorRefs": ["linear"],
    "isRole": False,
    "repoUrl": "https://github.com/acme/roles",
    "enabled": False,
}


def test_a_role_create_stores_every_field_of_role_fields(client: Any, session_auth: Auth) -> None:
    assert set(SENT) == set(properties_of(load_spec(), {"$ref": "#/components/schemas/RoleFields"}))
    created = client.post("/api/roles", json={**SENT, "origin": "scan"}, headers=session_auth(ADA))
    assert created.status_code == 201, created.text
    role = created.json()["skill"]
    assert {field: role[field] for field in SENT} == SENT
    assert role["origin"] == "manual"  # not a RoleFields field: the body cannot set it
