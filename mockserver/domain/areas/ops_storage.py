"""Files of artifacts and attachments, and public share links.

The real server hands out presigned object-storage URLs. The mock is its own object store: an upload URL points
at `/mock-storage/<storageKey>` on the mock, a PUT there stores the bytes (base64 in the `opsStoredObjects`
table, so a state file keeps them), and a download redirects there. Only keys an upload URL was issued for can be
written, so the store holds nothing a client did not announce.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound, Unauthorized
from mockserver.domain.store import Record, register_table

__all__ = ("STORAGE_PREFIX", "ArtifactStorage", "StoredFile")

OBJECTS = "opsStoredObjects"
register_table(OBJECTS, "storageKey")

STORAGE_PREFIX = "/mock-storage/"
ARTIFACT_MAX_BYTES = 50 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class StoredFile:
    """Bytes read back from the mock's object store."""

    __slots__ = ("content", "content_type", "filename")

    def __init__(self, content: bytes, content_type: str, filename: str) -> None:
        self.content = content
        self.content_type = content_type
        self.filename = filename


def _share_token(artifact: Mapping[str, Any]) -> str | None:
    url = artifact.get("shareUrl")
    return str(url).rsplit("/share/", 1)[-1] if url and "/share/" in str(url) else None


class ArtifactStorage(Area):
    def _url(self, storage_key: str) -> str:
        return f"{self.settings.base_url}{STORAGE_PREFIX}{quote(storage_key)}"

    def _object(self, storage_key: str, workspace_id: str, filename: str, mime: str, size: int, **extra: Any) -> None:
        self.store.insert(
            OBJECTS,
            {
                "storageKey": storage_key,
                "workspaceId": workspace_id,
                "filename": filename,
                "mimeType": mime,
                "sizeBytes": size,
                "maxBytes": extra.pop("max_bytes"),
                "artifactId": extra.pop("artifact_id", None),
                "shareToken": extra.pop("share_token", None),
                "content": None,
                "contentType": None,
                "uploadedAt": None,
                "createdAt": self._now(),
            },
        )

    # -- upload URLs --------------------------------------------------------------------------------------------

    def create_upload_url(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """A private file artifact of the caller's worker and the URL its bytes go to."""
        filename, mime, size = str(body["filename"]), str(body["mimeType"]), int(body["sizeBytes"])
        if size > ARTIFACT_MAX_BYTES:
            raise BadRequest("File exceeds 50MB limit")
        with self.store.transaction():
            worker = access.worker_for(self.store, principal, str(body["workerId"]))
            workspace_id = str(worker["workspaceId"])
            workspace = self.store.get("workspaces", workspace_id) or {}
            if workspace.get("dataClass") == "sensitive":
                raise Forbidden("Content upload is not permitted for sensitive workspaces")
            artifact_id = self.ids.uuid4()
            storage_key = f"artifacts/{workspace_id}/{self.ids.uuid4()}/{filename}"
            token = self.ids.hex(24)
            now = self._now()
            self.store.insert(
                "artifacts",
                {
                    "id": artifact_id,
                    "workerId": worker["id"],
                    "workspaceId": workspace_id,
                    "taskId": worker.get("taskId"),
                    "key": None,
                    "type": body.get("type") or "file",
                    "title": body.get("title") or filename,
                    "content": None,
                    "url": None,
                    "storageKey": storage_key,
                    "visibility": "private",
                    "metadata": {
                        **(body.get("metadata") or {}),
                        "filename": filename,
                        "mimeType": mime,
                        "sizeBytes": size,
                    },
                    "shareUrl": None,
                    "createdAt": now,
                    "updatedAt": now,
                },
            )
            self._object(
                storage_key, workspace_id, filename, mime, size,
                max_bytes=ARTIFACT_MAX_BYTES, artifact_id=artifact_id, share_token=token,
            )  # fmt: skip
            return {
                "artifactId": artifact_id,
                "uploadUrl": self._url(storage_key),
                "downloadUrl": f"{self.settings.base_url}/api/artifacts/{artifact_id}/download?token={token}",
                "shareUrl": f"{self.settings.base_url}/share/{token}",
                "storageKey": storage_key,
            }

    def create_attachment_uploads(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        files = list(body["files"])
        for file in files:
            if int(file["sizeBytes"]) > ATTACHMENT_MAX_BYTES:
                raise BadRequest(f'File "{file["filename"]}" exceeds 10MB limit')
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, str(body["workspaceId"]))
            uploads = []
            for file in files:
                filename, mime = str(file["filename"]), str(file["mimeType"])
                key = f"attachments/{workspace['id']}/{self.ids.uuid4()}/{filename}"
                self._object(
                    key, str(workspace["id"]), filename, mime, int(file["sizeBytes"]), max_bytes=ATTACHMENT_MAX_BYTES
                )
                uploads.append({"storageKey": key, "uploadUrl": self._url(key), "filename": filename, "mimeType": mime})
            return {"uploads": uploads}

    # -- the object store ---------------------------------------------------------------------------------------

    def put_object(self, storage_key: str, content: bytes, content_type: str | None) -> None:
        """Store the bytes of an announced upload (a repeated PUT replaces them, as object stores do)."""
        with self.store.transaction():
            found = self.store.get(OBJECTS, storage_key)
            if found is None:
                raise NotFound.of("Upload")
            if len(content) > int(found["maxBytes"]):
                raise BadRequest(f"File exceeds {int(found['maxBytes']) // (1024 * 1024)}MB limit")
            self.store.update(
                OBJECTS,
                storage_key,
                {
                    "content": base64.b64encode(content).decode("ascii"),
                    "contentType": content_type or found["mimeType"],
                    "uploadedAt": self._now(),
                },
            )

    def get_object(self, storage_key: str) -> StoredFile:
        with self.store.lock:
            found = self.store.get(OBJECTS, storage_key)
            if found is None or found.get("content") is None:
                raise NotFound.of("File")
            return StoredFile(base64.b64decode(found["content"]), str(found["contentType"]), str(found["filename"]))

    # -- download and share links -------------------------------------------------------------------------------

    def _token_of(self, artifact: Record) -> str | None:
        found = self.store.get(OBJECTS, artifact.get("storageKey")) if artifact.get("storageKey") else None
        return _share_token(artifact) or (str(found["shareToken"]) if found and found.get("shareToken") else None)

    def download_location(
        self, principal: Principal | None, artifact_id: str, token: str | None
    ) -> tuple[str, dict[str, str]]:
        """Where the artifact's bytes are, with the headers of the redirect."""
        with self.store.lock:
            if token is None:
                if principal is None:
                    raise Unauthorized()
                artifact = access.artifact_for(self.store, principal, artifact_id)
            else:
                found = self.store.get("artifacts", artifact_id)
                if found is None:
                    raise NotFound.of("Artifact")
                artifact = found
            if not artifact.get("storageKey"):
                raise NotFound.of("File")
            if token is not None and (token != self._token_of(artifact) or artifact.get("visibility") != "public"):
                raise Forbidden("Invalid token")
            filename = str((artifact.get("metadata") or {}).get("filename") or "download")
            return self._url(str(artifact["storageKey"])), {
                "Content-Disposition": f'inline; filename="{filename}"',
                "Cache-Control": "private, max-age=3500",
            }

    def _shareable(self, principal: Principal, artifact_id: str) -> Record:
        """The worker's own account, or anyone who sees the artifact's workspace; others get 403."""
        artifact = self.store.get("artifacts", artifact_id)
        if artifact is None:
            raise NotFound.of("Artifact")
        worker = self.store.get("workers", artifact.get("workerId"))
        if principal.is_key and worker is not None and worker.get("accountId") == principal.account_id:
            return artifact
        workspace = self.store.get("workspaces", artifact.get("workspaceId"))
        if workspace is None or not access.can_see_workspace(self.store, principal, workspace):
            raise Forbidden()
        return artifact

    def share(self, principal: Principal, artifact_id: str) -> dict[str, Any]:
        with self.store.transaction():
            artifact = self._shareable(principal, artifact_id)
            token = self._token_of(artifact) or self.ids.hex(24)
            url = f"{self.settings.base_url}/share/{token}"
            self.store.update(
                "artifacts", artifact_id, {"visibility": "public", "shareUrl": url, "updatedAt": self._now()}
            )
            return {"shareUrl": url}

    def unshare(self, principal: Principal, artifact_id: str) -> dict[str, Any]:
        with self.store.transaction():
            artifact = self._shareable(principal, artifact_id)
            self.store.update(
                "artifacts", artifact_id, {"visibility": "private", "shareUrl": None, "updatedAt": self._now()}
            )
            if artifact.get("storageKey") and self.store.get(OBJECTS, str(artifact["storageKey"])) is not None:
                self.store.update(OBJECTS, str(artifact["storageKey"]), {"shareToken": None})
            return {"ok": True}

    def shared_artifact(self, token: str) -> dict[str, Any]:
        with self.store.lock:
            artifact = next(
                (
                    a
                    for a in self.store.rows("artifacts")
                    if a.get("visibility") == "public" and _share_token(a) == token
                ),
                None,
            )
            if artifact is None:
                raise NotFound.of("Artifact")
            worker = self.store.get("workers", artifact.get("workerId"))
            task = self.store.get("tasks", (worker or {}).get("taskId") or artifact.get("taskId"))
            return self._out(
                {
                    "artifact": {
                        f: artifact.get(f) for f in ("id", "type", "title", "content", "metadata", "createdAt")
                    },
                    "task": {"title": task["title"], "status": task["status"]} if task is not None else None,
                }
            )
