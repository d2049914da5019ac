"""Names of the default world's workspaces for the area tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def workspace_ids(fixture_world: dict[str, Any]) -> dict[str, str]:
    """`workspace_ids["acme-web"]` -> its id."""
    return {ws["name"]: ws["id"] for ws in fixture_world["workspaces"]}
