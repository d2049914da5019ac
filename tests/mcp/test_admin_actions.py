"""`send_agent_message` and `manage_workspaces` (admin actions), through the official client, checked over REST;
a worker key does not see them."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from mockserver.mcp.actions import ACTIONS
from tests.mcp.conftest import call, data, error_text, mcp_session

pytestmark = pytest.mark.http

ADMIN_ONLY = {"send_agent_message", "manage_workspaces", "memory_delete"}


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return str(next(w["id"] for w in world["workspaces"] if w.get("teamId") == team))


def test_the_admin_actions_are_admin_level_and_hidden_from_a_worker_key(
    base_url: str, fixture_keys: dict[str, str]
) -> None:
    assert {ACTIONS[name].level for name in ADMIN_ONLY} == {"admin"}

    async def listed(account: str) -> set[str]:
        async with mcp_session(base_url, fixture_keys[account]) as s:
            buildd = next(t for t in (await s.list_tools()).tools if t.name == "buildd")
            return set(buildd.input_schema["properties"]["action"]["enum"])

    assert anyio.run(listed, "acme-admin") >= ADMIN_ONLY
    assert not ADMIN_ONLY & anyio.run(listed, "acme-ci")


def test_send_agent_message_reaches_the_live_worker(base_url: str, fixture_keys: dict[str, str]) -> None:
    async def flow() -> tuple[Any, Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as worker:
            claimed = data(await call(worker, "claim_task"))["workers"][0]
            async with mcp_session(base_url, fixture_keys["acme-admin"]) as admin:
                sent = await call(admin, "send_agent_message", taskId=claimed["taskId"], message="Update the changelog")
                short = await call(admin, "send_agent_message", taskId=claimed["taskId"][:8], message="x")
                pending = data(await call(admin, "create_task", title="Nobody works on this"))
                idle = await call(admin, "send_agent_message", taskId=pending["id"], message="hello?")
            progress = await call(worker, "update_progress", workerId=claimed["id"], progress=50)
        return sent, short, idle, progress

    sent, short, idle, progress = anyio.run(flow)
    assert data(sent)["ok"] is True and "queued for delivery" in sent.content[0].text
    assert "must be a full UUID" in error_text(short)
    assert "Task is still pending" in error_text(idle)
    # the queued instruction comes back in the worker's next update, as the REST route delivers it
    assert "ADMIN INSTRUCTION:** Update the changelog" in progress.content[0].text


def test_manage_workspaces_sub_actions(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    key = fixture_keys["acme-admin"]
    workspace = _workspace(fixture_world, "acme-ci")
    out: dict[str, Any] = {}

    async def flow() -> None:
        async with mcp_session(base_url, key, f"?workspace={workspace}") as s:

            async def ws(verb: str, **params: Any) -> Any:
                out[verb] = await s.call_tool(
                    "buildd", {"action": "manage_workspaces", "params": {"action": verb, **params}}
                )
                return out[verb]

            await ws("list")
            await ws("create", name="Made over MCP")
            await ws("get")
            await ws("update", name="Renamed over MCP", maxConcurrentTasks=4)
            await ws("create_repo", name=f"mcp-repo-{uuid.uuid4().hex[:8]}")
            await ws("init")
            out["unknown"] = await s.call_tool("buildd", {"action": "manage_workspaces", "params": {"action": "nuke"}})
            out["no_name"] = await s.call_tool(
                "buildd", {"action": "manage_workspaces", "params": {"action": "create_repo"}}
            )

    anyio.run(flow)
    assert "workspace(s)" in out["list"].content[0].text
    created = data(out["create"])
    assert 'Workspace created: "Made over MCP"' in out["create"].content[0].text
    assert f"Workspace {workspace} config" in out["get"].content[0].text
    assert "Name set to: Renamed over MCP" in out["update"].content[0].text
    assert "Repository created: https://github.com/" in out["create_repo"].content[0].text
    assert "auto-created by the runner" in out["init"].content[0].text
    assert "Unknown workspaces action: nuke" in error_text(out["unknown"])
    assert "name (repo name) is required" in error_text(out["no_name"])
    rows = httpx.get(f"{base_url}/api/workspaces", headers={"Authorization": f"Bearer {key}"}).json()["workspaces"]
    by_id = {w["id"]: w for w in rows}
    assert by_id[created.get("workspace", created)["id"]]["name"] == "Made over MCP"
    changed = by_id[workspace]
    assert changed["name"] == "Renamed over MCP" and changed["maxConcurrentTasks"] == 4
    assert changed["repo"] == data(out["create_repo"])["repoUrl"].removeprefix("https://github.com/")
