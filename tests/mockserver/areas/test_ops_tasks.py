"""Area `ops`, tasks and workers: bulk cleanup, the plan flow, the dashboard's task views, reviewer takeover and
worker sessions, over HTTP against the strict mock (every answer and event is checked against the spec)."""

from __future__ import annotations

from typing import Any

from tests.mockserver.areas.ops_helpers import claimed_task, events, workspace_id

PLAN = [
    {"ref": "schema", "title": "Add the schema"},
    {"ref": "api", "title": "Serve the API", "dependsOn": ["schema"], "priority": 3},
]


def planned_task(client: Any, key_auth: Any, world: dict[str, Any], plan: Any = PLAN) -> str:
    """A planning task whose worker completed it with `plan`."""
    ws = workspace_id(world, "acme-scratch")
    task_id, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws, mode="planning")
    done = client.patch(
        f"/api/workers/{worker_id}",
        json={"status": "completed", "structuredOutput": {"plan": plan}},
        headers=key_auth("acme-ci"),
    )
    assert done.status_code == 200, done.text
    return task_id


# -- the plan flow ---------------------------------------------------------------------------------------------------


def test_approving_a_plan_creates_one_announced_task_per_step(client: Any, key_auth: Any, fixture_world: Any) -> None:
    task_id = planned_task(client, key_auth, fixture_world)
    before = len(events(client, "task:created"))

    approved = client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("acme-admin"))

    assert approved.status_code == 200, approved.text
    schema_id, api_id = approved.json()["tasks"]
    api_task = client.get(f"/api/tasks/{api_id}", headers=key_auth("acme-admin")).json()
    assert (api_task["parentTaskId"], api_task["mode"], api_task["status"]) == (task_id, "execution", "pending")
    assert api_task["dependsOn"] == [schema_id]
    assert api_task["priority"] == 3
    created = [e["data"]["task"]["id"] for e in events(client, "task:created")[before:]]
    assert created == [schema_id, api_id]


def test_a_plan_is_approved_once(client: Any, key_auth: Any, fixture_world: Any) -> None:
    task_id = planned_task(client, key_auth, fixture_world)
    assert client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("acme-admin")).status_code == 200

    again = client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("acme-admin"))

    assert (again.status_code, again.json()) == (409, {"error": "Plan already approved"})


def test_a_plan_with_a_dependency_cycle_is_refused_and_creates_nothing(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    cyclic = [{"ref": "a", "title": "A", "dependsOn": ["b"]}, {"ref": "b", "title": "B", "dependsOn": ["a"]}]
    task_id = planned_task(client, key_auth, fixture_world, cyclic)
    count = len(client.get("/api/tasks", headers=key_auth("acme-admin")).json()["tasks"])

    refused = client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("acme-admin"))

    assert refused.status_code == 400
    assert refused.json()["error"].startswith("Circular dependency detected")
    assert len(client.get("/api/tasks", headers=key_auth("acme-admin")).json()["tasks"]) == count


def test_only_a_completed_planning_task_has_a_plan_to_judge(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    running, _ = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws, mode="planning")
    plain = client.post("/api/tasks", json={"workspaceId": ws, "title": "plain"}, headers=key_auth("acme-admin"))

    assert client.post(f"/api/tasks/{running}/approve-plan", headers=key_auth("acme-admin")).json() == {
        "error": "Planning task has not completed yet"
    }
    refused = client.post(
        f"/api/tasks/{plain.json()['id']}/reject-plan", json={"feedback": "no"}, headers=key_auth("acme-admin")
    )
    assert (refused.status_code, refused.json()) == (400, {"error": "Task is not a planning task"})


