"""Area `ops`, cron: the jobs answer only the cron secret and run on the mock's clock, deterministically."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mockserver.areas.ops_helpers import CRON, claimed_task, events, workspace_id

GETS = (
    "schedules",
    "task-archive",
    "lease-expiry-guard",
    "pr-reconcile",
    "routing-calibration",
    "jwks-rotation",
    "codex-token-refresh",
)
POSTS = ("stall-notify", "feedback-digest")


@pytest.mark.parametrize("job", GETS + POSTS)
def test_every_job_refuses_anything_but_the_cron_secret(client: Any, key_auth: Any, job: str) -> None:
    call = client.post if job in POSTS else client.get
    for headers in ({}, key_auth("acme-admin"), {"Authorization": "Bearer wrong"}, {"Authorization": "buildd-mock"}):
        refused = call(f"/api/cron/{job}", headers=headers)
        assert (refused.status_code, refused.json()) == (401, {"error": "Unauthorized"})
    assert call(f"/api/cron/{job}", headers=CRON).status_code == 200


def test_a_due_schedule_makes_one_task_and_moves_on(client: Any, key_auth: Any, fixture_world: Any) -> None:
    nightly = next(s for s in fixture_world["schedules"] if s["name"] == "Nightly dependency bump")
    assert client.get("/api/cron/schedules", headers=CRON).json()["created"] == 0  # not due yet

    client.post("/__mock/clock", json={"advanceSeconds": 18 * 3600})  # 2026-01-16T03:00
    run = client.get("/api/cron/schedules", headers=CRON).json()
    again = client.get("/api/cron/schedules", headers=CRON).json()

    assert (run["processed"], run["created"]) == (1, 1)
    assert again["created"] == 0  # nextRunAt moved a day on
    task = client.get(f"/api/tasks/{run['taskIds'][0]}", headers=key_auth("acme-admin")).json()
    assert (task["scheduleId"], task["creationSource"], task["status"]) == (nightly["id"], "schedule", "pending")
    assert task["title"] == nightly["taskTemplate"]["title"]
    schedule = client.get(
        f"/api/workspaces/{nightly['workspaceId']}/schedules/{nightly['id']}", headers=key_auth("acme-admin")
    ).json()["schedule"]
    assert (schedule["totalRuns"], schedule["lastTaskId"]) == (nightly["totalRuns"] + 1, task["id"])
    assert schedule["nextRunAt"] == "2026-01-17T03:00:00.000Z"
    assert events(client, "task:created")[-1]["data"]["task"]["id"] == task["id"]


def test_a_schedule_at_its_concurrency_cap_is_skipped(client: Any, fixture_world: Any) -> None:
    client.post("/__mock/clock", json={"advanceSeconds": 18 * 3600})
    assert client.get("/api/cron/schedules", headers=CRON).json()["created"] == 1
    client.post("/__mock/clock", json={"advanceSeconds": 24 * 3600})  # due again; its first task still pending

    run = client.get("/api/cron/schedules", headers=CRON).json()

    assert (run["created"], run["skipped"]) == (0, 1)


def test_lease_expiry_frees_the_claims_of_silent_workers(client: Any, key_auth: Any) -> None:
    claimed = client.post("/api/workers/claim", json={"runner": "r1", "maxTasks": 1}, headers=key_auth("acme-ci"))
    worker = claimed.json()["workers"][0]
    assert worker["id"] not in client.get("/api/cron/lease-expiry-guard", headers=CRON).json()["details"]

    client.app.state.mock.clock.advance(16 * 60)  # the clock alone, without the control route's own sweep
    guarded = client.get("/api/cron/lease-expiry-guard", headers=CRON).json()

    assert guarded["details"][worker["id"]]["purpose"] == "worker"
    assert guarded["checked"] == len(guarded["details"]) >= 1
    assert client.get(f"/api/tasks/{worker['taskId']}", headers=key_auth("acme-ci")).json()["status"] == "pending"
    assert client.get("/api/cron/lease-expiry-guard", headers=CRON).json()["checked"] == 0


def tasks_by_id(client: Any) -> dict[str, dict[str, Any]]:
    rows = client.get("/__mock/state").json()["tasks"]
    return {t["id"]: t for t in (rows.values() if isinstance(rows, dict) else rows)}


def test_stale_failed_tasks_are_archived_unless_something_waits_on_them(client: Any) -> None:
    tasks = tasks_by_id(client)
    needed = {
        d for t in tasks.values() if t["status"] in ("pending", "assigned", "in_progress") for d in t["dependsOn"]
    }
    failed = {tid for tid, t in tasks.items() if t["status"] == "failed"}
    assert failed - needed and failed & needed  # the world has both kinds
    assert client.get("/api/cron/task-archive", headers=CRON).json() == {"ok": True, "archived": 0}  # too recent

    client.app.state.mock.clock.advance(31 * 86400)
    archived = client.get("/api/cron/task-archive", headers=CRON).json()["archived"]

    after = tasks_by_id(client)
    assert archived == len(failed - needed)
    assert {after[tid]["status"] for tid in failed - needed} == {"cancelled"}
    assert {after[tid]["status"] for tid in failed & needed} == {"failed"}


def test_a_stalled_review_is_notified_once(client: Any) -> None:
    first = client.post("/api/cron/stall-notify", headers=CRON).json()
    second = client.post("/api/cron/stall-notify", headers=CRON).json()
    assert first["notified"] >= 1 and first["checked"] >= first["notified"]
    assert (second["notified"], second["checked"]) == (0, first["checked"])


def test_signing_keys_bootstrap_then_rotate_when_old_or_forced(client: Any) -> None:
    first = client.get("/api/cron/jwks-rotation", headers=CRON).json()
    steady = client.get("/api/cron/jwks-rotation", headers=CRON).json()
    forced = client.get("/api/cron/jwks-rotation", params={"force": "true"}, headers=CRON).json()

    assert first["rotated"] and first["activeKid"] == first["newKid"] and first["liveKeyCount"] == 1
    assert (steady["rotated"], steady["activeKid"]) == (False, first["activeKid"])
    assert forced["rotated"] and forced["newKid"] != first["newKid"] and forced["liveKeyCount"] == 2
    client.app.state.mock.clock.advance(11 * 60)  # the forced retirement window is ten minutes
    after = client.get("/api/cron/jwks-rotation", headers=CRON).json()
    assert (after["deletedExpiredKeys"], after["liveKeyCount"]) == (1, 1)


def test_the_routing_calibration_counts_finished_tasks_of_the_week(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    before = client.get("/api/cron/routing-calibration", headers=CRON).json()["totalOutcomes"]
    ws = workspace_id(fixture_world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    client.patch(f"/api/workers/{worker_id}", json={"status": "completed"}, headers=key_auth("acme-ci"))

    assert client.get("/api/cron/routing-calibration", headers=CRON).json()["totalOutcomes"] == before + 1
