"""One request of one operation, end to end: auth -> validation -> Prefer -> handler -> events -> strict check.

`Plan.build` compiles an operation's rules once at startup (accepted schemes, `RequestRules`, `ResponseRules`,
`Preferences`, the handler), so `Plan.run` does no spec lookups. The order is the contract's:

1. authentication from the operation's `security` (key first, then session; public operations skip it), so a
   401 comes before any 400;
2. path and query parameters, then the body (415, 413, malformed JSON, schema): `RequestRejected`;
3. `Prefer` (only now, so it never overrides a 401 or 400), answering without touching state;
4. the handler (`HANDLERS[operationId]`, or a control handler) with a `Call`; a `DomainError` is its answer;
5. the domain outbox drained into the realtime hub;
6. in strict mode, the answer and the events checked against the spec (a violation becomes a loud 500).

Handlers return a body (status 200), `(status, body)` or `(status, body, headers)`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from contracts.spec import Operation, Spec
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.errors import DomainError
from mockserver.http.context import MockContext
from mockserver.http.errors import RequestRejected
from mockserver.http.prefer import Forced, Passthrough, Preferences, Refused
from mockserver.http.requestlog import STATE_ACCOUNT, STATE_OPERATION
from mockserver.http.routes import Call, Handler, Page
from mockserver.http.strict import ResponseRules
from mockserver.http.validation import RequestRules

__all__ = ("Plan",)

log = logging.getLogger("mockserver.strict")


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one operation needs at request time, compiled from the spec at startup."""

    op: Operation
    accept: frozenset[str]
    request: RequestRules
    responses: ResponseRules
    prefer: Preferences
    handler: Handler

    @classmethod
    def build(cls, spec: Spec, op: Operation, handler: Handler) -> Plan:
        return cls(
            op=op,
            accept=op.schemes,
            request=RequestRules.build(spec, op),
            responses=ResponseRules.build(spec, op),
            prefer=Preferences.build(spec, op),
            handler=handler,
        )

    async def run(self, request: Request[Any, Any, Any], ctx: MockContext) -> Response[Any]:
        state = request.scope["state"]
        state[STATE_OPERATION] = self.op.operation_id
        headers: Mapping[str, str] | None = None
        try:
            principal = self._principal(request, ctx)
            if principal is not None:
                state[STATE_ACCOUNT] = principal.account_id
            path = self.request.path(request.path_params)
            query, query_lists = self.request.query(request.query_params)
            raw_body, body = await self._body(request, ctx) if self.request.has_body else (b"", None)
            preference = self.prefer.choose(request.headers.get("prefer"))
            if isinstance(preference, Refused):  # the mock's own answer about its own feature, outside the contract
                return Response({"error": preference.error}, status_code=400)
            if isinstance(preference, Forced):
                status, payload = preference.status, preference.body
                headers = {"Preference-Applied": preference.applied}
            else:
                call = Call(
                    operation_id=self.op.operation_id,
                    api=ctx.api,
                    principal=principal,
                    path=path,
                    query=query,
                    body=body,
                    headers=request.headers,
                    query_lists=query_lists,
                    raw_body=raw_body,
                )
                status, payload, headers = _unpack(self.handler(call))
                if isinstance(preference, Passthrough) and preference.status == status:
                    headers = {**(headers or {}), "Preference-Applied": f"code={status}"}
        except (DomainError, RequestRejected) as exc:
            status, payload = exc.status, exc.body()
        finally:
            problems = ctx.publish_events()
        if ctx.settings.strict:
            problem = self.responses.problem(status, payload)
            if problem is not None or problems:
                return _violation([problem] if problem else problems)
        if isinstance(payload, Page):
            return Response(
                payload.content,
                status_code=status,
                media_type=payload.media_type,
                headers=dict(headers) if headers else None,
            )
        return Response(payload, status_code=status, headers=dict(headers) if headers else None)

    # ------------------------------------------------------------------------------------------------------------

    def _principal(self, request: Request[Any, Any, Any], ctx: MockContext) -> Principal | None:
        if not self.accept:
            return None
        return authenticate(
            ctx.api.store,
            authorization=request.headers.get("authorization"),
            session_token=request.cookies.get(ctx.session_cookie) if "session" in self.accept else None,
            accept=self.accept,
        )

    async def _body(self, request: Request[Any, Any, Any], ctx: MockContext) -> tuple[bytes, Any]:
        limit = ctx.settings.max_body_bytes
        try:
            announced = request.content_length
        except ClientException:  # a malformed Content-Length header
            raise RequestRejected(400, "Invalid Content-Length header") from None
        if announced is not None and announced > limit:
            raise self.request.too_large(limit)
        chunks: list[bytes] = []
        try:
            async for chunk in request.stream():  # the route's request_max_body_size caps the read
                chunks.append(chunk)
        except RequestEntityTooLarge:
            raise self.request.too_large(limit) from None
        raw = b"".join(chunks)
        return raw, self.request.body(raw, request.headers.get("content-type"))


def _unpack(reply: Any) -> tuple[int, Any, Mapping[str, str] | None]:
    if isinstance(reply, tuple):
        if len(reply) == 2:
            return int(reply[0]), reply[1], None
        if len(reply) == 3:
            return int(reply[0]), reply[1], reply[2]
        raise TypeError(f"a handler returned a tuple of {len(reply)} items; expected (status, body[, headers])")
    return 200, reply, None


def _violation(problems: list[str]) -> Response[Any]:
    message = "; ".join(problems)
    log.error("strict: %s", message)
    return Response({"error": f"strict mode: {message}"}, status_code=500)
