"""Teams over HTTP (strict mock, default world): membership roles decide who manages a team, and every
membership change counts for access on the very next request.

The cast (fixtures/_cast.py, fixtures/_teams.py): Acme (Ada owner, Margaret admin, Katherine and Alan members),
Globex (Grace owner, Alan admin, Barbara member).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Auth = Callable[[str], dict[str, str]]
ADA, KATHERINE, GRACE, ALAN = (
    "ada@acme.example",
    "katherine@acme.example",
    "grace@globex.example",
    "alan@consulting.example",
)


def _teams(client: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = client.get("/api/teams", headers=headers)
    assert response.status_code == 200, response.text
    return {t["slug"]: t for t in response.json()["teams"]}


def _user_id(client: Any, session_auth: Auth, email: str) -> str:
    team_id = next(iter(_teams(client, session_auth(email)).values()))["id"]
    members = client.get(f"/api/teams/{team_id}/members", headers=session_auth(email)).json()["members"]
    return str(next(m["userId"] for m in members if m["email"] == email))


@pytest.fixture
def acme(client: Any, session_auth: Auth) -> str:
    return str(_teams(client, session_auth(ADA))["acme"]["id"])


@pytest.fixture
def globex(client: Any, session_auth: Auth) -> str:
    return str(_teams(client, session_auth(GRACE))["globex"]["id"])


# -- reading --------------------------------------------------------------------------------------------------


def test_a_user_lists_their_teams_with_role_and_member_count(client: Any, session_auth: Auth) -> None:
    teams = _teams(client, session_auth(ALAN))
    assert {slug: t["role"] for slug, t in teams.items()} == {"acme": "member", "globex": "admin"}
    assert (teams["acme"]["memberCount"], teams["globex"]["memberCount"]) == (4, 3)


def test_a_key_acts_as_its_teams_owner(client: Any, key_auth: Auth) -> None:
    assert {slug: t["role"] for slug, t in _teams(client, key_auth("acme-ci")).items()} == {"acme": "owner"}


def test_a_member_reads_the_team_and_a_non_member_gets_404(
    client: Any, session_auth: Auth, key_auth: Auth, acme: str
) -> None:
    body = client.get(f"/api/teams/{acme}", headers=session_auth(KATHERINE)).json()
    assert body["currentUserRole"] == "member"
    assert {(m["email"], m["role"]) for m in body["members"]} == {
        (ADA, "owner"),
        ("margaret@acme.example", "admin"),
        (KATHERINE, "member"),
        (ALAN, "member"),
    }
    for headers in (session_auth(GRACE), key_auth("globex-admin")):
        response = client.get(f"/api/teams/{acme}", headers=headers)
        assert (response.status_code, response.json()) == (404, {"error": "Team not found"})
        response = client.get(f"/api/teams/{acme}/members", headers=headers)
        assert (response.status_code, response.json()) == (404, {"error": "Team not found"})


# -- managing -------------------------------------------------------------------------------------------------


def test_create_makes_the_caller_owner_and_refuses_a_taken_slug(client: Any, session_auth: Auth) -> None:
    created = client.post("/api/teams", json={"name": "Labs", "slug": "labs"}, headers=session_auth(KATHERINE))
    assert created.status_code == 200, created.text
    team_id = created.json()["id"]
    assert client.get(f"/api/teams/{team_id}", headers=session_auth(KATHERINE)).json()["currentUserRole"] == "owner"
    again = client.post("/api/teams", json={"name": "Labs 2", "slug": "labs"}, headers=session_auth(ADA))
    assert (again.status_code, again.json()) == (409, {"error": "A team with this slug already exists"})
    bad = client.post("/api/teams", json={"name": "X", "slug": "Not A Slug"}, headers=session_auth(ADA))
    assert bad.status_code == 400


def test_only_owners_and_admins_update_a_team(client: Any, session_auth: Auth, globex: str, acme: str) -> None:
    ok = client.patch(
        f"/api/teams/{globex}", json={"name": "Globex Corp", "enabledBackends": ["codex"]}, headers=session_auth(ALAN)
    )
    assert (ok.status_code, ok.json()) == (200, {"success": True})
    team = client.get(f"/api/teams/{globex}", headers=session_auth(GRACE)).json()["team"]
    assert (team["name"], team["enabledBackends"]) == ("Globex Corp", ["codex"])
    member = client.patch(f"/api/teams/{acme}", json={"name": "Mine"}, headers=session_auth(KATHERINE))
    assert (member.status_code, member.json()) == (403, {"error": "Forbidden"})
    outsider = client.patch(f"/api/teams/{acme}", json={"name": "Mine"}, headers=session_auth(GRACE))
    assert (outsider.status_code, outsider.json()) == (403, {"error": "Forbidden"})
    assert client.get(f"/api/teams/{acme}", headers=session_auth(ADA)).json()["team"]["name"] == "Acme"


def test_only_an_owner_deletes_a_team_and_its_workspaces_go_with_it(
    client: Any, session_auth: Auth, key_auth: Auth, globex: str
) -> None:
    admin = client.delete(f"/api/teams/{globex}", headers=session_auth(ALAN))
    assert (admin.status_code, admin.json()) == (403, {"error": "Forbidden"})
    assert client.get("/api/workspaces", headers=session_auth(GRACE)).json()["workspaces"]
    assert client.delete(f"/api/teams/{globex}", headers=session_auth(GRACE)).json() == {"success": True}
    assert client.get("/api/workspaces", headers=session_auth(GRACE)).json()["workspaces"] == []
    assert client.get("/api/accounts/me", headers=key_auth("globex-admin")).status_code == 401  # its keys died
    assert client.get(f"/api/teams/{globex}", headers=session_auth(ALAN)).status_code == 404


# -- members and access -----------------------------------------------------------------------------------------


def test_removing_a_member_takes_their_workspaces_away_at_once(client: Any, session_auth: Auth, acme: str) -> None:
    katherine = _user_id(client, session_auth, KATHERINE)
    workspaces = client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"]
    assert workspaces, "Katherine sees Acme's workspaces while a member"
    task = client.get("/api/tasks", headers=session_auth(KATHERINE)).json()["tasks"][0]
    removed = client.delete(f"/api/teams/{acme}/members/{katherine}", headers=session_auth(ADA))
    assert (removed.status_code, removed.json()) == (200, {"success": True})
    assert client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"] == []
    assert client.get(f"/api/workspaces/{workspaces[0]['id']}", headers=session_auth(KATHERINE)).status_code == 404
    assert client.get(f"/api/tasks/{task['id']}", headers=session_auth(KATHERINE)).status_code == 404
    assert client.get(f"/api/teams/{acme}", headers=session_auth(KATHERINE)).status_code == 404


def test_adding_a_member_gives_access_at_once(client: Any, session_auth: Auth, globex: str) -> None:
    katherine = _user_id(client, session_auth, KATHERINE)
    before = {w["teamId"] for w in client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"]}
    assert globex not in before
    added = client.post(
        f"/api/teams/{globex}/members", json={"userId": katherine, "role": "member"}, headers=session_auth(ALAN)
    )
    assert added.status_code == 200, added.text
    after = {w["teamId"] for w in client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"]}
    assert globex in after
    again = client.post(
        f"/api/teams/{globex}/members", json={"userId": katherine, "role": "member"}, headers=session_auth(GRACE)
    )
    assert again.status_code == 409


def test_member_management_needs_the_right_role(client: Any, session_auth: Auth, acme: str, globex: str) -> None:
    katherine = _user_id(client, session_auth, KATHERINE)
    grace = _user_id(client, session_auth, GRACE)
    ada = _user_id(client, session_auth, ADA)
    as_member = client.post(
        f"/api/teams/{acme}/members", json={"userId": grace, "role": "member"}, headers=session_auth(KATHERINE)
    )
    assert (as_member.status_code, as_member.json()) == (403, {"error": "Forbidden"})
    admin_adds_owner = client.post(
        f"/api/teams/{globex}/members", json={"userId": katherine, "role": "owner"}, headers=session_auth(ALAN)
    )
    assert (admin_adds_owner.status_code, admin_adds_owner.json()) == (403, {"error": "Only owners can add owners"})
    admin_removes_owner = client.delete(f"/api/teams/{globex}/members/{grace}", headers=session_auth(ALAN))
    assert admin_removes_owner.status_code in (400, 403)  # the last owner, and an owner admins cannot remove
    not_owner = client.patch(
        f"/api/teams/{acme}/members/{katherine}", json={"role": "admin"}, headers=session_auth(KATHERINE)
    )
    assert (not_owner.status_code, not_owner.json()) == (403, {"error": "Only owners can change roles"})
    promoted = client.patch(f"/api/teams/{acme}/members/{katherine}", json={"role": "admin"}, headers=session_auth(ADA))
    assert promoted.status_code == 200
    assert _teams(client, session_auth(KATHERINE))["acme"]["role"] == "admin"
    unknown = client.post(
        f"/api/teams/{acme}/members",
        json={"userId": "00000000-0000-4000-8000-000000000000", "role": "member"},
        headers=session_auth(ADA),
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "User not found"})
    assert client.get(f"/api/teams/{acme}/members/{ada}", headers=session_auth(ADA)).status_code == 405


def test_the_last_owner_can_neither_leave_nor_be_demoted(client: Any, session_auth: Auth, acme: str) -> None:
    ada = _user_id(client, session_auth, ADA)
    leave = client.delete(f"/api/teams/{acme}/members/{ada}", headers=session_auth(ADA))
    assert (leave.status_code, leave.json()) == (
        400,
        {"error": "Owners cannot remove themselves. Transfer ownership first."},
    )
    demote = client.patch(f"/api/teams/{acme}/members/{ada}", json={"role": "member"}, headers=session_auth(ADA))
    assert (demote.status_code, demote.json()) == (400, {"error": "Cannot change role - you are the last owner"})
    assert _teams(client, session_auth(ADA))["acme"]["role"] == "owner"


def test_a_second_owner_lets_the_first_step_down(client: Any, session_auth: Auth, acme: str) -> None:
    ada, alan = _user_id(client, session_auth, ADA), _user_id(client, session_auth, ALAN)
    assert (
        client.patch(f"/api/teams/{acme}/members/{alan}", json={"role": "owner"}, headers=session_auth(ADA)).status_code
        == 200
    )
    assert (
        client.patch(f"/api/teams/{acme}/members/{ada}", json={"role": "member"}, headers=session_auth(ADA)).status_code
        == 200
    )
    assert _teams(client, session_auth(ADA))["acme"]["role"] == "member"
    last = client.delete(f"/api/teams/{acme}/members/{alan}", headers=session_auth(ALAN))
    assert last.status_code == 400  # Alan is now the last owner


def test_a_member_may_leave(client: Any, session_auth: Auth, acme: str) -> None:
    alan = _user_id(client, session_auth, ALAN)
    left = client.delete(f"/api/teams/{acme}/members/{alan}", headers=session_auth(ALAN))
    assert (left.status_code, left.json()) == (200, {"success": True})
    assert set(_teams(client, session_auth(ALAN))) == {"globex"}


def test_a_member_cannot_remove_someone_else(client: Any, session_auth: Auth, acme: str) -> None:
    alan = _user_id(client, session_auth, ALAN)
    response = client.delete(f"/api/teams/{acme}/members/{alan}", headers=session_auth(KATHERINE))
    assert (response.status_code, response.json()) == (403, {"error": "Forbidden"})
    assert "acme" in _teams(client, session_auth(ALAN))


def test_an_admin_removes_members_but_not_owners(client: Any, session_auth: Auth, acme: str) -> None:
    katherine, alan = _user_id(client, session_auth, KATHERINE), _user_id(client, session_auth, ALAN)
    admin = session_auth("margaret@acme.example")
    assert (
        client.patch(f"/api/teams/{acme}/members/{alan}", json={"role": "owner"}, headers=session_auth(ADA)).status_code
        == 200
    )
    owner = client.delete(f"/api/teams/{acme}/members/{alan}", headers=admin)
    assert (owner.status_code, owner.json()) == (403, {"error": "Admins cannot remove owners"})
    assert client.delete(f"/api/teams/{acme}/members/{katherine}", headers=admin).json() == {"success": True}
    assert "acme" not in _teams(client, session_auth(KATHERINE))
