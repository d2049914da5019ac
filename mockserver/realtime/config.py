"""Settings of the realtime layer (Pusher emulation, SSE, event log)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RealtimeConfig"]


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """Credentials and limits of the emulated Pusher app.

    The default credentials are **public test values**, printed in the docs on purpose: the mock is a
    local test double, never an authentication boundary. Point real buildd code at it by setting
    ``PUSHER_APP_ID``/``PUSHER_KEY``/``PUSHER_SECRET``/``PUSHER_CLUSTER`` to these values.

    ``app_id`` is numeric because the official ``pusher`` Python SDK refuses any other app id
    (``ValueError: Invalid app id``), and real Pusher app ids are numeric too.
    """

    app_id: str = "424242"
    key: str = "buildd-mock-key"
    secret: str = "buildd-mock-secret"
    cluster: str = "mt1"
    # buildd's PUSHER_CHANNEL_PREFIX: EventHub.publish() puts it in front of every channel name
    channel_prefix: str = ""
    # seconds, announced in pusher:connection_established (protocol 7)
    activity_timeout: int = 120
    # frames buffered per websocket / SSE stream before the consumer is called slow and disconnected
    max_queue: int = 1000
    # events kept for GET /__mock/events and SSE resume (a ring: the oldest fall off)
    log_size: int = 10000
    # Pusher refuses event data over 10 KB ...
    max_payload_bytes: int = 10240
    # ... and buildd logs a warning over 8 KB
    warn_payload_bytes: int = 8192

    def __post_init__(self) -> None:
        if not self.app_id.isdigit():
            raise ValueError(
                f"RealtimeConfig.app_id must be digits (got {self.app_id!r}): "
                "the official pusher SDK and Pusher itself only use numeric app ids"
            )
        for name in ("key", "secret"):
            value = getattr(self, name)
            if not value or ":" in value:
                raise ValueError(f"RealtimeConfig.{name} must be non-empty and contain no ':' (got {value!r})")
        for name in ("activity_timeout", "max_queue", "log_size", "max_payload_bytes", "warn_payload_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"RealtimeConfig.{name} must be >= 1 (got {getattr(self, name)!r})")
