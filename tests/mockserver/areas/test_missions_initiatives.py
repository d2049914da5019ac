"""Initiatives over HTTP on the strict app: the rollup of their missions and tasks, the plain edit and delete of
the resource layer (admin keys only; missions detached on delete), artifacts, KPIs and effort."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Auth = Any


def _workspace(world: dict[str, Any], account: str) -> str:
    team = next(a["teamId"] for a in world["accounts"] if a["name"] == account)
    return str(next(w["id"] for w in world["workspaces"] if w["teamId"] == team and w.get("accessMode") == "open"))


def test_an_initiative_rolls_up_its_missions(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    ws = _workspace(fixture_world, "acme-admin")
    made = client.post("/api/initiatives", json={"title": "Q3 goals", "workspaceId": ws}, headers=admin)
    assert made.status_code == 201, made.text
    initiative = made.json()
    mission = client.post(
        "/api/missions",
        json={"title": "Ship", "workspaceId": ws, "initiativeId": initiative["id"], "orchestrationMode": "manual"},
        headers=admin,
    ).json()
    task = client.post(
        "/api/tasks", json={"title": "Do it", "workspaceId": ws, "missionId": mission["id"]}, headers=admin
    ).json()
    assert task["missionId"] == mission["id"]
    detail = client.get(f"/api/initiatives/{initiative['id']}", headers=admin).json()
    assert [m["id"] for m in detail["missions"]] == [mission["id"]]
    assert detail["progress"] == {
        "totalMissions": 1,
        "completedMissions": 0,
        "totalTasks": 1,
        "completedTasks": 0,
        "progress": 0,
        "status": "active",
    }
    assert client.patch(f"/api/tasks/{task['id']}", json={"status": "completed"}, headers=admin).status_code == 200
    listed = client.get("/api/initiatives", params={"workspaceId": ws}, headers=admin).json()["initiatives"]
    mine = next(i for i in listed if i["id"] == initiative["id"])
    assert mine["progress"]["progress"] == 100 and mine["missionCount"] == 1
    assert [s["state"] for s in mine["segments"]] == ["solid"]
    # artifacts: the initiative's own plus its missions'
    base = f"/api/initiatives/{initiative['id']}/artifacts"
    assert client.post(base, json={"type": "report", "title": "Own"}, headers=admin).status_code == 200
    client.post(f"/api/missions/{mission['id']}/artifacts", json={"type": "summary", "title": "Child"}, headers=admin)
    assert sorted(a["title"] for a in client.get(base, headers=admin).json()["artifacts"]) == ["Child", "Own"]


def test_edit_and_delete_are_plain_and_admin_only(
    client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth, session_auth: Auth
) -> None:
    admin = key_auth("acme-admin")
    assert client.post("/api/initiatives", json={"title": "x"}, headers=key_auth("acme-ci")).status_code == 403
    assert client.post("/api/initiatives", json={"title": ""}, headers=admin).status_code == 400
    initiative = client.post("/api/initiatives", json={"title": "Goals"}, headers=session_auth("ada@acme.example"))
    assert initiative.status_code == 201
    iid = initiative.json()["id"]
    path = f"/api/initiatives/{iid}"
    refused = client.patch(path, json={"status": "paused"}, headers=key_auth("acme-ci"))
    assert (refused.status_code, refused.json()) == (403, {"error": "Requires admin-level API key"})
    assert client.patch(path, json={"status": "nonsense"}, headers=admin).status_code == 400
    other = client.patch(path, json={"status": "paused"}, headers=key_auth("globex-admin"))
    assert (other.status_code, other.json()) == (404, {"error": "Initiative not found"})
    assert client.get(path, headers=admin).json()["status"] == "active"  # nothing changed by the refusals
    assert client.patch(path, json={"status": "paused"}, headers=admin).json()["status"] == "paused"
    mission = client.post("/api/missions", json={"title": "Child", "initiativeId": iid}, headers=admin).json()
    assert client.delete(path, headers=admin).json() == {"success": True}
    assert client.get(path, headers=admin).status_code == 404
    assert client.get(f"/api/missions/{mission['id']}", headers=admin).json()["initiativeId"] is None


def test_kpis_effort_and_tracker(client: TestClient[Litestar], fixture_world: dict[str, Any], key_auth: Auth) -> None:
    admin = key_auth("acme-admin")
    kpis = [{"name": "NPS", "metric": "nps", "operator": "gte", "threshold": 40}]
    iid = client.post("/api/initiatives", json={"title": "KPIs", "kpis": kpis}, headers=admin).json()["id"]
    state = client.post(f"/api/initiatives/{iid}/evaluate", headers=admin).json()["kpiState"]
    assert state["overall"] == "UNVERIFIED" and [k["name"] for k in state["kpis"]] == ["NPS"]
    assert client.get(f"/api/initiatives/{iid}/evaluate", headers=admin).json() == {"kpis": kpis, "kpiState": state}
    for _ in range(5):
        assert client.post(f"/api/initiatives/{iid}/evaluate", headers=admin).status_code == 200
    limited = client.post(f"/api/initiatives/{iid}/evaluate", headers=admin)
    assert (limited.status_code, limited.json()["current"]) == (429, 6)
    assert limited.json()["error"] == "Rate limit: max 6 on-demand evaluations per initiative per hour"
    empty = client.post("/api/initiatives", json={"title": "None"}, headers=admin).json()["id"]
    assert client.post(f"/api/initiatives/{empty}/evaluate", headers=admin).json()["kpiState"] is None
    ws = _workspace(fixture_world, "acme-admin")
    assert client.get("/api/initiatives/effort", headers=admin).status_code == 400
    foreign = client.get("/api/initiatives/effort", params={"workspaceId": _workspace(fixture_world, "globex-admin")},
                         headers=admin)  # fmt: skip
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Workspace not found"})
    client.post("/api/missions", json={"title": "M", "workspaceId": ws, "initiativeId": iid}, headers=admin)
    efforts = client.get("/api/initiatives/effort", params={"workspaceId": ws}, headers=admin).json()["efforts"]
    assert iid in [e["initiativeId"] for e in efforts] and all(len(e["days"]) == 14 for e in efforts)
    tracker = client.get(f"/api/initiatives/{iid}/tracker-progress", headers=admin).json()
    assert (tracker["linked"], tracker["items"]) == (False, [])
