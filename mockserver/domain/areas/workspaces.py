"""Workspaces and the links that let accounts claim from / create in restricted ones."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound
from mockserver.domain.fields import id_of, text
from mockserver.domain.records import new_workspace, normalise_repo, workspace_view
from mockserver.domain.store import Record

__all__ = ("Workspaces",)

ACCESS_MODES = ("open", "restricted")
DATA_CLASSES = ("standard", "sensitive")
# body field -> stored field, copied as is by PATCH
_PATCH_FIELDS = {
    "name": "name",
    "localPath": "localPath",
    "defaultBranch": "localPath",
    "accessMode": "accessMode",
    "dataClass": "dataClass",
    "discordConfig": "discordConfig",
}


class Workspaces(Area):
    def list_workspaces(self, principal: Principal, team_id: str | None = None) -> dict[str, Any]:
        with self.store.lock:
            rows = access.visible_workspaces(self.store, principal, team_id)
            return {"workspaces": [self._list_item(ws) for ws in rows]}

    def create_workspace(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        repo_url = self._str(body, "repoUrl")
        repo = normalise_repo(repo_url) if repo_url else None
        name = self._str(body, "name") or (repo.rstrip("/").split("/")[-1] if repo else None)
        if not name:
            raise BadRequest("Name is required (or provide repoUrl to auto-derive)")
        self._choice(body, "accessMode", ACCESS_MODES)
        with self.store.transaction():
            team_id = self._team_for_create(principal, body.get("teamId"))
            fields = {**body, "name": name, "repo": repo, "localPath": body.get("defaultBranch")}
            workspace = self.store.insert(
                "workspaces", new_workspace(id=self.ids.uuid4(), team_id=team_id, fields=fields, now=self._now())
            )
            return workspace_view(workspace)

    def get_workspace(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            tasks = self.store.find("tasks", "workspace", workspace_id)
            workers = [w for t in tasks for w in self.store.find("workers", "task", id_of(t))]
            return {
                "workspace": {**workspace_view(workspace), "tasks": self._out(tasks), "workers": self._out(workers)}
            }

    def update_workspace(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._choice(body, "accessMode", ACCESS_MODES)
        self._choice(body, "dataClass", DATA_CLASSES)
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            changes: dict[str, Any] = {src_to: body[src] for src, src_to in _PATCH_FIELDS.items() if src in body}
            if "name" in changes and not str(changes["name"]).strip():
                raise BadRequest("name must not be empty")
            if "repoUrl" in body or "repo" in body:
                value = body.get("repoUrl", body.get("repo"))
                changes["repo"] = normalise_repo(str(value)) if value else None
            if "maxConcurrentTasks" in body:
                value = body["maxConcurrentTasks"]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise BadRequest("maxConcurrentTasks must be a number")
                changes["maxConcurrentTasks"] = max(1, math.floor(value))
            if body.get("gitConfig") is not None:
                if not isinstance(body["gitConfig"], Mapping):
                    raise BadRequest("gitConfig must be an object")
                changes["gitConfig"] = {**(workspace.get("gitConfig") or {}), **body["gitConfig"]}
            if body.get("teamId") is not None and body["teamId"] != workspace["teamId"]:
                if body["teamId"] not in principal.team_ids:
                    raise Forbidden("You do not belong to the target team")
                changes["teamId"] = body["teamId"]
            changes["updatedAt"] = self._now()
            self.store.update("workspaces", workspace_id, changes)
            return {"success": True}

    def delete_workspace(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        """Team owners only; anyone else (and keys) get 404."""
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            access.require_team_role(self.store, principal, text(workspace, "teamId"), "owner", hide_as="Workspace")
            for task in self.store.find("tasks", "workspace", workspace_id):
                self._purge_task(id_of(task))
            for artifact in self.store.find("artifacts", "workspace", workspace_id):
                self.store.delete("artifacts", id_of(artifact))
            for schedule in self.store.find("schedules", "workspace", workspace_id):
                self.store.delete("schedules", id_of(schedule))
            for link in self.store.find("accountWorkspaces", "workspace", workspace_id):
                self.store.delete("accountWorkspaces", f"{link['accountId']}|{workspace_id}")
            self.store.delete("workspaces", workspace_id)
            return {"success": True}

    def list_workspace_accounts(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.workspace_for(self.store, principal, workspace_id)
            return {"accounts": self._links(workspace_id)}

    def link_workspace_account(
        self, principal: Principal, workspace_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Upsert a link; only accounts of the workspace's own team can be linked (else 404 Account not found)."""
        account_id = self._str(body, "accountId", required=True, message="accountId is required")
        can_claim = body.get("canClaim", True)
        can_create = body.get("canCreate", False)
        if not isinstance(can_claim, bool) or not isinstance(can_create, bool):
            raise BadRequest("canClaim and canCreate must be booleans")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            account = self.store.get("accounts", account_id)
            if account is None or account["teamId"] != workspace["teamId"]:
                raise NotFound.of("Account")
            self.store.upsert(
                "accountWorkspaces",
                {"accountId": account_id, "workspaceId": workspace_id, "canClaim": can_claim, "canCreate": can_create},
            )
            return {
                "success": True,
                "accountId": account_id,
                "workspaceId": workspace_id,
                "canClaim": can_claim,
                "canCreate": can_create,
            }

    def unlink_workspace_account(
        self, principal: Principal, workspace_id: str, account_id: str | None
    ) -> dict[str, Any]:
        if not account_id:
            raise BadRequest("accountId is required")
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            self.store.delete("accountWorkspaces", f"{account_id}|{workspace_id}")
            return {"success": True}

    def get_workspace_by_repo(self, principal: Principal, repo: str | None) -> dict[str, Any]:
        """The caller-visible workspace bound to `owner/name`, else `{workspace: null}`."""
        if not repo:
            raise BadRequest("repo parameter required")
        with self.store.lock:
            for workspace in self.store.find("workspaces", "repo", normalise_repo(repo).lower()):
                if access.can_see_workspace(self.store, principal, workspace):
                    return {"workspace": workspace_view(workspace)}
            return {"workspace": None}

    def _links(self, workspace_id: str) -> list[dict[str, Any]]:
        out = []
        for link in self.store.find("accountWorkspaces", "workspace", workspace_id):
            account = self.store.get("accounts", link["accountId"])
            if account is not None:
                out.append(
                    {
                        "accountId": account["id"],
                        "accountName": account["name"],
                        "accountType": account["type"],
                        "canClaim": bool(link.get("canClaim", True)),
                        "canCreate": bool(link.get("canCreate", False)),
                    }
                )
        return out

    def _list_item(self, workspace: Record) -> dict[str, Any]:
        links = self._links(id_of(workspace))
        runners = {
            kind: any(link["accountType"] == kind and link["canClaim"] for link in links)
            for kind in ("action", "service", "user")
        }
        return {**workspace_view(workspace), "runners": runners, "connectedAccounts": links}
