"""EventHub: channel -> subscribers fan-out, bounded per-consumer queues and a bounded event log.

Everything the transports deliver goes through here, so limits hold for every transport:
a consumer that cannot keep up is *disconnected* (never buffered without bound), and the log is a
ring of ``log_size`` events. Subscriber state lives on the event loop; ``publish`` may be called
from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from .config import RealtimeConfig
from .protocol import encode_frame, is_valid_channel, json_compact, new_socket_id

__all__ = ["Clock", "Envelope", "EventHub", "Subscriber"]

log = logging.getLogger("mockserver.realtime")

Clock = Callable[[], "datetime | float"]
SubscriberKind = Literal["ws", "sse"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, like buildd's own timestamps."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Envelope:
    """One published event. ``data_json`` is the exact string sent as Pusher ``data``.

    ``cursor`` increases by one per accepted event (1, 2, ...); a refused event (bad channel,
    oversize, not JSON-serialisable) has ``cursor == 0`` and ``accepted is False``.
    """

    channel: str
    event: str
    data_json: str
    cursor: int
    timestamp: str
    exclude_socket_id: str | None = None
    accepted: bool = True
    wire: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # encoded once, sent to every subscriber
        self.wire = encode_frame(self.event, self.data_json, self.channel)

    @property
    def data(self) -> Any:
        """The payload parsed back from JSON, or the raw string if it is not JSON."""
        try:
            return json.loads(self.data_json)
        except ValueError:
            return self.data_json

    def to_json(self) -> dict[str, Any]:
        """The shape used by ``GET /__mock/events`` and the SSE stream."""
        return {
            "channel": self.channel,
            "event": self.event,
            "data": self.data,
            "cursor": self.cursor,
            "timestamp": self.timestamp,
        }


class Subscriber:
    """One consumer (a websocket connection or an SSE stream) with a bounded inbox.

    Items are :class:`Envelope` (published events) or ``str`` (pre-encoded control frames such as
    ``pusher:pong``), so one writer keeps the order of everything a client sees.
    """

    __slots__ = (
        "_items",
        "_wakeup",
        "channels",
        "close_reason",
        "firehose",
        "high_water",
        "id",
        "kind",
        "max_queue",
        "overflowed",
    )

    def __init__(self, kind: SubscriberKind, max_queue: int, socket_id: str | None = None) -> None:
        self.id = socket_id or new_socket_id()
        self.kind: SubscriberKind = kind
        self.channels: set[str] = set()
        self.firehose = False  # SSE without a channel filter: receives every event
        self.max_queue = max_queue
        self.high_water = 0  # largest queue length seen, for tests and the bench
        self.overflowed = False
        self.close_reason: str | None = None
        self._items: deque[Envelope | str] = deque()
        self._wakeup = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, item: Envelope | str) -> bool:
        """Queue without blocking; ``False`` means the queue is full (caller drops this consumer)."""
        if self.closed:
            return True
        if len(self._items) >= self.max_queue:
            return False
        self._items.append(item)
        if len(self._items) > self.high_water:
            self.high_water = len(self._items)
        self._wakeup.set()
        return True

    async def next(self) -> Envelope | str | None:
        """The next item, or ``None`` once closed (pending items are dropped on close)."""
        while True:
            if self.closed:
                return None
            if self._items:
                return self._items.popleft()
            self._wakeup.clear()
            await self._wakeup.wait()

    async def wait_closed(self) -> str:
        while not self.closed:
            self._wakeup.clear()
            await self._wakeup.wait()
        return self.close_reason or ""

    def close(self, reason: str, *, overflow: bool = False) -> None:
        if self.closed:
            return
        self.close_reason = reason
        self.overflowed = overflow
        self._items.clear()  # free the backlog now
        self._wakeup.set()


class EventHub:
    """Channel fan-out with bounded queues and a bounded, cursor-addressed event log."""

    def __init__(self, config: RealtimeConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or RealtimeConfig()
        self._clock: Clock = clock or _utc_now
        self._lock = threading.Lock()  # guards cursor + log (publish may come from any thread)
        self._log: deque[Envelope] = deque(maxlen=self.config.log_size)
        self._cursor = 0
        self._channels: dict[str, set[Subscriber]] = {}
        self._subscribers: dict[str, Subscriber] = {}
        self._firehose: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._counters = {"published": 0, "delivered": 0, "dropped_slow_consumers": 0, "rejected": 0}
        self._peak_queue = 0  # largest queue length any consumer reached (memory-bound evidence)

    # ---- names ------------------------------------------------------------------------------

    def channel_name(self, channel: str) -> str:
        """The on-the-wire name of a buildd channel (``PUSHER_CHANNEL_PREFIX`` applied)."""
        return f"{self.config.channel_prefix}{channel}"

    def channel_filter(self, names: Iterable[str]) -> set[str]:
        """A channel filter that matches names given with or without the configured prefix."""
        out: set[str] = set()
        for name in names:
            out.add(name)
            out.add(self.channel_name(name))
        return out

    # ---- publishing -------------------------------------------------------------------------

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> Envelope:
        """Publish a buildd event on ``channel`` (prefix applied). Never raises into the caller.

        Payloads over ``warn_payload_bytes`` log a warning (as buildd does); over
        ``max_payload_bytes`` the event is refused like Pusher would, logged as an error, and the
        returned envelope has ``accepted=False``.
        """
        try:
            data_json = json_compact(data)
        except (TypeError, ValueError) as exc:
            return self._refuse(self.channel_name(channel), event, "", f"payload is not JSON-serialisable: {exc}")
        return self.emit(self.channel_name(channel), event, data_json)

    def emit(self, channel: str, event: str, data_json: str, *, exclude_socket_id: str | None = None) -> Envelope:
        """Publish pre-encoded ``data`` on an exact channel name (HTTP API, client events)."""
        if not is_valid_channel(channel):
            return self._refuse(channel, event, data_json, "invalid channel name")
        size = len(data_json.encode("utf-8"))
        if size > self.config.max_payload_bytes:
            return self._refuse(
                channel,
                event,
                data_json,
                f"payload is {size} bytes, over the {self.config.max_payload_bytes}-byte limit",
            )
        if size > self.config.warn_payload_bytes:
            log.warning(
                "realtime: %s on %s is %d bytes (over %d; Pusher refuses over %d)",
                event,
                channel,
                size,
                self.config.warn_payload_bytes,
                self.config.max_payload_bytes,
            )
        with self._lock:
            self._cursor += 1
            envelope = Envelope(channel, event, data_json, self._cursor, _iso(self._clock()), exclude_socket_id)
            self._log.append(envelope)
            self._counters["published"] += 1
        self._dispatch(self._fanout, envelope)
        return envelope

    def _refuse(self, channel: str, event: str, data_json: str, why: str) -> Envelope:
        log.error("realtime: dropped %s on %r: %s", event, channel, why)
        with self._lock:
            self._counters["rejected"] += 1
        return Envelope(channel, event, data_json, 0, _iso(self._clock()), accepted=False)

    def _dispatch(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn`` on the hub's loop: now if we are on it, else via ``call_soon_threadsafe``."""
        loop = self._loop
        if loop is None:
            fn(*args)  # no consumer has ever connected: nothing is loop-bound yet
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        elif not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(fn, *args)

    def _fanout(self, envelope: Envelope) -> None:
        targets = self._channels.get(envelope.channel, set()) | self._firehose
        delivered = 0
        for sub in targets:
            if sub.id == envelope.exclude_socket_id:
                continue
            if sub.offer(envelope):
                delivered += 1
            else:
                self.drop_slow(sub)
        self._counters["delivered"] += delivered

    def send_to(self, sub: Subscriber, frame: str) -> None:
        """Queue a control frame (pong, subscription_succeeded, error) behind earlier events."""
        if not sub.offer(frame):
            self.drop_slow(sub)

    def drop_slow(self, sub: Subscriber) -> None:
        """Disconnect a consumer whose queue is full: memory stays bounded, the client resumes."""
        log.warning("realtime: disconnecting slow %s consumer %s (queue of %d full)", sub.kind, sub.id, sub.max_queue)
        self._counters["dropped_slow_consumers"] += 1
        self.disconnect(sub, reason="slow consumer: queue full", overflow=True)

    # ---- subscribers (event-loop thread) ----------------------------------------------------

    def connect(self, kind: SubscriberKind = "ws") -> Subscriber:
        """Register a consumer; call from the event loop that will drain it."""
        self._loop = asyncio.get_running_loop()
        sub = Subscriber(kind, self.config.max_queue)
        while sub.id in self._subscribers:  # socket ids are random; make them unique anyway
            sub = Subscriber(kind, self.config.max_queue)
        self._subscribers[sub.id] = sub
        return sub

    def disconnect(self, sub: Subscriber, *, reason: str = "disconnected", overflow: bool = False) -> None:
        """Forget a consumer and wake its transport so it can close. Idempotent."""
        for channel in list(sub.channels):
            self.unsubscribe(sub, channel)
        self._firehose.discard(sub)
        self._subscribers.pop(sub.id, None)
        self._peak_queue = max(self._peak_queue, sub.high_water)
        sub.close(reason, overflow=overflow)

    def subscribe(self, sub: Subscriber, channel: str) -> None:
        if sub.closed:
            return
        sub.channels.add(channel)
        self._channels.setdefault(channel, set()).add(sub)

    def subscribe_all(self, sub: Subscriber) -> None:
        """Receive every event on every channel (SSE without a filter)."""
        if not sub.closed:
            sub.firehose = True
            self._firehose.add(sub)

    def unsubscribe(self, sub: Subscriber, channel: str) -> None:
        sub.channels.discard(channel)
        members = self._channels.get(channel)
        if members is not None:
            members.discard(sub)
            if not members:
                del self._channels[channel]

    def get(self, socket_id: str) -> Subscriber | None:
        return self._subscribers.get(socket_id)

    def close_all(self, reason: str = "server shutting down") -> None:
        """Disconnect every consumer (before stopping the server, so SSE streams end). Thread-safe."""

        def run() -> None:
            for sub in list(self._subscribers.values()):
                self.disconnect(sub, reason=reason)

        self._dispatch(run)

    # ---- queries ----------------------------------------------------------------------------

    def occupied_channels(self) -> dict[str, int]:
        """Channel -> number of websocket subscriptions (what Pusher's HTTP API reports)."""
        out: dict[str, int] = {}
        for channel, members in list(self._channels.items()):
            count = sum(1 for sub in list(members) if sub.kind == "ws")
            if count:
                out[channel] = count
        return out

    def events_since(
        self, cursor: int = 0, channel: str | Iterable[str] | None = None, limit: int = 100
    ) -> tuple[list[Envelope], int]:
        """Logged events with ``cursor > cursor`` (oldest first, at most ``limit``) and the next cursor.

        ``channel`` filters by exact name(s). The returned cursor is where to resume: the last
        event returned, or the newest event scanned when the filter skipped the rest.
        """
        wanted = {channel} if isinstance(channel, str) else (set(channel) if channel is not None else None)
        with self._lock:
            snapshot = list(self._log)  # 10k refs at most: cheap, and no lock held while filtering
        if not snapshot:
            return [], max(cursor, 0)
        start = max(0, cursor - snapshot[0].cursor + 1)  # cursors in the log are contiguous
        out: list[Envelope] = []
        next_cursor = max(cursor, 0)
        for envelope in islice(snapshot, start, None):
            if wanted is None or envelope.channel in wanted:
                out.append(envelope)
                if len(out) >= limit:
                    return out, envelope.cursor
            next_cursor = envelope.cursor
        return out, next_cursor

    @property
    def cursor(self) -> int:
        """The cursor of the newest accepted event (0 before the first)."""
        return self._cursor

    def stats(self) -> dict[str, int]:
        with self._lock:
            counters = dict(self._counters)
            log_len = len(self._log)
        subs = list(self._subscribers.values())
        return {
            "connections": sum(1 for s in subs if s.kind == "ws"),
            "streams": sum(1 for s in subs if s.kind == "sse"),
            "channels": len(self.occupied_channels()),
            "published": counters["published"],
            "delivered": counters["delivered"],
            "dropped_slow_consumers": counters["dropped_slow_consumers"],
            "rejected": counters["rejected"],
            "log_size": log_len,
            "cursor": self._cursor,
            "peak_queue": max([self._peak_queue, *(s.high_water for s in subs)]),
        }
