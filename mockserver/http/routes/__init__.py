"""Operation handlers: one small function per `operationId` in openapi.yaml.

The app builds its routes from the spec (path, method, security, request schema) and, for each request,
calls the handler registered here for the operation's id. A handler only translates: it reads the parsed
`Call`, makes one domain call and returns the body (status 200) or `(status, body)`. Rules live in
`mockserver.domain`; a rule found here is a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.domain.auth import Principal

__all__ = ("HANDLERS", "Call", "Reply", "handles", "load_all")

Reply = Any | tuple[int, Any]


@dataclass(slots=True)
class Call:
    """Everything a handler may read; built by the dispatcher after auth and validation passed."""

    operation_id: str
    api: Any  # mockserver.domain.service.Buildd: the state machine of the API
    principal: Principal | None  # None only on public operations
    path: Mapping[str, str]
    query: Mapping[str, str]  # last value wins; repeated keys are in `query_lists`
    body: Any  # parsed JSON, already valid against the operation's request schema (None if no body)
    headers: Mapping[str, str] = field(default_factory=dict)
    query_lists: Mapping[str, list[str]] = field(default_factory=dict)
    raw_body: bytes = b""  # the body as sent (a signature is over these bytes, not the parsed JSON)


Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of `operation_id`; a second registration is a programming error."""

    def register(fn: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise RuntimeError(f"operation {operation_id!r} already has a handler: {HANDLERS[operation_id]!r}")
        HANDLERS[operation_id] = fn
        return fn

    return register


def load_all() -> dict[str, Handler]:
    """Import every handler module once so their `@handles` registrations run; add the generic handler of every
    `x-resource` operation of the spec (`BUILDD_SPEC` or the bundled one) that has no hand-written one."""
    import importlib
    import pkgutil

    from contracts.spec import load_spec

    # every module of this package registers its own handlers: adding an area is adding a file, no list to edit
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")
    from mockserver.http.routes.resources import resource_handlers

    return {**resource_handlers(load_spec(), frozenset(HANDLERS)), **HANDLERS}
