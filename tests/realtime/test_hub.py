"""EventHub: prefixing, cursors, bounded log, bounded queues, thread safety (in-process, no sockets)."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

import pytest

from mockserver.realtime import EventHub, RealtimeConfig, task_channel, worker_channel, workspace_channel

pytestmark = pytest.mark.timeout(30)

FIXED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_publish_applies_prefix_and_monotonic_cursors() -> None:
    hub = EventHub(RealtimeConfig(channel_prefix="staging-"), clock=lambda: FIXED)
    a = hub.publish(workspace_channel("w1"), "task:created", {"task": {"id": "t1"}})
    b = hub.publish(task_channel("t1"), "mission:note_posted", {"noteId": "n1"})
    c = hub.publish(worker_channel("k1"), "worker:command", {"action": "abort"})
    assert [e.channel for e in (a, b, c)] == ["staging-workspace-w1", "staging-task-t1", "staging-worker-k1"]
    assert [e.cursor for e in (a, b, c)] == [1, 2, 3]
    assert a.timestamp == "2026-01-02T03:04:05.678Z"
    assert a.data_json == '{"task":{"id":"t1"}}' and a.data == {"task": {"id": "t1"}}
    assert hub.stats()["published"] == 3 and hub.cursor == 3


def test_log_is_a_ring_of_log_size() -> None:
    hub = EventHub(RealtimeConfig(log_size=50))
    for i in range(120):
        hub.publish("workspace-1", "e", {"i": i})
    events, nxt = hub.events_since(0, limit=1000)
    assert len(events) == 50 and hub.stats()["log_size"] == 50
    assert [e.cursor for e in events] == list(range(71, 121)) and nxt == 120
    assert hub.events_since(120) == ([], 120)


def test_events_since_pages_and_filters() -> None:
    hub = EventHub()
    for i in range(10):
        hub.publish("workspace-1" if i % 2 == 0 else "task-9", "e", {"i": i})
    page, nxt = hub.events_since(0, limit=3)
    assert [e.cursor for e in page] == [1, 2, 3] and nxt == 3
    page, nxt = hub.events_since(nxt, limit=3)
    assert [e.cursor for e in page] == [4, 5, 6] and nxt == 6
    only, nxt = hub.events_since(0, channel="task-9", limit=100)
    assert [e.data["i"] for e in only] == [1, 3, 5, 7, 9] and nxt == 10
    # a filter that matches nothing still advances the cursor past what it scanned
    assert hub.events_since(4, channel="nope") == ([], 10)


def test_oversize_and_unserialisable_payloads_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    hub = EventHub(RealtimeConfig(warn_payload_bytes=100, max_payload_bytes=200))
    with caplog.at_level(logging.WARNING, logger="mockserver.realtime"):
        warned = hub.publish("workspace-1", "big", {"x": "a" * 150})
        refused = hub.publish("workspace-1", "huge", {"x": "a" * 300})
        weird = hub.publish("workspace-1", "set", {"x": {1, 2}})  # type: ignore[dict-item]
        badname = hub.publish("has space", "e", {})
    assert warned.accepted and warned.cursor == 1
    assert [refused.accepted, weird.accepted, badname.accepted] == [False, False, False]
    assert refused.cursor == weird.cursor == badname.cursor == 0
    assert hub.stats()["rejected"] == 3 and hub.stats()["log_size"] == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("big on workspace-1 is 158 bytes" in m for m in messages), messages
    assert any("huge" in m and "over the 200-byte limit" in m for m in messages), messages


def test_slow_subscriber_is_disconnected_and_its_queue_stays_bounded() -> None:
    async def body() -> None:
        hub = EventHub(RealtimeConfig(max_queue=10))
        slow, fast = hub.connect("ws"), hub.connect("ws")
        hub.subscribe(slow, "workspace-1")
        hub.subscribe(fast, "workspace-1")
        got: list[int] = []

        async def drain() -> None:
            while (item := await fast.next()) is not None:
                got.append(item.data["i"])  # type: ignore[union-attr]

        reader = asyncio.create_task(drain())
        for i in range(25):
            hub.publish("workspace-1", "e", {"i": i})
            await asyncio.sleep(0)  # let the fast consumer drain
        await asyncio.sleep(0.01)
        assert slow.closed and slow.overflowed and slow.close_reason == "slow consumer: queue full"
        assert slow.high_water == 10 and len(slow) == 0  # never above max_queue; backlog freed
        assert hub.get(slow.id) is None and "workspace-1" in hub.occupied_channels()
        assert hub.occupied_channels() == {"workspace-1": 1}
        assert got == list(range(25)) and not fast.closed
        assert hub.stats()["dropped_slow_consumers"] == 1 and hub.stats()["peak_queue"] == 10
        hub.disconnect(fast)
        await asyncio.wait_for(reader, 1)
        assert hub.stats()["connections"] == 0 and hub.occupied_channels() == {}

    asyncio.run(body())


def test_exclude_socket_id_and_firehose() -> None:
    async def body() -> None:
        hub = EventHub()
        sender, other, everything = hub.connect("ws"), hub.connect("ws"), hub.connect("sse")
        for sub in (sender, other):
            hub.subscribe(sub, "private-a")
        hub.subscribe_all(everything)
        hub.emit("private-a", "client-typing", '{"x":1}', exclude_socket_id=sender.id)
        hub.publish("task-1", "other", {})
        assert len(sender) == 0 and len(other) == 1 and len(everything) == 2
        # SSE subscribers do not count as Pusher channel occupancy
        assert hub.occupied_channels() == {"private-a": 2}

    asyncio.run(body())


def test_publish_from_another_thread_is_delivered_on_the_loop() -> None:
    async def body() -> None:
        hub = EventHub()
        sub = hub.connect("ws")
        hub.subscribe(sub, "workspace-1")
        envelopes = []
        thread = threading.Thread(
            target=lambda: envelopes.extend(hub.publish("workspace-1", "e", {"i": i}) for i in range(100))
        )
        thread.start()
        received = [await asyncio.wait_for(sub.next(), 2) for _ in range(100)]
        thread.join(2)
        assert [e.cursor for e in envelopes] == list(range(1, 101))  # returned synchronously
        assert [r.data["i"] for r in received] == list(range(100))  # type: ignore[union-attr]

    asyncio.run(body())


def test_close_all_wakes_every_consumer() -> None:
    async def body() -> None:
        hub = EventHub()
        subs = [hub.connect("ws"), hub.connect("sse")]
        waiters = [asyncio.create_task(s.next()) for s in subs]
        await asyncio.sleep(0)
        await asyncio.to_thread(hub.close_all)  # from another thread, as a test harness does
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [None, None]
        assert hub.stats()["connections"] == hub.stats()["streams"] == 0

    asyncio.run(body())


def test_realtime_handlers_lists_every_route_and_refuses_a_foreign_config() -> None:
    from mockserver.realtime import realtime_handlers

    hub = EventHub()
    paths = sorted(p for handler in realtime_handlers(hub) for p in handler.paths)
    assert paths == [
        "/__mock/events",
        "/__mock/events/stream",
        "/app/{key:str}",
        "/apps/{app_id:str}/batch_events",
        "/apps/{app_id:str}/channels",
        "/apps/{app_id:str}/channels/{channel_name:str}",
        "/apps/{app_id:str}/events",
        "/pusher/auth",
    ]
    assert realtime_handlers(hub, RealtimeConfig())  # an equal config is fine
    with pytest.raises(ValueError, match=r"config differs from hub\.config"):
        realtime_handlers(hub, RealtimeConfig(key="other"))
