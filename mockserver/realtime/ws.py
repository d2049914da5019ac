"""The Pusher protocol 7 websocket endpoint ``/app/{key}`` (what pusher-js connects to).

One connection = one :class:`Subscriber`. A reader task answers client frames, a single writer task
drains the subscriber's bounded queue (events *and* control frames, so their order is kept), and a
third waiter notices when the hub dropped the connection (slow consumer, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler
from litestar.params import FromPath

from .config import RealtimeConfig
from .hub import Envelope, EventHub, Subscriber
from .protocol import (
    SUPPORTED_PROTOCOLS,
    CloseCode,
    ProtocolError,
    decode_client_frame,
    encode_error,
    encode_frame,
    is_client_event,
    is_presence,
    is_private,
    is_valid_channel,
    json_compact,
    verify_channel_auth,
)

__all__ = ["CLOSE_TIMEOUT", "handshake_refusal", "pusher_websocket"]

log = logging.getLogger("mockserver.realtime")

# how long to try sending a close frame to a client that may not be reading any more
CLOSE_TIMEOUT = 5.0


def handshake_refusal(key: str, protocol: str | None, config: RealtimeConfig) -> tuple[CloseCode, str] | None:
    """Why a new connection must be refused (code, message), or ``None`` to accept it."""
    if key != config.key:
        return CloseCode.APP_NOT_FOUND, f"App key {key} does not exist; this mock serves key {config.key!r}"
    if protocol is None:
        return CloseCode.NO_PROTOCOL_VERSION, "No protocol version supplied; connect with ?protocol=7"
    if not protocol.isdigit():
        return CloseCode.INVALID_VERSION_FORMAT, f"Invalid protocol version {protocol!r}; connect with ?protocol=7"
    if int(protocol) not in SUPPORTED_PROTOCOLS:
        return CloseCode.UNSUPPORTED_PROTOCOL, f"Unsupported protocol version {protocol}; connect with ?protocol=7"
    return None


class _Connection:
    """The protocol state machine of one accepted socket."""

    def __init__(self, socket: WebSocket, hub: EventHub, sub: Subscriber) -> None:
        self.socket = socket
        self.hub = hub
        self.sub = sub
        self.config = hub.config

    def send(self, frame: str) -> None:
        self.hub.send_to(self.sub, frame)

    def error(self, code: int | None, message: str) -> None:
        self.send(encode_error(code, message))

    async def run(self) -> None:
        self.send(
            encode_frame(
                "pusher:connection_established",
                {"socket_id": self.sub.id, "activity_timeout": self.config.activity_timeout},
            )
        )
        tasks = [
            asyncio.create_task(self._write()),
            asyncio.create_task(self._read()),
            asyncio.create_task(self.sub.wait_closed()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            closed_by_hub = self.sub.closed
            self.hub.disconnect(self.sub)
        if closed_by_hub:
            code = CloseCode.OVER_CAPACITY if self.sub.overflowed else CloseCode.RECONNECT
            await self._close(code, self.sub.close_reason or "")

    async def _close(self, code: int, reason: str) -> None:
        # a slow client may not read the close frame either: bounded wait, then let ASGI drop it
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.socket.close(code=code, reason=reason[:120]), CLOSE_TIMEOUT)

    async def _write(self) -> None:
        while True:
            item = await self.sub.next()
            if item is None:
                return
            await self.socket.send_text(item.wire if isinstance(item, Envelope) else item)

    async def _read(self) -> None:
        while True:
            try:
                text = await self.socket.receive_text()
            except WebSocketDisconnect:
                return
            try:
                self._handle(text)
            except ProtocolError as exc:
                self.error(exc.code, exc.message)
            except Exception:  # a bug must cost one frame, not the connection
                log.exception("realtime: error handling frame %r", text[:200])
                self.error(CloseCode.INVALID_MESSAGE, "internal error handling this frame")

    # ---- frames -----------------------------------------------------------------------------

    def _handle(self, text: str) -> None:
        if len(text.encode("utf-8")) > self.config.max_payload_bytes + 1024:
            raise ProtocolError(CloseCode.INVALID_MESSAGE, f"frame over {self.config.max_payload_bytes} bytes")
        frame = decode_client_frame(text)
        event = frame.event
        if event == "pusher:ping":
            self.send(encode_frame("pusher:pong", {}))
        elif event == "pusher:pong":
            pass
        elif event == "pusher:subscribe":
            self._subscribe(frame.data)
        elif event == "pusher:unsubscribe":
            channel = _field(frame.data, "channel")
            if isinstance(channel, str):
                self.hub.unsubscribe(self.sub, channel)
        elif is_client_event(event):
            self._client_event(event, frame.channel, frame.data)
        elif event.startswith("pusher:"):
            raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{event} is not supported by the buildd mock")
        else:
            raise ProtocolError(
                CloseCode.INVALID_MESSAGE, f"unknown event {event!r}; client events must start with 'client-'"
            )

    def _subscribe(self, data: Any) -> None:
        channel = _field(data, "channel")
        if not is_valid_channel(channel):
            raise ProtocolError(
                CloseCode.INVALID_MESSAGE,
                f"invalid channel name {channel!r}: use [-a-zA-Z0-9_=@,.;], at most 164 characters",
            )
        if is_presence(channel):
            self._refuse_subscription(channel, "presence channels are not emulated (buildd uses public channels)")
            return
        if is_private(channel) and not verify_channel_auth(
            self.config.key, self.config.secret, self.sub.id, channel, _field(data, "auth")
        ):
            self._refuse_subscription(
                channel, f"Invalid signature for {channel}: get 'auth' from POST /pusher/auth for this socket_id"
            )
            return
        self.hub.subscribe(self.sub, channel)
        self.send(encode_frame("pusher_internal:subscription_succeeded", {}, channel))

    def _refuse_subscription(self, channel: str, message: str) -> None:
        # channel-scoped for pusher-js's channel.bind('pusher:subscription_error'), as soketi does,
        # plus the connection-level pusher:error 4009
        self.send(
            encode_frame("pusher:subscription_error", {"type": "AuthError", "error": message, "status": 401}, channel)
        )
        self.error(CloseCode.UNAUTHORIZED, message)

    def _client_event(self, event: str, channel: str | None, data: Any) -> None:
        if channel is None or not is_private(channel):
            raise ProtocolError(CloseCode.UNAUTHORIZED, "Client event rejected - only supported on private channels")
        if channel not in self.sub.channels:
            raise ProtocolError(CloseCode.UNAUTHORIZED, f"Client event rejected - not subscribed to {channel}")
        data_json = data if isinstance(data, str) else json_compact(data)
        envelope = self.hub.emit(channel, event, data_json, exclude_socket_id=self.sub.id)
        if not envelope.accepted:
            raise ProtocolError(
                CloseCode.INVALID_MESSAGE, f"Client event rejected - data over {self.config.max_payload_bytes} bytes"
            )


def _field(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def pusher_websocket(hub: EventHub) -> WebsocketRouteHandler:
    """The ``/app/{key}`` websocket route handler bound to ``hub``."""

    @websocket("/app/{key:str}", name="pusher-websocket")
    async def pusher_socket(socket: WebSocket, key: FromPath[str]) -> None:
        await socket.accept()
        refusal = handshake_refusal(key, socket.query_params.get("protocol"), hub.config)
        if refusal is not None:
            code, message = refusal
            with contextlib.suppress(Exception):
                await socket.send_text(encode_error(code, message))
                await socket.close(code=code, reason=message[:120])
            return
        await _Connection(socket, hub, hub.connect("ws")).run()

    return pusher_socket
