"""A strict mock served on a free 127.0.0.1 port, reached over real HTTP (httpx), reset to the default world
before each test: the end-to-end tests of teams, OAuth and webhooks go through the same socket, routing and
cookies a browser or a webhook sender would.

    def test_x(mock: Served) -> None:  # the fixtures come from this folder's conftest.py
        mock.get("/api/teams", as_user="ada@acme.example")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

TIMEOUT = httpx.Timeout(10.0)


class Served:
    """One served mock: `as_user` sends the fixture user's session cookie, `key` the fixture account's key."""

    def __init__(self, base_url: str, sessions: dict[str, str], keys: dict[str, str]) -> None:
        self.base_url = base_url
        self.sessions = sessions
        self.keys = keys
        self.http = httpx.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False, trust_env=False)

    def headers(self, as_user: str | None = None, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if as_user is not None:
            headers["Cookie"] = f"authjs.session-token={self.sessions[as_user]}"
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys[key]}"
        return headers

    def request(
        self, method: str, path: str, *, as_user: str | None = None, key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(as_user, key), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def reset(self) -> None:
        response = self.http.post("/__mock/reset", json={})
        assert response.status_code == 200, response.text
        self.http.cookies.clear()


@pytest.fixture(scope="module")
def served(fixture_sessions: dict[str, str], fixture_keys: dict[str, str]) -> Iterator[Served]:
    """The module's mock, started the way `buildd-api serve` starts it (strict), stopped afterwards."""
    from mockserver import MockSettings
    from mockserver.server import serve_in_thread

    base_url, stop = serve_in_thread(MockSettings(port=0, strict=True))
    mock = Served(base_url, fixture_sessions, fixture_keys)
    try:
        yield mock
    finally:
        mock.http.close()
        stop()


@pytest.fixture
def mock(served: Served) -> Served:
    """The served mock, back at the default world (and its clock's epoch) for this test."""
    served.reset()
    return served