def test_rejecting_a_plan_makes_a_revised_planning_task_with_the_feedback(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    task_id = planned_task(client, key_auth, fixture_world)

    rejected = client.post(
        f"/api/tasks/{task_id}/reject-plan", json={"feedback": "Split it"}, headers=key_auth("acme-admin")
    )

    assert rejected.status_code == 200, rejected.text
    revised = client.get(f"/api/tasks/{rejected.json()['taskId']}", headers=key_auth("acme-admin")).json()
    assert (revised["mode"], revised["status"], revised["title"]) == ("planning", "pending", "ops test task (revised)")
    assert revised["context"]["planFeedback"] == "Split it"
    assert revised["context"]["previousPlanTaskId"] == task_id
    assert events(client, "task:assigned")[-1]["data"]["task"]["id"] == revised["id"]


def test_rejecting_without_feedback_is_400(client: Any, key_auth: Any, fixture_world: Any) -> None:
    task_id = planned_task(client, key_auth, fixture_world)
    refused = client.post(f"/api/tasks/{task_id}/reject-plan", json={}, headers=key_auth("acme-admin"))
    assert refused.status_code == 400


def test_another_teams_plan_is_not_found(client: Any, key_auth: Any, fixture_world: Any) -> None:
    task_id = planned_task(client, key_auth, fixture_world)
    other = client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("globex-admin"))
    assert (other.status_code, other.json()) == (404, {"error": "Task not found"})


# -- bulk ------------------------------------------------------------------------------------------------------------


def test_bulk_dry_run_changes_nothing_and_never_matches_active_tasks(client: Any, key_auth: Any) -> None:
    before = client.get("/__mock/state").json()["tasks"]

    dry = client.post("/api/tasks/bulk", json={"action": "delete", "dryRun": True}, headers=key_auth("acme-admin"))

    assert dry.status_code == 200
    assert dry.json()["dryRun"] is True and dry.json()["affected"] == len(dry.json()["taskIds"]) > 0
    statuses = {t["id"]: t["status"] for t in (before.values() if isinstance(before, dict) else before)}
    assert not {statuses[t] for t in dry.json()["taskIds"]} & {"assigned", "in_progress"}
    assert client.get("/__mock/state").json()["tasks"] == before


