"""Workspace extras: artifacts by workspace, work-tracker settings, projects, runners, knowledge health, releases,
the simulated GitHub repo creation, migration slots, cron previews and schedule suggestions.

Every operation first reaches the workspace through `access` (out of reach: `404 Workspace not found`), also where
the real route forgets to (create-repo and migration-slot with a key; see docs/deviations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.areas.schedules import cron_fields, next_cron_time
from mockserver.domain.areas.ws_memory import Memories
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from mockserver.domain.lifecycle import HEARTBEAT_WINDOW
from mockserver.domain.records import normalise_repo
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import TABLES, Record

__all__ = ("WorkspaceExtras", "describe_cron")

ARTIFACT_LIMIT = (1, 50, 10)  # min, max, default: the real route clamps
RUNNER_ONLINE = timedelta(minutes=90)  # 1.5 x the runner's 60-minute poll; HEARTBEAT_WINDOW (2.5 x) drops it
RECENT_RELEASES = 5
STALE_AFTER_DAYS = 14
PREVIEW_RUNS = 3
_PROJECT_FIELDS = ("path", "description", "color")


def describe_cron(expression: str) -> str:
    """A short English reading of the common forms; the expression itself otherwise."""
    minute, hour, dom, month, dow = expression.split()
    if minute.startswith("*/") and (hour, dom, month, dow) == ("*", "*", "*", "*"):
        return f"Every {minute[2:]} minutes"
    if minute == "*" and (hour, dom, month, dow) == ("*", "*", "*", "*"):
        return "Every minute"
    if minute.isdigit() and hour == "*" and (dom, month, dow) == ("*", "*", "*"):
        return f"Every hour at minute {int(minute)}"
    if minute.isdigit() and hour.isdigit() and (dom, month) == ("*", "*"):
        at = f"{int(hour):02d}:{int(minute):02d}"
        return f"Every day at {at}" if dow == "*" else f"At {at} on days of week {dow}"
    return f"On the schedule {expression}"


def _preview(moment: datetime) -> str:
    """`Dec 3, 2026, 3:00 AM` (en-US, medium date, short time)."""
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


class WorkspaceExtras(Area):
    # -- artifacts ----------------------------------------------------------------------------------------------

    def list_workspace_artifacts(
        self,
        principal: Principal,
        workspace_id: str,
        *,
        mission_id: str | None = None,
        key: str | None = None,
        type: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        low, high, default = ARTIFACT_LIMIT
        size = min(max(default if limit is None else limit, low), high)
        filters = {"missionId": mission_id, "key": key, "type": type}
        with self.store.lock:
            access.workspace_for(self.store, principal, workspace_id)
            rows = [
                a
                for a in self.store.find("artifacts", "workspace", workspace_id)
                if all(value is None or a.get(field) == value for field, value in filters.items())
            ]
            rows.sort(key=lambda a: (parse_iso(str(a["updatedAt"])), str(a["id"])), reverse=True)
            return {"artifacts": self._out(rows[:size])}

    # -- settings -----------------------------------------------------------------------------------------------

    def get_settings(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            return {"workTrackerConfig": self._out(workspace.get("workTrackerConfig"))}

    def update_settings(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if "workTrackerConfig" not in body:
            raise BadRequest("Body must contain workTrackerConfig")
        wanted = body["workTrackerConfig"]
        if wanted is not None and not isinstance(wanted, Mapping):
            raise BadRequest("workTrackerConfig must be an object or null")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            config = None if wanted is None else self._tracker_config(workspace, wanted)
            self.store.update("workspaces", workspace_id, {"workTrackerConfig": config, "updatedAt": self._now()})
            return {"success": True, "workTrackerConfig": self._out(config)}

    def _tracker_config(self, workspace: Record, wanted: Mapping[str, Any]) -> dict[str, Any]:
        provider = wanted.get("provider")
        if provider == "github":
            if not workspace.get("githubInstallationId"):
                raise BadRequest("github_app_not_installed")
            label = wanted.get("inboundLabel")
            label = label.strip() if isinstance(label, str) else ""
            return {"provider": "github", **({"inboundLabel": label} if label else {})}
        if provider != "linear":
            raise BadRequest("unsupported_provider")
        connector_id = wanted.get("connectorId")
        if not isinstance(connector_id, str) or not connector_id:
            raise BadRequest("workTrackerConfig.connectorId is required")
        # connectors are another area's records: read them only if that area registered them
        connector = self.store.get("connectors", connector_id) if "connectors" in TABLES else None
        if connector is None or connector.get("teamId") != workspace["teamId"]:
            raise Forbidden("Connector not found or does not belong to this team")
        links = self.store.rows("connectorWorkspaces") if "connectorWorkspaces" in TABLES else iter(())
        if not any(
            link.get("connectorId") == connector_id
            and link.get("workspaceId") == workspace["id"]
            and link.get("enabled")
            for link in links
        ):
            raise Unprocessable("Connector is not enabled for this workspace")
        return {"provider": "linear", "connectorId": connector_id}

    # -- projects -----------------------------------------------------------------------------------------------

    def list_projects(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            return {"projects": self._out(workspace.get("projects") or [])}

    def upsert_project(
        self, principal: Principal, workspace_id: str, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        project = self._project(body, "name is required")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            projects = list(workspace.get("projects") or [])
            index = next((i for i, p in enumerate(projects) if p.get("name") == project["name"]), None)
            if index is None:
                projects.append(project)
            else:
                projects[index] = project
            self.store.update("workspaces", workspace_id, {"projects": projects, "updatedAt": self._now()})
            return (201 if index is None else 200), {"project": self._out(project), "projects": self._out(projects)}

    def replace_projects(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        given = body.get("projects")
        if not isinstance(given, list):
            raise BadRequest("projects must be an array")
        projects = [self._project(p, "Each project must have a name string") for p in given]
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            self.store.update("workspaces", workspace_id, {"projects": projects, "updatedAt": self._now()})
            return {"projects": self._out(projects)}

    @staticmethod
    def _project(value: Any, message: str) -> dict[str, Any]:
        """Only `name` and the non-empty `path`, `description`, `color`: the real route drops the rest."""
        if not isinstance(value, Mapping) or not isinstance(value.get("name"), str) or not value["name"]:
            raise BadRequest(message)
        return {"name": value["name"], **{f: value[f] for f in _PROJECT_FIELDS if value.get(f)}}

    # -- runners, knowledge health, releases ----------------------------------------------------------------------

    def list_runners(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            now = self.clock.now()
            runners = []
            for account in self.store.find("accounts", "team", str(workspace["teamId"])):
                account_id = str(account["id"])
                if (
                    workspace.get("accessMode") != "open"
                    and access.link_of(self.store, account_id, workspace_id) is None
                ):
                    continue
                for beat in self.store.find("heartbeats", "account", account_id):
                    age = now - parse_iso(str(beat["lastHeartbeatAt"]))
                    if age >= HEARTBEAT_WINDOW:
                        continue
                    most, active = int(beat.get("maxConcurrentWorkers") or 0), int(beat.get("activeWorkerCount") or 0)
                    runners.append(
                        {
                            "id": beat["id"],
                            "accountId": account_id,
                            "accountName": account.get("name") or "Unknown",
                            "accountType": account.get("type") or "user",
                            "localUiUrl": beat["localUiUrl"],
                            "status": "online" if age < RUNNER_ONLINE else "stale",
                            "lastHeartbeatAt": beat["lastHeartbeatAt"],
                            "maxConcurrentWorkers": most,
                            "activeWorkerCount": active,
                            "capacity": max(0, most - active),
                            "environment": beat.get("environment"),
                        }
                    )
            runners.sort(key=lambda r: (r["status"] != "online", -r["capacity"]))
            return {"runners": self._out(runners)}

    def knowledge_health(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        """The mock's knowledge store holds the workspace's memories and no code index."""
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            memories = self.api.area(Memories).count_for(workspace)
            corpora = [{"corpus": "memory", "currentChunks": memories}] if memories else []
            health = {
                "workspaceId": workspace_id,
                "corpora": corpora,
                "totalCurrentChunks": memories,
                "lastIngestByRepo": [],
                "pendingEntityRefs": 0,
                "hasCodeIndex": False,
                "lastSuccessfulIngestAt": None,
                "staleAfterDays": STALE_AFTER_DAYS,
                "freshness": "no-index",
            }
            return {"health": health}

    def last_release(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            access.workspace_for(self.store, principal, workspace_id)
            released = [t for t in self.store.find("tasks", "workspace", workspace_id) if t.get("releaseResult")]
            released.sort(key=lambda t: (parse_iso(str(t["updatedAt"])), str(t["id"])), reverse=True)
            recent = released[:RECENT_RELEASES]

            def sha(task: Mapping[str, Any]) -> Any:
                return (task.get("result") or {}).get("sha")

            def common(task: Mapping[str, Any]) -> dict[str, Any]:
                return {
                    "taskId": task["id"],
                    "taskTitle": task["title"],
                    "missionId": task.get("missionId"),
                    "completedAt": task["updatedAt"],
                }

            last = (
                {**common(recent[0]), "releaseResult": recent[0]["releaseResult"], "sha": sha(recent[0])}
                if recent
                else None
            )
            rows = [
                {
                    **common(t),
                    **{f: t["releaseResult"].get(f) for f in ("deployState", "deployUrl", "status")},
                    "sha": sha(t),
                }
                for t in recent
            ]
            return {"lastRelease": self._out(last), "recentReleases": self._out(rows)}

    # -- GitHub repo, migration slots -----------------------------------------------------------------------------

    def create_repo(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The mock's GitHub App: `<org or team slug>/<name>`, linked to the workspace as its repo."""
        name = self._str(body, "name", required=True, message="name (repo name) is required")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            team = self.store.get("teams", str(workspace["teamId"])) or {}
            owner = self._str(body, "org") or str(team.get("slug") or "buildd-mock")
            full_name = f"{owner}/{name}"
            taken = [w for w in self.store.find("workspaces", "repo", full_name.lower()) if w["id"] != workspace_id]
            if taken:
                raise Unprocessable(f"Repository {full_name} already exists")
            self.store.update("workspaces", workspace_id, {"repo": normalise_repo(full_name), "updatedAt": self._now()})
            return {"repoUrl": f"https://github.com/{full_name}", "fullName": full_name}

    def reserve_migration_slot(self, principal: Principal, workspace_id: str, body: Any) -> dict[str, Any]:
        current = body.get("currentMax") if isinstance(body, Mapping) else None
        floor = max(0, int(current)) if isinstance(current, (int, float)) and not isinstance(current, bool) else 0
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            number = max(int(workspace.get("lastMigrationNumber") or 0), floor) + 1
            self.store.update("workspaces", workspace_id, {"lastMigrationNumber": number, "updatedAt": self._now()})
            return {"nextNumber": number, "formatted": f"{number:04d}"}

    # -- schedules: cron preview and suggestions --------------------------------------------------------------------

    def validate_cron(
        self, principal: Principal, workspace_id: str, cron: str | None, timezone: str | None
    ) -> dict[str, Any]:
        with self.store.lock:
            access.workspace_for(self.store, principal, workspace_id)
        if not cron:
            return {"valid": False, "description": "No expression provided"}
        tz = timezone or "UTC"
        try:
            cron_fields(cron)
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            return {"valid": False, "description": str(exc) or f"Invalid timezone: {tz}"}
        runs: list[str] = []
        after = self.clock.now()
        for _ in range(PREVIEW_RUNS):
            when = next_cron_time(cron, after, tz)
            if when is None:
                break
            runs.append(_preview(when.astimezone(zone)))
            after = when
        return {"valid": True, "description": describe_cron(cron), "nextRuns": runs}

    def suggest_schedule_update(
        self, principal: Principal, workspace_id: str, schedule_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        reason = self._str(body, "reason", required=True, message="reason is required")
        if body.get("cronExpression") is None and body.get("enabled") is None:
            raise BadRequest("At least one of cronExpression or enabled must be provided")
        suggestion: dict[str, Any] = {"reason": reason}
        if body.get("cronExpression") is not None:
            try:
                cron_fields(str(body["cronExpression"]))
            except ValueError as exc:
                raise BadRequest(f"Invalid cron expression: {exc}") from exc
            suggestion["cronExpression"] = str(body["cronExpression"])
        if body.get("enabled") is not None:
            suggestion["enabled"] = bool(body["enabled"])
        for source, field in (("taskId", "suggestedByTaskId"), ("workerId", "suggestedByWorkerId")):
            if isinstance(body.get(source), str):
                suggestion[field] = body[source]
        with self.store.transaction():
            schedule = access.schedule_for(self.store, principal, workspace_id, schedule_id)
            if schedule.get("pendingSuggestion"):
                raise Conflict("A suggestion is already pending. Wait for it to be approved or dismissed.")
            now = self._now()
            suggestion["suggestedAt"] = now
            updated = self.store.update("schedules", schedule_id, {"pendingSuggestion": suggestion, "updatedAt": now})
            return {"schedule": self._out(updated), "suggestion": self._out(suggestion)}

    def approve_schedule_suggestion(self, principal: Principal, workspace_id: str, schedule_id: str) -> dict[str, Any]:
        with self.store.transaction():
            schedule, suggestion = self._pending(principal, workspace_id, schedule_id)
            changes: dict[str, Any] = {"pendingSuggestion": None, "updatedAt": self._now()}
            if "cronExpression" in suggestion:
                changes["cronExpression"] = suggestion["cronExpression"]
            if "enabled" in suggestion:
                changes["enabled"] = suggestion["enabled"]
                if suggestion["enabled"] and not schedule["enabled"]:
                    changes.update(consecutiveFailures=0, lastError=None)
            merged = {**schedule, **changes}
            when = next_cron_time(str(merged["cronExpression"]), self.clock.now(), str(merged["timezone"]))
            changes["nextRunAt"] = to_iso(when) if merged["enabled"] and when is not None else None
            return {"schedule": self._out(self.store.update("schedules", schedule_id, changes))}

    def dismiss_schedule_suggestion(self, principal: Principal, workspace_id: str, schedule_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._pending(principal, workspace_id, schedule_id)
            changes = {"pendingSuggestion": None, "updatedAt": self._now()}
            return {"schedule": self._out(self.store.update("schedules", schedule_id, changes))}

    def _pending(self, principal: Principal, workspace_id: str, schedule_id: str) -> tuple[Record, Mapping[str, Any]]:
        """Reach (404), then level (session or admin key, else 403), then the schedule and its suggestion (404)."""
        access.workspace_for(self.store, principal, workspace_id)
        access.require_admin_level(principal, "Suggestions are approved from a session or with an admin-level API key")
        schedule = access.schedule_for(self.store, principal, workspace_id, schedule_id)
        suggestion = schedule.get("pendingSuggestion")
        if not suggestion:
            raise NotFound.of("Suggestion")  # the real route says "No pending suggestion"
        return schedule, suggestion
