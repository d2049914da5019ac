"""Every error the mock answers, as `{"error": ...}`: the one place that maps exceptions to responses.

    DomainError (mockserver.domain.errors)  -> its `status` and `body()`
    RequestRejected (this module)           -> HTTP-level rules: 400 validation, 413, 415 (raised by validation)
    HTTPException (Litestar)                -> {"error": detail}, keeping `exc.headers`
      ├── NotFoundException (route miss)    -> 404 {"error": "Not found"}
      └── MethodNotAllowedException         -> 405 {"error": "Method not allowed"} + Allow
    Exception                               -> 500 {"error": "Internal server error"}, logged with the traceback

A 500 is always a bug of the mock: no test may see one.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from mockserver.domain.errors import DomainError

__all__ = ("EXCEPTION_HANDLERS", "RequestRejected", "domain_error_response", "error_response")

log = logging.getLogger("mockserver.http")

MAX_MESSAGE = 500  # a schema message quotes the instance; keep error bodies small


class RequestRejected(Exception):
    """The HTTP layer refuses a request before any handler runs (bad parameter, body, media type, size)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response({"error": message}, status_code=status, headers=headers)


def domain_error_response(exc: DomainError | RequestRejected) -> Response[Any]:
    return Response(exc.body(), status_code=exc.status)


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        return error_response(404, "Not found", exc.headers)
    if isinstance(exc, MethodNotAllowedException):
        return error_response(405, "Method not allowed", exc.headers)  # headers carry Allow (toolchain P4)
    status = 400 if isinstance(exc, ValidationException) else exc.status_code
    return error_response(status, str(exc.detail), exc.headers)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return domain_error_response(exc)


def _request_rejected(_: Request[Any, Any, Any], exc: RequestRejected) -> Response[Any]:
    return domain_error_response(exc)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("500 on %s %s: a bug in the mock", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: _domain_error,
    RequestRejected: _request_rejected,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
