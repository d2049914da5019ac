"""The fields buildd's own clients read, present with the clients' types.

Each test names the client code it stands for (apps/runner/src, packages/core/mcp-tools.ts); a field the client
reads as a number must be a number here, not an ISO string (`new Date(m.ts)` on a string of the wrong shape is
`Invalid Date`).
"""

from __future__ import annotations

from typing import Any

from .conftest import claim_body

LAPTOP = "acme-laptop"
ADMIN = "acme-admin"


def _events(client: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in client.get("/__mock/events", params={"limit": 1000}).json()["events"] if e["event"] == name]


def _claim(client: Any, auth: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/workers/claim", headers=auth, json=claim_body())
    assert response.status_code == 200, response.text
    return response.json()["workers"][0]  # type: ignore[no-any-return]


def test_runner_claim_reads_workers_with_id_task_id_branch_and_the_task(client: Any, key_auth: Any) -> None:
    # buildd.ts claimTask -> {workers, diagnostics, budgetResetsAt}; workers.ts reads id, taskId, branch, task.*
    worker = _claim(client, key_auth(LAPTOP))
    assert isinstance(worker["id"], str) and isinstance(worker["taskId"], str) and isinstance(worker["branch"], str)
    task = worker["task"]
    assert isinstance(task["id"], str) and isinstance(task["title"], str) and isinstance(task["workspaceId"], str)


def test_runner_empty_claim_reads_the_diagnostics_reason(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    _claim(client, auth)
    full = client.post("/api/workers/claim", headers=auth, json=claim_body())
    if full.status_code == 200:  # no slot error: the diagnostics say why nothing came back
        assert isinstance(full.json()["diagnostics"]["reason"], str)
    else:
        assert isinstance(full.json()["error"], str)


def test_runner_get_worker_reads_status_and_task_status(client: Any, key_auth: Any) -> None:
    # buildd.ts getWorkerRemote -> {status, task?: {status}}
    auth = key_auth(LAPTOP)
    worker = _claim(client, auth)
    got = client.get(f"/api/workers/{worker['id']}", headers=auth).json()
    assert isinstance(got["status"], str) and isinstance(got["task"]["status"], str)


def test_mcp_query_events_reads_milestones_with_epoch_ms_ts_and_a_type(client: Any, key_auth: Any) -> None:
    # mcp-tools.ts query_events: `new Date(m.ts)`, `m.type`, `m.label`
    auth = key_auth(LAPTOP)
    worker = _claim(client, auth)
    url = f"/api/workers/{worker['id']}"
    client.patch(
        url,
        headers=auth,
        json={"appendMilestones": [{"type": "plan", "label": "1. test", "progress": 25, "ts": 1796281810807}]},
    )
    client.post(f"{url}/activity", headers=auth, json={"toolName": "Edit", "toolInput": {"file_path": "a.ts"}})
    milestones = client.get(url, headers=auth).json()["milestones"]
    assert len(milestones) == 2
    for milestone in milestones:
        assert isinstance(milestone["type"], str) and isinstance(milestone["label"], str)
        assert isinstance(milestone["ts"], int) and not isinstance(milestone["ts"], bool)


def test_mcp_query_events_reads_the_fixture_worlds_milestones_with_epoch_ms_ts(client: Any, key_auth: Any) -> None:
    workers = client.get("/__mock/state").json()["workers"]
    milestones = [m for w in workers for m in w.get("milestones") or []]
    assert milestones, "the fixture world has workers with milestones"
    assert all(isinstance(m["ts"], int) and isinstance(m["type"], str) for m in milestones)


def test_runner_heartbeat_reads_the_viewer_token_and_pending_count(client: Any, key_auth: Any) -> None:
    body = client.post(
        "/api/workers/heartbeat", headers=key_auth(LAPTOP), json={"localUiUrl": "headless://vm", "activeWorkerCount": 0}
    ).json()
    assert isinstance(body["viewerToken"], str) and isinstance(body["pendingTaskCount"], int)


def test_runner_worker_command_reads_action_and_an_epoch_ms_timestamp(client: Any, key_auth: Any) -> None:
    # pusher-manager.ts binds `worker:command` as WorkerCommand {action, text?, timestamp: number}
    auth = key_auth(LAPTOP)
    worker = _claim(client, auth)
    sent = client.post(f"/api/workers/{worker['id']}/cmd", headers=auth, json={"action": "message", "text": "hi"})
    assert sent.status_code == 200, sent.text
    (command,) = _events(client, "worker:command")
    assert command["data"]["action"] == "message" and command["data"]["text"] == "hi"
    assert isinstance(command["data"]["timestamp"], int)


def test_runner_task_assigned_reads_the_task_id_and_the_target(client: Any, key_auth: Any) -> None:
    # pusher-manager.ts handleTaskAssignment: data.task.id, data.task.title (optional), data.targetLocalUiUrl
    auth = key_auth(ADMIN)
    workspace = client.get("/api/workspaces", headers=auth).json()["workspaces"][0]
    created = client.post("/api/tasks", headers=auth, json={"title": "Runner probe", "workspaceId": workspace["id"]})
    assert created.status_code in (200, 201), created.text
    (assigned,) = [e for e in _events(client, "task:assigned") if e["data"]["task"]["id"] == created.json()["id"]]
    assert isinstance(assigned["data"]["task"]["id"], str)
    assert "targetLocalUiUrl" in assigned["data"]


def test_runner_worker_progress_reads_task_progress_as_an_array(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    worker = _claim(client, auth)
    progress = [{"taskId": "t1", "agentName": None, "toolCount": 3, "durationMs": 900, "cumulativeUsage": None}]
    client.patch(f"/api/workers/{worker['id']}", headers=auth, json={"taskProgress": progress})
    events = [e for e in _events(client, "worker:progress") if "taskProgress" in e["data"]]
    assert events and all(e["data"]["taskProgress"] == progress for e in events)
