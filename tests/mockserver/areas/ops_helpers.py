"""Shared steps of the `ops` area tests: a task claimed by a worker, in a workspace of the acme team."""

from __future__ import annotations

from typing import Any

CRON = {"Authorization": "Bearer buildd-mock-cron-secret"}


def workspace_id(world: dict[str, Any], name: str) -> str:
    return str(next(ws["id"] for ws in world["workspaces"] if ws["name"] == name))


def claimed_task(client: Any, key: dict[str, str], admin: dict[str, str], ws: str, **fields: Any) -> tuple[str, str]:
    """(task id, worker id): a new task of `ws` claimed by `key` and running."""
    task = client.post("/api/tasks", json={"workspaceId": ws, "title": "ops test task", **fields}, headers=admin)
    assert task.status_code == 200, task.text
    task_id = task.json()["id"]
    claim = client.post("/api/workers/claim", json={"workspaceId": ws, "taskId": task_id, "runner": "t"}, headers=key)
    worker_id = claim.json()["workers"][0]["id"]
    assert client.patch(f"/api/workers/{worker_id}", json={"status": "running"}, headers=key).status_code == 200
    return task_id, worker_id


def events(client: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in client.get("/__mock/events").json()["events"] if e["event"] == name]
