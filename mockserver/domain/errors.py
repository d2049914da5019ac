"""Errors the buildd rules raise; the HTTP layer turns each into its documented status and body.

    DomainError                      every error carries `status` and a JSON body with at least "error"
    ├── BadRequest          400      validation and state preconditions ("Title is required")
    ├── Unauthorized        401      no usable credential: {"error": "Unauthorized"}
    ├── Forbidden           403      another account's worker, trigger keys claiming, missing canCreate
    ├── NotFound            404      "<X> not found": missing, or outside the caller's teams
    ├── Conflict            409      terminal worker updates ({"abort": true, ...}), active-worker task changes
    ├── Unprocessable       422      task start gates ({"gateReason": ...})
    ├── PreconditionPending 428      device login not yet approved ({"error": "authorization_pending"})
    └── LimitExceeded       429      worker / cost / session limits ({"limit": N, "current": N})

No module here knows about HTTP: the status numbers are the contract's, not a framework's.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "BadRequest",
    "Conflict",
    "DomainError",
    "Forbidden",
    "LimitExceeded",
    "NotFound",
    "PreconditionPending",
    "Unauthorized",
    "Unprocessable",
)


class DomainError(Exception):
    """Base of every rule violation; `body()` is exactly what the client receives."""

    status: int = 400
    default_message: str = "Bad request"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, extra={self.extra!r})"


class BadRequest(DomainError):
    status = 400
    default_message = "Bad request"


class Unauthorized(DomainError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    default_message = "Forbidden"


class NotFound(DomainError):
    status = 404
    default_message = "Not found"

    @classmethod
    def of(cls, kind: str) -> NotFound:
        """`NotFound.of("Task")` -> {"error": "Task not found"}, the patterns note's wording."""
        return cls(f"{kind} not found")


class Conflict(DomainError):
    status = 409
    default_message = "Conflict"


class Unprocessable(DomainError):
    status = 422
    default_message = "Unprocessable"


class PreconditionPending(DomainError):
    status = 428
    default_message = "authorization_pending"


class LimitExceeded(DomainError):
    status = 429
    default_message = "Limit exceeded"

    def __init__(self, message: str, *, limit: Any, current: Any, **extra: Any) -> None:
        super().__init__(message, limit=limit, current=current, **extra)
