"""SSE stream, Last-Event-ID resume, the JSON log and `tail`."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.realtime import RealtimeConfig
from mockserver.realtime.tail import tail

from ._support import TIMEOUT, Live, free_port, serve

pytestmark = [pytest.mark.http, pytest.mark.timeout(60)]


def sse_events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """Parse `count` SSE events (id/event/data); comments are skipped."""
    out: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if "data" in current:
                out.append(current)
                if len(out) == count:
                    return out
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value
    raise AssertionError(f"stream ended after {len(out)} events")


def open_stream(client: httpx.Client, live: Live, query: str = "", headers: dict[str, str] | None = None) -> Any:
    """Open the stream and wait for the ': subscribed' comment (the subscription is live after it)."""
    cm = client.stream("GET", f"{live.base_url}/__mock/events/stream{query}", headers=headers)
    response = cm.__enter__()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    lines = response.iter_lines()
    for line in lines:
        if line == ": subscribed":
            break
    return cm, lines


def test_stream_filters_channels_and_carries_cursors(live: Live) -> None:
    with httpx.Client(timeout=TIMEOUT) as client:
        cm, lines = open_stream(client, live, "?channel=workspace-1,task-2&channel=worker-3")
        try:
            live.publish("workspace-1", "task:created", {"task": {"id": "a"}})
            live.publish("workspace-9", "task:created", {"task": {"id": "skip"}})
            live.publish("task-2", "mission:note_posted", {"noteId": "n"})
            live.publish("worker-3", "worker:command", {"action": "abort"})
            events = sse_events(lines, 3)
        finally:
            cm.__exit__(None, None, None)
    assert [(e["id"], e["event"]) for e in events] == [
        ("1", "task:created"),
        ("3", "mission:note_posted"),
        ("4", "worker:command"),
    ]
    first = events[0]["data"]
    assert set(first) == {"channel", "event", "data", "cursor", "timestamp"}
    assert (first["channel"], first["data"], first["cursor"]) == ("workspace-1", {"task": {"id": "a"}}, 1)
    assert first["timestamp"].endswith("Z") and len(first["timestamp"]) == 24


def test_stream_resumes_from_last_event_id(live: Live) -> None:
    for i in range(5):
        live.publish("workspace-1" if i != 2 else "task-1", "e", {"i": i})
    with httpx.Client(timeout=TIMEOUT) as client:
        cm, lines = open_stream(client, live, "?channel=workspace-1", headers={"Last-Event-ID": "1"})
        try:
            live.publish("workspace-1", "e", {"i": 5})
            events = sse_events(lines, 4)
        finally:
            cm.__exit__(None, None, None)
    # replayed 2, 4, 5 from the log (3 is another channel), then live 6; no duplicates
    assert [e["data"]["cursor"] for e in events] == [2, 4, 5, 6]
    assert [e["data"]["data"]["i"] for e in events] == [1, 3, 4, 5]


def test_unfiltered_stream_gets_everything_and_ends_cleanly(live: Live) -> None:
    with httpx.Client(timeout=TIMEOUT) as client:
        cm, lines = open_stream(client, live)
        try:
            live.publish("a-1", "x", {})
            live.publish("b-2", "y", {})
            assert [e["event"] for e in sse_events(lines, 2)] == ["x", "y"]
            assert live.hub.stats()["streams"] == 1
        finally:
            cm.__exit__(None, None, None)


def test_slow_sse_stream_is_dropped() -> None:
    with serve(RealtimeConfig(max_queue=5)) as live:
        with httpx.Client(timeout=TIMEOUT) as client:
            cm, lines = open_stream(client, live)
            try:
                for i in range(500):  # published straight into the loop faster than one stream drains
                    live.hub.publish("w", "e", {"i": i})
                events = []
                for line in lines:  # whatever made it out, then the stream ends
                    if line.startswith("id: "):
                        events.append(int(line[4:]))
            finally:
                cm.__exit__(None, None, None)
        assert live.hub.stats()["dropped_slow_consumers"] == 1
        assert len(events) < 500 and events == list(range(1, len(events) + 1))


def test_log_pages_with_next_cursor(live: Live) -> None:
    for i in range(7):
        live.publish("workspace-1" if i % 2 else "task-1", "e", {"i": i})
    url = f"{live.base_url}/__mock/events"
    page = httpx.get(url, params={"limit": 3}).json()
    assert [e["cursor"] for e in page["events"]] == [1, 2, 3] and page["next"] == 3
    page = httpx.get(url, params={"since": page["next"], "limit": 3}).json()
    assert [e["cursor"] for e in page["events"]] == [4, 5, 6] and page["next"] == 6
    page = httpx.get(url, params={"since": 6}).json()
    assert [e["data"] for e in page["events"]] == [{"i": 6}] and page["next"] == 7
    assert httpx.get(url, params={"since": 7}).json() == {"events": [], "next": 7}
    filtered = httpx.get(url, params={"channel": "workspace-1"}).json()
    assert [e["data"]["i"] for e in filtered["events"]] == [1, 3, 5] and filtered["next"] == 7
    assert filtered["events"][0] == {
        "channel": "workspace-1",
        "event": "e",
        "data": {"i": 1},
        "cursor": 2,
        "timestamp": filtered["events"][0]["timestamp"],
    }


def test_log_is_bounded_at_log_size() -> None:
    with serve(RealtimeConfig(log_size=20)) as live:
        for i in range(30):
            live.hub.publish("w", "e", {"i": i})
        page = httpx.get(f"{live.base_url}/__mock/events", params={"limit": 1000}).json()
    assert [e["cursor"] for e in page["events"]] == list(range(11, 31)) and page["next"] == 30


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/__mock/events?since=-1", "since must be >= 0"),
        ("/__mock/events?since=abc", "since must be an integer"),
        ("/__mock/events?limit=0", "limit must be between 1 and 1000"),
        ("/__mock/events?limit=1001", "limit must be between 1 and 1000"),
        ("/__mock/events?channel=bad%20name", "Invalid channel name 'bad name'"),
        ("/__mock/events/stream?since=x", "Last-Event-ID/since must be an integer"),
        ("/__mock/events/stream?keepalive=0", "keepalive must be a number of seconds between 0.1 and 300"),
    ],
)
def test_bad_queries_are_400_with_error_body(live: Live, path: str, message: str) -> None:
    response = httpx.get(f"{live.base_url}{path}", timeout=TIMEOUT)
    assert response.status_code == 400 and response.json() == {"error": response.json()["error"]}
    assert response.json()["error"].startswith(message)


def test_tail_prints_one_line_per_event(live: Live) -> None:
    out = io.StringIO()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(tail(live.base_url, ["workspace-1"], out=out, limit=2, timeout=10))
    )
    thread.start()
    # wait until tail's stream is subscribed
    for _ in range(200):
        if live.hub.stats()["streams"]:
            break
        threading.Event().wait(0.01)
    live.publish("workspace-1", "task:created", {"task": {"id": "t1", "title": "a b"}})
    live.publish("task-1", "skipped", {})
    live.publish("workspace-1", "task:claimed", {"worker": {"id": "k"}})
    thread.join(TIMEOUT)
    assert result == [2]
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 3)[1:] for line in lines] == [
        ["workspace-1", "task:created", '{"task":{"id":"t1","title":"a b"}}'],
        ["workspace-1", "task:claimed", '{"worker":{"id":"k"}}'],
    ]
    assert lines[0].split(" ")[0].endswith("Z")


def test_tail_stops_at_timeout_when_idle(live: Live) -> None:
    out = io.StringIO()
    assert tail(live.base_url, [], out=out, timeout=0.5) == 0 and out.getvalue() == ""


def test_tail_connection_errors_are_one_line() -> None:
    with pytest.raises(ConnectionError) as info:
        tail(f"http://127.0.0.1:{free_port()}", [], timeout=1)
    assert "is the mock running?" in str(info.value) and "\n" not in str(info.value)


def test_tail_on_a_server_without_realtime_routes(live: Live) -> None:
    with pytest.raises(ConnectionError, match="answered 404"):
        tail(live.base_url + "/nothing-here", [], timeout=1)
