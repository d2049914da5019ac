"""Latency and fault injection, per route, from rules set with `PUT /__mock/faults`.

A rule (`FaultRule` in the spec) matches a method (`*` or absent: any) and a glob over the request path
(`/api/tasks/*`); the first matching rule applies:

- `delayMs` + a uniform random `0..jitterMs` is slept (`asyncio.sleep`, so other requests go on);
- then, for a share `errorRate` of the matching requests, the request is answered `status` with
  `{"error": "Injected fault"}`, or, with `drop: true`, the connection is closed without an answer.
  Without `errorRate` a rule with `status` or `drop` hits every time; `status` defaults to 503.

Every random draw comes from one `random.Random` seeded with the mock's seed and re-seeded whenever the rules
change, so the same rules and the same request sequence give the same faults. The control API (`/__mock/*`)
is never faulted, so a rule can always be removed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ("ConnectionDropped", "Fault", "FaultRule", "Faults", "drop_connection")

CONTROL_PREFIX = "/__mock/"
DEFAULT_STATUS = 503


class ConnectionDropped(ConnectionError):
    """Raised in place of closing a socket when the mock runs in-process (no transport to close)."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    method: str
    pattern: re.Pattern[str]
    delay_ms: int
    jitter_ms: int
    error_rate: float
    status: int
    drop: bool
    raw: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> FaultRule:
        hits = "status" in raw or bool(raw.get("drop"))
        return cls(
            method=str(raw.get("method") or "*").upper(),
            pattern=re.compile(fnmatch.translate(str(raw["path"]))),
            delay_ms=int(raw.get("delayMs", 0)),
            jitter_ms=int(raw.get("jitterMs", 0)),
            error_rate=float(raw.get("errorRate", 1.0 if hits else 0.0)),
            status=int(raw.get("status", DEFAULT_STATUS)),
            drop=bool(raw.get("drop", False)),
            raw=dict(raw),
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and self.pattern.match(path) is not None


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request: sleep, then maybe answer `status` or drop the connection."""

    delay: float  # seconds
    status: int | None
    drop: bool


class Faults:
    """The rules in force and the seeded rng that draws delays and hits."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed or 0
        self._lock = threading.Lock()
        self._rules: tuple[FaultRule, ...] = ()
        self._rng = random.Random(self._seed)

    def replace(self, rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        parsed = tuple(FaultRule.parse(rule) for rule in rules)
        with self._lock:
            self._rules = parsed
            self._rng = random.Random(self._seed)
        return self.rules()

    def clear(self) -> list[dict[str, Any]]:
        return self.replace(())

    def rules(self) -> list[dict[str, Any]]:
        return [dict(rule.raw) for rule in self._rules]

    def decide(self, method: str, path: str) -> Fault | None:
        rules = self._rules
        if not rules or path.startswith(CONTROL_PREFIX):
            return None
        for rule in rules:
            if rule.matches(method, path):
                with self._lock:
                    jitter = self._rng.uniform(0, rule.jitter_ms) if rule.jitter_ms else 0.0
                    hit = rule.error_rate > 0 and self._rng.random() < rule.error_rate
                delay = (rule.delay_ms + jitter) / 1000
                if not hit:
                    return Fault(delay, None, False) if delay else None
                return Fault(delay, None if rule.drop else rule.status, rule.drop)
        return None


async def drop_connection(send: Any) -> None:
    """Close the client's connection without a response.

    Under uvicorn the ASGI `send` is a method of the request cycle, which holds the transport: closing it is a
    real dropped connection for the client. In-process (TestClient, httpx ASGITransport) there is no socket,
    so the drop surfaces as `ConnectionDropped` in the client.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "close"):
        raise ConnectionDropped("connection dropped by a fault rule")
    transport.close()
    # let the server see the connection go, so it does not try to answer with its own 500
    for _ in range(3):
        await asyncio.sleep(0)
