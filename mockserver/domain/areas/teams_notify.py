"""A team's notification settings (Pushover, webhook, event preferences) and users' feedback signals.

Channel secrets are stored but never returned: reads say only whether a channel is set. Feedback is per user and
entity: a new signal is created (201), another signal replaces it, the same signal again withdraws it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockserver.domain.area import Area
from mockserver.domain.areas.teams_access import acting_user, role_at_least, user_team_ids
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound

__all__ = ("TeamNotify",)

EVENTS = ("taskClaimed", "taskCompleted", "taskFailed", "credentialExpired")
ENTITY_TYPES = ("note", "artifact", "summary", "orchestration", "heartbeat")
SIGNALS = ("up", "down", "dismiss")
HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)


def _channel_value(value: Any) -> str | None:
    """The real route's normalising: a non-string, or blank, means "clear"."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


class TeamNotify(Area):
    """The operations of `/api/teams/{id}/notifications` and `/api/feedback`."""

    # -- notifications ------------------------------------------------------------------------------------------

    def get_notifications(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.lock:
            self._member(principal, team_id)
            return self._settings_view(team_id)

    def update_notifications(self, principal: Principal, team_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            self._member(principal, team_id)
            settings = dict(self.store.get("teamNotifications", team_id) or {"teamId": team_id})
            if "pushoverAppToken" in body or "pushoverUserKey" in body:
                app_token = _channel_value(body.get("pushoverAppToken"))
                user_key = _channel_value(body.get("pushoverUserKey"))
                if app_token is None and user_key is None:
                    settings["pushover"] = None
                elif app_token is None or user_key is None:
                    raise BadRequest(
                        "Pushover needs both an app token and a user/group key (or clear both to remove it)"
                    )
                else:
                    settings["pushover"] = {"appToken": app_token, "userKey": user_key}
            if "webhookUrl" in body:
                url = _channel_value(body.get("webhookUrl"))
                if url is not None and not HTTP_URL.match(url):
                    raise BadRequest("webhookUrl must be an http(s) URL")
                settings["webhookUrl"] = url
            prefs = body.get("preferences")
            if isinstance(prefs, Mapping):
                current = dict(settings.get("preferences") or dict.fromkeys(EVENTS, True))
                current.update({e: prefs[e] for e in EVENTS if isinstance(prefs.get(e), bool)})
                settings["preferences"] = current
            self.store.upsert("teamNotifications", settings)
            return self._settings_view(team_id)

    def _member(self, principal: Principal, team_id: str) -> None:
        user_id = str(acting_user(self.store, principal)["id"])
        if role_at_least(self.store, team_id, user_id, "member") is None or self.store.get("teams", team_id) is None:
            raise NotFound.of("Team")

    def _settings_view(self, team_id: str) -> dict[str, Any]:
        settings = self.store.get("teamNotifications", team_id) or {}
        prefs = settings.get("preferences") or {}
        return {
            "channels": {"pushover": bool(settings.get("pushover")), "webhook": bool(settings.get("webhookUrl"))},
            "preferences": {e: bool(prefs.get(e, True)) for e in EVENTS},
        }

    # -- feedback -----------------------------------------------------------------------------------------------

    def list_feedback(self, principal: Principal, entity_type: str | None, entity_ids: str | None) -> dict[str, Any]:
        if entity_type not in ENTITY_TYPES:
            raise BadRequest("entityType is required")
        keep = {i for i in (entity_ids or "").split(",") if i} if entity_ids is not None else None
        with self.store.lock:
            user_id = str(acting_user(self.store, principal)["id"])
            rows = [f for f in self.store.find("feedback", "user", user_id) if f["entityType"] == entity_type]
            return {"feedback": {f["entityId"]: f["signal"] for f in rows if keep is None or f["entityId"] in keep}}

    def submit_feedback(self, principal: Principal, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        entity_type, entity_id, signal = body.get("entityType"), body.get("entityId"), body.get("signal")
        if entity_type not in ENTITY_TYPES:
            raise BadRequest(f"Invalid entityType. Must be one of: {', '.join(ENTITY_TYPES)}")
        if not entity_id or not isinstance(entity_id, str):
            raise BadRequest("entityId is required")
        if signal not in SIGNALS:
            raise BadRequest(f"Invalid signal. Must be one of: {', '.join(SIGNALS)}")
        comment = body.get("comment") if isinstance(body.get("comment"), str) and body.get("comment") else None
        with self.store.transaction():
            user_id = str(acting_user(self.store, principal)["id"])
            teams = user_team_ids(self.store, user_id)
            if not teams:
                raise Forbidden("No team found")
            existing = next(
                (
                    f
                    for f in self.store.find("feedback", "user", user_id)
                    if f["entityType"] == entity_type and f["entityId"] == entity_id
                ),
                None,
            )
            if existing is not None:
                if existing["signal"] == signal:  # the same signal again withdraws it
                    self.store.delete("feedback", str(existing["id"]))
                    return 200, {"removed": True, "entityType": entity_type, "entityId": entity_id}
                updated = self.store.update("feedback", str(existing["id"]), {"signal": signal, "comment": comment})
                return 200, self._out(updated)
            entry = {
                "id": self.ids.uuid4(),
                "userId": user_id,
                "teamId": teams[0],
                "entityType": entity_type,
                "entityId": entity_id,
                "signal": signal,
                "comment": comment,
                "createdAt": self._now(),
            }
            return 201, self._out(self.store.insert("feedback", entry))
