"""Every action of the `buildd` tool, called through the official client with a key of the right level; refused
actions are tool errors carrying the REST answer."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from mockserver.mcp.actions import ACTIONS, LEVELS
from tests.mcp.conftest import call, data, error_text, mcp_session

pytestmark = pytest.mark.http


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return next(w["id"] for w in world["workspaces"] if w.get("teamId") == team)


def test_every_action_in_the_registry_is_callable(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    workspace = _workspace(fixture_world, "acme-ci")
    called: dict[str, Any] = {}

    async def flow() -> None:
        async def run(session: Any, action: str, **params: Any) -> Any:
            result = await call(session, action, **params)
            called[action] = result
            return data(result)

        async def sub(session: Any, name: str, **params: Any) -> Any:  # actions whose params have an `action`
            result = await session.call_tool("buildd", {"action": name, "params": params})
            called[name] = result
            return data(result)

        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={workspace}") as s:
            await run(s, "list_tasks")
            task = await run(s, "create_task", title="Filed over MCP", description="Created by the MCP test")
            assert (await run(s, "get_task", taskId=task["id"]))["id"] == task["id"]
            await run(s, "update_task", taskId=task["id"], description="Edited over MCP")
            worker = (await run(s, "claim_task"))["workers"][0]
            wid = worker["id"]
            await run(s, "update_progress", workerId=wid, progress=30)
            await run(s, "emit_event", workerId=wid, type="checkpoint", label="Tests written")
            await run(s, "query_events", workerId=wid)
            await run(s, "post_note", workerId=wid, type="update", title="Halfway there")
            artifact = await run(s, "create_artifact", workerId=wid, type="summary", title="Summary", content="ok")
            aid = artifact["artifact"]["id"]
            await run(s, "get_artifact", artifactId=aid)
            assert "research_report" in (await run(s, "list_artifact_templates"))["templates"]
            await run(s, "update_artifact", artifactId=aid, title="Summary v2")
            await run(s, "get_task_messages", taskId=worker["taskId"])
            await run(s, "list_schedules")
            await run(s, "complete_task", workerId=wid, summary="Done over MCP")
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={workspace}") as s:
            created = await run(
                s,
                "create_schedule",
                name="Weekly MCP",
                cronExpression="0 9 * * 1",
                taskTemplate={"title": "Weekly chore"},
            )
            sid = created.get("schedule", created)["id"]
            await run(s, "update_schedule", scheduleId=sid, enabled=False)
            await run(s, "delete_schedule", scheduleId=sid)
            secret = await sub(s, "manage_secrets", action="set", label="GITHUB_TOKEN", value="ghp_mcp")  # area cred
            await sub(s, "manage_secrets", action="list")
            await sub(s, "manage_secrets", action="delete", secretId=secret["id"])
            await sub(s, "manage_model_tiers", action="set", tier="budget", provider="anthropic", model="m")
            assert (await sub(s, "manage_model_tiers", action="list"))["budget"]["source"] == "workspace"
            await sub(s, "manage_model_tiers", action="delete", tier="budget")
            # area ws: skills, workspace artifacts, schedule suggestions and bulk pause
            await run(s, "register_skill", name="UI audit", content="# UI audit")
            await run(s, "list_skills")
            assert (await run(s, "get_skill", slug="ui-audit"))["skill"]["slug"] == "ui-audit"
            await run(s, "update_skill", slug="ui-audit", enabled=False)
            await run(s, "delete_skill", slug="ui-audit")
            await run(s, "list_artifacts", limit=5)
            schedule = (await run(s, "list_schedules"))["schedules"][0]
            await run(s, "suggest_schedule_update", scheduleId=schedule["id"], reason="weekdays", enabled=False)
            await run(s, "pause_schedules", scheduleIds=[schedule["id"]])
            for name, params in (("manage_missions", {"action": "list"}), ("manage_initiatives", {"action": "list"})):
                called[name] = await s.call_tool("buildd", {"action": name, "params": params})
                data(called[name])
            # the knowledge store (no REST route in the real server either; tests/mcp/test_knowledge_actions.py)
            assert (await run(s, "spec_compare", feature="ci pipeline"))["spec"] == []  # no docs ingested
            await sub(s, "consolidate_knowledge", op="find_duplicates")
            refused = await call(s, "link_tracker", entityId=str(uuid.uuid4()), url="https://linear.app/a/issue/A-1")
            called["link_tracker"] = refused
            assert "Mission not found" in error_text(refused)
        # area ops: the plan flow, a file upload, error traces, the budget and a release of acme-web
        release = {"enabled": True, "strategy": "workflow_dispatch", "workflowFile": "release.yml", "ref": "main"}
        configured = httpx.patch(
            f"{base_url}/api/workspaces/{workspace}/config",
            json={"releaseConfig": {**release, "prodBranch": "production"}},
            headers={"Authorization": f"Bearer {fixture_keys['acme-admin']}"},
        )
        assert configured.status_code == 200, configured.text
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={workspace}") as s:
            plan = await run(s, "create_task", title="Plan over MCP", mode="planning", priority=1000)
            claimed = (await run(s, "claim_task"))["workers"][0]
            assert claimed["taskId"] == plan["id"]
            steps = [{"ref": "one", "title": "Step one"}]
            await run(s, "complete_task", workerId=claimed["id"], structuredOutput={"plan": steps})
            assert len((await run(s, "approve_plan", taskId=plan["id"]))["tasks"]) == 1
            await run(s, "reject_plan", taskId=plan["id"], feedback="One more step")
            upload = {"filename": "a.txt", "mimeType": "text/plain", "sizeBytes": 3}
            await run(s, "upload_artifact", workerId=claimed["id"], **upload)
            await run(s, "get_error_traces", taskId=plan["id"])
            await run(s, "get_budget_forecast")
            await run(s, "release_status")
            await run(s, "trigger_release")

    anyio.run(flow)
    # the core actions are all called here; an area's actions (mockserver/mcp/actions/<area>.py) by its area's tests
    core = {name for name, a in ACTIONS.items() if a.run.__module__ == "mockserver.mcp.actions"}
    assert core <= set(called), f"actions without a step here: {sorted(core - set(called))}"


def test_a_refused_action_carries_the_rest_status_and_error(base_url: str, fixture_keys: dict[str, str]) -> None:
    key = fixture_keys["acme-ci"]
    missing = str(uuid.uuid4())
    rest_404 = httpx.get(f"{base_url}/api/tasks/{missing}", headers={"Authorization": f"Bearer {key}"})
    rest_400 = httpx.patch(
        f"{base_url}/api/tasks/{missing}", json={"priority": "high!"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert rest_404.status_code == 404 and rest_400.status_code == 400

    async def attempt() -> tuple[Any, Any, Any]:
        async with mcp_session(base_url, key) as s:
            return (
                await call(s, "get_task", taskId=missing),
                await call(s, "update_task", taskId=missing, priority="high!"),
                await call(s, "update_progress", progress=10),
            )

    not_found, bad, no_worker = anyio.run(attempt)
    assert rest_404.json()["error"] in error_text(not_found) and "API error: 404" in error_text(not_found)
    assert not_found.structured_content == {"status": 404, "body": rest_404.json()}
    assert "API error: 400" in error_text(bad) and bad.structured_content == {"status": 400, "body": rest_400.json()}
    assert "workerId is required" in error_text(no_worker)


def test_a_worker_cannot_drive_another_accounts_worker(base_url: str, fixture_keys: dict[str, str]) -> None:
    async def attempt() -> Any:
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as s:
            wid = data(await call(s, "claim_task"))["workers"][0]["id"]
        async with mcp_session(base_url, fixture_keys["globex-ci"]) as s:
            return await call(s, "complete_task", workerId=wid, summary="not mine")

    text = error_text(anyio.run(attempt))
    assert "API error: 403" in text or "API error: 404" in text


def test_a_trigger_key_creates_tasks_but_cannot_claim(base_url: str, fixture_keys: dict[str, str]) -> None:
    async def attempt() -> tuple[Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-trigger"]) as s:
            return await call(s, "create_task", title="From a trigger"), await call(s, "claim_task")

    created, claim = anyio.run(attempt)
    assert data(created)["title"] == "From a trigger"
    assert '"requiredLevel": "worker"' in error_text(claim)


def test_levels_nest() -> None:
    assert all(a.level in LEVELS for a in ACTIONS.values())


def test_emit_event_appends_a_runner_shaped_milestone(base_url: str, fixture_keys: dict[str, str]) -> None:
    async def flow() -> Any:
        async with mcp_session(base_url, fixture_keys["acme-ci"]) as s:
            wid = data(await call(s, "claim_task"))["workers"][0]["id"]
            data(await call(s, "emit_event", workerId=wid, type="checkpoint", label="Tests written"))
            return data(await call(s, "query_events", workerId=wid, type="checkpoint"))

    events = anyio.run(flow)
    assert [e["label"] for e in events] == ["Tests written"]
