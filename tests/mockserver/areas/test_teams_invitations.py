"""Invitations by email: owners and admins invite, revoke and list; the invitee accepts with the token, once,
within 7 days, and gets the team's workspaces at once."""

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


@pytest.fixture
def globex(client: Any, session_auth: Auth) -> str:
    teams = client.get("/api/teams", headers=session_auth(GRACE)).json()["teams"]
    return str(next(t["id"] for t in teams if t["slug"] == "globex"))


def _invite(client: Any, headers: dict[str, str], team_id: str, email: str, role: str = "member") -> Any:
    return client.post(f"/api/teams/{team_id}/invitations", json={"email": email, "role": role}, headers=headers)


def test_an_accepted_invitation_grants_the_team_at_once(client: Any, session_auth: Auth, globex: str) -> None:
    created = _invite(client, session_auth(GRACE), globex, KATHERINE)
    assert created.status_code == 200, created.text
    invitation = created.json()["invitation"]
    assert created.json()["inviteUrl"].endswith(f"/app/invitations/{invitation['token']}")
    listed = client.get(f"/api/teams/{globex}/invitations", headers=session_auth(ALAN)).json()["invitations"]
    mine = [(i["email"], i["inviter"]["email"]) for i in listed if i["id"] == invitation["id"]]
    assert mine == [(KATHERINE, GRACE)]  # beside the team's seeded pending invitation
    assert globex not in {
        w["teamId"] for w in client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"]
    }
    accepted = client.post(f"/api/invitations/{invitation['token']}/accept", headers=session_auth(KATHERINE))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["team"]["id"] == globex
    assert globex in {
        w["teamId"] for w in client.get("/api/workspaces", headers=session_auth(KATHERINE)).json()["workspaces"]
    }
    again = client.post(f"/api/invitations/{invitation['token']}/accept", headers=session_auth(KATHERINE))
    assert (again.status_code, again.json()) == (400, {"error": "Invitation has already been accepted"})
    pending = client.get(f"/api/teams/{globex}/invitations", headers=session_auth(GRACE)).json()["invitations"]
    assert invitation["id"] not in {i["id"] for i in pending}


def test_an_expired_invitation_is_410_and_stays_expired(client: Any, session_auth: Auth, globex: str) -> None:
    token = _invite(client, session_auth(GRACE), globex, KATHERINE).json()["invitation"]["token"]
    assert client.post("/__mock/clock", json={"advanceSeconds": 8 * 24 * 3600}).status_code == 200
    expired = client.post(f"/api/invitations/{token}/accept", headers=session_auth(KATHERINE))
    assert (expired.status_code, expired.json()) == (410, {"error": "Invitation has expired"})
    again = client.post(f"/api/invitations/{token}/accept", headers=session_auth(KATHERINE))
    assert (again.status_code, again.json()) == (400, {"error": "Invitation has already been expired"})
    assert "globex" not in {
        t["slug"] for t in client.get("/api/teams", headers=session_auth(KATHERINE)).json()["teams"]
    }


def test_only_owners_and_admins_handle_invitations(client: Any, session_auth: Auth, globex: str) -> None:
    acme = next(t["id"] for t in client.get("/api/teams", headers=session_auth(ADA)).json()["teams"])
    for response in (
        _invite(client, session_auth(KATHERINE), acme, "new@example.com"),  # a plain member
        _invite(client, session_auth(KATHERINE), globex, "new@example.com"),  # not a member
        client.get(f"/api/teams/{acme}/invitations", headers=session_auth(KATHERINE)),
    ):
        assert (response.status_code, response.json()) == (403, {"error": "Forbidden"})
    owner_invite = _invite(client, session_auth(GRACE), globex, "new@example.com", role="owner")
    assert owner_invite.status_code == 400  # invitations carry admin or member only


def test_duplicate_invitations_and_members_are_409(client: Any, session_auth: Auth, globex: str) -> None:
    assert _invite(client, session_auth(GRACE), globex, "new@example.com").status_code == 200
    duplicate = _invite(client, session_auth(GRACE), globex, "new@example.com")
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"error": "A pending invitation already exists for this email"},
    )
    member = _invite(client, session_auth(GRACE), globex, ALAN)
    assert (member.status_code, member.json()) == (409, {"error": "User is already a team member"})


def test_a_revoked_invitation_cannot_be_accepted(client: Any, session_auth: Auth, globex: str) -> None:
    invitation = _invite(client, session_auth(GRACE), globex, KATHERINE).json()["invitation"]
    path = f"/api/teams/{globex}/invitations/{invitation['id']}"
    assert client.delete(path, headers=session_auth(KATHERINE)).status_code == 403
    assert client.delete(path, headers=session_auth(ALAN)).json() == {"success": True}
    assert client.delete(path, headers=session_auth(ALAN)).json() == {"error": "Invitation not found"}
    response = client.post(f"/api/invitations/{invitation['token']}/accept", headers=session_auth(KATHERINE))
    assert (response.status_code, response.json()) == (404, {"error": "Invitation not found"})
