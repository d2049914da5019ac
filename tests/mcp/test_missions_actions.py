"""`manage_missions`, `manage_initiatives` and `link_tracker` through the official MCP client: each sub-action is
the REST route's answer (tasks linked to missions, missions to initiatives), refusals are tool errors."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.mcp.conftest import data, error_text, mcp_session

pytestmark = pytest.mark.http


async def call(session: Any, tool_action: str, **params: Any) -> Any:
    """The `buildd` tool with `params` that may hold their own `action` (the sub-action)."""
    return await session.call_tool("buildd", {"action": tool_action, "params": params})


def test_missions_and_initiatives_over_mcp(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    team = next(a["teamId"] for a in fixture_world["accounts"] if a["name"] == "acme-admin")
    ws = next(w["id"] for w in fixture_world["workspaces"] if w["teamId"] == team and w.get("accessMode") == "open")

    async def flow() -> None:
        async with mcp_session(base_url, fixture_keys["acme-admin"]) as s:
            assert "action is required" in error_text(await call(s, "manage_missions"))
            assert "Unknown missions action" in error_text(await call(s, "manage_missions", action="fly"))
            init = data(await call(s, "manage_initiatives", action="create", title="Goals"))
            mission = data(
                await call(
                    s, "manage_missions", action="create", title="Ship it", workspaceId=ws, orchestrationMode="manual"
                )
            )
            assert mission["organizerTask"] is None
            task = data(await call(s, "create_task", title="Pre-filed", workspaceId=ws))
            linked = data(
                await call(s, "manage_missions", action="link_task", missionId=mission["id"], taskId=task["id"])
            )
            assert linked["missionId"] == mission["id"]
            got = await call(s, "manage_missions", action="get", missionId=mission["id"])
            assert [t["id"] for t in data(got)["tasks"]] == [task["id"]] and "Pre-filed" in got.content[0].text
            data(await call(s, "manage_initiatives", action="link_mission", initiativeId=init["id"],
                            missionId=mission["id"]))  # fmt: skip
            rollup = data(await call(s, "manage_initiatives", action="get", initiativeId=init["id"]))
            assert [m["id"] for m in rollup["missions"]] == [mission["id"]]
            unlinked = data(await call(s, "manage_missions", action="unlink_task", taskId=task["id"]))
            assert unlinked.get("missionId") is None
            held = data(await call(s, "manage_missions", action="update", missionId=mission["id"], startMode="held"))
            assert held["isHeld"] is True
            assert data(await call(s, "manage_missions", action="arm", missionId=mission["id"]))["isHeld"] is False
            result = await call(s, "manage_missions", action="evaluate", missionId=mission["id"])
            assert "No goalCriteria" in result.content[0].text
            assert "Phase 1" in error_text(await call(s, "link_tracker", entityType="task", entityId="x", url="u"))
            data(await call(s, "manage_initiatives", action="delete", initiativeId=init["id"]))
            data(await call(s, "manage_missions", action="delete", missionId=mission["id"]))
            gone = error_text(await call(s, "manage_missions", action="get", missionId=mission["id"]))
            assert "Mission not found" in gone
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as s:  # a worker key does not see admin actions
            assert "manage_missions" in error_text(await call(s, "manage_missions", action="list"))

    anyio.run(flow)
