"""What every group of operations shares: the injected store, clock, ids and outbox, and small helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Unauthorized
from mockserver.domain.events import Event, Outbox, workspace_channel
from mockserver.domain.fields import id_of, text
from mockserver.domain.records import task_event_view
from mockserver.domain.runtime import Clock, Ids, parse_iso, to_iso
from mockserver.domain.store import Record, Store, clone

__all__ = ("Ops", "Settings")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Settings:
    """Values the mock hands out that a real deployment would take from its environment."""

    base_url: str = "http://127.0.0.1:4010"
    pusher_key: str = "buildd-mock"
    pusher_cluster: str = "mt1"
    pusher_channel_prefix: str = ""
    # the platform cron's bearer secret (CRON_SECRET): `/api/cron/*` answer 401 to anything else
    cron_secret: str = "buildd-mock-cron-secret"


class Ops:
    """Base of the operation groups that make up `Buildd`."""

    def __init__(self, store: Store, clock: Clock, ids: Ids, outbox: Outbox, settings: Settings | None = None) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.outbox = outbox
        self.settings = settings or Settings()

    # -- events -------------------------------------------------------------------------------------------------

    def _emit(self, channel: str, name: str, payload: dict[str, Any]) -> None:
        """Queue an event; it reaches the outbox only if the current transaction commits."""
        event = Event(channel, name, clone(payload))
        self.store.tx.on_commit(lambda: self.outbox.append(event))

    def _event_task(self, task: Record) -> dict[str, Any]:
        return task_event_view(task, self.store.get("workspaces", task["workspaceId"]))

    def _announce_new_task(self, task: Record) -> None:
        """`task:created` then `task:assigned` on the workspace: runners react by claiming; and, as the real
        `dispatchNewTask` does, the workspace's enabled outgoing webhook gets the task (recorded, never sent)."""
        from mockserver.domain.areas.ext_webhooks import dispatch_new_task  # the areas build on this module

        view = self._event_task(task)
        channel = workspace_channel(text(task, "workspaceId"))
        self._emit(channel, "task:created", {"task": view})
        self._emit(channel, "task:assigned", {"task": view, "targetLocalUiUrl": None})
        dispatch_new_task(self, task)

    # -- time ---------------------------------------------------------------------------------------------------

    def _now(self) -> str:
        return to_iso(self.clock.now())

    def _timestamp(self, value: Any, field: str) -> str:
        try:
            return to_iso(parse_iso(str(value)))
        except ValueError as exc:
            raise BadRequest(f"{field} must be an ISO-8601 date-time") from exc

    # -- values -------------------------------------------------------------------------------------------------

    @staticmethod
    def _out(value: T) -> T:
        """A private copy for the response, so serialising happens outside the lock on data nobody changes."""
        return clone(value)  # type: ignore[no-any-return]

    @staticmethod
    def _int(
        body: Mapping[str, Any], field: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if field not in body or body[field] is None:
            return None
        value = body[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise BadRequest(f"{field} must be an integer")
        number = int(value)
        if minimum is not None and number < minimum:
            raise BadRequest(f"{field} must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise BadRequest(f"{field} must be at most {maximum}")
        return number

    @staticmethod
    def _str(body: Mapping[str, Any], field: str, *, required: bool = False, message: str | None = None) -> str | None:
        value = body.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise BadRequest(message or f"{field} is required")
            return None
        if not isinstance(value, str):
            raise BadRequest(f"{field} must be a string")
        return value

    @staticmethod
    def _choice(body: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str | None:
        value = body.get(field)
        if value is None:
            return None
        if value not in allowed:
            raise BadRequest(f"{field} must be one of: {', '.join(allowed)}")
        return str(value)

    def _caller_account(self, principal: Principal) -> Record:
        """The calling key's account as stored now; a key whose account is gone is no credential (401)."""
        account = self.store.get("accounts", principal.account_id)
        if account is None:
            raise Unauthorized()
        return account

    # -- teams --------------------------------------------------------------------------------------------------

    def _team_for_create(self, principal: Principal, team_id: str | None) -> str:
        """Where a new account/workspace goes: a key's own team; for a session the requested team when the user
        is a member of it, else the user's personal team, else their first team."""
        if principal.account is not None:
            return text(principal.account, "teamId")
        if team_id is not None and team_id in principal.team_ids:
            return team_id
        if not principal.team_ids:
            raise BadRequest("No team found for user")
        for tid in sorted(principal.team_ids):
            team = self.store.get("teams", tid)
            if team is not None and team.get("slug") == f"personal-{principal.user_id}":
                return tid
        return sorted(principal.team_ids)[0]

    # -- cascades -----------------------------------------------------------------------------------------------

    def _purge_task(self, task_id: str) -> None:
        """Delete a task with its workers and notes; its artifacts stay, detached from it."""
        for worker in self.store.find("workers", "task", task_id):
            for artifact in self.store.find("artifacts", "worker", id_of(worker)):
                self.store.update("artifacts", id_of(artifact), {"workerId": None, "taskId": None})
            self.store.delete("workers", id_of(worker))
        for note in self.store.find("notes", "task", task_id):
            self.store.delete("notes", id_of(note))
        self.store.delete("tasks", task_id)