def test_bulk_cancel_fails_the_matching_tasks(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-web")
    done = client.post(
        "/api/tasks/bulk",
        json={"action": "cancel", "status": "pending", "workspaceId": ws},
        headers=key_auth("acme-admin"),
    )
    assert done.status_code == 200 and done.json()["affected"] > 0
    for task_id in done.json()["taskIds"]:
        task = client.get(f"/api/tasks/{task_id}", headers=key_auth("acme-admin")).json()
        assert (task["status"], task["result"]["error"]) == ("failed", "Bulk cancelled by admin")


def test_bulk_refuses_active_statuses_non_admin_keys_and_foreign_workspaces(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    active = client.post(
        "/api/tasks/bulk", json={"action": "cancel", "status": "in_progress"}, headers=key_auth("acme-admin")
    )
    assert active.status_code == 400
    assert client.post("/api/tasks/bulk", json={"action": "cancel"}, headers=key_auth("acme-ci")).status_code == 403
    foreign = client.post(
        "/api/tasks/bulk",
        json={"action": "delete", "workspaceId": workspace_id(fixture_world, "globex-platform")},
        headers=key_auth("acme-admin"),
    )
    assert (foreign.status_code, foreign.json()) == (403, {"error": "Workspace not found or access denied"})
    bad = client.post("/api/tasks/bulk", json={"action": "archive"}, headers=key_auth("acme-admin"))
    assert bad.status_code == 400


# -- dashboard views -------------------------------------------------------------------------------------------------


def test_waiting_input_lists_the_question_and_summary_reads_waiting(
    client: Any, key_auth: Any, session_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    task_id, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    question = {"type": "question", "prompt": "Tabs or spaces?", "options": ["tabs", "spaces"]}
    client.patch(
        f"/api/workers/{worker_id}",
        json={"status": "waiting_input", "waitingFor": question},
        headers=key_auth("acme-ci"),
    )

    waiting = client.get("/api/tasks/waiting-input", headers=session_auth("ada@acme.example")).json()["tasks"]
    summary = client.get(f"/api/tasks/{task_id}/summary", headers=session_auth("ada@acme.example")).json()

    entry = next(t for t in waiting if t["id"] == task_id)
    assert entry["waitingFor"] == question and entry["actionUrl"].endswith(f"/app/tasks/{task_id}/respond")
    assert summary["status"] == "waiting_input" and summary["worker"]["id"] == worker_id
    assert not any(
        t["id"] == task_id
        for t in client.get("/api/tasks/waiting-input", headers=session_auth("grace@globex.example")).json()["tasks"]
    )


def test_task_workers_newest_first_and_hidden_from_other_teams(
    client: Any, key_auth: Any, session_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    task_id, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)

    listed = client.get(f"/api/tasks/{task_id}/workers", headers=session_auth("ada@acme.example"))
    foreign = client.get(f"/api/tasks/{task_id}/workers", headers=session_auth("grace@globex.example"))

    assert [w["id"] for w in listed.json()["workers"]] == [worker_id]
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Task not found"})
    assert client.get(f"/api/tasks/{task_id}/summary", headers=key_auth("acme-admin")).status_code == 401


# -- workers ---------------------------------------------------------------------------------------------------------


def test_interrupting_a_reviewer_fails_it_and_its_task(
    client: Any, key_auth: Any, session_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    task_id, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws, category="review")

    done = client.post(
        f"/api/workers/{worker_id}/interrupt", json={"cancelQueued": True}, headers=session_auth("ada@acme.example")
    )

    assert (done.status_code, done.json()) == (200, {"ok": True})
    worker = client.get(f"/api/workers/{worker_id}", headers=key_auth("acme-ci")).json()
    assert (worker["status"], worker["error"]) == ("failed", "Interrupted — human takeover")
    assert client.get(f"/api/tasks/{task_id}", headers=key_auth("acme-admin")).json()["status"] == "failed"
    assert events(client, "worker:command")[-1]["data"]["action"] == "abort"
    again = client.post(f"/api/workers/{worker_id}/interrupt", json={}, headers=session_auth("ada@acme.example"))
    assert again.status_code == 409


def test_only_reviewers_can_be_interrupted(client: Any, key_auth: Any, session_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws, category="feature")
    refused = client.post(f"/api/workers/{worker_id}/interrupt", json={}, headers=session_auth("ada@acme.example"))
    assert refused.status_code == 400
    foreign = client.post(f"/api/workers/{worker_id}/interrupt", json={}, headers=session_auth("grace@globex.example"))
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Worker not found"})


def test_worker_sessions_come_from_the_runner_the_worker_reported(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    url = f"/api/workers/{worker_id}/sessions"
    assert client.get(url, headers=key_auth("acme-ci")).json() == {"error": "Runner not found"}

    client.patch(
        f"/api/workers/{worker_id}",
        json={
            "localUiUrl": "http://127.0.0.1:8766",
            "appendMilestones": [{"type": "status", "label": "Tests pass", "ts": 1}],
        },
        headers=key_auth("acme-ci"),
    )
    sessions = client.get(url, headers=key_auth("acme-ci")).json()["sessions"]
    messages = client.get(url, params={"sessionId": sessions[0]["sessionId"]}, headers=key_auth("acme-ci")).json()

    assert messages["messages"][0]["message"]["content"][0]["text"] == "Tests pass"
    assert client.get(url, headers=key_auth("acme-laptop")).status_code == 403


def test_free_form_plan_fields_become_valid_tasks(client: Any, key_auth: Any, fixture_world: Any) -> None:
    """The plan is the planner's free-form output: fields of the wrong type are dropped, never stored."""
    odd = [{"ref": 1, "title": "Odd step", "description": {"x": 1}, "roleSlug": 5, "outputRequirement": "maybe"}]
    task_id = planned_task(client, key_auth, fixture_world, odd)

    approved = client.post(f"/api/tasks/{task_id}/approve-plan", headers=key_auth("acme-admin"))

    assert approved.status_code == 200, approved.text  # the strict mock checks the stored task against the spec
    child = client.get(f"/api/tasks/{approved.json()['tasks'][0]}", headers=key_auth("acme-admin")).json()
    assert (child["description"], child["outputRequirement"]) == (None, "auto")
