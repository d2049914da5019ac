"""The mock over real HTTP on a free 127.0.0.1 port, started the way `buildd-api serve` starts it."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from mockserver import MockSettings
from mockserver.server import serve_in_thread

pytestmark = pytest.mark.http

ROOT = Path(__file__).resolve().parents[3]


def test_the_live_mock_answers_like_the_in_process_one(live_server: str, fixture_keys: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server, timeout=5) as client:
        assert client.get("/openapi.yaml").content == (ROOT / "openapi.yaml").read_bytes()
        me = client.get("/api/accounts/me", headers={"Authorization": f"Bearer {fixture_keys['acme-ci']}"})
        assert (me.status_code, me.json()["name"]) == (200, "acme-ci")
        assert client.get("/api/accounts/me").json() == {"error": "Unauthorized"}
        wrong = client.delete("/api/tasks")
        assert (wrong.status_code, wrong.json()) == (405, {"error": "Method not allowed"})
        assert set(wrong.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST", "OPTIONS"}


def test_a_drop_rule_closes_the_socket(live_server: str, fixture_keys: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server, timeout=5) as client:
        client.put("/__mock/faults", json={"rules": [{"path": "/api/workers/mine", "drop": True}]})
        try:
            with pytest.raises(httpx.TransportError):
                client.get("/api/workers/mine", headers={"Authorization": f"Bearer {fixture_keys['acme-ci']}"})
        finally:
            client.delete("/__mock/faults")
        assert (
            client.get("/api/workers/mine", headers={"Authorization": f"Bearer {fixture_keys['acme-ci']}"}).status_code
            == 200
        )


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A strict mock of its own (the `empty` scenario), so state changes stay here."""
    base_url, stop = serve_in_thread(MockSettings(port=0, strict=True, scenario="empty"))
    try:
        yield base_url
    finally:
        stop()


async def _claim_race(base_url: str, claimers: int, tasks: int) -> tuple[list[dict[str, Any]], list[str]]:
    limits = httpx.Limits(max_connections=claimers)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        session = (await client.post("/__mock/session", json={"email": "ada@acme.example"})).json()
        dashboard = {"Cookie": session["cookie"]}
        workspace = (await client.post("/api/workspaces", json={"name": "race"}, headers=dashboard)).json()
        account = (
            await client.post(
                "/api/accounts",
                headers=dashboard,
                json={
                    "name": "race-runner",
                    "type": "service",
                    "level": "worker",
                    "authType": "api",
                    "maxConcurrentWorkers": claimers,
                },
            )
        ).json()
        runner = {"Authorization": f"Bearer {account['apiKey']}"}
        created = [
            (
                await client.post(
                    "/api/tasks", headers=dashboard, json={"title": f"task {n}", "workspaceId": workspace["id"]}
                )
            ).json()["id"]
            for n in range(tasks)
        ]

        async def claim(n: int) -> dict[str, Any]:
            response = await client.post(
                "/api/workers/claim",
                headers=runner,
                json={"runner": f"runner-{n}", "maxTasks": 1, "workspaceId": workspace["id"]},
            )
            assert response.status_code == 200, response.text
            return response.json()

        results = await asyncio.gather(*(claim(n) for n in range(claimers)))
        return list(results), created


def test_concurrent_claimers_never_share_a_task(fresh_server: str) -> None:
    results, created = asyncio.run(_claim_race(fresh_server, claimers=50, tasks=20))

    claimed = [worker["taskId"] for result in results for worker in result["workers"]]
    assert Counter(claimed).most_common(1)[0][1] == 1, "a task was claimed twice"
    assert sorted(claimed) == sorted(created), "every task is claimed exactly once"
    empty = [r for r in results if not r["workers"]]
    assert len(empty) == 30 and all(r["diagnostics"]["reason"] for r in empty)

    with httpx.Client(base_url=fresh_server, timeout=5) as client:
        events = client.get("/__mock/events", params={"limit": 1000}).json()["events"]
        state = client.get("/__mock/state").json()
    assert Counter(e["event"] for e in events)["task:claimed"] == 20
    statuses = Counter(t["status"] for t in state["tasks"])
    assert statuses == {"assigned": 20}
    assert len(state["workers"]) == 20 and len({w["taskId"] for w in state["workers"]}) == 20


def test_the_pusher_websocket_delivers_events_on_the_same_port(fresh_server: str) -> None:
    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=fresh_server, timeout=5) as client:
            session = (await client.post("/__mock/session", json={"email": "ada@acme.example"})).json()
            dashboard = {"Cookie": session["cookie"]}
            workspace = (await client.post("/api/workspaces", json={"name": "live"}, headers=dashboard)).json()
            ws_url = fresh_server.replace("http://", "ws://") + f"/app/{MockSettings().pusher_key}?protocol=7"
            async with connect(ws_url) as socket_:
                assert json.loads(await socket_.recv())["event"] == "pusher:connection_established"
                channel = f"workspace-{workspace['id']}"
                await socket_.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
                assert json.loads(await socket_.recv())["event"] == "pusher_internal:subscription_succeeded"
                await client.post(
                    "/api/tasks", json={"title": "hello", "workspaceId": workspace["id"]}, headers=dashboard
                )
                return json.loads(await asyncio.wait_for(socket_.recv(), 5))

    frame = asyncio.run(scenario())
    assert frame["event"] == "task:created"
    assert json.loads(frame["data"])["task"]["title"] == "hello"


# ------------------------------------------------------------------------------------------------- buildd-api serve
def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_serve_prints_where_everything_is_and_serves_it() -> None:
    process = _serve("--port", "0", "--strict", "--scenario", "empty")
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        base_url = banner[0].split()[3]
        assert base_url.startswith("http://127.0.0.1:")
        assert f"{base_url}/openapi.yaml" in banner[1] and f"{base_url}/docs" in banner[1]
        assert f"{base_url}/__mock/console" in banner[2]
        assert "ws://127.0.0.1:" in banner[3] and "/app/" in banner[3]
        assert "buildd-api fixtures keys" in banner[4] and "/__mock/keys" in banner[4]
        keys = httpx.get(f"{base_url}/__mock/keys", timeout=5)
        assert keys.status_code == 200 and keys.json()["scenario"] == "empty"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_on_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve("--port", str(port))
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stderr.strip() == f"error: 127.0.0.1:{port} is already in use; pick another --port"
