"""Workspace skills and roles: SKILL.md bundles agents load, upserted by slug within a workspace (one table, `skills`).

Not a plain resource: a create with a slug already used in the workspace replaces that skill (200, not 201), the
slug is derived from the name when not given, `contentHash` follows `content`, and keys below admin level may not
even read them (the real route answers 401; the patterns note says 403, see docs/deviations.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, NotFound
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, clone, register_table

__all__ = ("Skills", "skill_slug")

SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# body field -> value of a new skill that does not send it (the real table's defaults)
_OPTIONAL: dict[str, Any] = {
    "model": "inherit",
    "allowedTools": [],
    "canDelegateTo": [],
    "background": False,
    "maxTurns": None,
    "color": "#8A8478",
    "mcpServers": {},
    "requiredEnvVars": {},
    "connectorRefs": [],
    "isRole": False,
    "repoUrl": None,
    "accountId": None,
}
_PATCHABLE = ("name", "description", "content", "source", "metadata", "enabled", *_OPTIONAL)

# One table for skills and roles, as the real `workspace_skills` (`isRole` tells them apart; team-level roles have
# no workspace): this area serves a workspace's rows, teams_roles.py the roles across workspaces and team level.
register_table("skills", "id")
register_group_index("skills", "workspace", "workspaceId")
register_group_index("skills", "team", "teamId")


def skill_slug(name: str) -> str:
    """`UI Audit!` -> `ui-audit` (the real route's generateSlug)."""
    return re.sub(r"^-|-$", "", re.sub(r"[^a-z0-9]+", "-", name.lower()))


def _backend(value: Any) -> str | None:
    return value if value in ("claude", "codex") else None


def _hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


class Skills(Area):
    """/api/workspaces/{id}/skills and /api/workspaces/{id}/skills/{skillId}."""

    def list_skills(
        self, principal: Principal, workspace_id: str, *, enabled: str | None = None, is_role: str | None = None
    ) -> dict[str, Any]:
        with self.store.lock:
            self._reach(principal, workspace_id)
            rows = self.store.find("skills", "workspace", workspace_id)
            for field, wanted in (("enabled", enabled), ("isRole", is_role)):
                if wanted in ("true", "false"):  # anything else is ignored, as the real route does
                    rows = [s for s in rows if s[field] is (wanted == "true")]
            rows = sorted(rows, key=lambda s: (parse_iso(str(s["createdAt"])), str(s["id"])), reverse=True)
            return {"skills": self._out(rows)}

    def create_skill(
        self, principal: Principal, workspace_id: str, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """201 with a new skill, or 200 with the workspace's skill of the same slug replaced."""
        name = self._str(body, "name")
        content = body.get("content")
        if not name or not isinstance(content, str) or not content:
            raise BadRequest("name and content are required")
        slug = self._str(body, "slug") or skill_slug(name)
        if not SLUG.match(slug):
            raise BadRequest('slug must be lowercase alphanumeric with hyphens (e.g., "ui-audit")')
        with self.store.transaction():
            workspace = self._reach(principal, workspace_id)
            now = self._now()
            fields: dict[str, Any] = {
                "name": name,
                "description": body.get("description") or None,
                "content": content,
                "contentHash": _hash(content),
                "source": body.get("source") or None,
                "metadata": dict(body.get("metadata") or {}),
                "updatedAt": now,
            }
            fields.update({f: body[f] for f in _OPTIONAL if body.get(f) is not None})
            if "defaultBackend" in body:
                fields["defaultBackend"] = _backend(body["defaultBackend"])
            existing = next(
                (s for s in self.store.find("skills", "workspace", workspace_id) if s["slug"] == slug), None
            )
            if existing is not None:
                fields["enabled"] = bool(body["enabled"]) if body.get("enabled") is not None else existing["enabled"]
                return 200, {"skill": self._out(self.store.update("skills", str(existing["id"]), fields))}
            record = {
                "id": self.ids.uuid4(),
                "teamId": workspace["teamId"],
                "workspaceId": workspace_id,
                "slug": slug,
                "enabled": bool(body["enabled"]) if body.get("enabled") is not None else True,
                "origin": "manual",
                "defaultBackend": None,
                "configHash": None,
                "configStorageKey": None,
                "createdAt": now,
                **clone(_OPTIONAL),
                **fields,
            }
            return 201, {"skill": self._out(self.store.insert("skills", record))}

    def get_skill(self, principal: Principal, workspace_id: str, skill_id: str) -> dict[str, Any]:
        with self.store.lock:
            return {"skill": self._out(self._skill(principal, workspace_id, skill_id))}

    def update_skill(
        self, principal: Principal, workspace_id: str, skill_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        for field in ("name", "content"):
            if field in body and not (isinstance(body[field], str) and body[field].strip()):
                raise BadRequest(f"{field} must not be empty")
        with self.store.transaction():
            self._skill(principal, workspace_id, skill_id)
            changes = {f: body[f] for f in _PATCHABLE if f in body}
            if "content" in changes:
                changes["contentHash"] = _hash(str(changes["content"]))
            if "defaultBackend" in body:
                changes["defaultBackend"] = _backend(body["defaultBackend"])
            changes["updatedAt"] = self._now()
            return {"skill": self._out(self.store.update("skills", skill_id, changes))}

    def delete_skill(self, principal: Principal, workspace_id: str, skill_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._skill(principal, workspace_id, skill_id)
            self.store.delete("skills", skill_id)
            return {"success": True}

    def _reach(self, principal: Principal, workspace_id: str) -> Record:
        """The workspace (404 outside reach), then the level: skills are for sessions and admin keys (403)."""
        workspace = access.workspace_for(self.store, principal, workspace_id)
        access.require_admin_level(principal, "Skills need a session or an admin-level API key")
        return workspace

    def _skill(self, principal: Principal, workspace_id: str, skill_id: str) -> Record:
        self._reach(principal, workspace_id)
        skill = self.store.get("skills", skill_id)
        if skill is None or skill.get("workspaceId") != workspace_id:
            raise NotFound.of("Skill")
        return skill
