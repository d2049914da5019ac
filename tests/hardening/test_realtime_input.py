"""Bad input on the realtime side of the mock (the Pusher emulation): the unauthenticated `POST /pusher/auth`
and websocket frames. Same rule as the HTTP corpus: a 4xx / a `pusher:error`, never a 500 or a dead socket."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

pytestmark = pytest.mark.http


@pytest.mark.parametrize(
    "body", [b"{", b"[1, 2", b"\xff\xfe", b"null", b"[]"], ids=["open", "truncated", "utf16", "null", "array"]
)
def test_pusher_auth_refuses_malformed_json(live_server: str, body: bytes) -> None:
    response = httpx.post(f"{live_server}/pusher/auth", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and isinstance(response.json().get("error"), str), response.text


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 100_000], ids=["balanced-5k", "objects-100k"])
def test_pusher_auth_refuses_deeply_nested_json(live_server: str, body: bytes) -> None:
    response = httpx.post(f"{live_server}/pusher/auth", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, f"{response.status_code} {response.text[:200]}"


def test_bad_websocket_frames_get_an_error_and_the_socket_lives_on(live_server: str) -> None:
    import websockets

    from mockserver import MockSettings

    url = f"{live_server.replace('http://', 'ws://')}/app/{MockSettings().pusher_key}?protocol=7"
    frames = [
        "[" * 100_000,  # over the frame size limit
        "not json",
        "\udcff".encode("utf-8", "surrogatepass"),  # not UTF-8
        json.dumps({"event": "pusher:ping", "data": "[" * 4000 + "]" * 4000}),  # valid frame, deeply nested data
        json.dumps({"no": "event"}),
    ]

    async def run() -> list[str]:
        answers = []
        async with websockets.connect(url, open_timeout=10) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["event"] == "pusher:connection_established"
            for frame in frames:
                await ws.send(frame)
                answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
                answers.append(answer["event"])
                await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))  # still alive?
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "pusher:pong"
        return answers

    # a valid ping whose data is too deeply nested to decode keeps it as the string it was: still a ping
    assert asyncio.run(run()) == ["pusher:error", "pusher:error", "pusher:error", "pusher:pong", "pusher:error"]
