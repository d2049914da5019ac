"""The bad-input corpus (corpus.py) against the mock: over a real 127.0.0.1 port (the session's strict
`live_server`, raw sockets) and in-process (the strict `client`) where httpx sends the request unchanged.

Every entry gets its documented answer: our `{"error": ...}` 4xx, or uvicorn's own 400 for what its parser
refuses; never a 5xx, never an injected header. After the whole corpus the server still answers normally.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening._raw import RawResponse, address, exchange, render
from tests.hardening.corpus import BUGS, ENTRIES, Ctx, Entry, Req

MiB = 1024 * 1024
_SENT: list[str] = []  # corpus entries that went over the real port (the after-corpus check reads it)

# the corpus and the "still serves after it" check share one server, in file order: one worker runs them all
pytestmark = pytest.mark.xdist_group("bad-input-corpus")


def _params(inproc_only: bool = False) -> list[Any]:
    out = []
    for entry in ENTRIES:
        if inproc_only and not entry.inproc:
            continue
        marks = [pytest.mark.xfail(reason=BUGS[entry.bug], strict=True)] if entry.bug else []
        out.append(pytest.param(entry, id=entry.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def ctx(fixture_keys: dict[str, str], world_ids: dict[str, str], fixture_world: dict[str, Any]) -> Ctx:
    web = world_ids["acme-web"]
    task = next(t["id"] for t in fixture_world["tasks"] if t["workspaceId"] == web and t["status"] == "pending")
    return Ctx(key=fixture_keys["acme-admin"], workspace_id=web, task_id=task)


# -- sending --------------------------------------------------------------------------------------------------------


def _paced_chunks(answered: threading.Event, total: int = 10 * MiB, pause_after: int = 2 * MiB) -> Iterator[bytes]:
    """A chunked body of `total` bytes that stops after `pause_after` and waits (<= 10 s) for an answer."""
    piece = b"a" * 65_536
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    while sent < total:
        if sent >= pause_after and not answered.wait(timeout=10):
            pause_after = total  # no answer: send the rest, the answer will say what happened
        if answered.is_set():
            return
        yield frame
        sent += len(piece)
    yield b"0\r\n\r\n"


def send_raw(addr: tuple[str, int], req: Req) -> RawResponse:
    if req.raw is not None:
        return exchange(addr, req.raw)
    headers = list(req.headers)
    if req.transport == "unsent-body":
        headers.append((b"Content-Length", str(req.content_length).encode()))
        return exchange(addr, render(req.method, req.target, headers), None, timeout=10)
    if req.transport == "chunked-paced":
        answered = threading.Event()
        return exchange(addr, render(req.method, req.target, headers), _paced_chunks(answered), answered=answered)
    if req.body is not None:
        headers.append((b"Content-Length", str(len(req.body)).encode()))
    return exchange(addr, render(req.method, req.target, headers), req.body)


# -- checking -------------------------------------------------------------------------------------------------------


def verify(entry: Entry, req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert resp.status is not None, f"{entry.id}: {resp.describe()}"
    assert resp.status < 500, f"{entry.id}: a server error: {resp.describe()}"
    assert resp.status in entry.expect, f"{entry.id}: expected {entry.expect}, got {resp.describe()}"
    injected = [(k, v) for k, v in resp.headers if "evil" in k.lower() or "evil" in v.lower()]
    assert not injected, f"{entry.id}: a request value reached the response headers: {injected}"
    assert resp.header("set-cookie") is None, f"{entry.id}: unexpected Set-Cookie {resp.header('set-cookie')!r}"
    if entry.origin == "uvicorn":
        assert resp.is_uvicorn_400, f"{entry.id}: expected uvicorn's own 400, got {resp.describe()}"
    else:
        assert resp.content_type == "application/json", f"{entry.id}: not JSON: {resp.describe()}"
        body = resp.json()
        if resp.status >= 400:
            assert isinstance(body, dict) and isinstance(body.get("error"), str), f"{entry.id}: {resp.describe()}"
            assert len(body["error"]) <= 500, f"{entry.id}: an error message of {len(body['error'])} characters"
            if entry.error_contains:
                assert entry.error_contains in body["error"], f"{entry.id}: {body['error']!r}"
    for name in entry.extra:
        EXTRA[name](req, resp, ctx)


def _nothing_sent(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert resp.bytes_sent == 0, "the server waited for the body it was going to refuse"


def _answered_before_end(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    # the client sends 2 MiB, then waits: an answer now proves the server stopped reading at its 1 MiB cap
    assert resp.bytes_sent <= 2 * MiB + 65_536, f"answered only after {resp.bytes_sent} bytes"


def _no_preference_applied(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert resp.header("preference-applied") is None


def _no_key_echo(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    sent = dict(req.headers)[b"Authorization"].decode().removeprefix("Bearer ")
    assert sent[4:] not in resp.body.decode(errors="replace") and ctx.key[4:] not in resp.body.decode(errors="replace")


def _no_file(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert b"root:" not in resp.body and b"accounts" not in resp.body


def _allow(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert "GET" in (resp.header("allow") or ""), resp.headers


def _two_tasks(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert len(resp.json()["tasks"]) == 2


def _title_verbatim(req: Req, resp: RawResponse, ctx: Ctx) -> None:
    assert req.body is not None
    assert resp.json()["title"] == json.loads(req.body)["title"]


EXTRA = {
    "nothing-sent": _nothing_sent,
    "answered-before-end": _answered_before_end,
    "no-preference-applied": _no_preference_applied,
    "no-key-echo": _no_key_echo,
    "no-file": _no_file,
    "allow": _allow,
    "two-tasks": _two_tasks,
    "title-verbatim": _title_verbatim,
}


# -- tests ----------------------------------------------------------------------------------------------------------


@pytest.mark.http
@pytest.mark.parametrize("entry", _params())
def test_corpus_over_http(entry: Entry, live_server: str, ctx: Ctx) -> None:
    req = entry.request(ctx)
    _SENT.append(entry.id)
    verify(entry, req, send_raw(address(live_server), req), ctx)


@pytest.mark.parametrize("entry", _params(inproc_only=True))
def test_corpus_in_process(entry: Entry, client: Any, ctx: Ctx) -> None:
    req = entry.request(ctx)
    assert req.transport == "plain" and req.raw is None
    response = client.request(req.method, req.target.decode("latin-1"), headers=list(req.headers), content=req.body)
    resp = RawResponse(response.status_code, list(response.headers.items()), response.content)
    verify(entry, req, resp, ctx)


@pytest.mark.http
def test_server_still_serves_after_the_corpus(live_server: str, ctx: Ctx) -> None:
    """Runs after the corpus (file order): the same server answers a normal request correctly."""
    assert len(_SENT) == len(ENTRIES) or not _SENT, "run the whole module for this check to mean something"
    head = render("GET", b"/api/tasks", [(b"Authorization", f"Bearer {ctx.key}".encode())])
    resp = exchange(address(live_server), head)
    assert resp.status == 200, resp.describe()
    tasks = resp.json()["tasks"]
    assert tasks and all({"id", "title", "status", "workspaceId"} <= set(t) for t in tasks)
    assert ctx.task_id in {t["id"] for t in tasks}
    # and keep-alive traffic on one connection works too
    import httpx

    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {ctx.key}"}, timeout=10) as http:
        for _ in range(5):
            again = http.get(f"/api/tasks/{ctx.task_id}")
            assert again.status_code == 200 and again.json()["id"] == ctx.task_id


@pytest.mark.http
def test_stalled_clients_do_not_block_others(live_server: str, ctx: Ctx) -> None:
    """Connections that stop mid-headers, mid-body or before sending anything hold no one else up."""
    import socket
    import time

    addr = address(live_server)
    auth = (b"Authorization", f"Bearer {ctx.key}".encode())
    stalled: list[socket.socket] = []
    try:
        for n in range(30):
            sock = socket.create_connection(addr, timeout=5)
            if n % 3 == 0:
                sock.sendall(b"GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
            elif n % 3 == 1:  # a body that never comes
                sock.sendall(
                    render(
                        "POST",
                        b"/api/tasks",
                        [auth, (b"Content-Type", b"application/json"), (b"Content-Length", b"100")],
                    )
                    + b'{"title"'
                )
            stalled.append(sock)
        started = time.perf_counter()
        resp = exchange(addr, render("GET", b"/api/tasks?limit=1", [auth]), timeout=10)
        assert resp.status == 200, resp.describe()
        assert time.perf_counter() - started < 5
    finally:
        for sock in stalled:
            sock.close()
