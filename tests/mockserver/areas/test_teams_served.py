"""Membership drives access over real HTTP (a mock served on a free 127.0.0.1 port): removing a member, demoting an
admin and accepting an invitation each count on the very next request, on every surface the team's data shows
through (workspaces, tasks, their workers, the team itself, the admin-only routes).

The cast (fixtures/_cast.py, fixtures/_teams.py): Acme (Ada owner, Margaret admin, Katherine and Alan members),
Globex (Grace owner, Alan admin, Barbara member).
"""

from __future__ import annotations

from typing import Any

from tests.mockserver.areas.served import Served

ADA, MARGARET, KATHERINE, GRACE = (
    "ada@acme.example",
    "margaret@acme.example",
    "katherine@acme.example",
    "grace@globex.example",
)


def _team_id(mock: Served, user: str, slug: str) -> str:
    teams = mock.get("/api/teams", as_user=user).json()["teams"]
    return str(next(t["id"] for t in teams if t["slug"] == slug))


def _user_id(mock: Served, team_id: str, email: str) -> str:
    members = mock.get(f"/api/teams/{team_id}/members", as_user=ADA if "acme" in email else GRACE).json()["members"]
    return str(next(m["userId"] for m in members if m["email"] == email))


def _workspaces(mock: Served, user: str) -> dict[str, str]:
    """Workspace id -> team id, as the user's session lists them."""
    response = mock.get("/api/workspaces", as_user=user)
    assert response.status_code == 200, response.text
    return {w["id"]: w["teamId"] for w in response.json()["workspaces"]}


def _tasks(mock: Served, user: str, workspace_id: str) -> list[dict[str, Any]]:
    response = mock.get("/api/tasks", params={"workspaceId": workspace_id, "limit": 100}, as_user=user)
    return response.json().get("tasks", []) if response.status_code == 200 else []


def _task_with_workers(mock: Served, user: str, team_id: str) -> tuple[str, str]:
    """(workspace id, task id) of one of the team's tasks that has workers, as the user sees it."""
    for workspace_id, team in _workspaces(mock, user).items():
        if team != team_id:
            continue
        for task in _tasks(mock, user, workspace_id):
            workers = mock.get(f"/api/tasks/{task['id']}/workers", as_user=user)
            if workers.status_code == 200 and workers.json()["workers"]:
                return workspace_id, str(task["id"])
    raise AssertionError(f"{user} sees no task of team {team_id} with workers")


def test_a_removed_member_loses_the_teams_workspaces_tasks_and_workers_on_the_next_request(mock: Served) -> None:
    acme = _team_id(mock, ADA, "acme")
    katherine = _user_id(mock, acme, KATHERINE)
    workspace_id, task_id = _task_with_workers(mock, KATHERINE, acme)
    reads = (
        f"/api/workspaces/{workspace_id}",
        f"/api/tasks/{task_id}",
        f"/api/tasks/{task_id}/workers",
        f"/api/teams/{acme}",
        f"/api/teams/{acme}/members",
    )
    assert all(mock.get(path, as_user=KATHERINE).status_code == 200 for path in reads)

    removed = mock.delete(f"/api/teams/{acme}/members/{katherine}", as_user=ADA)
    assert (removed.status_code, removed.json()) == (200, {"success": True})

    assert acme not in _workspaces(mock, KATHERINE).values()
    assert _tasks(mock, KATHERINE, workspace_id) == []
    for path in reads:
        response = mock.get(path, as_user=KATHERINE)
        assert response.status_code == 404, (path, response.status_code, response.text)
        assert isinstance(response.json()["error"], str)
    # nothing was taken from the team itself: its owner still reads all of it
    assert all(mock.get(path, as_user=ADA).status_code == 200 for path in reads)
    # and writes are refused too: she can no longer create a task in the workspace
    created = mock.post("/api/tasks", json={"title": "after leaving", "workspaceId": workspace_id}, as_user=KATHERINE)
    assert created.status_code in (403, 404), created.text


