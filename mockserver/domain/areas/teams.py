"""Teams, their members and invitations: membership roles (owner > admin > member) decide who may manage a team.

Rules follow the real routes (`apps/web/src/app/api/teams/**`):
- read a team or its members: members only (`404 Team not found`);
- rename, change slug or backends; list, create, revoke invitations; add or remove members: owners and admins
  (non-members and plain members `403`; the members routes answer non-members `404 Team not found`);
- delete the team, change roles, add owners: owners only; the last owner can neither leave nor be demoted;
- a member may leave (remove themselves) whatever their role, except an owner (transfer ownership first).
Every change is in the memberships table that `auth.authenticate` reads on each request, so access to the team's
workspaces, tasks and accounts follows it at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain.area import Area
from mockserver.domain.areas.teams_access import (
    ROLE_RANK,
    acting_user,
    membership,
    owners,
    role_at_least,
)
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record

__all__ = ("Gone", "Teams")

SLUG = re.compile(r"^[a-z0-9-]+$")
BACKENDS = ("claude", "codex")
INVITATION_TTL = timedelta(days=7)


class Gone(DomainError):
    status = 410
    default_message = "Gone"


class Teams(Area):
    """The operations of `/api/teams/**` and `/api/invitations/{token}/accept`."""

    # -- teams --------------------------------------------------------------------------------------------------

    def list_teams(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            user = acting_user(self.store, principal)
            out = []
            for m in self.store.find("memberships", "user", str(user["id"])):
                team = self.store.get("teams", m["teamId"])
                if team is not None:
                    count = len(self.store.find("memberships", "team", str(team["id"])))
                    out.append({**self._team_view(team), "role": m["role"], "memberCount": max(count, 1)})
            return self._out({"teams": out})

    def create_team(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        name = self._str(body, "name")
        slug = self._str(body, "slug")
        if not name or not slug:
            raise BadRequest("Name and slug are required")
        self._check_slug(slug)
        with self.store.transaction():
            user = acting_user(self.store, principal)
            self._slug_free(slug, None)
            now = self._now()
            team = self.store.insert(
                "teams", {"id": self.ids.uuid4(), "name": name, "slug": slug, "plan": "free", "createdAt": now}
            )
            self._join(str(team["id"]), str(user["id"]), "owner")
            return self._out(self._team_view(team))

    def get_team(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.lock:
            user = acting_user(self.store, principal)
            role = role_at_least(self.store, team_id, str(user["id"]), "member")
            team = self.store.get("teams", team_id)
            if role is None or team is None:
                raise NotFound.of("Team")
            return self._out(
                {"team": self._team_view(team), "members": self._members(team_id), "currentUserRole": role}
            )

    def update_team(self, principal: Principal, team_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            self._require(principal, team_id, "admin")
            changes: dict[str, Any] = {}
            name = self._str(body, "name")
            if name is not None:
                changes["name"] = name
            extras: dict[str, Any] = {"updatedAt": self._now()}
            if "enabledBackends" in body:
                backends = body["enabledBackends"]
                if not isinstance(backends, list) or not backends or any(b not in BACKENDS for b in backends):
                    raise BadRequest('enabledBackends must be a non-empty array of "claude" and/or "codex"')
                extras["enabledBackends"] = list(dict.fromkeys(backends))
            slug = self._str(body, "slug")
            if slug is not None:
                self._check_slug(slug)
                self._slug_free(slug, team_id)
                changes["slug"] = slug
            if changes:
                self.store.update("teams", team_id, changes)
            self.store.upsert("teamExtras", {**self._extras(team_id), **extras})
            return {"success": True}

    def delete_team(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._require(principal, team_id, "owner")
            team = self.store.get("teams", team_id)
            if team is None:
                raise Forbidden()
            if str(team["slug"]).startswith("personal-"):
                raise BadRequest("Cannot delete personal team")
            self._purge_team(team_id)
            return {"success": True}

    # -- members ------------------------------------------------------------------------------------------------

    def list_members(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.lock:
            self._member_or_404(principal, team_id)
            return self._out({"members": self._members(team_id)})

    def add_member(self, principal: Principal, team_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            mine = self._member_or_404(principal, team_id)
            if ROLE_RANK[mine] < ROLE_RANK["admin"]:
                raise Forbidden()
            user_id, role = body.get("userId"), body.get("role")
            if not user_id or not role:
                raise BadRequest("userId and role are required")
            if role not in ROLE_RANK:
                raise BadRequest("Invalid role")
            if role == "owner" and mine != "owner":
                raise Forbidden("Only owners can add owners")
            if self.store.get("users", str(user_id)) is None:
                raise NotFound.of("User")
            if membership(self.store, team_id, str(user_id)) is not None:
                raise Conflict("User is already a team member")
            self._join(team_id, str(user_id), str(role))
            return {"success": True}

    def update_member(
        self, principal: Principal, team_id: str, user_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self.store.transaction():
            me = acting_user(self.store, principal)
            if role_at_least(self.store, team_id, str(me["id"]), "owner") is None:
                raise Forbidden("Only owners can change roles")
            role = body.get("role")
            if role not in ROLE_RANK:
                raise BadRequest("Invalid role")
            target = membership(self.store, team_id, user_id)
            if target is None:
                raise NotFound.of("Member")
            if target["role"] == "owner" and role != "owner" and len(owners(self.store, team_id)) <= 1:
                raise BadRequest("Cannot change role - you are the last owner")
            self.store.update("memberships", f"{team_id}|{user_id}", {"role": role})
            return {"success": True}

    def remove_member(self, principal: Principal, team_id: str, user_id: str) -> dict[str, Any]:
        with self.store.transaction():
            me = str(acting_user(self.store, principal)["id"])
            mine = self._member_or_404(principal, team_id)
            leaving = user_id == me
            if not leaving and ROLE_RANK[mine] < ROLE_RANK["admin"]:
                raise Forbidden()
            target = membership(self.store, team_id, user_id)
            if target is None:
                raise NotFound.of("Member")
            if leaving and mine == "owner":
                raise BadRequest("Owners cannot remove themselves. Transfer ownership first.")
            if target["role"] == "owner" and len(owners(self.store, team_id)) <= 1:
                raise BadRequest("Cannot remove the last owner")
            if mine == "admin" and target["role"] == "owner":
                raise Forbidden("Admins cannot remove owners")
            self.store.delete("memberships", f"{team_id}|{user_id}")
            self.store.delete("memberSince", f"{team_id}|{user_id}")
            return {"success": True}

    # -- invitations --------------------------------------------------------------------------------------------

    def list_invitations(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.lock:
            self._require(principal, team_id, "admin")
            pending = [i for i in self.store.find("teamInvitations", "team", team_id) if i["status"] == "pending"]
            pending.sort(key=lambda i: (parse_iso(str(i["createdAt"])), str(i["id"])), reverse=True)
            out = []
            for invitation in pending:
                inviter = self.store.get("users", invitation.get("invitedBy"))
                who = {"id": inviter["id"], "name": inviter.get("name"), "email": inviter["email"]} if inviter else None
                out.append({**invitation, "inviter": who})
            return self._out({"invitations": out})

    def create_invitation(self, principal: Principal, team_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            me = self._require(principal, team_id, "admin")
            email, role = self._str(body, "email"), body.get("role")
            if not email or not role:
                raise BadRequest("email and role are required")
            if role not in ("admin", "member"):
                raise BadRequest("role must be admin or member")
            user = next((u for u in self.store.rows("users") if u.get("email") == email), None)
            if user is not None and membership(self.store, team_id, str(user["id"])) is not None:
                raise Conflict("User is already a team member")
            if any(
                i["email"] == email and i["status"] == "pending"
                for i in self.store.find("teamInvitations", "team", team_id)
            ):
                raise Conflict("A pending invitation already exists for this email")
            now = self.clock.now()
            invitation = self.store.insert(
                "teamInvitations",
                {
                    "id": self.ids.uuid4(),
                    "teamId": team_id,
                    "email": email,
                    "role": role,
                    "token": self.ids.uuid4(),
                    "invitedBy": me,
                    "status": "pending",
                    "createdAt": to_iso(now),
                    "expiresAt": to_iso(now + INVITATION_TTL),
                },
            )
            url = f"{self.settings.base_url}/app/invitations/{invitation['token']}"
            return self._out({"invitation": invitation, "inviteUrl": url})

    def delete_invitation(self, principal: Principal, team_id: str, invitation_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._require(principal, team_id, "admin")
            invitation = self.store.get("teamInvitations", invitation_id)
            if invitation is None or invitation["teamId"] != team_id:
                raise NotFound.of("Invitation")
            self.store.delete("teamInvitations", invitation_id)
            return {"success": True}

    def accept_invitation(self, principal: Principal, token: str) -> dict[str, Any]:
        """Join with the invitation's role (a member already keeps their role); 400 used, 410 expired."""
        with self.store.transaction():
            user = acting_user(self.store, principal)
            found = self.store.find("teamInvitations", "token", token)
            invitation = found[0] if found else None
            if invitation is None:
                raise NotFound.of("Invitation")
            if invitation["status"] != "pending":
                raise BadRequest(f"Invitation has already been {invitation['status']}")
            expired = parse_iso(str(invitation["expiresAt"])) <= self.clock.now()
            if expired:  # stored as expired (committed), then answered 410 below
                self.store.update("teamInvitations", str(invitation["id"]), {"status": "expired"})
            else:
                team_id = str(invitation["teamId"])
                if membership(self.store, team_id, str(user["id"])) is None:
                    self._join(team_id, str(user["id"]), str(invitation["role"]))
                self.store.update("teamInvitations", str(invitation["id"]), {"status": "accepted"})
                team = self.store.get("teams", team_id)
                if team is None:
                    raise NotFound.of("Invitation")
                return self._out({"team": self._team_view(team)})
        raise Gone("Invitation has expired")

    # -- helpers ------------------------------------------------------------------------------------------------

    def _require(self, principal: Principal, team_id: str, minimum: str) -> str:
        """The acting user's id when their role in the team is at least `minimum`, else `403 Forbidden`."""
        user_id = str(acting_user(self.store, principal)["id"])
        if role_at_least(self.store, team_id, user_id, minimum) is None:
            raise Forbidden()
        return user_id

    def _member_or_404(self, principal: Principal, team_id: str) -> str:
        user_id = str(acting_user(self.store, principal)["id"])
        role = role_at_least(self.store, team_id, user_id, "member")
        if role is None:
            raise NotFound.of("Team")
        return role

    def _join(self, team_id: str, user_id: str, role: str) -> None:
        self.store.insert("memberships", {"teamId": team_id, "userId": user_id, "role": role})
        self.store.upsert("memberSince", {"key": f"{team_id}|{user_id}", "joinedAt": self._now()})

    def _members(self, team_id: str) -> list[dict[str, Any]]:
        team = self.store.get("teams", team_id) or {}
        out = []
        for m in self.store.find("memberships", "team", team_id):
            user = self.store.get("users", m["userId"]) or {}
            since = self.store.get("memberSince", f"{team_id}|{m['userId']}")
            out.append(
                {
                    "userId": m["userId"],
                    "role": m["role"],
                    "joinedAt": since["joinedAt"] if since else team.get("createdAt"),
                    "name": user.get("name"),
                    "email": user.get("email", ""),
                    "image": user.get("image"),
                }
            )
        return out

    def _extras(self, team_id: str) -> Record:
        return dict(self.store.get("teamExtras", team_id) or {"teamId": team_id})

    def _team_view(self, team: Record) -> dict[str, Any]:
        extras = self.store.get("teamExtras", str(team["id"])) or {}
        return {
            **{k: team[k] for k in ("id", "name", "slug", "plan", "createdAt")},
            "updatedAt": extras.get("updatedAt") or team["createdAt"],
            "enabledBackends": extras.get("enabledBackends"),
        }

    @staticmethod
    def _check_slug(slug: str) -> None:
        if not SLUG.match(slug):
            raise BadRequest("Slug must contain only lowercase letters, numbers, and hyphens")

    def _slug_free(self, slug: str, team_id: str | None) -> None:
        if any(t["slug"] == slug and t["id"] != team_id for t in self.store.rows("teams")):
            raise Conflict("A team with this slug already exists")

    def _purge_team(self, team_id: str) -> None:
        """The team and what hangs off it (the real database cascades the same rows)."""
        for workspace in self.store.find("workspaces", "team", team_id):
            workspace_id = str(workspace["id"])
            for task in self.store.find("tasks", "workspace", workspace_id):
                self._purge_task(str(task["id"]))
            for table, index in (("artifacts", "workspace"), ("schedules", "workspace"), ("skills", "workspace")):
                for row in self.store.find(table, index, workspace_id):
                    self.store.delete(table, str(row["id"]))
            for link in self.store.find("accountWorkspaces", "workspace", workspace_id):
                self.store.delete("accountWorkspaces", f"{link['accountId']}|{workspace_id}")
            self.store.delete("workspaces", workspace_id)
        for account in self.store.find("accounts", "team", team_id):
            account_id = str(account["id"])
            for cred in self.store.find("credentials", "account", account_id):
                self.store.delete("credentials", str(cred["apiKeyHash"]))
            for link in self.store.find("accountWorkspaces", "account", account_id):
                self.store.delete("accountWorkspaces", f"{account_id}|{link['workspaceId']}")
            for beat in self.store.find("heartbeats", "account", account_id):
                self.store.delete("heartbeats", f"{account_id}|{beat['localUiUrl']}")
            self.store.delete("accounts", account_id)
        for m in self.store.find("memberships", "team", team_id):
            self.store.delete("memberships", f"{team_id}|{m['userId']}")
            self.store.delete("memberSince", f"{team_id}|{m['userId']}")
        for table, index in (("teamInvitations", "team"), ("skills", "team")):
            for row in self.store.find(table, index, team_id):
                self.store.delete(table, str(row["id"]))
        for table in ("teamExtras", "teamNotifications"):
            self.store.delete(table, team_id)
        self.store.delete("teams", team_id)
