"""The signed Pusher HTTP API and the channel auth endpoint, driven by the official `pusher` SDK."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pusher
import pytest
from pusher.errors import PusherBadAuth, PusherBadStatus

from mockserver.realtime import RealtimeConfig, sign_channel

from ._support import TIMEOUT, Live, expect_silence, open_socket, recv_json, run, serve, signed_url, subscribe

pytestmark = [pytest.mark.http, pytest.mark.timeout(60)]


def sdk(live: Live, **overrides: Any) -> pusher.Pusher:
    args = {"app_id": live.config.app_id, "key": live.config.key, "secret": live.config.secret, **overrides}
    return pusher.Pusher(host="127.0.0.1", port=live.port, ssl=False, timeout=TIMEOUT, **args)


def test_sdk_trigger_reaches_websocket_subscribers(live: Live) -> None:
    async def body() -> None:
        ws, _ = await open_socket(live)
        async with ws:
            await subscribe(ws, "workspace-1")
            await subscribe(ws, "task-7")
            client = sdk(live)
            assert (
                await asyncio.to_thread(
                    client.trigger,
                    ["workspace-1", "task-7"],
                    "task:assigned",
                    {"task": {"id": "7"}, "targetLocalUiUrl": None},
                )
                == {}
            )
            frames = {(f["channel"], f["event"], f["data"]) for f in [await recv_json(ws), await recv_json(ws)]}
            assert frames == {
                ("workspace-1", "task:assigned", '{"task": {"id": "7"}, "targetLocalUiUrl": null}'),
                ("task-7", "task:assigned", '{"task": {"id": "7"}, "targetLocalUiUrl": null}'),
            }
            assert (
                await asyncio.to_thread(
                    client.trigger_batch,
                    [
                        {"channel": "workspace-1", "name": "a", "data": {"n": 1}},
                        {"channel": "task-7", "name": "b", "data": "plain text"},
                    ],
                )
                == {}
            )
            assert [await recv_json(ws), await recv_json(ws)] == [
                {"event": "a", "channel": "workspace-1", "data": '{"n": 1}'},
                {"event": "b", "channel": "task-7", "data": "plain text"},
            ]
            # both routes wrote to the log too
            events, nxt = live.hub.events_since(0)
            assert [(e.channel, e.event) for e in events] == [
                ("workspace-1", "task:assigned"),
                ("task-7", "task:assigned"),
                ("workspace-1", "a"),
                ("task-7", "b"),
            ]
            assert nxt == 4

    run(body())


def test_socket_id_excludes_that_connection(live: Live) -> None:
    async def body() -> None:
        a, a_id = await open_socket(live)
        b, _ = await open_socket(live)
        async with a, b:
            await subscribe(a, "workspace-1")
            await subscribe(b, "workspace-1")
            await asyncio.to_thread(sdk(live).trigger, "workspace-1", "e", {"x": 1}, a_id)
            assert (await recv_json(b))["event"] == "e"
            await expect_silence(a)

    run(body())


def test_channels_listing(live: Live) -> None:
    async def body() -> None:
        a, _ = await open_socket(live)
        b, _ = await open_socket(live)
        async with a, b:
            for ws in (a, b):
                await subscribe(ws, "workspace-1")
            await subscribe(a, "task-2")
            client = sdk(live)
            assert await asyncio.to_thread(client.channels_info) == {"channels": {"task-2": {}, "workspace-1": {}}}
            assert await asyncio.to_thread(client.channels_info, "work", ["subscription_count"]) == {
                "channels": {"workspace-1": {"subscription_count": 2}}
            }
            assert await asyncio.to_thread(client.channel_info, "task-2", ["subscription_count"]) == {
                "occupied": True,
                "subscription_count": 1,
            }
            assert await asyncio.to_thread(client.channel_info, "task-9") == {"occupied": False}

    run(body())


def test_bad_signature_is_401(live: Live) -> None:
    with pytest.raises(PusherBadAuth, match="Invalid signature"):
        sdk(live, secret="not-the-secret").trigger("workspace-1", "e", {})
    with pytest.raises(PusherBadAuth, match="Unknown auth_key"):
        sdk(live, key="other-key").trigger("workspace-1", "e", {})
    body = b'{"name":"e","channel":"workspace-1","data":"{}"}'
    path = f"/apps/{live.config.app_id}/events"
    unsigned = httpx.post(f"{live.base_url}{path}", content=body, timeout=TIMEOUT)
    assert unsigned.status_code == 401 and unsigned.json()["error"].startswith("Missing auth_key")
    stale = httpx.post(signed_url(live, "POST", path, body, timestamp=int(time.time()) - 601), content=body)
    assert stale.status_code == 401 and "Timestamp expired" in stale.json()["error"]
    # the signature covers body_md5: a body swapped after signing is refused
    tampered = httpx.post(signed_url(live, "POST", path, body), content=body.replace(b'"e"', b'"f"'))
    assert tampered.status_code == 401 and tampered.json() == {"error": "body_md5 does not match the request body"}
    listing = httpx.get(signed_url(live, "GET", f"/apps/{live.config.app_id}/channels", secret="wrong"))
    assert listing.status_code == 401
    assert live.hub.stats()["published"] == 0


def test_unknown_app_id_is_404(live: Live) -> None:
    with pytest.raises(PusherBadStatus, match="404"):
        sdk(live, app_id="999").trigger("workspace-1", "e", {})
    response = httpx.post(f"{live.base_url}/apps/999/events", content=b"{}", timeout=TIMEOUT)
    assert response.status_code == 404 and "Unknown app id '999'" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "Request body is not valid JSON"),
        (b"[]", 400, "Request body must be a JSON object"),
        (b'{"channel":"workspace-1","data":"{}"}', 400, "'name' must be a string of 1..200 characters"),
        (b'{"name":"e","data":"{}"}', 400, "Missing 'channels' (list) or 'channel' (string)"),
        (b'{"name":"e","channels":[],"data":"{}"}', 400, "'channels' must be a list of 1..100 channel names"),
        (b'{"name":"e","channel":"bad name","data":"{}"}', 400, "Invalid channel name 'bad name'"),
        (b'{"name":"e","channel":"w","data":{"a":1}}', 400, "'data' must be a string: JSON-encode the payload first"),
        (b'{"name":"e","channel":"w","data":"{}","socket_id":"abc"}', 400, "Invalid socket_id 'abc'"),
        (json.dumps({"name": "e", "channel": "w", "data": "x" * 10241}).encode(), 413, "'data' is 10241 bytes"),
    ],
)
def test_bad_event_bodies_are_refused(live: Live, body: bytes, status: int, message: str) -> None:
    path = f"/apps/{live.config.app_id}/events"
    response = httpx.post(signed_url(live, "POST", path, body), content=body, timeout=TIMEOUT)
    assert response.status_code == status
    assert set(response.json()) == {"error"} and response.json()["error"].startswith(message)
    assert live.hub.stats()["published"] == 0


def test_bad_batches_are_refused_whole(live: Live) -> None:
    path = f"/apps/{live.config.app_id}/batch_events"
    good = {"channel": "w", "name": "e", "data": "{}"}
    for batch, message in [
        ([], "'batch' must be a list of 1..10 events"),
        ([good] * 11, "'batch' must be a list of 1..10 events"),
        ([good, {"channel": "w", "name": "e"}], "batch[1]: 'data' must be a string"),
    ]:
        body = json.dumps({"batch": batch}).encode()
        response = httpx.post(signed_url(live, "POST", path, body), content=body, timeout=TIMEOUT)
        assert response.status_code == 400 and response.json()["error"].startswith(message)
    assert live.hub.stats()["published"] == 0  # nothing of a half-valid batch went out


def test_auth_endpoint_form_and_json(live: Live) -> None:
    expected = sign_channel(live.config.key, live.config.secret, "12.34", "private-w1")
    form = httpx.post(f"{live.base_url}/pusher/auth", data={"socket_id": "12.34", "channel_name": "private-w1"})
    as_json = httpx.post(f"{live.base_url}/pusher/auth", json={"socket_id": "12.34", "channel_name": "private-w1"})
    assert form.status_code == as_json.status_code == 200
    assert form.json() == as_json.json() == {"auth": expected}
    for data, message in [
        ({"socket_id": "x", "channel_name": "private-w1"}, "Invalid or missing socket_id 'x'"),
        ({"socket_id": "1.2"}, "Invalid or missing channel_name None"),
        ({"socket_id": "1.2", "channel_name": "workspace-1"}, "workspace-1 is public"),
        ({"socket_id": "1.2", "channel_name": "presence-x"}, "presence-x: presence and encrypted"),
    ]:
        response = httpx.post(f"{live.base_url}/pusher/auth", data=data)
        assert response.status_code == 400 and response.json()["error"].startswith(message), response.text


@pytest.mark.parametrize("use_async", [False, True])
def test_authorize_callback_can_refuse(use_async: bool) -> None:
    seen: list[tuple[str, str]] = []

    def sync_rule(request: Any, channel: str) -> bool:
        seen.append((request.headers.get("x-user", ""), channel))
        return request.headers.get("x-user") == "alice" and channel == "private-workspace-1"

    async def async_rule(request: Any, channel: str) -> bool:
        await asyncio.sleep(0)
        return sync_rule(request, channel)

    with serve(authorize=async_rule if use_async else sync_rule) as live:
        url = f"{live.base_url}/pusher/auth"
        ok = httpx.post(
            url, data={"socket_id": "1.2", "channel_name": "private-workspace-1"}, headers={"x-user": "alice"}
        )
        other = httpx.post(
            url, data={"socket_id": "1.2", "channel_name": "private-workspace-2"}, headers={"x-user": "alice"}
        )
        bob = httpx.post(
            url, data={"socket_id": "1.2", "channel_name": "private-workspace-1"}, headers={"x-user": "bob"}
        )
    assert ok.status_code == 200 and ok.json()["auth"].startswith("buildd-mock-key:")
    assert (other.status_code, other.json()) == (403, {"error": "Forbidden"})
    assert (bob.status_code, bob.json()) == (403, {"error": "Forbidden"})
    assert seen == [("alice", "private-workspace-1"), ("alice", "private-workspace-2"), ("bob", "private-workspace-1")]


def test_custom_credentials() -> None:
    config = RealtimeConfig(app_id="7", key="k2", secret="s2")
    with serve(config) as live:
        assert sdk(live).trigger("workspace-1", "e", {}) == {}
        with pytest.raises(PusherBadAuth):
            pusher.Pusher("7", "k2", RealtimeConfig().secret, host="127.0.0.1", port=live.port, ssl=False).trigger(
                "workspace-1", "e", {}
            )
        assert live.hub.stats()["published"] == 1
