"""The Pusher HTTP API (signed) and the private-channel auth endpoint.

``POST /apps/{app_id}/events``, ``POST /apps/{app_id}/batch_events``, ``GET /apps/{app_id}/channels``
and ``GET /apps/{app_id}/channels/{channel}`` accept exactly what the official server SDKs send
(``pusher.Pusher(..., host=, port=, ssl=False)``). ``POST /pusher/auth`` signs private-channel
subscriptions for pusher-js's ``channelAuthorization.endpoint``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from pusher.signature import verify

from .config import RealtimeConfig
from .errors import EXCEPTION_HANDLERS, error_response
from .hub import EventHub
from .protocol import (
    MAX_EVENT_NAME,
    is_encrypted,
    is_presence,
    is_private,
    is_valid_channel,
    is_valid_socket_id,
    sign_channel,
)

__all__ = [
    "MAX_BATCH",
    "MAX_CHANNELS_PER_EVENT",
    "MAX_TIMESTAMP_SKEW",
    "Authorize",
    "allow_all",
    "channel_auth_handler",
    "pusher_http_handlers",
    "verify_signed_request",
]

# Pusher's documented limits
MAX_TIMESTAMP_SKEW = 600  # seconds either side of auth_timestamp
MAX_BATCH = 10
MAX_CHANNELS_PER_EVENT = 100

Authorize = Callable[[Request[Any, Any, Any], str], "bool | Awaitable[bool]"]


def allow_all(_request: Request[Any, Any, Any], _channel: str) -> bool:
    """Default ``authorize``: any caller may subscribe to any private channel."""
    return True


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def verify_signed_request(
    method: str,
    path: str,
    params: Mapping[str, str],
    body: bytes,
    config: RealtimeConfig,
    now: float | None = None,
) -> str | None:
    """Check Pusher HTTP API auth (``auth_version=1.0``); return why it fails, or ``None`` if valid.

    Signed string: ``"METHOD\\n/path\\n" + "&".join(f"{k}={v}")`` over the query parameters except
    ``auth_signature``, keys lower-cased and sorted, values not URL-escaped.
    """
    missing = [p for p in ("auth_key", "auth_timestamp", "auth_version", "auth_signature") if p not in params]
    if missing:
        return f"Missing {', '.join(missing)}: sign the request as the Pusher HTTP API requires"
    if params["auth_key"] != config.key:
        return f"Unknown auth_key {params['auth_key']!r}"
    if params["auth_version"] != "1.0":
        return f"Unsupported auth_version {params['auth_version']!r}; use 1.0"
    try:
        timestamp = int(params["auth_timestamp"])
    except ValueError:
        return "auth_timestamp must be an integer (seconds since the epoch)"
    now = time.time() if now is None else now
    if abs(now - timestamp) > MAX_TIMESTAMP_SKEW:
        return (
            f"Timestamp expired: {timestamp} is {abs(now - timestamp):.0f} s from the server time "
            f"(allowed {MAX_TIMESTAMP_SKEW} s); check the client clock"
        )
    body_md5 = hashlib.md5(body).hexdigest()
    if body and params.get("body_md5") is None:
        return "Missing body_md5 for a request with a body"
    if "body_md5" in params and params["body_md5"] != body_md5:
        return "body_md5 does not match the request body"
    query = "&".join(
        f"{k}={v}" for k, v in sorted((k.lower(), v) for k, v in params.items() if k.lower() != "auth_signature")
    )
    if not verify(config.secret, f"{method}\n{path}\n{query}", params["auth_signature"]):
        return (
            "Invalid signature: expected hex HMAC-SHA256, keyed with the app secret, of "
            "'METHOD\\n/path\\n<sorted query without auth_signature>'"
        )
    return None


async def _signed_body(request: Request[Any, Any, Any], app_id: str, config: RealtimeConfig) -> bytes:
    """Common gate of every HTTP API route: right app (404), valid signature (401)."""
    if app_id != config.app_id:
        raise _BadRequest(f"Unknown app id {app_id!r}; this mock serves app id {config.app_id!r}", 404)
    body = await request.body()
    params = dict(request.query_params.items())
    problem = verify_signed_request(request.method, request.scope["path"], params, body, config)
    if problem:
        raise _BadRequest(problem, 401)
    return body


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise _BadRequest("Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise _BadRequest("Request body must be a JSON object")
    return value


def _event_fields(
    item: Mapping[str, Any], *, many_channels: bool, config: RealtimeConfig
) -> tuple[str, list[str], str, str | None]:
    """Validate one event (``/events`` body or a ``batch`` entry); return name, channels, data, socket_id."""
    name = item.get("name")
    if not isinstance(name, str) or not name or len(name) > MAX_EVENT_NAME:
        raise _BadRequest(f"'name' must be a string of 1..{MAX_EVENT_NAME} characters")
    if many_channels and "channels" in item:
        channels = item["channels"]
        if not isinstance(channels, list) or not channels or len(channels) > MAX_CHANNELS_PER_EVENT:
            raise _BadRequest(f"'channels' must be a list of 1..{MAX_CHANNELS_PER_EVENT} channel names")
    elif "channel" in item:
        channels = [item["channel"]]
    else:
        raise _BadRequest("Missing 'channels' (list) or 'channel' (string)" if many_channels else "Missing 'channel'")
    for channel in channels:
        if not is_valid_channel(channel):
            raise _BadRequest(f"Invalid channel name {channel!r}: use [-a-zA-Z0-9_=@,.;], at most 164 characters")
    data = item.get("data")
    if not isinstance(data, str):
        raise _BadRequest("'data' must be a string: JSON-encode the payload first")
    size = len(data.encode("utf-8"))
    if size > config.max_payload_bytes:
        raise _BadRequest(f"'data' is {size} bytes; the limit is {config.max_payload_bytes}", 413)
    socket_id = item.get("socket_id")
    if socket_id is not None and not is_valid_socket_id(socket_id):
        raise _BadRequest(f"Invalid socket_id {socket_id!r}: expected <digits>.<digits>")
    return name, channels, data, socket_id


def pusher_http_handlers(hub: EventHub) -> list[HTTPRouteHandler]:
    """The Pusher HTTP API routes bound to ``hub``."""
    config = hub.config
    common: dict[str, Any] = {"exception_handlers": EXCEPTION_HANDLERS, "include_in_schema": False}

    @post("/apps/{app_id:str}/events", status_code=200, name="pusher-trigger", **common)
    async def trigger(request: Request[Any, Any, Any], app_id: FromPath[str]) -> Response[Any]:
        try:
            body = _json_object(await _signed_body(request, app_id, config))
            name, channels, data, socket_id = _event_fields(body, many_channels=True, config=config)
        except _BadRequest as exc:
            return error_response(exc.status, str(exc))
        for channel in channels:
            hub.emit(channel, name, data, exclude_socket_id=socket_id)
        return Response({})

    @post("/apps/{app_id:str}/batch_events", status_code=200, name="pusher-trigger-batch", **common)
    async def trigger_batch(request: Request[Any, Any, Any], app_id: FromPath[str]) -> Response[Any]:
        try:
            body = _json_object(await _signed_body(request, app_id, config))
            batch = body.get("batch")
            if not isinstance(batch, list) or not batch or len(batch) > MAX_BATCH:
                raise _BadRequest(f"'batch' must be a list of 1..{MAX_BATCH} events")
            events = []
            for index, item in enumerate(batch):
                if not isinstance(item, dict):
                    raise _BadRequest(f"batch[{index}] must be an object")
                try:
                    events.append(_event_fields(item, many_channels=False, config=config))
                except _BadRequest as exc:
                    raise _BadRequest(f"batch[{index}]: {exc}", exc.status) from None
        except _BadRequest as exc:
            return error_response(exc.status, str(exc))
        for name, channels, data, socket_id in events:  # all validated first: all or nothing
            hub.emit(channels[0], name, data, exclude_socket_id=socket_id)
        return Response({})

    def _info(request: Request[Any, Any, Any]) -> set[str]:
        info = {part for part in (request.query_params.get("info") or "").split(",") if part}
        unsupported = info - {"subscription_count"}
        if unsupported:
            raise _BadRequest(f"Unsupported info attribute(s) {sorted(unsupported)}; the mock has subscription_count")
        return info

    @get("/apps/{app_id:str}/channels", name="pusher-channels", **common)
    async def channels(request: Request[Any, Any, Any], app_id: FromPath[str]) -> Response[Any]:
        try:
            await _signed_body(request, app_id, config)
            info = _info(request)
        except _BadRequest as exc:
            return error_response(exc.status, str(exc))
        prefix = request.query_params.get("filter_by_prefix") or ""
        listing = {
            name: ({"subscription_count": count} if info else {})
            for name, count in sorted(hub.occupied_channels().items())
            if name.startswith(prefix)
        }
        return Response({"channels": listing})

    @get("/apps/{app_id:str}/channels/{channel_name:str}", name="pusher-channel", **common)
    async def channel(
        request: Request[Any, Any, Any], app_id: FromPath[str], channel_name: FromPath[str]
    ) -> Response[Any]:
        try:
            await _signed_body(request, app_id, config)
            info = _info(request)
            if not is_valid_channel(channel_name):
                raise _BadRequest(f"Invalid channel name {channel_name!r}")
        except _BadRequest as exc:
            return error_response(exc.status, str(exc))
        count = hub.occupied_channels().get(channel_name, 0)
        body: dict[str, Any] = {"occupied": count > 0}
        if info:
            body["subscription_count"] = count
        return Response(body)

    return [trigger, trigger_batch, channels, channel]


async def _auth_params(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            value = json.loads(body or b"{}")
        except (ValueError, RecursionError):  # nesting deep enough to exhaust the parser is malformed too
            raise _BadRequest("Request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise _BadRequest("Request body must be a JSON object")
        return value
    # pusher-js posts application/x-www-form-urlencoded
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def channel_auth_handler(hub: EventHub, authorize: Authorize | None = None) -> HTTPRouteHandler:
    """``POST /pusher/auth``: ``{"auth": "key:signature"}`` for a private channel, if ``authorize`` allows."""
    config = hub.config
    check = authorize or allow_all

    @post(
        "/pusher/auth",
        status_code=200,
        name="pusher-auth",
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    async def pusher_auth(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            params = await _auth_params(request)
            socket_id, channel = params.get("socket_id"), params.get("channel_name")
            if not is_valid_socket_id(socket_id):
                raise _BadRequest(f"Invalid or missing socket_id {socket_id!r}: expected <digits>.<digits>")
            if not is_valid_channel(channel):
                raise _BadRequest(f"Invalid or missing channel_name {channel!r}")
            if is_presence(channel) or is_encrypted(channel):
                raise _BadRequest(f"{channel}: presence and encrypted channels are not emulated; use private-…")
            if not is_private(channel):
                raise _BadRequest(f"{channel} is public: subscribe without auth (only private-… channels are signed)")
        except _BadRequest as exc:
            return error_response(exc.status, str(exc))
        allowed = check(request, channel)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if not allowed:
            return error_response(403, "Forbidden")
        return Response({"auth": sign_channel(config.key, config.secret, socket_id, channel)})

    return pusher_auth
