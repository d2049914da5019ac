"""100 concurrent clients against the session's mock on a real port (the scenario is in _load.py).

The mock is reset to the default world first (and again afterwards), so the verdict only covers this load.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.hardening._load import LoadConfig, check_consistency, invariant_problems, run_load

pytestmark = pytest.mark.http


def _state(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/__mock/state", timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_100_concurrent_clients_leave_a_consistent_state(
    live_server: str, fixture_keys: dict[str, str], world_ids: dict[str, str]
) -> None:
    assert httpx.post(f"{live_server}/__mock/reset", json={}, timeout=30).status_code == 200
    try:
        before = _state(live_server)
        assert invariant_problems(before) == [], "the default world itself is inconsistent"
        config = LoadConfig(clients=100, requests_per_client=20, seed=1, deadline=90)
        creators = {"acme-admin": world_ids["acme-web"], "globex-admin": world_ids["globex-platform"]}
        result = asyncio.run(run_load(live_server, fixture_keys, creators, config))
        after = _state(live_server)

        problems = check_consistency(before, after, result, world_ids)
        assert problems == [], "\n".join(problems[:40])
        summary = result.summary()
        # the load really mixed what it was meant to mix
        assert result.requests == config.clients * config.requests_per_client, summary
        assert len(result.claims) >= 20 and len(result.created) >= 50, summary
        finished = [p["status"] for p in result.acked_patch.values() if p.get("status") in ("completed", "failed")]
        assert "completed" in finished and "failed" in finished, summary
        assert result.statuses[("claim", 429)] > 0, "no client ever competed for a full account"
    finally:
        httpx.post(f"{live_server}/__mock/reset", json={}, timeout=30)
