"""`MockSettings`: everything `buildd-api serve` and `create_app` can be told, in one frozen model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mockserver.realtime.config import RealtimeConfig

__all__ = ("MockSettings",)

_PUSHER = RealtimeConfig()


class MockSettings(BaseModel):
    """How the mock runs. Immutable: build a new one with `settings.model_copy(update={...})`.

    >>> MockSettings(port=0, strict=True).base_url
    'http://127.0.0.1:0'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(4010, ge=0, le=65535)
    scenario: str = Field("default", min_length=1)
    # seeds the fixture world (None: the committed world of the scenario), the ids and the fault rng
    seed: int | None = Field(None, ge=0)
    # SQLite write-through of the state; an existing file is resumed instead of loading the scenario
    state_file: Path | None = None
    # validate every response and event against the spec; a violation becomes a loud 500
    strict: bool = False
    channel_prefix: str = ""
    control_api: bool = True
    max_body_bytes: int = Field(1024 * 1024, ge=1)
    request_log_size: int = Field(1000, ge=1)
    pusher_app_id: str = _PUSHER.app_id
    pusher_key: str = _PUSHER.key
    pusher_secret: str = _PUSHER.secret
    pusher_cluster: str = _PUSHER.cluster
    # tests: stop the mock's clock at this instant (POST /__mock/clock still moves it)
    frozen_clock: datetime | None = None
    # bearer secret of `/api/cron/*` (the real server's CRON_SECRET); a fixed, documented default
    cron_secret: str = Field("buildd-mock-cron-secret", min_length=1)

    @field_validator("frozen_clock")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("frozen_clock must be timezone-aware (e.g. 2026-01-15T10:00:00Z)")
        return value

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def realtime_config(self) -> RealtimeConfig:
        return RealtimeConfig(
            app_id=self.pusher_app_id,
            key=self.pusher_key,
            secret=self.pusher_secret,
            cluster=self.pusher_cluster,
            channel_prefix=self.channel_prefix,
        )
