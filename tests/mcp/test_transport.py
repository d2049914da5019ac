"""/api/mcp as a transport: auth as the real route, the corpus's Claude Code initialize, GET/DELETE, the
registry, level filtering of the `buildd` tool, resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from mockserver.mcp.actions import ACTIONS, LEVELS
from tests.mcp.conftest import mcp_session

pytestmark = pytest.mark.http

CORPUS = Path("/work/shared/corpus/client-requests.jsonl")
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _claude_code_initialize() -> dict[str, Any]:
    for line in CORPUS.read_text().splitlines():
        entry = json.loads(line)
        if entry["path"].startswith("/api/mcp") and (entry.get("body") or {}).get("method") == "initialize":
            return dict(entry["body"])
    raise AssertionError("no MCP initialize in the corpus")


@pytest.fixture(scope="module")
def claude_code_initialize() -> dict[str, Any]:
    if not CORPUS.exists():
        pytest.skip("the client-request corpus is not on this machine")
    return _claude_code_initialize()


def test_claude_code_initialize_from_the_corpus_gets_a_valid_result(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any], claude_code_initialize: dict[str, Any]
) -> None:
    import mcp_types

    workspace = fixture_world["workspaces"][0]["id"]
    response = httpx.post(
        f"{base_url}/api/mcp?workspace={workspace}&worker=w1",
        json=claude_code_initialize,
        headers={**MCP_HEADERS, "Authorization": f"Bearer {fixture_keys['acme-ci']}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in response.headers  # stateless
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == claude_code_initialize["id"]
    result = mcp_types.InitializeResult.model_validate(body["result"])
    assert result.protocol_version == claude_code_initialize["params"]["protocolVersion"]
    assert result.server_info.name == "buildd"
    assert result.capabilities.tools is not None and result.capabilities.resources is not None
    assert "worker" in (result.instructions or "")  # the key's level


@pytest.mark.parametrize("authorization", [None, "Bearer bld_" + "0" * 64, "Basic abc", "Bearer nope"])
def test_a_missing_or_bad_key_is_refused_before_any_json_rpc(
    base_url: str, claude_code_initialize: dict[str, Any], authorization: str | None
) -> None:
    headers = dict(MCP_HEADERS) | ({"Authorization": authorization} if authorization else {})
    for method in ("POST", "DELETE"):
        response = httpx.request(method, f"{base_url}/api/mcp", json=claude_code_initialize, headers=headers)
        assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})


def test_the_official_client_is_refused_without_a_valid_key(base_url: str) -> None:
    async def connect() -> None:
        async with mcp_session(base_url, "bld_" + "f" * 64):
            pass

    from mcp.shared.exceptions import MCPError

    with pytest.raises(BaseExceptionGroup) as caught:  # the SDK's task groups wrap the refused initialize
        anyio.run(connect)
    assert caught.group_contains(MCPError)


def test_get_answers_405_as_a_stateless_server_does(base_url: str, fixture_keys: dict[str, str]) -> None:
    response = httpx.get(f"{base_url}/api/mcp", headers={"Authorization": f"Bearer {fixture_keys['acme-ci']}"})
    assert response.status_code == 405
    assert response.json() == {"error": "SSE not supported on stateless server"}  # the real text, in the note's shape


def test_delete_with_a_key_is_handed_to_the_stateless_transport(base_url: str, fixture_keys: dict[str, str]) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {fixture_keys['acme-ci']}"}
    response = httpx.delete(f"{base_url}/api/mcp", headers=headers)
    assert response.status_code == 405  # no session to end
    assert response.json()["error"] == "Method Not Allowed: Session termination not supported"


def test_transport_refusals_use_the_notes_error_shape(base_url: str, fixture_keys: dict[str, str]) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {fixture_keys['acme-ci']}"}
    not_jsonrpc = httpx.post(f"{base_url}/api/mcp", json={"foo": 1}, headers=headers)
    assert not_jsonrpc.status_code == 400 and isinstance(not_jsonrpc.json()["error"], str)
    text = httpx.post(f"{base_url}/api/mcp", content=b"hello", headers={**headers, "Content-Type": "text/plain"})
    assert (text.status_code, text.json()["error"]) == (415, "Content-Type must be application/json")
    bad_params = httpx.post(
        f"{base_url}/api/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3}, headers=headers
    )
    assert bad_params.status_code == 400 and "params" in bad_params.json()["error"]
    unknown = httpx.post(f"{base_url}/api/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "nope"}, headers=headers)
    assert unknown.status_code == 200 and unknown.json()["error"]["code"] == -32601  # JSON-RPC errors stay JSON-RPC


def test_the_registry_answers_a_deterministic_empty_page(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/mcp/registry", params={"search": "github", "limit": "99"})
    assert response.status_code == 200
    assert response.json() == {"servers": [], "metadata": {"count": 0, "limit": 50}}
    refused = httpx.get(f"{base_url}/api/mcp/registry", params={"limit": "x"})
    assert refused.status_code == 400 and "limit" in refused.json()["error"]
    assert httpx.get(f"{base_url}/api/mcp/registry", params={"search": "x" * 201}).status_code == 400


@pytest.mark.parametrize(
    ("account", "level"), [("acme-trigger", "trigger"), ("acme-ci", "worker"), ("acme-admin", "admin")]
)
def test_tools_list_filters_actions_by_the_key_level(
    base_url: str, fixture_keys: dict[str, str], account: str, level: str
) -> None:
    async def listed() -> list[str]:
        async with mcp_session(base_url, fixture_keys[account]) as session:
            tools = (await session.list_tools()).tools
            assert [t.name for t in tools] == ["buildd", "buildd_memory", "recall", "learn"]  # memory tools: any level
            return list(tools[0].input_schema["properties"]["action"]["enum"])

    expected = [a.name for a in ACTIONS.values() if LEVELS.index(a.level) <= LEVELS.index(level)]
    assert anyio.run(listed) == expected
    if level != "admin":
        assert not {"create_schedule", "update_schedule", "delete_schedule"} & set(expected)
    if level == "trigger":
        assert "claim_task" not in expected


def test_an_action_above_the_key_level_is_a_forbidden_tool_error(base_url: str, fixture_keys: dict[str, str]) -> None:
    async def attempt() -> Any:
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as session:
            return await session.call_tool("buildd", {"action": "create_schedule", "params": {}})

    result = anyio.run(attempt)
    assert result.is_error
    assert json.loads(result.content[0].text) == {
        "error": "forbidden",
        "reason": "action 'create_schedule' requires admin token level",
        "tokenLevel": "worker",
        "requiredLevel": "admin",
    }


def test_resources_are_listed_and_pending_tasks_come_from_the_state(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    team = next(a["teamId"] for a in fixture_world["accounts"] if a["name"] == "acme-ci")
    workspace = next(w["id"] for w in fixture_world["workspaces"] if w.get("teamId") == team)

    async def read() -> tuple[list[str], str, str]:
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as session:
            uris = [str(r.uri) for r in (await session.list_resources()).resources]
            pending = (await session.read_resource("buildd://tasks/pending")).contents[0].text
            memory = (await session.read_resource("buildd://workspace/memory")).contents[0].text
            return uris, pending, memory

    async def read_pinned() -> str:  # with ?workspace= the memory resource reads the workspace memory routes
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as session:
            lesson = {"type": "pattern", "title": "Resource-read lesson", "content": "Read me back."}
            assert not (await session.call_tool("learn", lesson)).is_error
            return str((await session.read_resource("buildd://workspace/memory")).contents[0].text)

    uris, pending, memory = anyio.run(read)
    assert uris == ["buildd://tasks/pending", "buildd://workspace/memory", "buildd://workspace/skills"]
    tasks = httpx.get(f"{base_url}/api/tasks", headers={"Authorization": f"Bearer {fixture_keys['acme-ci']}"}).json()
    first = max((t for t in tasks["tasks"] if t["status"] == "pending"), key=lambda t: t.get("priority") or 0)
    assert pending.startswith(f"[P{first['priority']}] {first['title']} ({first['id']})")
    assert memory == "Memory service not configured."  # acme has several workspaces: none to read
    assert "Resource-read lesson: Read me back." in anyio.run(read_pinned)


def test_query_parameters_are_checked_after_the_key(
    base_url: str, fixture_keys: dict[str, str], claude_code_initialize: dict[str, Any]
) -> None:
    url = f"{base_url}/api/mcp?workspace={'x' * 201}"
    assert httpx.post(url, json=claude_code_initialize, headers=MCP_HEADERS).status_code == 401
    refused = httpx.post(
        url, json=claude_code_initialize, headers={**MCP_HEADERS, "Authorization": f"Bearer {fixture_keys['acme-ci']}"}
    )
    assert refused.status_code == 400 and "workspace" in refused.json()["error"]