def test_a_demoted_admin_is_refused_the_admin_only_routes_at_once(mock: Served) -> None:
    acme = _team_id(mock, ADA, "acme")
    margaret = _user_id(mock, acme, MARGARET)

    def admin_calls() -> list[int]:
        return [
            mock.get(f"/api/teams/{acme}/invitations", as_user=MARGARET).status_code,
            mock.patch(f"/api/teams/{acme}", json={"name": "Acme (renamed)"}, as_user=MARGARET).status_code,
            mock.post(
                f"/api/teams/{acme}/invitations", json={"email": "new@acme.example", "role": "member"}, as_user=MARGARET
            ).status_code,
            mock.post("/api/admin/refresh-model-aliases", json={}, as_user=MARGARET).status_code,
        ]

    assert admin_calls() == [200, 200, 200, 200]
    demoted = mock.patch(f"/api/teams/{acme}/members/{margaret}", json={"role": "member"}, as_user=ADA)
    assert demoted.status_code == 200, demoted.text
    assert admin_calls() == [403, 403, 403, 403]
    refused = mock.patch(f"/api/teams/{acme}", json={"name": "Mine"}, as_user=MARGARET)
    assert refused.json() == {"error": "Forbidden"}
    assert mock.get(f"/api/teams/{acme}", as_user=ADA).json()["team"]["name"] == "Acme (renamed)"
    # still a member: she keeps reading the team's workspaces
    assert acme in _workspaces(mock, MARGARET).values()
    assert mock.get(f"/api/teams/{acme}", as_user=MARGARET).json()["currentUserRole"] == "member"

    promoted = mock.patch(f"/api/teams/{acme}/members/{margaret}", json={"role": "admin"}, as_user=ADA)
    assert promoted.status_code == 200, promoted.text
    assert mock.get(f"/api/teams/{acme}/invitations", as_user=MARGARET).status_code == 200


def test_an_accepted_invitation_opens_the_teams_workspaces_and_tasks_at_once(mock: Served) -> None:
    globex = _team_id(mock, GRACE, "globex")
    workspace_id, task_id = _task_with_workers(mock, GRACE, globex)
    reads = (f"/api/workspaces/{workspace_id}", f"/api/tasks/{task_id}", f"/api/tasks/{task_id}/workers")
    assert [mock.get(path, as_user=KATHERINE).status_code for path in reads] == [404, 404, 404]
    assert mock.get(f"/api/teams/{globex}", as_user=KATHERINE).status_code == 404

    invited = mock.post(f"/api/teams/{globex}/invitations", json={"email": KATHERINE, "role": "member"}, as_user=GRACE)
    assert invited.status_code == 200, invited.text
    token = invited.json()["invitation"]["token"]
    assert [mock.get(path, as_user=KATHERINE).status_code for path in reads] == [404, 404, 404]  # not yet

    accepted = mock.post(f"/api/invitations/{token}/accept", as_user=KATHERINE)
    assert accepted.status_code == 200, accepted.text
    assert [mock.get(path, as_user=KATHERINE).status_code for path in reads] == [200, 200, 200]
    assert globex in _workspaces(mock, KATHERINE).values()
    assert task_id in {t["id"] for t in _tasks(mock, KATHERINE, workspace_id)}
    team = mock.get(f"/api/teams/{globex}", as_user=KATHERINE).json()
    assert team["currentUserRole"] == "member"
    # a member, not an admin: the invitation's role counts as much as the membership
    renamed = mock.patch(f"/api/teams/{globex}", json={"name": "Mine"}, as_user=KATHERINE)
    assert (renamed.status_code, renamed.json()) == (403, {"error": "Forbidden"})


def test_a_deleted_teams_keys_and_sessions_lose_it_on_the_next_request(mock: Served) -> None:
    globex = _team_id(mock, GRACE, "globex")
    workspace_id = next(w for w, team in _workspaces(mock, GRACE).items() if team == globex)
    assert mock.get("/api/workspaces", key="globex-admin").json()["workspaces"]
    assert mock.delete(f"/api/teams/{globex}", as_user=GRACE).json() == {"success": True}
    assert mock.get("/api/accounts/me", key="globex-admin").status_code == 401  # the team's keys went with it
    assert mock.get(f"/api/workspaces/{workspace_id}", as_user=GRACE).status_code == 404
    assert globex not in _workspaces(mock, GRACE).values()
