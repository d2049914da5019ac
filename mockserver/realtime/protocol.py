"""Pusher Channels protocol 7 wire format: frames, error/close codes, names and auth signatures.

Pure functions only (no I/O), so both the websocket transport and the HTTP API share one reading
of the protocol. Sources: pusher/pusher-socket-protocol ``protocol.adoc`` and Pusher's
"auth signatures" page.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pusher.signature import sign, verify

__all__ = [
    "MAX_CHANNEL_NAME",
    "MAX_EVENT_NAME",
    "PROTOCOL_VERSION",
    "SUPPORTED_PROTOCOLS",
    "ClientFrame",
    "CloseCode",
    "ProtocolError",
    "decode_client_frame",
    "encode_error",
    "encode_frame",
    "is_client_event",
    "is_encrypted",
    "is_presence",
    "is_private",
    "is_valid_channel",
    "is_valid_socket_id",
    "json_compact",
    "new_socket_id",
    "sign_channel",
    "verify_channel_auth",
]

PROTOCOL_VERSION = 7
# 5..7 share the framing; pusher-js 8 sends 7
SUPPORTED_PROTOCOLS = frozenset({5, 6, 7})
# Pusher's documented limits
MAX_CHANNEL_NAME = 164
MAX_EVENT_NAME = 200

_CHANNEL_RE = re.compile(r"\A[-a-zA-Z0-9_=@,.;]+\Z")
_SOCKET_ID_RE = re.compile(r"\A\d+\.\d+\Z")


class CloseCode(IntEnum):
    """Websocket close codes, also used as ``code`` in ``pusher:error``.

    pusher-js acts on the range: 4000-4099 never reconnect, 4100-4199 back off then reconnect,
    4200-4299 reconnect at once, 4300-4399 other (treated as refused).
    """

    SSL_ONLY = 4000
    APP_NOT_FOUND = 4001  # unknown app key
    APP_DISABLED = 4003
    OVER_QUOTA = 4004
    PATH_NOT_FOUND = 4005
    INVALID_VERSION_FORMAT = 4006  # ?protocol= is not an integer
    UNSUPPORTED_PROTOCOL = 4007  # ?protocol= is not in SUPPORTED_PROTOCOLS
    NO_PROTOCOL_VERSION = 4008  # ?protocol= missing
    UNAUTHORIZED = 4009  # bad private-channel auth, forbidden client event (soketi's use too)
    OVER_CAPACITY = 4100  # slow consumer: its queue filled up; client backs off and reconnects
    RECONNECT = 4200  # server shutting down: reconnect now
    PONG_NOT_RECEIVED = 4201
    CLOSED_AFTER_INACTIVITY = 4202
    # The protocol names no code for a malformed frame; the mock answers with one from the
    # "other errors" range and keeps the connection open.
    INVALID_MESSAGE = 4300
    CLIENT_EVENT_RATE_LIMIT = 4301


class ProtocolError(Exception):
    """A client frame the server refuses; carries the ``pusher:error`` code to answer with."""

    def __init__(self, code: CloseCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """One decoded client -> server frame. ``data`` is parsed when it was a JSON string."""

    event: str
    channel: str | None
    data: Any


def json_compact(value: Any) -> str:
    """The one JSON encoding used on the wire (compact, UTF-8 kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_frame(event: str, data: Any = None, channel: str | None = None) -> str:
    """Encode a server -> client frame.

    ``data`` is always sent as a JSON-encoded **string** (pusher-js parses it back); a ``str`` is
    taken as already encoded, anything else is JSON-encoded here. ``None`` omits the field.
    """
    frame: dict[str, Any] = {"event": event}
    if channel is not None:
        frame["channel"] = channel
    if data is not None:
        frame["data"] = data if isinstance(data, str) else json_compact(data)
    return json_compact(frame)


def encode_error(code: int | None, message: str) -> str:
    """A ``pusher:error`` frame."""
    return encode_frame("pusher:error", {"code": code, "message": message})


def decode_client_frame(text: str | bytes) -> ClientFrame:
    """Decode a client frame, or raise :class:`ProtocolError` saying what is wrong with it."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(CloseCode.INVALID_MESSAGE, "frames must be UTF-8 JSON text") from None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, 'frame is not JSON; send {"event": ..., "data": ..., "channel"?: ...}'
        ) from None
    if not isinstance(raw, dict):
        raise ProtocolError(CloseCode.INVALID_MESSAGE, "frame must be a JSON object with an 'event' field")
    event = raw.get("event")
    if not isinstance(event, str) or not event:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, "frame has no 'event' string")
    if len(event) > MAX_EVENT_NAME:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, f"event name longer than {MAX_EVENT_NAME} characters")
    channel = raw.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise ProtocolError(CloseCode.INVALID_MESSAGE, "'channel' must be a string")
    data = raw.get("data")
    # pusher-js sends objects; other clients send JSON strings: accept both
    if isinstance(data, str) and data[:1] in ("{", "["):
        with contextlib.suppress(ValueError, RecursionError):
            data = json.loads(data)
    return ClientFrame(event=event, channel=channel, data=data)


def is_valid_channel(name: object) -> bool:
    """Pusher channel names: ``[-a-zA-Z0-9_=@,.;]``, at most 164 characters."""
    return isinstance(name, str) and len(name) <= MAX_CHANNEL_NAME and bool(_CHANNEL_RE.match(name))


def is_private(channel: str) -> bool:
    """Private channels (including ``private-encrypted-``) need a signed ``auth`` to subscribe."""
    return channel.startswith("private-")


def is_encrypted(channel: str) -> bool:
    return channel.startswith("private-encrypted-")


def is_presence(channel: str) -> bool:
    return channel.startswith("presence-")


def is_client_event(event: str) -> bool:
    return event.startswith("client-")


def new_socket_id() -> str:
    """A fresh socket id in Pusher's ``<digits>.<digits>`` form."""
    return f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}"


def is_valid_socket_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SOCKET_ID_RE.match(value))


def _string_to_sign(socket_id: str, channel: str, channel_data: str | None) -> str:
    base = f"{socket_id}:{channel}"
    return base if channel_data is None else f"{base}:{channel_data}"


def sign_channel(key: str, secret: str, socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """The ``auth`` value a client sends to subscribe: ``key:hex(HMAC-SHA256(secret, socket_id:channel))``."""
    return f"{key}:{sign(secret, _string_to_sign(socket_id, channel, channel_data))}"


def verify_channel_auth(
    key: str, secret: str, socket_id: str, channel: str, auth: object, channel_data: str | None = None
) -> bool:
    """Check a subscription ``auth`` value (constant-time compare via ``pusher.signature.verify``)."""
    if not isinstance(auth, str):
        return False
    auth_key, sep, signature = auth.partition(":")
    if not sep or auth_key != key:
        return False
    return verify(secret, _string_to_sign(socket_id, channel, channel_data), signature)
