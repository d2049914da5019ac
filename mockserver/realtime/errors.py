"""The ``{"error": "..."}`` body every realtime HTTP route answers with on failure."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

__all__ = ["EXCEPTION_HANDLERS", "error_response"]

log = logging.getLogger("mockserver.realtime")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status, headers=headers)


def _http_exception(_: Request, exc: HTTPException) -> Response[dict[str, str]]:
    status = 400 if isinstance(exc, ValidationException) else exc.status_code
    return error_response(status, str(exc.detail), headers=exc.headers)  # keep Allow on 405


def _unexpected(request: Request, exc: Exception) -> Response[dict[str, str]]:
    log.exception("realtime: unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, f"internal error in the realtime mock: {type(exc).__name__}: {exc}")


# handler-level, so the routes keep this contract whatever the app builder registers app-wide
EXCEPTION_HANDLERS = {HTTPException: _http_exception, Exception: _unexpected}
