"""Credentials for the mock's tests: `Authorization` headers by account name, session cookies by email."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture(scope="session")
def key_auth(fixture_keys: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """`key_auth("acme-admin")` -> {"Authorization": "Bearer bld_…"}."""
    return lambda name: {"Authorization": f"Bearer {fixture_keys[name]}"}


@pytest.fixture(scope="session")
def session_auth(fixture_sessions: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """`session_auth("ada@acme.example")` -> {"Cookie": "authjs.session-token=…"} (a fixture session)."""
    return lambda email: {"Cookie": f"authjs.session-token={fixture_sessions[email]}"}
