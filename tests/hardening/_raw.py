"""A raw HTTP/1.1 client for the bad-input corpus: exact bytes on the wire, one connection per request.

httpx normalises what it sends (dot segments, header values, URL length), so the corpus writes its requests by
hand and parses the answer with `http.client.HTTPResponse`. Every request carries `Connection: close`, every
socket has a timeout, and a body can be streamed from a thread while the answer is read (so a server that
answers before the body is complete is observable).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ("RawResponse", "address", "exchange", "render")

UVICORN_400 = b"Invalid HTTP request received."


@dataclass
class RawResponse:
    status: int | None  # None: the connection closed (or reset) before a status line arrived
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str | None = None  # what went wrong on the client side, if anything
    bytes_sent: int = 0  # body bytes the client had written when the answer arrived
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_uvicorn_400(self) -> bool:
        """uvicorn's own answer to a request its HTTP parser refused (our app never saw it)."""
        return self.status == 400 and self.content_type == "text/plain" and self.body == UVICORN_400

    def describe(self) -> str:
        if self.status is None:
            return f"no answer ({self.error})"
        return f"{self.status} {self.content_type or '-'} {self.body[:300]!r}"


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname == "127.0.0.1", base_url
    return parts.hostname, int(parts.port or 80)


def render(
    method: str,
    target: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | None = None,
    *,
    host: bytes | None = b"127.0.0.1",
    content_length: bool = True,
) -> bytes:
    """The request head (and body) as bytes; `Content-Length` added for a body unless told otherwise."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    lines += [name + b": " + value for name, value in headers]
    if body is not None and content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def exchange(
    addr: tuple[str, int],
    head: bytes,
    body: bytes | Iterator[bytes] | None = None,
    *,
    timeout: float = 15.0,
    answered: threading.Event | None = None,
) -> RawResponse:
    """Send `head`, then stream `body` (bytes or chunks) from a thread while reading the answer.

    `answered` (if given) is set as soon as the status line and headers are in, so a body generator can stop
    feeding a server that has already answered.
    """
    started = time.perf_counter()
    sent = 0
    send_error: list[str] = []
    with socket.create_connection(addr, timeout=timeout) as sock:
        sock.sendall(head)
        sender: threading.Thread | None = None
        if body is not None:
            chunks = [body] if isinstance(body, bytes) else body

            def push() -> None:
                nonlocal sent
                try:
                    for chunk in chunks:
                        sock.sendall(chunk)
                        sent += len(chunk)
                except OSError as exc:  # the server answered and closed: expected for a rejected body
                    send_error.append(type(exc).__name__)

            sender = threading.Thread(target=push, name="raw-body", daemon=True)
            sender.start()
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            sent_at_answer = sent
            if answered is not None:
                answered.set()
            data = response.read()
            result = RawResponse(response.status, list(response.getheaders()), data, bytes_sent=sent_at_answer)
        except (OSError, http.client.HTTPException) as exc:
            result = RawResponse(None, error=f"{type(exc).__name__}: {exc}", bytes_sent=sent)
        finally:
            response.close()
        if sender is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # unblock a sender stuck in sendall
            except OSError:
                pass
            sender.join(timeout=timeout)
    result.elapsed = time.perf_counter() - started
    if send_error and result.error is None and result.status is None:
        result.error = send_error[0]
    return result
