"""The bounded log behind `GET /__mock/requests`, and the ASGI front that fills it and injects faults.

`Front` wraps the whole Litestar router, so it sees every request, also the ones no route matches: faults are
applied before routing, and each request is logged once it is answered (newest last). The log never holds a
credential: headers and cookies are not recorded, API keys and secret-looking query values are masked.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.faults import Faults, drop_connection

__all__ = ("Front", "RequestLog", "mask")

_KEY = re.compile(r"bld_[0-9a-fA-F]{4,}")
_SECRET_NAME = re.compile(r"key|token|secret|signature|password|auth|session|cookie", re.IGNORECASE)
MASK = "***"

STATE_OPERATION = "mock.operation"
STATE_ACCOUNT = "mock.account"


def mask(query: str) -> str:
    """A query string with every credential replaced: `bld_…` keys and values of secret-looking names."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(name, MASK if _SECRET_NAME.search(name) else _KEY.sub("bld_" + MASK, value)) for name, value in pairs]
    return _KEY.sub("bld_" + MASK, urlencode(masked, safe="*,/:"))


class RequestLog:
    """The last `size` requests, newest last."""

    def __init__(self, size: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def recent(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries)
        return entries[-limit:] if limit else entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Front:
    """ASGI middleware around the router: faults first, then the app, then one log entry."""

    def __init__(self, app: ASGIApp, faults: Faults, log: RequestLog, now_iso: Callable[[], str]) -> None:
        self.app = app
        self.faults = faults
        self.log = log
        self.now_iso = now_iso

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        timestamp = self.now_iso()
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            fault = self.faults.decide(scope["method"], scope["path"])
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.drop:
                    await drop_connection(send)
                    return
                if fault.status is not None:
                    await _answer(recording_send, fault.status, b'{"error":"Injected fault"}')
                    return
            await self.app(scope, receive, recording_send)
        finally:
            state = scope.get("state") or {}
            self.log.record(
                {
                    "timestamp": timestamp,
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": mask(scope.get("query_string", b"").decode("latin-1")),
                    "status": status,
                    "durationMs": round((time.perf_counter() - started) * 1000, 3),
                    "operationId": state.get(STATE_OPERATION),
                    "accountId": state.get(STATE_ACCOUNT),
                }
            )


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
