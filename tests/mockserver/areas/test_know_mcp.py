"""The `buildd` tool's PR actions and `manage_watched_projects`, through the official MCP client."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.mcp.conftest import base_url, call, data, error_text, mcp_session

__all__ = ("base_url",)  # the fixture: a fresh strict mock on a free port
pytestmark = pytest.mark.http

KNOW_ACTIONS = ("create_pr", "get_pr", "close_pr", "merge_pr", "manage_watched_projects")


def test_the_know_actions_drive_their_routes(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    web = next(ws["id"] for ws in fixture_world["workspaces"] if ws["name"] == "acme-web")
    ci = next(a["id"] for a in fixture_world["accounts"] if a["name"] == "acme-ci")
    workers = [
        w for w in fixture_world["workers"] if w["workspaceId"] == web and w["accountId"] == ci and not w["prNumber"]
    ]
    called: set[str] = set()

    async def flow() -> None:
        async def run(session: Any, name: str, **params: Any) -> Any:
            called.add(name)
            return data(await call(session, name, **params))

        async def watched(session: Any, verb: str, **params: Any) -> Any:
            """`manage_watched_projects` takes its own `action` param (the verb)."""
            called.add("manage_watched_projects")
            return await session.call_tool(
                "buildd", {"action": "manage_watched_projects", "params": {"action": verb, **params}}
            )

        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={web}&worker={workers[0]['id']}") as s:
            pr = (await run(s, "create_pr", title="MCP PR", head="buildd/mcp-pr"))["pr"]
            assert (await run(s, "get_pr"))["pr"]["number"] == pr["number"]
            assert (await run(s, "merge_pr", prNumber=pr["number"]))["merged"] is True
            other = (await run(s, "create_pr", workerId=workers[1]["id"], title="Second", head="buildd/second"))["pr"]
            closed = await run(s, "close_pr", workerId=workers[1]["id"], prNumber=other["number"])
            assert closed["pr"]["state"] == "closed"
            refused = await call(s, "create_pr", title="No head")
            assert "title and head branch are required" in error_text(refused)
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={web}") as s:
            created = data(await watched(s, "create", repo="acme/mcp"))["watchedProject"]
            listed = data(await watched(s, "list"))
            assert created["id"] in [p["id"] for p in listed["watchedProjects"]]
            pid = created["id"]
            updated = data(await watched(s, "update", projectId=pid, enabled=False))
            assert updated["watchedProject"]["enabled"] is False
            assert data(await watched(s, "run", projectId=pid))["fired"] == 0
            data(await watched(s, "delete", projectId=pid))
            unknown = await watched(s, "explode")
            assert "Unknown watched_projects action" in error_text(unknown)

    anyio.run(flow)
    assert called == set(KNOW_ACTIONS)
