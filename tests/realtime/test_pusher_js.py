"""End to end with the real pusher-js 8 client under Node (tests/realtime/node/subscribe.cjs)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pusher
import pytest

from mockserver.realtime import RealtimeConfig

from ._support import TIMEOUT, Live, serve

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("node") / "subscribe.cjs"

pytestmark = [
    pytest.mark.node,
    pytest.mark.http,
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH"),
    pytest.mark.skipif(
        not (ROOT / "node_modules" / "pusher-js").is_dir(),
        reason="node_modules/pusher-js missing: run `npm install --no-audit --no-fund` in the repo root",
    ),
]


class NodeSubscriber:
    """subscribe.cjs as a child process; its JSON lines are read by a thread into a queue."""

    def __init__(self, live: Live, channels: list[str], count: int, **extra: Any) -> None:
        config = {
            "port": live.port,
            "key": live.config.key,
            "channels": channels,
            "count": count,
            "timeoutMs": 15000,
            **extra,
        }
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put({"eof": True})

    def next(self) -> dict[str, Any]:
        try:
            return self.lines.get(timeout=TIMEOUT * 2)
        except queue.Empty:
            raise AssertionError("pusher-js printed nothing for 10 s") from None

    def wait_for(self, key: str) -> dict[str, Any]:
        seen = []
        while True:
            line = self.next()
            seen.append(line)
            if key in line:
                return line
            if "eof" in line:
                raise AssertionError(f"pusher-js exited before {key!r}: {seen}; stderr={self.stderr()}")

    def events(self) -> list[dict[str, Any]]:
        """Every event line until the script finishes."""
        out = []
        while "done" not in (line := self.next()):
            if "event" in line:
                out.append(line)
            assert "eof" not in line, f"pusher-js died: {self.stderr()}"
        assert self.proc.wait(TIMEOUT) == 0, f"pusher-js timed out after {out}"
        return out

    def stderr(self) -> str:
        self.proc.kill()
        return self.proc.communicate(timeout=TIMEOUT)[1][-2000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)


@pytest.fixture
def node_subscriber(live: Live) -> Iterator[Any]:
    started: list[NodeSubscriber] = []

    def start(channels: list[str], count: int, **extra: Any) -> NodeSubscriber:
        sub = NodeSubscriber(live, channels, count, **extra)
        started.append(sub)
        return sub

    yield start
    for sub in started:
        sub.close()


def test_pusher_js_receives_buildd_events_in_order(live: Live, node_subscriber: Any) -> None:
    js = node_subscriber(["workspace-w1", "task-t1", "worker-k1"], count=4)
    ready = js.wait_for("ready")
    assert ready["socket_id"].count(".") == 1
    assert live.hub.occupied_channels() == {"workspace-w1": 1, "task-t1": 1, "worker-k1": 1}
    task = {"id": "t1", "title": "Fix it", "workspaceId": "w1", "mode": "execution", "priority": 5}
    live.publish("workspace-w1", "task:created", {"task": task})
    live.publish("workspace-other", "task:created", {"task": {"id": "nope"}})
    live.publish("workspace-w1", "task:assigned", {"task": task, "targetLocalUiUrl": None})
    live.publish("worker-k1", "worker:command", {"action": "abort", "reason": "task_cancelled", "timestamp": 1})
    live.publish("task-t1", "mission:note_posted", {"noteId": "n1", "type": "note", "authorType": "user", "title": "ü"})
    assert js.events() == [
        {"channel": "workspace-w1", "event": "task:created", "data": {"task": task}},
        {"channel": "workspace-w1", "event": "task:assigned", "data": {"task": task, "targetLocalUiUrl": None}},
        {
            "channel": "worker-k1",
            "event": "worker:command",
            "data": {"action": "abort", "reason": "task_cancelled", "timestamp": 1},
        },
        {
            "channel": "task-t1",
            "event": "mission:note_posted",
            "data": {"noteId": "n1", "type": "note", "authorType": "user", "title": "ü"},
        },
    ]


def test_official_sdk_trigger_reaches_pusher_js(live: Live, node_subscriber: Any) -> None:
    js = node_subscriber(["workspace-1"], count=2)
    js.wait_for("ready")
    client = pusher.Pusher(
        live.config.app_id,
        live.config.key,
        live.config.secret,
        host="127.0.0.1",
        port=live.port,
        ssl=False,
        timeout=TIMEOUT,
    )
    client.trigger("workspace-1", "task:claimed", {"task": {"id": "t", "status": "assigned"}})
    client.trigger_batch([{"channel": "workspace-1", "name": "worker:progress", "data": {"taskId": "t"}}])
    assert js.events() == [
        {"channel": "workspace-1", "event": "task:claimed", "data": {"task": {"id": "t", "status": "assigned"}}},
        {"channel": "workspace-1", "event": "worker:progress", "data": {"taskId": "t"}},
    ]


def test_pusher_js_private_channel_through_the_auth_endpoint(live: Live, node_subscriber: Any) -> None:
    js = node_subscriber(["private-workspace-1"], count=1, authEndpoint=f"{live.base_url}/pusher/auth")
    js.wait_for("ready")
    live.publish("private-workspace-1", "task:created", {"task": {"id": "p"}})
    assert js.events() == [{"channel": "private-workspace-1", "event": "task:created", "data": {"task": {"id": "p"}}}]


def test_pusher_js_client_event_reaches_the_other_client_only(live: Live, node_subscriber: Any) -> None:
    auth = f"{live.base_url}/pusher/auth"
    receiver = node_subscriber(["private-room"], count=1, authEndpoint=auth)
    receiver.wait_for("ready")
    sender = node_subscriber(
        ["private-room"], count=1, authEndpoint=auth, trigger={"event": "client-typing", "data": {"who": "sender"}}
    )
    sender.wait_for("ready")
    assert receiver.events() == [{"channel": "private-room", "event": "client-typing", "data": {"who": "sender"}}]
    # the sender is not echoed: a server event is the first (and only) thing it sees
    live.publish("private-room", "after", {"n": 1})
    assert sender.events() == [{"channel": "private-room", "event": "after", "data": {"n": 1}}]


def test_pusher_js_refused_on_unknown_key() -> None:
    with serve(RealtimeConfig(key="another-key")) as other:
        js = NodeSubscriber(other, ["workspace-1"], count=1, timeoutMs=3000, key="buildd-mock-key")
        try:
            error = js.wait_for("error")
            assert error["error"]["code"] == 4001
            assert error["error"]["message"].startswith("App key buildd-mock-key does not exist")
            # 4001 is in pusher-js's "refused" range: it gives up instead of reconnecting
            assert js.wait_for("state") == {"state": "disconnected"}
            assert other.hub.stats()["connections"] == 0
        finally:
            js.close()
