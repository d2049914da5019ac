"""Missions over HTTP on the strict app (every response and event is also checked against the spec): create, run,
the tasks a mission owns, notes, evaluation, links, and the rules each enforces with the wrong request refused."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Auth = Any


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return str(next(w["id"] for w in world["workspaces"] if w["teamId"] == team and w.get("accessMode") == "open"))


def _events(client: TestClient[Litestar], prefix: str) -> list[dict[str, Any]]:
    return [e for e in client.get("/__mock/events").json()["events"] if e["event"].startswith(prefix)]


def _mission(client: TestClient[Litestar], auth: dict[str, str], **body: Any) -> dict[str, Any]:
    made = client.post("/api/missions", json={"title": "Billing revamp", **body}, headers=auth)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_create_starts_the_organizer_and_run_plans_under_the_mission(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    ws = _workspace(fixture_world, "acme-admin")
    mission = _mission(client, admin, workspaceId=ws)
    organizer = mission["organizerTask"]
    assert organizer is not None and mission["teamId"] and mission["status"] == "active"
    task = client.get(f"/api/tasks/{organizer['id']}", headers=admin).json()
    assert (task["missionId"], task["mode"], task["creationSource"]) == (mission["id"], "planning", "orchestrator")
    # a second run while the planning task is in flight does nothing new
    again = client.post(f"/api/missions/{mission['id']}/run", headers=admin)
    assert again.status_code == 200 and again.json()["deduped"] is True
    assert again.json()["task"]["id"] == organizer["id"]
    # the task lists under its mission, with the progress views
    detail = client.get(f"/api/missions/{mission['id']}", headers=admin).json()
    assert [t["id"] for t in detail["tasks"]] == [organizer["id"]]
    assert detail["totalTasks"] == 0  # planning is not deliverable work
    listed = client.get("/api/missions", params={"workspaceId": ws}, headers=admin).json()["missions"]
    assert [t["id"] for m in listed if m["id"] == mission["id"] for t in m["tasks"]] == [organizer["id"]]
    # events: the task's, then the cycle on the mission's own channel
    cycle = _events(client, "mission:cycle_started")
    assert [e["data"]["planningTaskId"] for e in cycle] == [organizer["id"]]
    assert cycle[0]["channel"].endswith(f"mission-{mission['id']}")
    created = [e["data"]["task"] for e in _events(client, "task:created")]
    assert created[-1]["id"] == organizer["id"] and created[-1]["missionId"] == mission["id"]


def test_run_creates_a_new_planning_task_once_the_last_one_finished(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    mission = _mission(client, admin, workspaceId=_workspace(fixture_world, "acme-admin"), orchestrationMode="manual")
    assert mission["organizerTask"] is None  # manual missions wait for a human
    run = client.post(f"/api/missions/{mission['id']}/run", headers=admin)
    assert run.status_code == 201, run.text
    first = run.json()["task"]
    assert first["missionId"] == mission["id"]
    done = client.patch(f"/api/tasks/{first['id']}", json={"status": "completed"}, headers=admin)
    assert done.status_code == 200, done.text
    second = client.post(f"/api/missions/{mission['id']}/run", headers=admin)
    assert second.status_code == 201 and second.json()["task"]["id"] != first["id"]
    notes = client.get(f"/api/missions/{mission['id']}/notes", headers=admin).json()["notes"]
    assert [n["title"] for n in notes].count("One-shot run triggered") == 2


def test_run_refuses_what_the_rules_refuse(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth, session_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    ws = _workspace(fixture_world, "acme-admin")
    paused = _mission(client, admin, workspaceId=ws, status="paused")
    refused = client.post(f"/api/missions/{paused['id']}/run", headers=admin)
    assert refused.status_code == 400 and "Only active missions can be run" in refused.json()["error"]
    active = _mission(client, admin, workspaceId=ws, orchestrationMode="manual")
    worker_key = client.post(f"/api/missions/{active['id']}/run", headers=key_auth("acme-ci"))
    assert (worker_key.status_code, worker_key.json()) == (403, {"error": "Requires admin-level API key"})
    other = client.post(f"/api/missions/{active['id']}/run", headers=key_auth("globex-admin"))
    assert (other.status_code, other.json()) == (404, {"error": "Mission not found"})
    grace = client.post(f"/api/missions/{active['id']}/run", headers=session_auth("grace@globex.example"))
    assert grace.status_code == 404
    # a mission waiting on its upstream's completion plans nothing
    blocked = _mission(
        client,
        admin,
        workspaceId=ws,
        dependsOnMission=active["id"],
        gateCondition="completed",
        orchestrationMode="manual",
    )
    skipped = client.post(f"/api/missions/{blocked['id']}/run", headers=admin)
    assert skipped.status_code == 200 and skipped.json()["skippedBlocked"] is True and skipped.json()["task"] is None
    assert client.get(f"/api/missions/{blocked['id']}", headers=admin).json()["blocked"] is True
    # nothing was created by the refusals
    assert client.get(f"/api/missions/{active['id']}", headers=admin).json()["tasks"] == []


def test_create_and_update_rules(client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    assert client.post("/api/missions", json={"title": "x"}, headers=key_auth("acme-trigger")).status_code == 403
    assert client.post("/api/missions", json={}, headers=admin).status_code == 400
    foreign_ws = _workspace(fixture_world, "globex-admin")
    assert client.post("/api/missions", json={"title": "x", "workspaceId": foreign_ws}, headers=admin).json() == {
        "error": "Workspace not found"
    }
    before = len(client.get("/api/missions", headers=admin).json()["missions"])
    mission = _mission(client, admin)  # no workspace: nothing to plan in, no organizer
    assert mission["organizerTask"] is None
    assert len(client.get("/api/missions", headers=admin).json()["missions"]) == before + 1
    held = client.patch(f"/api/missions/{mission['id']}", json={"startMode": "held"}, headers=admin).json()
    assert held["isHeld"] is True
    armed = client.patch(f"/api/missions/{mission['id']}", json={"arm": True}, headers=admin).json()
    assert armed["isHeld"] is False
    titles = [n["title"] for n in client.get(f"/api/missions/{mission['id']}/notes", headers=admin).json()["notes"]]
    assert titles == ["Mission armed", "Mission held"]
    missing = client.patch(
        f"/api/missions/{mission['id']}", json={"initiativeId": "00000000-0000-4000-8000-000000000000"}, headers=admin
    )
    assert (missing.status_code, missing.json()) == (404, {"error": "Initiative not found"})
    assert client.get("/api/missions", params={"teamId": foreign_ws}, headers=admin).json() == {"missions": []}


def test_delete_detaches_its_tasks(client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    mission = _mission(client, admin, workspaceId=_workspace(fixture_world, "acme-admin"))
    task_id = mission["organizerTask"]["id"]
    assert client.delete(f"/api/missions/{mission['id']}", headers=key_auth("acme-ci")).status_code == 403
    assert client.delete(f"/api/missions/{mission['id']}", headers=admin).json() == {"success": True}
    assert client.get(f"/api/missions/{mission['id']}", headers=admin).status_code == 404
    assert client.get(f"/api/tasks/{task_id}", headers=admin).json().get("missionId") is None


def test_notes_and_replies(client: TestClient[Litestar], key_auth: Auth, session_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    mission = _mission(client, admin)
    base = f"/api/missions/{mission['id']}/notes"
    assert client.post(base, json={"type": "nonsense", "title": "x"}, headers=admin).status_code == 400
    question = client.post(base, json={"type": "question", "title": "v2?"}, headers=admin)
    assert question.status_code == 201
    note = question.json()
    assert (note["status"], note["authorType"]) == ("open", "agent")
    reply = client.post(f"{base}/{note['id']}/reply", json={"title": "yes"}, headers=session_auth("ada@acme.example"))
    assert reply.status_code == 201 and reply.json()["authorType"] == "user" and reply.json()["replyTo"] == note["id"]
    page = client.get(base, params={"limit": 1}, headers=admin).json()
    assert page["hasMore"] is True and page["notes"][0]["id"] == reply.json()["id"]
    rest = client.get(base, params={"cursor": page["nextCursor"]}, headers=admin).json()
    assert [n["status"] for n in rest["notes"]] == ["answered"]
    unknown = client.post(f"{base}/00000000-0000-4000-8000-000000000000/reply", json={"title": "x"}, headers=admin)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Note not found"})
    posted = _events(client, "mission:note_posted")
    assert [e["data"].get("replyTo") for e in posted] == [None, note["id"]]
    assert all(e["channel"].endswith(f"mission-{mission['id']}") for e in posted)


def test_evaluation_judges_structural_criteria_and_is_rate_limited(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    criteria = [{"type": "no_open_tasks"}, {"type": "artifact_exists", "key": "report"}]
    mission = _mission(client, admin, goalCriteria=criteria)
    base = f"/api/missions/{mission['id']}"
    first = client.post(f"{base}/evaluate", headers=admin).json()["goalCriteriaState"]
    assert [c["verdict"] for c in first["criteria"]] == ["pass", "fail"] and first["overall"] == "fail"
    made = client.post(f"{base}/artifacts", json={"type": "report", "title": "R", "key": "report"}, headers=admin)
    assert made.status_code == 200
    assert client.post(f"{base}/artifacts", json={"type": "link", "title": "L"}, headers=admin).status_code == 400
    second = client.post(f"{base}/evaluate", headers=admin).json()["goalCriteriaState"]
    assert second["overall"] == "pass"
    assert client.get(base, headers=admin).json()["status"] == "completed"
    assert client.get(f"{base}/evaluate", headers=admin).json()["goalCriteriaState"] == second
    for _ in range(4):
        assert client.post(f"{base}/evaluate", headers=admin).status_code == 200
    limited = client.post(f"{base}/evaluate", headers=admin)
    assert limited.status_code == 429 and limited.json()["limit"] == 6
    assert limited.json()["error"] == "Rate limit: max 6 on-demand evaluations per mission per hour"
    client.post("/__mock/clock", json={"advanceSeconds": 3601})
    assert client.post(f"{base}/evaluate", headers=admin).status_code == 200


def test_link_needs_a_linear_tracker_and_a_linear_url(client: TestClient[Litestar], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    mission = _mission(client, admin)
    url = "https://linear.app/acme/project/billing-3f2a9c1d7e4b"
    refused = client.post(f"/api/missions/{mission['id']}/link", json={"url": url}, headers=admin)
    assert refused.status_code == 400 and "workspace" in refused.json()["error"]
    progress = client.get(f"/api/missions/{mission['id']}/tracker-progress", headers=admin).json()
    assert (progress["linked"], progress["items"]) == (False, [])


def test_capabilities_are_public(client: TestClient[Litestar]) -> None:
    assert client.get("/api/missions/capabilities").json() == {"version": 1, "capabilities": ["startMode", "pacing"]}


def test_the_fixture_world_has_missions_that_own_tasks(client: TestClient[Litestar], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    missions = client.get("/api/missions", headers=admin).json()["missions"]
    polish = next(m for m in missions if m["title"] == "Web polish")
    assert sorted(t["title"] for t in polish["tasks"]) == ["Add dark mode toggle", "Migrate analytics to Segment"]
    assert polish["initiativeId"] is not None
    initiative = client.get(f"/api/initiatives/{polish['initiativeId']}", headers=admin).json()
    assert [m["id"] for m in initiative["missions"]] == [polish["id"]]
    notes = client.get(f"/api/missions/{polish['id']}/notes", params={"type": "question"}, headers=admin).json()
    assert [n["status"] for n in notes["notes"]] == ["open"]
    globex = client.get("/api/missions", headers=key_auth("globex-admin")).json()["missions"]
    assert [m["title"] for m in globex] == ["Platform hardening"] and globex[0]["isHeld"] is True


def test_reconcile_reports_whether_it_was_a_dry_run(client: TestClient[Litestar], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    mission = _mission(client, admin)
    for query, dry in (("?dryRun=true", True), ("?dryRun=false", False), ("", False)):
        reply = client.post(f"/api/missions/{mission['id']}/reconcile{query}", headers=admin)
        assert (reply.status_code, reply.json()["dryRun"]) == (200, dry)


def test_a_deferred_start_is_read_as_a_task_reads_it_and_says_how_it_was_given(
    client: TestClient[Litestar], key_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    now = client.get("/__mock/clock").json()["now"]
    relative = _mission(client, admin, startIn=30)
    assert relative["startResolution"] == "relative" and relative["startAt"] > now
    explicit = _mission(client, admin, startAt="2031-01-01T00:00:00.000Z")
    assert (explicit["startAt"][:10], explicit["startResolution"]) == ("2031-01-01", "explicit")
    plain = _mission(client, admin)
    assert (plain["startAt"], plain["startResolution"]) == (None, None)
    refused = client.post("/api/missions", json={"title": "Late", "startAt": "not a time"}, headers=admin)
    assert refused.status_code == 400 and "startAt" in refused.json()["error"]
