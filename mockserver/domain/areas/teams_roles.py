"""Roles: team-level role definitions (`workspaceId` null) and per-workspace overrides of them.

A role is a row of the `skills` table with `isRole` true, as in the real server, where roles and skills are one
table (`workspace_skills`, whose `is_role` "distinguishes roles (Team page) from skills"): a skill created with
`isRole: true` on a workspace is a role of the list below, and `/api/roles/{id}` reaches any row of the table.

Reach (as the real `findAccessibleRole`): a team-level role of one of the user's teams, or a role of a workspace
the caller can see. Outside it a role is `404 Role not found`. The list merges the enabled roles of every visible
workspace (an override beats the team default of its slug; across workspaces the first slug wins), with the load
from the store: live workers on tasks of that role, tasks of that role completed in the last 30 days.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from contracts.resources import properties_of
from contracts.spec import load_spec
from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.areas.teams_access import acting_user, user_team_ids
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, NotFound
from mockserver.domain.lifecycle import LIVE_WORKER_STATUSES
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record

__all__ = ("TeamRoles",)

ROLE_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# the fields a create, update or override may set, as the real routes read them: the spec's RoleFields
SETTABLE = tuple(properties_of(load_spec(), {"$ref": "#/components/schemas/RoleFields"}))
DEFAULTS: dict[str, Any] = {
    "description": None,
    "source": "manual",
    "enabled": True,
    "origin": "manual",
    "metadata": {},
    "model": "inherit",
    "defaultBackend": None,
    "allowedTools": [],
    "canDelegateTo": [],
    "background": False,
    "maxTurns": None,
    "color": "#8A8478",
    "mcpServers": {},
    "requiredEnvVars": {},
    "connectorRefs": [],
    "isRole": True,
    "configHash": None,
    "configStorageKey": None,
    "repoUrl": None,
    "accountId": None,
}
OVERRIDE_FIELDS = tuple(f for f in SETTABLE if f not in ("connectorRefs", "isRole", "repoUrl"))


def _hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def _settable(body: Mapping[str, Any], fields: tuple[str, ...] = SETTABLE) -> dict[str, Any]:
    out = {f: body[f] for f in fields if f in body}
    if "defaultBackend" in out:
        out["defaultBackend"] = out["defaultBackend"] if out["defaultBackend"] in ("claude", "codex") else None
    if "content" in out:
        out["contentHash"] = _hash(str(out["content"]))
    return out


class TeamRoles(Area):
    """The operations of `/api/roles/**`."""

    def list_roles(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            seen: dict[str, dict[str, Any]] = {}
            for workspace in access.visible_workspaces(self.store, principal):
                for role in self._workspace_roles(workspace):
                    seen.setdefault(role["slug"], role)
            return self._out({"roles": list(seen.values())})

    def create_role(self, principal: Principal, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        name, content = self._str(body, "name"), self._str(body, "content")
        if not name or not content:
            raise BadRequest("name and content are required")
        slug = self._str(body, "slug") or re.sub(r"^-|-$", "", re.sub(r"[^a-z0-9]+", "-", name.lower()))
        if not ROLE_SLUG.match(slug):
            raise BadRequest("slug must be lowercase alphanumeric with hyphens")
        with self.store.transaction():
            teams = user_team_ids(self.store, str(acting_user(self.store, principal)["id"]))
            if not teams:
                raise BadRequest("No team found for user")
            team_id = teams[0]
            if self._team_level(team_id, slug, None) is not None:
                raise Conflict(f'A team-level role with slug "{slug}" already exists')
            now = self._now()
            role = {
                **DEFAULTS,
                **_settable(body),
                "id": self.ids.uuid4(),
                "teamId": team_id,
                "workspaceId": None,
                "slug": slug,
                "contentHash": _hash(content),
                "createdAt": now,
                "updatedAt": now,
            }
            if "isRole" not in body:
                role["isRole"] = True
            return 201, self._out({"skill": self.store.insert("skills", role)})

    def get_role(self, principal: Principal, role_id: str) -> dict[str, Any]:
        with self.store.lock:
            return self._out({"skill": self._reachable(principal, role_id)})

    def update_role(self, principal: Principal, role_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            role = self._reachable(principal, role_id)
            changes = {**_settable(body), "updatedAt": self._now()}
            if "workspaceId" in body:
                target = body["workspaceId"]
                if target is None:
                    if self._team_level(str(role["teamId"]), str(role["slug"]), role_id) is not None:
                        raise Conflict(f'A team-level role with slug "{role["slug"]}" already exists')
                else:
                    access.workspace_for(self.store, principal, str(target))
                    if any(
                        r["slug"] == role["slug"] and r["id"] != role_id
                        for r in self.store.find("skills", "workspace", str(target))
                    ):
                        raise Conflict(f'A role with slug "{role["slug"]}" already exists in this workspace')
                changes["workspaceId"] = target
            return self._out({"skill": self.store.update("skills", role_id, changes)})

    def delete_role(self, principal: Principal, role_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._reachable(principal, role_id)
            self.store.delete("skills", role_id)
            return {"success": True}

    def create_override(
        self, principal: Principal, role_id: str, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        workspace_id = self._str(body, "workspaceId")
        if not workspace_id:
            raise BadRequest("workspaceId is required")
        with self.store.transaction():
            teams = user_team_ids(self.store, str(acting_user(self.store, principal)["id"]))
            default = self.store.get("skills", role_id)
            if default is None or default.get("workspaceId") is not None or default["teamId"] not in teams:
                raise NotFound("Team-level role not found or not accessible")
            access.workspace_for(self.store, principal, workspace_id)
            fields = _settable(body, OVERRIDE_FIELDS)
            now = self._now()
            existing = next(
                (
                    r
                    for r in self.store.find("skills", "workspace", workspace_id)
                    if r["slug"] == default["slug"] and r["teamId"] == default["teamId"]
                ),
                None,
            )
            if existing is not None:
                updated = self.store.update("skills", str(existing["id"]), {**fields, "updatedAt": now})
                return 200, self._out({"skill": updated})
            inherited = {k: v for k, v in default.items() if k not in ("id", "createdAt", "updatedAt")}
            override = {
                **inherited,
                "source": "manual",
                "origin": "manual",
                "enabled": True,
                "configHash": None,
                "configStorageKey": None,
                **fields,
                "id": self.ids.uuid4(),
                "workspaceId": workspace_id,
                "createdAt": now,
                "updatedAt": now,
            }
            return 201, self._out({"skill": self.store.insert("skills", override)})

    # -- helpers ------------------------------------------------------------------------------------------------

    def _reachable(self, principal: Principal, role_id: str) -> Record:
        role = self.store.get("skills", role_id)
        if role is not None:
            if role.get("workspaceId") is None:
                teams = user_team_ids(self.store, str(acting_user(self.store, principal)["id"]))
                if role["teamId"] in teams:
                    return role
            else:
                workspace = self.store.get("workspaces", role["workspaceId"])
                if workspace is not None and access.can_see_workspace(self.store, principal, workspace):
                    return role
        raise NotFound.of("Role")

    def _team_level(self, team_id: str, slug: str, other_than: str | None) -> Record | None:
        return next(
            (
                r
                for r in self.store.find("skills", "team", team_id)
                if r.get("workspaceId") is None and r["slug"] == slug and r["id"] != other_than
            ),
            None,
        )

    def _workspace_roles(self, workspace: Record) -> list[dict[str, Any]]:
        workspace_id, team_id = str(workspace["id"]), str(workspace["teamId"])
        candidates = [r for r in self.store.find("skills", "team", team_id) if r.get("workspaceId") is None]
        candidates += self.store.find("skills", "workspace", workspace_id)
        chosen: dict[str, Record] = {}
        for role in candidates:
            if not role.get("isRole") or not role.get("enabled"):
                continue
            current = chosen.get(str(role["slug"]))
            if current is None or (role.get("workspaceId") is not None and current.get("workspaceId") is None):
                chosen[str(role["slug"])] = role
        tasks = self.store.find("tasks", "workspace", workspace_id)
        since = self.clock.now() - timedelta(days=30)
        load: dict[str, int] = {}
        done: dict[str, int] = {}
        for task in tasks:
            slug = task.get("roleSlug")
            if not slug:
                continue
            live = [
                w for w in self.store.find("workers", "task", str(task["id"])) if w["status"] in LIVE_WORKER_STATUSES
            ]
            load[slug] = load.get(slug, 0) + len(live)
            if task.get("status") == "completed" and parse_iso(str(task["createdAt"])) >= since:
                done[slug] = done.get(slug, 0) + 1
        return [
            {
                "slug": r["slug"],
                "name": r["name"],
                "model": r.get("model"),
                "color": r.get("color"),
                "description": r.get("description"),
                "currentLoad": load.get(str(r["slug"]), 0),
                "completedTasks30d": done.get(str(r["slug"]), 0),
            }
            for r in chosen.values()
        ]
