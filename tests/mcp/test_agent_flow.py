"""The agent flow over MCP (claim_task -> update_progress -> complete_task) leaves the state and emits the events
that the same flow over REST does. Two fresh mocks of the same world on a frozen clock, one driven each way."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import anyio
import httpx
import pytest

from tests.mcp.conftest import call, data, mcp_session

pytestmark = pytest.mark.http

SUMMARY = "Added the limiter and its tests."


@pytest.fixture
def fresh_mock(fixture_world: dict[str, Any]) -> Iterator[Callable[[], str]]:
    """Starts as many identical frozen-clock mocks as a test asks for."""
    from mockserver import MockSettings, create_app
    from mockserver.server import serve_in_thread

    stops: list[Callable[[], None]] = []
    epoch = datetime.fromisoformat(str(fixture_world["meta"]["epoch"]).replace("Z", "+00:00"))

    def start() -> str:
        settings = MockSettings(port=0, strict=True, frozen_clock=epoch)
        base, stop = serve_in_thread(settings, app=create_app(settings, world=copy.deepcopy(fixture_world)))
        stops.append(stop)
        return base

    try:
        yield start
    finally:
        for stop in stops:
            stop()


def _rest_flow(base: str, key: str, progress_body: dict[str, Any]) -> str:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        claimed = http.post("/api/workers/claim", json={"maxTasks": 1, "runner": "mcp"})
        assert claimed.status_code == 200, claimed.text
        wid = str(claimed.json()["workers"][0]["id"])
        assert http.patch(f"/api/workers/{wid}", json=progress_body).status_code == 200
        done = http.patch(f"/api/workers/{wid}", json={"status": "completed", "summary": SUMMARY})
        assert done.status_code == 200, done.text
        return wid


def _mcp_flow(base: str, key: str, progress_params: dict[str, Any]) -> str:
    async def flow() -> str:
        async with mcp_session(base, key) as s:
            wid = str(data(await call(s, "claim_task"))["workers"][0]["id"])
            data(await call(s, "update_progress", workerId=wid, **progress_params))
            data(await call(s, "complete_task", workerId=wid, summary=SUMMARY))
            return wid

    return anyio.run(flow)


def _outcome(base: str, key: str, wid: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        worker = http.get(f"/api/workers/{wid}").json()
        task = http.get(f"/api/tasks/{worker['taskId']}", params={"include": "workers,artifacts"}).json()
        events = http.get("/__mock/events", params={"limit": "1000"}).json()["events"]
    return {"worker": worker, "task": task, "events": [(e["channel"], e["event"], e["data"]) for e in events]}


def _without_ts(value: Any) -> Any:
    """Milestone `ts` is the agent's wall clock (Date.now() in the real tool), not the mock's."""
    if isinstance(value, dict):
        return {k: _without_ts(v) for k, v in value.items() if k != "ts"}
    if isinstance(value, list | tuple):
        return [_without_ts(v) for v in value]
    return value


def test_mcp_flow_leaves_the_rest_flows_state_and_events(
    fresh_mock: Callable[[], str], fixture_keys: dict[str, str]
) -> None:
    key = fixture_keys["acme-ci"]
    rest_base, mcp_base = fresh_mock(), fresh_mock()
    rest_wid = _rest_flow(rest_base, key, {"status": "running", "progress": 50})
    mcp_wid = _mcp_flow(mcp_base, key, {"progress": 50})
    assert rest_wid == mcp_wid
    rest, mcp = _outcome(rest_base, key, rest_wid), _outcome(mcp_base, key, mcp_wid)
    assert mcp["worker"]["status"] == "completed" and mcp["task"]["status"] == "completed"
    assert mcp == rest
    assert any(name.startswith("worker:") for _, name, _ in mcp["events"])


def test_mcp_flow_with_milestones_matches_rest(fresh_mock: Callable[[], str], fixture_keys: dict[str, str]) -> None:
    key = fixture_keys["acme-ci"]
    rest_base, mcp_base = fresh_mock(), fresh_mock()
    milestone = {"type": "status", "label": "Tests pass", "progress": 50, "ts": 1}
    rest_wid = _rest_flow(
        rest_base,
        key,
        {"status": "running", "progress": 50, "appendMilestones": [milestone], "currentAction": "Tests pass"},
    )
    mcp_wid = _mcp_flow(mcp_base, key, {"progress": 50, "message": "Tests pass"})
    rest, mcp = _outcome(rest_base, key, rest_wid), _outcome(mcp_base, key, mcp_wid)
    # the progress milestone, then the transition the worker route records on completion
    assert mcp["worker"]["milestones"][0]["label"] == "Tests pass"
    assert _without_ts(mcp) == _without_ts(rest)
