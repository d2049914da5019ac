"""`create_app`: the Litestar app of the mock, derived from openapi.yaml.

For each path of the spec there is **one** route carrying all of the path's methods (so Litestar's OPTIONS and
405 answers list the right `Allow`; toolchain P5), with every path parameter typed `str` (so a malformed id
reaches validation and gets a 400 instead of a route miss). A request is handled by its operation's `Plan`
(see dispatch.py). The realtime package adds the Pusher websocket and HTTP API and `/__mock/events[/stream]`;
the app also serves the spec itself at `GET /openapi.yaml`. Litestar's own schema generation is off.

    app = create_app(MockSettings(strict=True))
    app.state.mock        # the MockContext: api, hub, clock, faults, request log
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar import Litestar, Request, Response, get, route
from litestar.datastructures import State
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import BaseRouteHandler

from contracts.spec import Spec, load_spec
from mockserver.http.console import console_handlers
from mockserver.http.context import MockContext
from mockserver.http.control import control_handlers
from mockserver.http.dispatch import Plan
from mockserver.http.docs import docs_handlers
from mockserver.http.errors import EXCEPTION_HANDLERS
from mockserver.http.misses import ExistingPaths
from mockserver.http.requestlog import Front
from mockserver.http.routes import Handler, load_all
from mockserver.http.storage import storage_handlers
from mockserver.mcp import mcp_handlers
from mockserver.realtime import realtime_handlers
from mockserver.settings import MockSettings

__all__ = ("create_app",)

CONTROL_PREFIX = "/__mock"
_PARAM = re.compile(r"\{([^}:]+)\}")


def create_app(settings: MockSettings | None = None, *, world: Mapping[str, Any] | None = None) -> Litestar:
    """The mock as an ASGI app. `world` replaces the scenario's fixture world (tests)."""
    settings = settings or MockSettings()
    spec = load_spec()
    ctx = MockContext(settings, spec, world)

    realtime = [
        handler
        for handler in realtime_handlers(ctx.hub, ctx.hub.config)
        if settings.control_api or not any(p.startswith(CONTROL_PREFIX) for p in handler.paths)
    ]
    realtime += mcp_handlers(ctx)  # /api/mcp[/registry]: an ASGI mount, not a spec Plan
    realtime += storage_handlers(ctx)  # /mock-storage/*: the object store behind the upload URLs (raw bytes)
    served_elsewhere = {path for handler in realtime for path in handler.paths} | {"/api/mcp/registry"}
    handlers: dict[str, Handler] = {**load_all(), **(control_handlers(ctx) if settings.control_api else {})}

    @get("/openapi.yaml", media_type="application/yaml", include_in_schema=False, sync_to_thread=False)
    def openapi_yaml() -> bytes:
        return spec.text

    existing = ExistingPaths(spec)
    route_handlers: list[BaseRouteHandler] = [
        openapi_yaml,
        *docs_handlers(spec),
        *realtime,
        *_spec_routes(spec, ctx, handlers, served_elsewhere),
    ]
    if settings.control_api:
        route_handlers += console_handlers(spec)
    app = Litestar(
        route_handlers=route_handlers,
        # a 405 only where the path exists (else 404), like the real server's route table
        exception_handlers={**EXCEPTION_HANDLERS, MethodNotAllowedException: existing.method_not_allowed},
        openapi_config=None,
        logging_config=None,  # an app built in a test must not reconfigure the process's logging
        state=State({"mock": ctx}),
        on_shutdown=[lambda: ctx.hub.close_all()],
        request_max_body_size=settings.max_body_bytes,
    )
    existing.add_routes(route.path for route in app.routes)
    _mounts_match_whole_segments(app)
    # in front of the router (so also for route misses): fault injection and the request log
    app.asgi_handler = Front(app.asgi_handler, ctx.faults, ctx.requests, ctx.clock.iso)
    return app


def _mounts_match_whole_segments(app: Litestar) -> None:
    """Litestar matches a mount path as a bare prefix, so the `/api/mcp` mount would swallow `/api/mcp-oauth/...`;
    make each mount match only itself and what lies below it."""
    router = app.asgi_router
    mounts = sorted(set(router._mount_routes))
    if mounts:
        router._mount_paths_regex = re.compile("|".join(f"{re.escape(path)}(?=/|$)" for path in mounts))


def _spec_routes(
    spec: Spec, ctx: MockContext, handlers: Mapping[str, Handler], skip: set[str]
) -> list[BaseRouteHandler]:
    by_path: dict[str, dict[str, Plan]] = {}
    missing: list[str] = []
    for op in spec.operations.values():
        if op.path in skip or (op.is_mock_only and not ctx.settings.control_api):
            continue
        handler = handlers.get(op.operation_id)
        if handler is None:
            missing.append(op.operation_id)
            continue
        by_path.setdefault(op.path, {})[op.method] = Plan.build(spec, op, handler)
    if missing:
        raise RuntimeError(f"no handler for operation(s) {', '.join(sorted(missing))}: register them with @handles")
    return [_path_route(path, plans, ctx) for path, plans in by_path.items()]


def _path_route(path: str, plans: dict[str, Plan], ctx: MockContext) -> BaseRouteHandler:
    async def endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
        return await plans[request.method].run(request, ctx)

    return route(
        _PARAM.sub(r"{\1:str}", path),
        http_method=sorted(plans),
        status_code=200,  # a DELETE would default to 204, which forbids a body; each Response sets its own
        name=path,
        include_in_schema=False,
    )(endpoint)
