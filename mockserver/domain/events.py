"""Domain events: what the API announces on its realtime channels, collected in an outbox.

The domain appends events only once the state change that caused them is committed; the HTTP layer drains the
outbox after the call returns and hands each event to the realtime hub. Channel names are unprefixed
(`workspace-<id>`, `task-<id>`, `worker-<id>`); a transport may add its prefix.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.channels import mission_channel, task_channel, worker_channel, workspace_channel

__all__ = ("Event", "Outbox", "mission_channel", "task_channel", "worker_channel", "workspace_channel")


@dataclass(frozen=True, slots=True)
class Event:
    channel: str
    name: str
    payload: dict[str, Any] = field(default_factory=dict)


class Outbox:
    """A thread-safe FIFO of committed events; `drain()` empties it in commit order.

    With a `listener`, each event is handed to it instead, synchronously at commit (still under the store's
    lock), which keeps the global commit order even when many requests finish at once. The listener must be
    quick and must not call back into the service (e.g. put the event on the hub's queue).
    """

    __slots__ = ("_events", "_lock", "listener", "maxlen")

    def __init__(self, maxlen: int | None = 100_000, listener: Callable[[Event], None] | None = None) -> None:
        # bounded so a mock that nobody drains (e.g. a unit test) cannot grow without limit
        self.maxlen = maxlen
        self.listener = listener
        self._events: deque[Event] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            self.append(event)

    def append(self, event: Event) -> None:
        if self.listener is not None:
            self.listener(event)
            return
        with self._lock:
            self._events.append(event)

    def drain(self) -> list[Event]:
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def peek(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def __len__(self) -> int:
        return len(self._events)
