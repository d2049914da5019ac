"""`MockContext`: the one object that holds a running mock's state, created by `create_app`.

It owns the domain facade (`api`) with its store, the injected clock and ids, the realtime hub, the fault rules
and the request log. Nothing here is global: two apps in one process share nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.spec import Spec
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids, parse_iso
from mockserver.domain.service import Buildd
from mockserver.domain.service import Settings as DomainSettings
from mockserver.domain.store import Store
from mockserver.http.faults import Faults
from mockserver.http.requestlog import RequestLog
from mockserver.http.strict import EventRules
from mockserver.realtime import EventHub
from mockserver.settings import MockSettings

__all__ = ("MockContext", "load_scenario")


def load_scenario(scenario: str, seed: int | None = None) -> dict[str, Any]:
    """The fixture world of `scenario` (the committed one unless `seed` asks for another); LookupError if unknown."""
    from fixtures.world import load_world

    return load_world(scenario, seed=seed)


class MockContext:
    """State of one mock app; reachable in tests as `app.state.mock`."""

    def __init__(self, settings: MockSettings, spec: Spec, world: Mapping[str, Any] | None = None) -> None:
        self.settings = settings
        self.spec = spec
        # the dashboard's cookie, as the spec's `session` security scheme names it
        self.session_cookie: str = spec.raw["components"]["securitySchemes"]["session"]["name"]
        self.clock = Clock()
        self.ids = Ids(settings.seed or 0)
        self.hub = EventHub(settings.realtime_config(), clock=self.clock.now)
        self.faults = Faults(settings.seed)
        self.requests = RequestLog(settings.request_log_size)
        self.event_rules = EventRules(spec) if settings.strict else None
        self.offset_seconds = 0.0  # what POST /__mock/clock added since the last anchoring
        self.scenario = settings.scenario
        self.world: dict[str, Any] = (
            dict(world) if world is not None else load_scenario(settings.scenario, settings.seed)
        )
        self._anchor_clock()
        self.api = Buildd(
            Store(self.world, state_file=settings.state_file),
            self.clock,
            self.ids,
            Outbox(),
            DomainSettings(
                base_url=settings.base_url,
                pusher_key=settings.pusher_key,
                pusher_cluster=settings.pusher_cluster,
                pusher_channel_prefix=settings.channel_prefix,
                cron_secret=settings.cron_secret,
            ),
        )
        if self.api.store.resumes:
            self._resume_clock()

    def reset(self, scenario: str | None = None, seed: int | None = None) -> None:
        """Load a scenario's world (default: the current one), restart the ids and put the clock back at the
        world's epoch. Faults, the request log and the event log stay."""
        scenario = scenario or self.scenario
        world = load_scenario(scenario, seed if seed is not None else self.settings.seed)
        self.api.reset(world, seed=seed if seed is not None else (self.settings.seed or 0))
        self.world, self.scenario = world, scenario
        self._anchor_clock()

    def _anchor_clock(self) -> None:
        """Start the mock's time at `settings.frozen_clock` (stopped there) or at the world's epoch (the instant
        its snapshot was taken; running from there), so fixture claims and heartbeats are as fresh as the
        scenario describes."""
        self.offset_seconds = 0.0
        if self.settings.frozen_clock is not None:
            self.clock.freeze(self.settings.frozen_clock)
            return
        epoch = (self.world.get("meta") or {}).get("epoch")
        if epoch:
            self.clock.freeze(parse_iso(str(epoch)))
            self.clock.unfreeze()

    def _resume_clock(self) -> None:
        """A restarted mock on a state file goes on from the latest moment that state records, so time never
        runs backwards across a restart (creation order, leases and stale-worker timing stay right)."""
        if self.settings.frozen_clock is not None:
            return
        latest = max(
            (
                stamp
                for rows in self.api.store.dump().values()
                if isinstance(rows, list)
                for row in rows
                if isinstance(row, dict)
                for key in ("updatedAt", "createdAt", "lastHeartbeatAt")
                if isinstance(stamp := row.get(key), str)
            ),
            default=None,
        )
        if latest and parse_iso(latest) > self.clock.now():
            self.clock.freeze(parse_iso(latest))
            self.clock.unfreeze()

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock and sweep. `offsetSeconds` counts what was advanced since the anchoring (the domain
        clock's own offset of a running clock is its distance to the wall clock, not that)."""
        result = self.api.advance_clock(seconds)
        self.offset_seconds += seconds
        return {**result, "offsetSeconds": self.offset_seconds}

    def clock_now(self) -> dict[str, Any]:
        return {"now": self.clock.iso(), "offsetSeconds": self.offset_seconds}

    def publish_events(self) -> list[str]:
        """Hand every committed domain event to the hub; in strict mode, return what violates `x-events`."""
        problems: list[str] = []
        for event in self.api.outbox.drain():
            if self.event_rules is not None:
                problem = self.event_rules.problem(event.channel, event.name, event.payload)
                if problem is not None:
                    problems.append(problem)
            self.hub.publish(event.channel, event.name, event.payload)
        return problems
