"""Shared helpers for the realtime tests: a live uvicorn server in a thread, websocket and signing helpers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from litestar import Litestar, post
from litestar.params import JSONBody
from pusher.signature import sign
from websockets.asyncio.client import ClientConnection, connect

from mockserver.realtime import EventHub, RealtimeConfig, realtime_handlers
from mockserver.realtime.pusher_http import Authorize

TIMEOUT = 5.0  # seconds: the bound on every single wait in these tests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    hub: EventHub
    config: RealtimeConfig
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, key: str | None = None, query: str = "protocol=7&client=py&version=1") -> str:
        return f"ws://127.0.0.1:{self.port}/app/{key or self.config.key}" + (f"?{query}" if query else "")

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> int:
        """Publish through the test-only route, i.e. from a sync handler on the server's loop."""
        response = httpx.post(
            f"{self.base_url}/__test/publish", json={"channel": channel, "event": event, "data": data}, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()["cursor"]


def build_app(hub: EventHub, authorize: Authorize | None = None) -> Litestar:
    @post("/__test/publish", sync_to_thread=False, status_code=200)
    def publish(data: JSONBody[dict[str, Any]]) -> dict[str, int]:
        return {"cursor": hub.publish(data["channel"], data["event"], data["data"]).cursor}

    return Litestar(
        route_handlers=[*realtime_handlers(hub, hub.config, authorize=authorize), publish],
        openapi_config=None,
        logging_config=None,
    )


@contextlib.contextmanager
def serve(config: RealtimeConfig | None = None, authorize: Authorize | None = None) -> Iterator[Live]:
    config = config or RealtimeConfig()
    hub = EventHub(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(hub, authorize),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield Live(hub, config, port)
    finally:
        hub.close_all()  # ends SSE streams so uvicorn can stop
        server.should_exit = True
        thread.join(10)


def run(coro: Any) -> Any:
    """Run one async test body with a hard bound."""

    async def bounded() -> Any:
        async with asyncio.timeout(30):
            return await coro

    return asyncio.run(bounded())


async def recv_json(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def open_socket(live: Live, *, rcvbuf: int | None = None, **kwargs: Any) -> tuple[ClientConnection, str]:
    """Connect like pusher-js and return (socket, socket_id) after pusher:connection_established.

    ``rcvbuf`` pins the client's kernel receive buffer (Linux autotunes it up to tcp_rmem's max,
    32 MB here), so a client that stops reading backs up onto the server quickly.
    """
    if rcvbuf is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", live.port))
        kwargs["sock"] = sock
    ws = await connect(live.ws_url(), open_timeout=TIMEOUT, **kwargs)
    frame = await recv_json(ws)
    assert frame["event"] == "pusher:connection_established", frame
    return ws, json.loads(frame["data"])["socket_id"]


async def subscribe(ws: ClientConnection, channel: str, auth: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"channel": channel}
    if auth is not None:
        data["auth"] = auth
    await ws.send(json.dumps({"event": "pusher:subscribe", "data": data}))
    return await recv_json(ws)


async def expect_silence(ws: ClientConnection, seconds: float = 0.3) -> None:
    """Assert nothing arrives for a while (used for 'not delivered' checks)."""
    try:
        frame = await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame: {frame}")


def signed_url(
    live: Live,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """A Pusher-HTTP-API-signed URL built by hand (for bodies the SDK would refuse to send)."""
    params = {
        "auth_key": live.config.key,
        "auth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "auth_version": "1.0",
        "body_md5": hashlib.md5(body).hexdigest(),
        **(extra or {}),
    }
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["auth_signature"] = sign(secret or live.config.secret, f"{method}\n{path}\n{query}")
    return f"{live.base_url}{path}?{urlencode(params)}"
