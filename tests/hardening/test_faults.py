"""Fault injection (`PUT /__mock/faults`) over a real port: a drop rule closes that route's connections while
every other route keeps working, a delay rule adds at least its delay, an injected status answers it, and
clearing the rules restores normal service. The rules are always cleared again (the server is shared).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

pytestmark = pytest.mark.http


Rules = list[dict[str, object]]


@pytest.fixture
def faults(live_server: str) -> Iterator[Callable[[Rules], None]]:
    """`faults([...])` sets the rules; they are cleared after the test whatever happens."""

    def put(rules: Rules) -> None:
        response = httpx.put(f"{live_server}/__mock/faults", json={"rules": rules}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["rules"] == rules

    try:
        yield put
    finally:
        assert httpx.delete(f"{live_server}/__mock/faults", timeout=10).status_code == 200


def _client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_a_drop_rule_closes_only_its_route(
    live_server: str, faults: Callable[[Rules], None], fixture_keys: dict[str, str]
) -> None:
    key = fixture_keys["acme-admin"]
    faults([{"method": "GET", "path": "/api/workspaces", "drop": True}])
    with _client(live_server, key) as http:
        for _ in range(3):
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
                http.get("/api/workspaces")
            # the same client (a new connection) and other routes and methods are fine
            assert http.get("/api/tasks?limit=1").status_code == 200
            assert http.get("/api/accounts/me").status_code == 200
            assert http.get("/api/workspaces/by-repo?repo=acme/web").status_code in (200, 404)
        assert httpx.get(f"{live_server}/__mock/clock").status_code == 200  # the control API is never faulted
    log = httpx.get(f"{live_server}/__mock/requests", params={"limit": 20}).json()["requests"]
    assert [r for r in log if r["path"] == "/api/workspaces"], "dropped requests are still logged"


def test_a_delay_rule_adds_latency_and_clearing_restores_service(
    live_server: str, faults: Callable[[Rules], None], fixture_keys: dict[str, str]
) -> None:
    key = fixture_keys["acme-admin"]
    faults(
        [
            {"method": "GET", "path": "/api/accounts/me", "delayMs": 400},
            {"method": "POST", "path": "/api/workers/claim", "status": 503},
        ]
    )
    with _client(live_server, key) as http:
        started = time.perf_counter()
        assert http.get("/api/accounts/me").status_code == 200
        assert time.perf_counter() - started >= 0.4
        injected = http.post("/api/workers/claim", json={"runner": "faults"})
        assert injected.status_code == 503 and injected.json() == {"error": "Injected fault"}
        assert http.get("/api/tasks?limit=1").status_code == 200  # not delayed: only timing the slow one above

        assert httpx.delete(f"{live_server}/__mock/faults", timeout=10).json() == {"rules": []}
        started = time.perf_counter()
        assert http.get("/api/accounts/me").status_code == 200
        fast = time.perf_counter() - started
        assert fast < 0.4, f"still delayed after the rules were cleared ({fast:.3f}s)"
        assert http.post("/api/workers/claim", json={"runner": "faults", "maxTasks": 1}).status_code in (200, 429)


def test_a_dropped_connection_does_not_hurt_concurrent_requests(
    live_server: str, faults: Callable[[Rules], None], fixture_keys: dict[str, str]
) -> None:
    """Drops interleaved with normal traffic on other connections: every normal request still succeeds."""
    key = fixture_keys["acme-admin"]
    faults([{"path": "/api/tasks/*", "drop": True, "errorRate": 0.5}])

    async def run() -> tuple[int, int, int]:
        dropped = answered = normal = 0
        async with httpx.AsyncClient(
            base_url=live_server, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as http:

            async def faulty(n: int) -> None:
                nonlocal dropped, answered
                try:
                    response = await http.get("/api/tasks/00000000-0000-4000-8000-000000000000")
                    assert response.status_code == 404
                    answered += 1
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
                    dropped += 1

            async def healthy(n: int) -> None:
                nonlocal normal
                response = await http.get("/api/workers/mine")
                assert response.status_code == 200
                normal += 1

            await asyncio.gather(*(faulty(n) for n in range(40)), *(healthy(n) for n in range(40)))
        return dropped, answered, normal

    dropped, answered, normal = asyncio.run(run())
    assert normal == 40 and dropped > 0 and answered > 0, (dropped, answered, normal)
