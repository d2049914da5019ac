"""`Buildd`: the facade of the API's state machine; the operations live in areas composed into it by class.

    api = Buildd(Store(world), Clock(), Ids(seed=1), Outbox())
    principal = authenticate(api.store, authorization="Bearer bld_…", session_token=None, accept={"apiKey"})
    api.area(Workers).claim_tasks(principal, {"runner": "laptop"})   # -> {"workers": [...]} or a DomainError
    for event in api.outbox.drain(): hub.publish(event.channel, event.name, event.payload)

Every operation either returns the response body (a fresh dict the caller may keep) or raises a
`mockserver.domain.errors.DomainError` whose `status` and `body()` are the response. Events reach the outbox only
when the call's changes commit. Operations are grouped in areas, one module each in `mockserver/domain/areas/`
(`Accounts`, `Devices`, `Workspaces`, `Schedules`, `Tasks`, `TaskActions`, `Workers`, `WorkerControl`,
`Artifacts`, `RunnerSupport`, `WorkspaceConfig`, `ErrorTraces`, ...), each built once per facade by
`api.area(Cls)`. Plain resources declared with `mockserver.domain.resources.declare` are served by
`api.resources` (a `ResourceEngine` over the same store). The facade itself holds only what every area shares:
store, clock, ids, outbox, settings, the sweep, and the clock/session/reset controls of the `/__mock` API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from contracts.spec import Spec, load_spec
from mockserver.domain._base import Ops, Settings
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, NotFound
from mockserver.domain.events import Outbox
from mockserver.domain.fields import text
from mockserver.domain.lifecycle import expire_claims, expire_stale_workers
from mockserver.domain.resources import ResourceEngine
from mockserver.domain.runtime import Clock, Ids
from mockserver.domain.store import Store

__all__ = ("Buildd", "Settings")

A = TypeVar("A", bound=Area)


class Buildd(Ops):
    """The facade over store, clock, ids and outbox; see the module docstring."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        ids: Ids | None = None,
        outbox: Outbox | None = None,
        settings: Settings | None = None,
        *,
        spec: Spec | None = None,
    ) -> None:
        super().__init__(store, clock or Clock(), ids or Ids(0), outbox or Outbox(), settings)
        self._spec = spec
        self._resources: ResourceEngine | None = None
        self._areas: dict[type[Area], Area] = {}
        if store.resumes:
            # the resumed state already holds what the seed handed out before the restart: draw from another
            # (still deterministic) stream, or the next create reuses an id, or a key, already issued
            self.ids.reseed(f"{self.ids.seed}/resume-{store.resumes}")

    def area(self, cls: type[A]) -> A:
        """The one instance of an operation area (`mockserver/domain/areas/`) this facade is composed of."""
        found = self._areas.get(cls)
        if found is None:
            found = self._areas[cls] = cls(self)
        return found  # type: ignore[return-value]

    @property
    def resources(self) -> ResourceEngine:
        """The generic operations of the declared resources, read from the spec (default: the one `load_spec`
        finds) on first use."""
        if self._resources is None:
            self._resources = ResourceEngine(self, self._spec or load_spec())
        return self._resources

    def serve_resource(
        self, operation_id: str, principal: Principal, path: Mapping[str, str], query: Mapping[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        """One `x-resource` operation: `(status, body)` or a `DomainError`."""
        return self.resources.handle(operation_id, principal, path, query, body)

    def sweep(self) -> dict[str, int]:
        """Expire claims past `expiresAt` (back to pending) and fail workers that stopped reporting
        (running/starting 15 min, idle 5 min, silent runner 150 min)."""
        with self.store.transaction():
            now = self.clock.now()
            failed = expire_stale_workers(self.store, now, self._emit, self._event_task)
            expired = expire_claims(self.store, now, self._emit, self._event_task)
            return {"expiredClaims": expired, "failedWorkers": failed}

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the mock's time forward, then sweep; returns the spec's MockClock body."""
        if seconds < 0:
            raise BadRequest("advanceSeconds must not be negative: the clock only moves forward")
        self.clock.advance(seconds)
        swept = self.sweep()
        return {"now": self.clock.iso(), "offsetSeconds": self.clock.offset_seconds, "swept": swept}

    def open_session(self, *, email: str | None = None, user_id: str | None = None) -> tuple[str, dict[str, Any]]:
        """Log a fixture user in without a browser (the mock's stand-in for the dashboard's OAuth login):
        returns the session token for the `authjs.session-token` cookie and the user."""
        with self.store.transaction():
            if user_id is not None:
                user = self.store.get("users", user_id)
            else:
                wanted = str(email or "").lower()
                user = next((u for u in self.store.rows("users") if text(u, "email").lower() == wanted), None)
            if user is None:
                raise NotFound.of("User")
            token = self.ids.hex(24)
            self.store.insert("sessions", {"token": token, "userId": user["id"]})
            return token, dict(user)

    def reset(self, world: Mapping[str, Any] | None = None, *, seed: int | str | None = None) -> None:
        """Back to `world` (default: the last loaded one), ids reseeded, undrained events dropped."""
        if world is None:
            self.store.reset()
        else:
            self.store.load(world)
        self.ids.reseed(seed)
        self.outbox.drain()
