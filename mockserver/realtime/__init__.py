"""Realtime delivery of buildd events: a Pusher-compatible websocket, the Pusher HTTP API, SSE and a log.

The domain layer calls ``hub.publish(channel, event, payload)`` after each state change; everything
here carries those events outward. This package imports neither ``mockserver.domain`` nor
``mockserver.http``.

    hub = EventHub(RealtimeConfig())
    app = Litestar(route_handlers=[..., *realtime_handlers(hub, hub.config, authorize=my_check)])
"""

from __future__ import annotations

from litestar.handlers import BaseRouteHandler

from mockserver.channels import mission_channel, task_channel, worker_channel, workspace_channel

from .config import RealtimeConfig
from .hub import Envelope, EventHub, Subscriber
from .protocol import CloseCode, sign_channel
from .pusher_http import Authorize, allow_all, channel_auth_handler, pusher_http_handlers
from .sse import sse_handlers
from .ws import pusher_websocket

__all__ = [
    "Authorize",
    "CloseCode",
    "Envelope",
    "EventHub",
    "RealtimeConfig",
    "Subscriber",
    "allow_all",
    "mission_channel",
    "realtime_handlers",
    "sign_channel",
    "task_channel",
    "worker_channel",
    "workspace_channel",
]


def realtime_handlers(
    hub: EventHub, config: RealtimeConfig | None = None, *, authorize: Authorize | None = None
) -> list[BaseRouteHandler]:
    """Every realtime route handler, for ``Litestar(route_handlers=...)``.

    ``config`` must be the hub's own (it is, when omitted). ``authorize(request, channel_name)``
    decides who may get a private-channel signature from ``POST /pusher/auth`` (sync or async;
    default: everyone).
    """
    if config is not None and config != hub.config:
        raise ValueError("realtime_handlers: config differs from hub.config; build the hub with this config")
    return [
        pusher_websocket(hub),
        *pusher_http_handlers(hub),
        channel_auth_handler(hub, authorize),
        *sse_handlers(hub),
    ]
