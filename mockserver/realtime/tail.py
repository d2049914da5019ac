"""``tail``: print a running mock's events live, one line each (backs ``buildd-api events tail``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import TextIO

import httpx

__all__ = ["format_event", "tail"]


def format_event(event: dict[str, object]) -> str:
    """``<timestamp> <channel> <event> <compact json data>``."""
    data = json.dumps(event.get("data"), separators=(",", ":"), ensure_ascii=False)
    return f"{event.get('timestamp')} {event.get('channel')} {event.get('event')} {data}"


def _sse_data(lines: Iterator[str]) -> Iterator[str | None]:
    """Yield each SSE event's ``data`` (``None`` for comments/keepalives, to let callers check deadlines)."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            yield None
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def tail(
    base_url: str,
    channels: list[str],
    *,
    out: TextIO = sys.stdout,
    limit: int | None = None,
    timeout: float | None = None,
) -> int:
    """Stream ``base_url``'s events on ``channels`` (all when empty) to ``out``; return how many were printed.

    Stops after ``limit`` events or ``timeout`` seconds (approximately: checked between lines, and
    the server is asked for keepalives often enough). Raises ``ConnectionError`` with a one-line
    message when the mock cannot be reached or has no realtime routes.
    """
    url = base_url.rstrip("/") + "/__mock/events/stream"
    deadline = None if timeout is None else time.monotonic() + timeout
    keepalive = 15.0 if timeout is None else min(15.0, max(0.1, timeout / 5))
    params: list[tuple[str, str | float]] = [("channel", c) for c in channels] + [("keepalive", keepalive)]
    printed = 0
    try:
        with httpx.stream("GET", url, params=params, timeout=httpx.Timeout(10.0, read=keepalive * 3 + 5)) as response:
            if response.status_code != 200:
                response.read()
                raise ConnectionError(
                    f"{url} answered {response.status_code} {response.text[:200].strip()}: "
                    "is this a buildd mock with realtime routes?"
                )
            for data in _sse_data(response.iter_lines()):
                if data is not None:
                    out.write(format_event(json.loads(data)) + "\n")
                    out.flush()
                    printed += 1
                    if limit is not None and printed >= limit:
                        break
                if deadline is not None and time.monotonic() >= deadline:
                    break
    except httpx.TimeoutException as exc:
        raise ConnectionError(
            f"timed out talking to the mock at {base_url} ({type(exc).__name__}); is it running?"
        ) from exc
    except httpx.HTTPError as exc:
        raise ConnectionError(f"cannot stream events from {base_url}: {exc}; is the mock running?") from exc
    return printed
