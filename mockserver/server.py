"""Run the mock on uvicorn (uvloop + httptools, no access log): `run` for `buildd-api serve`, `serve_in_thread`
for tests.

Both bind the listening socket themselves before uvicorn starts, so a port in use is one clear `OSError`
(`127.0.0.1:4010 is already in use`) instead of a log line and `sys.exit` from inside uvicorn.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from mockserver.settings import MockSettings

__all__ = ("bind", "run", "serve_in_thread")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one). OSError with a one-line reason if impossible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            message = f"{host}:{port} is already in use; pick another --port"
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        failure = OSError(message)  # no errno in the text: the CLI prints it as the one line
        failure.errno = exc.errno
        raise failure from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(app: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        # uvicorn's 5 s default races clients that reuse a pooled connection the server is closing (ReadError
        # under load); the mock is long-lived and local, so idle connections may stay open longer
        timeout_keep_alive=75,
    )
    return uvicorn.Server(config)


def run(settings: MockSettings, *, announce: Callable[[MockSettings], None] | None = None) -> None:
    """Serve until interrupted. `announce(settings)` runs once the port is bound (settings carry the real port)."""
    from mockserver.http.app import create_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(settings.host, settings.port)
    settings = settings.model_copy(update={"port": sock.getsockname()[1]})
    server = _server(create_app(settings))
    if announce is not None:
        announce(settings)
    server.run(sockets=[sock])


def serve_in_thread(settings: MockSettings | None = None, *, app: Any = None) -> tuple[str, Callable[[], None]]:
    """Start the mock on a free 127.0.0.1 port (settings.port 0) in a daemon thread; returns (base_url, stop).

    The app is built here exactly as `buildd-api serve` builds it, unless `app` is given.
    """
    from mockserver.http.app import create_app

    settings = settings or MockSettings(port=0)
    sock = bind(settings.host, settings.port)
    settings = settings.model_copy(update={"port": sock.getsockname()[1]})
    app = app if app is not None else create_app(settings)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"mock-{settings.port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the mock did not start on {settings.base_url}")
        time.sleep(0.01)

    def stop() -> None:
        ctx = getattr(getattr(app, "state", None), "mock", None)
        if ctx is not None:
            ctx.hub.close_all()  # end SSE streams so the graceful shutdown does not wait for them
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return settings.base_url, stop
