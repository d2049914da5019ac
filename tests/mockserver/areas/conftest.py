"""Names of the default world's workspaces for the area tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def workspace_ids(fixture_world: dict[str, Any]) -> dict[str, str]:
    """`workspace_ids["acme-web"]` -> its id."""
    return {ws["name"]: ws["id"] for ws in fixture_world["workspaces"]}


# `served` (a strict mock on a free 127.0.0.1 port, per module) and `mock` (it, reset for the test): the
# end-to-end tests over real HTTP (tests/mockserver/areas/served.py)
from tests.mockserver.areas.served import mock, served  # noqa: E402, F401
