"""The /app/{key} websocket, driven by the `websockets` client like pusher-js would."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from mockserver.realtime import RealtimeConfig, sign_channel

from ._support import TIMEOUT, Live, expect_silence, open_socket, recv_json, run, serve, subscribe

pytestmark = [pytest.mark.http, pytest.mark.timeout(60)]


def test_connection_established_then_subscribe_and_receive(live: Live) -> None:
    async def body() -> None:
        async with connect(live.ws_url(), open_timeout=TIMEOUT) as ws:
            first = await recv_json(ws)
            assert first["event"] == "pusher:connection_established"
            assert isinstance(first["data"], str)  # a JSON-encoded string, as pusher-js expects
            data = json.loads(first["data"])
            assert re.fullmatch(r"\d+\.\d+", data["socket_id"]) and data["activity_timeout"] == 120
            assert await subscribe(ws, "workspace-1") == {
                "event": "pusher_internal:subscription_succeeded",
                "channel": "workspace-1",
                "data": "{}",
            }
            await asyncio.to_thread(live.publish, "workspace-1", "task:created", {"task": {"id": "t1", "title": "é"}})
            await asyncio.to_thread(live.publish, "workspace-2", "task:created", {"task": {"id": "other"}})
            await asyncio.to_thread(live.publish, "workspace-1", "task:claimed", {"task": {"id": "t1"}})
            frames = [await recv_json(ws), await recv_json(ws)]
            assert frames == [
                {"event": "task:created", "channel": "workspace-1", "data": '{"task":{"id":"t1","title":"é"}}'},
                {"event": "task:claimed", "channel": "workspace-1", "data": '{"task":{"id":"t1"}}'},
            ]
            await ws.send(json.dumps({"event": "pusher:unsubscribe", "data": {"channel": "workspace-1"}}))
            await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
            assert await recv_json(ws) == {"event": "pusher:pong", "data": "{}"}  # unsubscribe processed first
            await asyncio.to_thread(live.publish, "workspace-1", "task:created", {"task": {"id": "t2"}})
            await expect_silence(ws)

    run(body())


@pytest.mark.parametrize(
    ("path_key", "query", "code"),
    [
        ("wrong-key", "protocol=7", 4001),
        (None, "", 4008),
        (None, "protocol=abc", 4006),
        (None, "protocol=3", 4007),
    ],
)
def test_handshake_refusals_send_pusher_error_then_close(
    live: Live, path_key: str | None, query: str, code: int
) -> None:
    async def body() -> None:
        async with connect(live.ws_url(path_key, query), open_timeout=TIMEOUT) as ws:
            frame = await recv_json(ws)
            assert frame["event"] == "pusher:error"
            assert json.loads(frame["data"])["code"] == code
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert info.value.rcvd is not None and info.value.rcvd.code == code

    run(body())
    assert live.hub.stats()["connections"] == 0


def test_private_channel_needs_a_valid_auth(live: Live) -> None:
    async def body() -> None:
        ws, socket_id = await open_socket(live)
        async with ws:
            # the auth endpoint signs for this socket; the signature is accepted
            response = await asyncio.to_thread(
                httpx.post, f"{live.base_url}/pusher/auth", data={"socket_id": socket_id, "channel_name": "private-w1"}
            )
            assert response.status_code == 200
            auth = response.json()["auth"]
            assert auth == sign_channel(live.config.key, live.config.secret, socket_id, "private-w1")
            assert (await subscribe(ws, "private-w1", auth))["event"] == "pusher_internal:subscription_succeeded"
            # a signature for another socket is refused, twice over, and nothing is subscribed
            foreign = sign_channel(live.config.key, live.config.secret, "1.1", "private-w2")
            refusal = await subscribe(ws, "private-w2", foreign)
            assert refusal["event"] == "pusher:subscription_error" and refusal["channel"] == "private-w2"
            assert json.loads(refusal["data"])["status"] == 401
            error = await recv_json(ws)
            assert error["event"] == "pusher:error" and json.loads(error["data"])["code"] == 4009
            no_auth = await subscribe(ws, "private-w3")
            assert no_auth["event"] == "pusher:subscription_error"
            assert json.loads((await recv_json(ws))["data"])["code"] == 4009
            await asyncio.to_thread(live.publish, "private-w2", "e", {"n": 2})
            await asyncio.to_thread(live.publish, "private-w1", "e", {"n": 1})
            assert await recv_json(ws) == {"event": "e", "channel": "private-w1", "data": '{"n":1}'}
            assert live.hub.occupied_channels() == {"private-w1": 1}

    run(body())


def test_client_events_reach_others_not_the_sender(live: Live) -> None:
    async def body() -> None:
        a, a_id = await open_socket(live)
        b, b_id = await open_socket(live)
        async with a, b:
            for ws, sid in ((a, a_id), (b, b_id)):
                auth = sign_channel(live.config.key, live.config.secret, sid, "private-room")
                assert (await subscribe(ws, "private-room", auth))["event"] == "pusher_internal:subscription_succeeded"
            await a.send(json.dumps({"event": "client-typing", "channel": "private-room", "data": {"who": "a"}}))
            assert await recv_json(b) == {"event": "client-typing", "channel": "private-room", "data": '{"who":"a"}'}
            await expect_silence(a)
            # public channel: refused with pusher:error 4009, not broadcast
            assert (await subscribe(b, "workspace-1"))["event"] == "pusher_internal:subscription_succeeded"
            await a.send(json.dumps({"event": "client-x", "channel": "workspace-1", "data": {}}))
            error = json.loads((await recv_json(a))["data"])
            assert error["code"] == 4009 and "private" in error["message"]
            await expect_silence(b)

    run(body())


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1]",
        '{"data":{}}',
        '{"event":"pusher:subscribe","data":{"channel":"bad name"}}',
        '{"event":"something"}',
        '{"event":"pusher:signin","data":{}}',
        b"\x00\x01binary",
    ],
)
def test_malformed_frames_get_pusher_error_and_the_connection_survives(live: Live, frame: str | bytes) -> None:
    async def body() -> None:
        ws, _ = await open_socket(live)
        async with ws:
            await ws.send(frame)
            error = await recv_json(ws)
            assert error["event"] == "pusher:error"
            assert json.loads(error["data"])["code"] == 4300
            await ws.send('{"event":"pusher:ping","data":{}}')
            assert (await recv_json(ws))["event"] == "pusher:pong"

    run(body())


def test_channel_prefix_is_applied_by_publish() -> None:
    with serve(RealtimeConfig(channel_prefix="staging-")) as live:

        async def body() -> None:
            ws, _ = await open_socket(live)
            async with ws:
                await subscribe(ws, "staging-workspace-1")
                await asyncio.to_thread(live.publish, "workspace-1", "task:created", {"task": {"id": "t"}})
                frame = await recv_json(ws)
                assert frame["channel"] == "staging-workspace-1" and frame["event"] == "task:created"

        run(body())


def test_slow_consumer_is_closed_with_4100_and_memory_stays_bounded() -> None:
    blob = base64.b64encode(os.urandom(6000)).decode()  # 8000 chars, incompressible, under the 8 KB warning
    with serve(RealtimeConfig(max_queue=20)) as live:

        async def body() -> None:
            # the client buffers at most one frame, then stops reading: TCP backs up to the server
            ws, slow_id = await open_socket(live, rcvbuf=16384, max_queue=1, max_size=2**20, compression=None)
            fast, _ = await open_socket(live)
            async with ws, fast:
                await subscribe(ws, "workspace-1")
                await subscribe(fast, "workspace-1")
                slow_sub = live.hub.get(slow_id)
                assert slow_sub is not None
                fast_got: list[int] = []

                async def keep_up() -> None:
                    while True:
                        frame = await recv_json(fast)
                        fast_got.append(json.loads(frame["data"])["i"])

                reader = asyncio.create_task(keep_up())
                published = 0
                # publish from this loop's thread into the server's loop (cross-thread path), up to 27 MB
                while published < 3000 and not live.hub.stats()["dropped_slow_consumers"]:
                    published += 1
                    live.hub.publish("workspace-1", "blob", {"blob": blob, "i": published})
                    # pace on the fast client (at most 10 in flight < max_queue 20): only the one
                    # that stopped reading can fall behind
                    async with asyncio.timeout(TIMEOUT):
                        while published - len(fast_got) >= 10:
                            await asyncio.sleep(0.001)
                stats = live.hub.stats()
                assert stats["dropped_slow_consumers"] == 1 and stats["connections"] == 1, stats
                assert published < 3000
                # per-connection memory is bounded: the queue peaked at max_queue, then was freed
                assert slow_sub.overflowed and slow_sub.high_water == 20 and len(slow_sub) == 0
                assert live.hub.get(slow_id) is None
                # the fast client got everything, in order
                for _ in range(200):
                    if len(fast_got) == published:
                        break
                    await asyncio.sleep(0.02)
                reader.cancel()
                assert fast_got == list(range(1, published + 1))
                # the slow one: whatever was in flight, then the close frame 4100
                received = 0
                with pytest.raises(ConnectionClosed) as info:
                    while True:
                        await asyncio.wait_for(ws.recv(), TIMEOUT)
                        received += 1
                assert info.value.rcvd is not None and info.value.rcvd.code == 4100
                assert received < published

        run(body())


def test_shutdown_closes_sockets_with_4200(live: Live) -> None:
    async def body() -> None:
        ws, _ = await open_socket(live)
        async with ws:
            await asyncio.to_thread(live.hub.close_all)
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4200

    run(body())
