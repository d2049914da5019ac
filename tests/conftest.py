"""Fixtures shared by the whole suite: the default fixture world, its keys by account name, a fresh in-process
mock per test (strict on) and one mock per session on a free 127.0.0.1 port.

Heavy imports (Litestar, the domain, uvicorn) happen inside the fixtures, so test directories that do not use
them do not pay for them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

# Generated tests (schemathesis, hypothesis) draw the same examples on every machine and every run: what passes
# here passes in CI, and a finding is reproduced by running the test again. Exploring new inputs is a separate job:
# `HYPOTHESIS_PROFILE=explore make test` draws fresh random examples, and `bench/soak_fuzz.py` soaks a served mock.
settings.register_profile("suite", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import TestClient


@pytest.fixture(scope="session")
def fixture_world() -> dict[str, Any]:
    """The committed `default` world (do not change it: copy it)."""
    from fixtures.world import load_world

    return load_world("default")


@pytest.fixture(scope="session")
def fixture_keys(fixture_world: dict[str, Any]) -> dict[str, str]:
    """Plaintext fixture keys by account name: `fixture_keys["acme-admin"]`."""
    names = {account["id"]: account["name"] for account in fixture_world["accounts"]}
    return {names[cred["accountId"]]: cred["apiKey"] for cred in fixture_world["credentials"] if cred.get("apiKey")}


@pytest.fixture(scope="session")
def fixture_sessions(fixture_world: dict[str, Any]) -> dict[str, str]:
    """Session tokens of the fixture users by email: `fixture_sessions["ada@acme.example"]`."""
    emails = {user["id"]: user["email"] for user in fixture_world["users"]}
    return {emails[session["userId"]]: session["token"] for session in fixture_world.get("sessions") or []}


@pytest.fixture
def mock_app(fixture_world: dict[str, Any]) -> Litestar:
    """A fresh in-process mock of the default world, strict (any response or event off the spec is a 500)."""
    from mockserver import MockSettings, create_app

    return create_app(MockSettings(strict=True), world=copy.deepcopy(fixture_world))


@pytest.fixture
def client(mock_app: Litestar) -> Iterator[TestClient[Litestar]]:
    from litestar.testing import TestClient

    with TestClient(mock_app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Base URL of one strict mock on a free 127.0.0.1 port, started the way `buildd-api serve` starts it.

    Shared by the session: tests that change state must not rely on what others did (or reset it themselves).
    """
    from mockserver import MockSettings
    from mockserver.server import serve_in_thread

    base_url, stop = serve_in_thread(MockSettings(port=0, strict=True))
    try:
        yield base_url
    finally:
        stop()
