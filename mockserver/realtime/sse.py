"""Server-sent events and the JSON event log, for tools that do not speak Pusher.

``GET /__mock/events/stream`` streams live events (resumable with ``Last-Event-ID`` from the
bounded log); ``GET /__mock/events?since=`` pages through the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from .errors import EXCEPTION_HANDLERS, error_response
from .hub import Envelope, EventHub
from .protocol import is_valid_channel, json_compact

__all__ = ["DEFAULT_KEEPALIVE", "DEFAULT_LIMIT", "MAX_LIMIT", "parse_channels", "sse_handlers"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_KEEPALIVE = 15.0  # seconds between ": keepalive" comments on an idle stream
_REPLAY_PAGE = 500


class _BadQuery(ValueError):
    pass


def parse_channels(request: Request[Any, Any, Any]) -> list[str]:
    """``?channel=a&channel=b`` or ``?channel=a,b``; empty means every channel."""
    names = [part.strip() for value in request.query_params.getall("channel", []) for part in value.split(",")]
    names = [name for name in names if name]
    for name in names:
        if not is_valid_channel(name):
            raise _BadQuery(f"Invalid channel name {name!r}: use [-a-zA-Z0-9_=@,.;], at most 164 characters")
    return names


def _int_param(raw: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadQuery(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        raise _BadQuery(f"{name} must be between {low} and {high}" if high else f"{name} must be >= {low}")
    return value


def _keepalive(raw: str | None) -> float:
    if not raw:
        return DEFAULT_KEEPALIVE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 300:  # also refuses nan/inf
        raise _BadQuery(f"keepalive must be a number of seconds between 0.1 and 300, got {raw!r}")
    return value


def _message(envelope: Envelope) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=json_compact(envelope.to_json()), event=envelope.event, id=envelope.cursor)


def sse_handlers(hub: EventHub) -> list[HTTPRouteHandler]:
    """The SSE stream and JSON log routes bound to ``hub``."""
    common: dict[str, Any] = {"exception_handlers": EXCEPTION_HANDLERS, "include_in_schema": False}

    async def stream(
        wanted: set[str] | None, resume_after: int | None, keepalive: float
    ) -> AsyncIterator[ServerSentEventMessage]:
        # Subscribed inside the generator so ``finally`` always unsubscribes; the first comment
        # tells clients the subscription is live (nothing published after it is missed).
        sub = hub.connect("sse")
        try:
            if wanted is None:
                hub.subscribe_all(sub)
            else:
                for channel in wanted:
                    hub.subscribe(sub, channel)
            yield ServerSentEventMessage(data=None, comment="subscribed", retry=1000)
            last = hub.cursor if resume_after is None else resume_after
            # replay from the log first; live items duplicated by the replay are skipped by cursor
            while resume_after is not None:
                page, _ = hub.events_since(last, wanted, limit=_REPLAY_PAGE)
                for envelope in page:
                    yield _message(envelope)
                    last = envelope.cursor
                if len(page) < _REPLAY_PAGE:
                    break
            while True:
                try:
                    item = await asyncio.wait_for(sub.next(), keepalive)
                except TimeoutError:
                    yield ServerSentEventMessage(data=None, comment="keepalive")
                    continue
                if item is None:  # dropped as a slow consumer or server shutdown: client resumes
                    return
                if isinstance(item, Envelope) and item.cursor > last:
                    yield _message(item)
                    last = item.cursor
        finally:
            hub.disconnect(sub)

    @get("/__mock/events/stream", name="mock-events-stream", **common)
    async def events_stream(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            names = parse_channels(request)
            raw_resume = request.headers.get("last-event-id") or request.query_params.get("since")
            resume_after = None if raw_resume in (None, "") else _int_param(raw_resume, "Last-Event-ID/since", 0, 0)
            keepalive = _keepalive(request.query_params.get("keepalive"))
        except ValueError as exc:
            return error_response(400, str(exc))
        wanted = hub.channel_filter(names) if names else None
        return ServerSentEvent(stream(wanted, resume_after, keepalive))

    @get("/__mock/events", name="mock-events-log", **common)
    async def events_log(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            names = parse_channels(request)
            since = _int_param(request.query_params.get("since"), "since", 0, 0)
            limit = _int_param(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        except ValueError as exc:
            return error_response(400, str(exc))
        events, next_cursor = hub.events_since(since, hub.channel_filter(names) if names else None, limit)
        return Response({"events": [e.to_json() for e in events], "next": next_cursor})

    return [events_stream, events_log]
