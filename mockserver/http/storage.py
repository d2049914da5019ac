"""The mock's object store: what the upload URLs of `createArtifactUploadUrl` / `createAttachmentUploads` point at.

Real buildd hands out presigned object-storage URLs; the mock is its own store, so a client's upload and download
code runs unchanged against it. Raw bytes, not JSON, so these two routes sit beside the spec's operations instead
of going through its dispatcher: `PUT` stores the body of an announced key, `GET` serves it back. The rules (which
keys exist, size limits) are the domain's (`ArtifactStorage`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, route
from litestar.handlers import BaseRouteHandler

from mockserver.domain.areas.ops_storage import STORAGE_PREFIX, ArtifactStorage
from mockserver.domain.errors import DomainError
from mockserver.http.context import MockContext

__all__ = ("storage_handlers",)


def storage_handlers(ctx: MockContext) -> list[BaseRouteHandler]:
    async def endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
        storage = ctx.api.area(ArtifactStorage)
        storage_key = str(request.path_params["key"]).lstrip("/")
        try:
            if request.method == "PUT":
                storage.put_object(storage_key, await request.body(), request.headers.get("content-type"))
                return Response(None, status_code=200)
            found = storage.get_object(storage_key)
        except DomainError as exc:
            return Response(exc.body(), status_code=exc.status)
        headers = {"Content-Disposition": f'inline; filename="{found.filename}"'}
        return Response(found.content, status_code=200, media_type=found.content_type, headers=headers)

    return [
        route(
            STORAGE_PREFIX + "{key:path}",
            http_method=["GET", "PUT"],
            name="mock-storage",
            include_in_schema=False,
        )(endpoint)
    ]
