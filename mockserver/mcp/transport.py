"""`/api/mcp` mounted in the Litestar app: auth, the per-request MCP server over Streamable HTTP, GET/DELETE and
`/api/mcp/registry`.

As the real route: stateless (a fresh server and transport per request, no session ids), JSON responses, a Bearer
API key required (401 before any JSON-RPC; the body follows the note, `{"error": "Unauthorized"}`), `GET` answers
405 (no SSE stream on a stateless server). Tool actions reach the state through the mock's own REST routes with
the caller's key (see actions/__init__.py; the three that the real server answers without a route use `_Local`),
in process but through the whole app: like the real server's own fetches,
they are logged in `/__mock/requests`, subject to `/__mock/faults`, strict-checked, and their events published.
A server and its transport live for one request (`manager.run()` around it), so no app lifespan hook is needed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from litestar.datastructures import MultiDict
from litestar.handlers import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from mockserver.domain.areas.know_store import KnowledgeStore
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.errors import DomainError, Unauthorized
from mockserver.http.context import MockContext
from mockserver.http.errors import RequestRejected
from mockserver.http.validation import RequestRules
from mockserver.mcp.actions import ActionContext, ActionInputError, ApiError
from mockserver.mcp.server import build_server

__all__ = ("MCP_OPERATIONS", "MCP_PATH", "mcp_handlers")

MCP_PATH = "/api/mcp"
# the spec operations this mount serves (no `@handles` handler: the MCP SDK speaks for them)
MCP_OPERATIONS = frozenset({"mcpRequest", "mcpStream", "mcpEndSession", "listMcpRegistry"})
INTERNAL_BASE = "http://buildd-mock.internal"
SSE_REFUSED = "SSE not supported on stateless server"


def mcp_handlers(ctx: MockContext) -> list[ASGIRouteHandler]:
    """The mount; keys are checked against the mock's store, query parameters against the spec's operations."""
    mcp_query = RequestRules.build(ctx.spec, ctx.spec.operations["mcpRequest"])
    registry_query = RequestRules.build(ctx.spec, ctx.spec.operations["listMcpRegistry"])

    @asgi(MCP_PATH, is_mount=True, copy_scope=True)
    async def mcp_mount(scope: Scope, receive: Receive, send: Send) -> None:
        sub = scope.get("path", "/").rstrip("/")
        if sub.endswith("/registry"):
            try:
                await _registry(scope, send, registry_query)
            except RequestRejected as exc:
                await _json(send, exc.status, exc.body())
            return
        if sub not in ("", MCP_PATH):
            await _json(send, 404, {"error": "Not found"})
            return
        method = scope["method"]
        if method == "GET":
            await _json(send, 405, {"error": SSE_REFUSED}, allow=b"POST, DELETE")
            return
        if method not in ("POST", "DELETE"):
            await _json(send, 405, {"error": "Method not allowed"}, allow=b"GET, POST, DELETE")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        authorization = headers.get("authorization")
        try:
            principal = authenticate(ctx.api.store, authorization=authorization, session_token=None, accept={"apiKey"})
        except Unauthorized:
            await _json(send, 401, {"error": "Unauthorized"})
            return
        try:
            query, _ = mcp_query.query(_query(scope))
            if method == "POST":  # the JSON-RPC envelope checked against the spec: the note's 400/413/415
                receive = await _checked_body(scope, receive, mcp_query, ctx.settings.max_body_bytes)
        except RequestRejected as exc:
            await _json(send, exc.status, exc.body())
            return
        caller = ActionContext(
            level=principal.level or "worker",
            workspace_id=query.get("workspace"),
            worker_id=query.get("worker"),
            local=_Local(ctx, principal),
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=scope["app"]), base_url=INTERNAL_BASE) as http:
            manager = StreamableHTTPSessionManager(
                build_server(_rest(http, str(authorization)), caller), json_response=True, stateless=True
            )
            async with manager.run():
                await manager.handle_request({**scope, "path": "/", "root_path": ""}, receive, _note_errors(send))

    return [mcp_mount]


KNOWLEDGE_OPERATIONS = frozenset({"spec_compare", "find_duplicates", "find_decayed", "archive", "recall", "archived"})


class _Local:
    """The actions' `Local` port: what the real tool reads without a REST route, for this caller. The template
    catalogue is the app's spec's `x-artifact-templates`; the knowledge operations are the domain's
    `KnowledgeStore`, called with the caller's principal. A domain 400 is a param error (the real tool's plain
    `Error: <message>`), any other refusal the REST-shaped `ApiError`."""

    def __init__(self, ctx: MockContext, principal: Principal) -> None:
        self._ctx = ctx
        self._principal = principal

    def artifact_templates(self) -> Mapping[str, Any]:
        templates = self._ctx.spec.raw.get("x-artifact-templates") or {}
        return templates if isinstance(templates, Mapping) else {}

    def knowledge(self, operation: str, workspace_id: str | None, **args: Any) -> Any:
        if operation not in KNOWLEDGE_OPERATIONS:
            raise ValueError(f"unknown knowledge operation {operation}")
        run = getattr(self._ctx.api.area(KnowledgeStore), operation)
        try:
            return run(self._principal, workspace_id, **args)
        except DomainError as exc:
            if exc.status == 400:
                raise ActionInputError(exc.message) from exc
            raise ApiError(exc.status, exc.body()) from exc


def _rest(http: httpx.AsyncClient, authorization: str) -> Any:
    async def call(method: str, path: str, *, query: Mapping[str, str] | None = None, body: Any = None) -> Any:
        response = await http.request(
            method,
            path,
            params=dict(query or {}),
            headers={"authorization": authorization},
            **({"json": body} if body is not None else {}),
        )
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = {"error": response.text}
        if response.status_code >= 400:
            raise ApiError(response.status_code, payload)
        return payload

    return call


def _note_errors(send: Send) -> Send:
    """The SDK answers a transport-level refusal (not JSON-RPC, DELETE without sessions, ...) with a JSON-RPC error
    envelope; the note wants every 4xx body to be `{"error": "<message>"}`, so such a body is rewritten to that
    (the JSON-RPC `code` kept beside it). 2xx answers pass untouched. See docs/deviations.md."""
    start: dict[str, Any] | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Any) -> None:
        nonlocal start
        if message["type"] == "http.response.start" and message["status"] >= 400:
            start = dict(message)
            return
        if start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        raw = b"".join(chunks)
        try:
            envelope = json.loads(raw) if raw else {}
        except ValueError:
            envelope = {"error": {"message": raw.decode("utf-8", "replace")}}
        error = envelope.get("error") if isinstance(envelope, dict) else None
        body: dict[str, Any] = (
            {"error": str(error.get("message") or "Bad request"), "code": error.get("code")}
            if isinstance(error, dict)
            else {"error": raw.decode("utf-8", "replace") or "Bad request"}
        )
        payload = json.dumps(body).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return wrapped


async def _checked_body(scope: Scope, receive: Receive, rules: RequestRules, limit: int) -> Receive:
    """Read the body (at most `limit` bytes), validate it, and hand the SDK a `receive` that replays it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise rules.too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1") or None
    rules.body(raw, content_type)
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay


def _query(scope: Scope) -> MultiDict[str]:
    return MultiDict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


async def _registry(scope: Scope, send: Send, rules: RequestRules) -> None:
    """GET /api/mcp/registry: the real route proxies the public MCP registry; the mock has no network, so it
    answers a deterministic empty page in the registry's shape (`servers`, `metadata`)."""
    if scope["method"] != "GET":
        await _json(send, 405, {"error": "Method not allowed"}, allow=b"GET")
        return
    query, _ = rules.query(_query(scope))
    limit = min(int(query.get("limit") or 20), 50)
    await _json(send, 200, {"servers": [], "metadata": {"count": 0, "limit": limit}})


async def _json(send: Send, status: int, body: Any, allow: bytes | None = None) -> None:
    await _raw(send, status, json.dumps(body).encode(), b"application/json", allow)


async def _raw(send: Send, status: int, body: bytes, content_type: bytes, allow: bytes | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if allow:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
