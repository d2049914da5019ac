"""The `recall`, `learn` and `buildd_memory` tools and the `memory_delete` action, through the official client:
what they write is the workspace memory REST routes' data, and a sensitive workspace hides and refuses them."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from tests.mcp.conftest import call, data, error_text, mcp_session

pytestmark = pytest.mark.http

MEMORY_TOOLS = {"buildd_memory", "recall", "learn"}


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return str(next(w["id"] for w in world["workspaces"] if w.get("teamId") == team))


def _rest_memories(base_url: str, key: str, workspace: str, search: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{base_url}/api/workspaces/{workspace}/memory",
        params={"search": search},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["memories"])


def test_learn_then_recall_finds_it_and_rest_holds_it(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")
    lesson = {
        "type": "gotcha",
        "title": "Zebrafish migrations need a lock",
        "content": "Run the zebrafish migration with the advisory lock held.",
        "files": ["db/migrate.py"],
        "tags": ["db"],
    }

    async def flow() -> tuple[Any, Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            learned = await s.call_tool("learn", lesson)
            recalled = await s.call_tool("recall", {"query": "zebrafish lock", "files": ["db/migrate.py"]})
            missed = await s.call_tool("recall", {"query": "zebrafish", "files": ["elsewhere.py"]})
            by_id = await s.call_tool("recall", {"id": data(learned)["memory"]["id"]})
            return learned, recalled, missed, by_id

    learned, recalled, missed, by_id = anyio.run(flow)
    memory = data(learned)["memory"]
    assert f"ID: {memory['id']}" in learned.content[0].text and memory["source"] == "mcp-agent"
    assert [m["id"] for m in data(recalled)["memories"]] == [memory["id"]]
    assert "Zebrafish migrations need a lock" in recalled.content[0].text
    assert data(missed)["memories"] == [] and "No knowledge found" in missed.content[0].text
    assert by_id.content[0].text.startswith("# Zebrafish migrations need a lock")
    stored = _rest_memories(base_url, fixture_keys["acme-admin"], workspace, "zebrafish")
    assert [(m["id"], m["type"], m["files"], m["tags"]) for m in stored] == [
        (memory["id"], "gotcha", ["db/migrate.py"], ["db"])
    ]


def test_learn_refuses_what_the_real_tool_refuses(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")

    async def attempt() -> tuple[Any, Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            return (
                await s.call_tool("learn", {"type": "gotcha", "title": "No content"}),
                await s.call_tool("learn", {"type": "summary", "title": "Wrong type", "content": "x"}),
                await s.call_tool("recall", {}),
                await s.call_tool("learn", {"type": "gotcha", "title": "Bad", "content": "y", "supersedes": "m-1"}),
            )

    missing, wrong_type, no_query, bad_supersedes = anyio.run(attempt)
    assert "type, title, and content are required" in error_text(missing)
    assert "Invalid type" in error_text(wrong_type)
    assert "query is required" in error_text(no_query)
    assert "supersedes must be an array" in error_text(bad_supersedes)
    assert _rest_memories(base_url, fixture_keys["acme-admin"], workspace, "content type bad") == []


def test_buildd_memory_actions_over_the_rest_routes(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")

    async def flow() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:

            async def mem(action: str, **params: Any) -> Any:
                out[action] = await s.call_tool("buildd_memory", {"action": action, "params": params})
                return out[action]

            saved = data(await mem("save", type="pattern", title="Quokka retries", content="Retry quokka calls."))
            mid = saved["memory"]["id"]
            await mem("update", id=mid, content="Retry quokka calls twice.")
            await mem("get", id=mid)
            await mem("search", query="quokka")
            await mem("context")
            await mem("query_knowledge", query="quokka")
            out["unknown"] = await s.call_tool("buildd_memory", {"action": "delete", "params": {"id": mid}})
        return out

    out = anyio.run(flow)
    mid = data(out["save"])["memory"]["id"]
    assert data(out["update"])["memory"]["content"] == "Retry quokka calls twice."
    assert "Retry quokka calls twice." in out["get"].content[0].text
    assert [m["id"] for m in data(out["search"])["memories"]] == [mid]
    assert "Quokka retries" in out["context"].content[0].text
    assert [m["id"] for m in data(out["query_knowledge"])["memories"]] == [mid]
    assert "Unknown memory action" in error_text(out["unknown"])  # delete is the admin buildd action now
    assert [m["id"] for m in _rest_memories(base_url, fixture_keys["acme-admin"], workspace, "quokka")] == [mid]


def test_memory_delete_is_admin_only_and_deletes(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")

    async def flow() -> tuple[Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            lesson = {"type": "decision", "title": "Wombat cache", "content": "Keep the wombat cache."}
            mid = data(await s.call_tool("learn", lesson))["memory"]["id"]
            refused = await call(s, "memory_delete", id=mid)
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={workspace}") as s:
            return refused, await call(s, "memory_delete", id=mid)

    refused, deleted = anyio.run(flow)
    assert '"requiredLevel": "admin"' in error_text(refused)
    assert not deleted.is_error and "Memory deleted" in deleted.content[0].text
    assert _rest_memories(base_url, fixture_keys["acme-admin"], workspace, "wombat") == []


def test_a_sensitive_workspace_hides_and_refuses_the_memory_tools(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")
    admin = {"Authorization": f"Bearer {fixture_keys['acme-admin']}"}

    async def listed() -> set[str]:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            return {t.name for t in (await s.list_tools()).tools}

    async def tools_and_calls() -> tuple[set[str], Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            names = {t.name for t in (await s.list_tools()).tools}
            learned = await s.call_tool("learn", {"type": "gotcha", "title": "Secret", "content": "classified"})
            recalled = await s.call_tool("recall", {"query": "classified"})
            legacy = await s.call_tool("buildd_memory", {"action": "context"})
            return names, learned, recalled, legacy

    assert anyio.run(listed) >= MEMORY_TOOLS  # standard first: the same test can fail
    flipped = httpx.patch(f"{base_url}/api/workspaces/{workspace}", json={"dataClass": "sensitive"}, headers=admin)
    assert flipped.status_code == 200, flipped.text
    names, learned, recalled, legacy = anyio.run(tools_and_calls)
    assert names == {"buildd"}
    assert "learn is not available in sensitive workspaces" in error_text(learned)
    assert "recall is not available in sensitive workspaces" in error_text(recalled)
    assert "buildd_memory is not available in sensitive workspaces" in error_text(legacy)
    assert _rest_memories(base_url, fixture_keys["acme-admin"], workspace, "classified") == []
