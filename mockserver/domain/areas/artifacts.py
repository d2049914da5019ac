"""Artifacts: outputs a worker attaches (reports, links, files), readable across its workspace's team.

Reading and editing one artifact (`getArtifact`, `updateArtifact`) is the resource layer's, with one hook for
the share link; attaching (an upsert by key with worker events) and the filtered lists stay hand-written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest
from mockserver.domain.events import workspace_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import worker_event
from mockserver.domain.resources import HookCall, Resource, declare
from mockserver.domain.runtime import parse_iso

__all__ = ("ARTIFACT", "Artifacts")

CREATE_TYPES = ("content", "report", "data", "link", "summary", "file")
ALL_TYPES = (*CREATE_TYPES, "screenshot", "recording", "diff", "walkthrough", "analysis", "recommendation", "alert")
LIST_LIMIT = 200
_CREATE_FIELDS = ("type", "title", "content", "url", "metadata", "storageKey")


def _share_link(call: HookCall) -> None:
    """Going public mints the share URL once (it survives later edits); going private drops it."""
    visibility = call.changes.get("visibility")
    if visibility == "private":
        call.changes["shareUrl"] = None
    elif visibility == "public" and not (call.previous or {}).get("shareUrl"):
        call.changes["shareUrl"] = f"{call.api.settings.base_url}/share/{call.api.ids.hex(16)}"


ARTIFACT = declare(Resource("artifact", scope="workspace", hooks={"before_update": _share_link}))


class Artifacts(Area):
    def list_worker_artifacts(self, principal: Principal, worker_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.worker_for(self.store, principal, worker_id)
            return {"artifacts": self._out(self.store.find("artifacts", "worker", worker_id))}

    def create_worker_artifact(self, principal: Principal, worker_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """New private artifact, or an update of the workspace's artifact with the same `key` (`upserted: true`).
        Emits `worker:progress` then `worker:artifact`."""
        if self._choice(body, "type", CREATE_TYPES) is None:
            raise BadRequest(f"type must be one of: {', '.join(CREATE_TYPES)}")
        self._str(body, "title", required=True, message="title is required")
        if body["type"] == "link" and not self._str(body, "url"):
            raise BadRequest("url is required for link artifacts")
        if body.get("metadata") is not None and not isinstance(body["metadata"], Mapping):
            raise BadRequest("metadata must be an object")
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, worker_id)
            now = self._now()
            key = body.get("key")
            existing = (
                next(iter(self.store.find("artifacts", "workspaceKey", f"{worker['workspaceId']}|{key}")), None)
                if key
                else None
            )
            fields = {f: body.get(f) for f in _CREATE_FIELDS if f in body}
            fields["metadata"] = dict(body.get("metadata") or {})
            if existing is not None:
                artifact = self.store.update(
                    "artifacts",
                    id_of(existing),
                    {**fields, "workerId": worker_id, "taskId": worker["taskId"], "updatedAt": now},
                )
            else:
                artifact = self.store.insert(
                    "artifacts",
                    {
                        "id": self.ids.uuid4(),
                        "workerId": worker_id,
                        "workspaceId": worker["workspaceId"],
                        "taskId": worker["taskId"],
                        "key": key,
                        "type": body["type"],
                        "title": body["title"],
                        "content": body.get("content"),
                        "url": body.get("url"),
                        "storageKey": body.get("storageKey"),
                        "visibility": "private",
                        "metadata": fields["metadata"],
                        "shareUrl": None,
                        "createdAt": now,
                        "updatedAt": now,
                    },
                )
            worker = self.store.update("workers", worker_id, {"updatedAt": now})
            worker_event(worker, "worker:progress", self._emit)
            self._emit(
                workspace_channel(text(worker, "workspaceId")),
                "worker:artifact",
                {"workerId": worker_id, "taskId": worker["taskId"], "artifactId": artifact["id"]},
            )
            out: dict[str, Any] = {"artifact": self._out(artifact)}
            if existing is not None:
                out["upserted"] = True
            return out

    def list_artifacts(
        self,
        principal: Principal,
        *,
        workspace_id: str | None = None,
        worker_id: str | None = None,
        task_id: str | None = None,
        type: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        if type is not None and type not in ALL_TYPES:
            raise BadRequest(f"type must be one of: {', '.join(ALL_TYPES)}")
        with self.store.lock:
            workspaces = access.visible_workspaces(self.store, principal)
            if workspace_id is not None:
                workspaces = [ws for ws in workspaces if ws["id"] == workspace_id]
            if worker_id is not None:
                rows = self.store.find("artifacts", "worker", worker_id)
                visible = {id_of(ws) for ws in workspaces}
                rows = [a for a in rows if a["workspaceId"] in visible]
            else:
                rows = [a for ws in workspaces for a in self.store.find("artifacts", "workspace", id_of(ws))]
            rows = [
                a
                for a in rows
                if (task_id is None or a.get("taskId") == task_id) and (type is None or a["type"] == type)
            ]
            rows.sort(key=lambda a: (parse_iso(text(a, "createdAt")), id_of(a)), reverse=True)
            return {"artifacts": self._out(rows[: min(limit or LIST_LIMIT, LIST_LIMIT)])}
