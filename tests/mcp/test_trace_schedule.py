"""`trace_schedule` (trigger level) through the official client: a task made by a schedule's run names its
schedule; recent fires and template titles rank the candidates; a hand-made task has none."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from tests.mcp.conftest import call, data, error_text, mcp_session

pytestmark = pytest.mark.http

CRON = {"Authorization": "Bearer buildd-mock-cron-secret"}


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return str(next(w["id"] for w in world["workspaces"] if w.get("teamId") == team))


def test_trace_schedule_finds_the_schedule_behind_a_task(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")
    admin = {"Authorization": f"Bearer {fixture_keys['acme-admin']}"}
    made = httpx.post(
        f"{base_url}/api/workspaces/{workspace}/schedules",
        json={"name": "Nightly narwhal", "cronExpression": "0 3 * * *", "taskTemplate": {"title": "Narwhal sweep"}},
        headers=admin,
    )
    assert made.status_code in (200, 201), made.text
    schedule = made.json()["schedule"]
    httpx.post(f"{base_url}/__mock/clock", json={"advanceSeconds": 26 * 3600})  # past its first run
    assert httpx.get(f"{base_url}/api/cron/schedules", headers=CRON).json()["created"] >= 1
    tasks = httpx.get(f"{base_url}/api/tasks", params={"workspaceId": workspace}, headers=admin).json()["tasks"]
    task = next(t for t in tasks if t.get("scheduleId") == schedule["id"])

    async def flow() -> tuple[Any, Any, Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-trigger"], f"?workspace={workspace}") as s:
            hand_made = data(await call(s, "create_task", title="Made by hand"))
            return (
                await call(s, "trace_schedule", taskId=task["id"]),
                await call(s, "trace_schedule", taskTitleContains="NARWHAL", minutesAgo=60 * 24 * 3),
                await call(s, "trace_schedule", taskId=hand_made["id"]),
                await call(s, "trace_schedule", taskTitleContains="no schedule makes this"),
                await call(s, "trace_schedule"),
            )

    by_task, by_clues, hand_made, nothing, no_clue = anyio.run(flow)
    assert data(by_task)["schedule"]["id"] == schedule["id"]
    assert "was created by schedule" in by_task.content[0].text and "Nightly narwhal" in by_task.content[0].text
    assert data(by_clues)["schedules"][0]["id"] == schedule["id"]
    assert 'title matches "narwhal"' in by_clues.content[0].text and "fired " in by_clues.content[0].text
    assert "has no scheduleId" in hand_made.content[0].text
    assert data(nothing)["schedules"] == [] and "No schedules matched" in nothing.content[0].text
    assert "Provide one of" in error_text(no_clue)
