"""A worker's whole life with the runner's exact bodies: the final update frees the slot for the next claim.

Before the spec followed the wire, the runner's milestones (`{type, label, ts}`) and its terminal update
(`subagentSpans`, `backgroundAgentMs`) were refused with 400, the worker stayed `running`, and the next claim got 429.
"""

from __future__ import annotations

from typing import Any

from ._corpus import ENVIRONMENT, RUNNER
from .conftest import claim_body

LAPTOP = "acme-laptop"  # maxConcurrentWorkers 2, one live worker in the fixture world


def test_the_runners_exact_bodies_carry_a_worker_from_claim_to_completion_and_free_its_slot(
    client: Any, key_auth: Any
) -> None:
    auth = key_auth(LAPTOP)
    beat = client.post(
        "/api/workers/heartbeat",
        headers=auth,
        json={
            "localUiUrl": RUNNER,
            "activeWorkerCount": 0,
            "environment": ENVIRONMENT,
            "redactionCounts": {"github_token": 2},
        },
    )
    assert beat.status_code == 200, beat.text

    claimed = client.post("/api/workers/claim", headers=auth, json=claim_body(claimAcrossAccessible=True))
    assert claimed.status_code == 200, claimed.text
    (worker,) = claimed.json()["workers"]
    full = client.post("/api/workers/claim", headers=auth, json=claim_body(claimAcrossAccessible=True))
    assert full.status_code == 429, "both slots are taken: the runner's next claim must wait"

    url = f"/api/workers/{worker['id']}"
    milestones: list[dict[str, Any]] = [{"type": "status", "label": "Worktree ready", "ts": 1796281810807}]
    updates: list[dict[str, Any]] = [
        {"localUiUrl": RUNNER, "status": "running"},
        {
            "status": "running",
            "currentAction": "Setting up worktree...",
            "milestones": milestones,
            "localUiUrl": RUNNER,
        },
        {
            "status": "running",
            "currentAction": "Edit: src/a.ts",
            "milestones": [
                *milestones,
                {"type": "checkpoint", "event": "session_started", "label": "Session started", "ts": 1796281813477},
            ],
            "appendMcpCalls": [{"server": "buildd", "tool": "update_progress", "ts": 1, "ok": True, "durationMs": 12}],
        },
        {
            "taskProgress": [
                {"taskId": "t1", "agentName": None, "toolCount": 3, "durationMs": 900, "cumulativeUsage": None}
            ]
        },
        {"appendErrorTraces": [{"pattern": "TypeError", "excerpt": "x is undefined", "source": "bash"}]},
        {"status": "running", "inputTokens": 10, "outputTokens": 5, "resultMeta": {"numTurns": 3, "durationMs": 100}},
        {
            "status": "completed",
            "summary": "done",
            "subagentSpans": [],
            "subagentSpansObserved": 0,
            "backgroundAgentMs": 0,
        },
    ]
    for body in updates:
        response = client.patch(url, headers=auth, json=body)
        assert response.status_code == 200, f"{body} -> {response.status_code} {response.text}"

    done = client.get(url, headers=auth).json()
    assert done["status"] == "completed" and done["task"]["status"] == "completed"
    assert done["turns"] == 3 and done["resultMeta"] == {"numTurns": 3, "durationMs": 100}
    assert [m["type"] for m in done["milestones"]] == ["status", "checkpoint", "statusTransition"]
    assert all(isinstance(m["ts"], int) for m in done["milestones"])
    assert done["milestones"][-1]["from"] == "running" and done["milestones"][-1]["to"] == "completed"

    again = client.post("/api/workers/claim", headers=auth, json=claim_body(claimAcrossAccessible=True))
    assert again.status_code == 200, again.text
    assert len(again.json()["workers"]) == 1, "the completed worker's slot is free again"


def test_a_failed_update_in_the_runners_shape_also_frees_the_slot(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    (worker,) = client.post("/api/workers/claim", headers=auth, json=claim_body()).json()["workers"]
    failed = client.patch(
        f"/api/workers/{worker['id']}",
        headers=auth,
        json={
            "status": "failed",
            "error": "Claude Code returned an error result: Not logged in",
            "subagentSpansObserved": 0,
            "backgroundAgentMs": 0,
        },
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    assert client.post("/api/workers/claim", headers=auth, json=claim_body()).status_code == 200


def test_the_mcp_claim_tasks_default_null_workspace_means_any_workspace(client: Any, key_auth: Any) -> None:
    response = client.post("/api/workers/claim", headers=key_auth(LAPTOP), json=claim_body(workspaceId=None))
    assert response.status_code == 200, response.text
    assert len(response.json()["workers"]) == 1


def test_a_milestone_in_the_old_guessed_shape_is_still_refused(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    (worker,) = client.post("/api/workers/claim", headers=auth, json=claim_body()).json()["workers"]
    response = client.patch(
        f"/api/workers/{worker['id']}",
        headers=auth,
        json={"appendMilestones": [{"label": "Tests pass", "timestamp": "2026-01-15T10:30:00.000Z"}]},
    )
    assert response.status_code == 400 and "error" in response.json()
