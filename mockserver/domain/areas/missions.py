"""Missions: long-running objectives of a team that own tasks (issue 14).

A mission is in reach of its team's members and keys (else `404 Mission not found`); writes and most reads need a
session or an admin-level key (`403 Requires admin-level API key`). Running a mission creates its planning task
through the core `createTask` (so `task:created`/`task:assigned` go out as for any task) with the mission's id,
then announces `mission:cycle_started` on `mission-{id}`. Tasks point at their mission (`missionId`); deleting a
mission detaches them, as the real foreign key does (`ON DELETE SET NULL`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.areas.missions_rules import (
    ACTIVE_TASK_STATUSES,
    LIVE_WORKER_STATUSES,
    criteria_state,
    mission_progress,
    parse_linear_url,
)
from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, LimitExceeded, NotFound
from mockserver.domain.events import mission_channel
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record, register_table

__all__ = (
    "CAPABILITIES",
    "EVALUATIONS_PER_HOUR",
    "LIVE_WORKER_STATUSES",
    "Missions",
    "limit_evaluations",
    "require_admin",
)

CAPABILITY_VERSION = 1
CAPABILITIES = ("startMode", "pacing")
EVALUATIONS_PER_HOUR = 6
EVALUATION_NOTE = "Goal criteria evaluated (on-demand)"
NOTE_TYPES_POSTABLE = ("decision", "question", "warning", "suggestion", "update", "reply", "guidance")
_CLOSED_STATUSES = ("completed", "archived", "budget_exhausted")

# the mission's own tables, and the index that finds a mission's tasks
register_table("missions", "id")
register_group_index("missions", "team", "teamId")
register_group_index("tasks", "missionId", "missionId")
register_table("missionNotes", "id")
register_group_index("missionNotes", "mission", "missionId")
register_table("missionArtifacts", "id")
register_group_index("missionArtifacts", "missionId", "missionId")
register_table("missionSchedules", "missionId")  # heartbeat and template settings a mission keeps
register_table("trackerLinks", "id")
register_group_index("trackerLinks", "entity", "builddEntityId")


def require_admin(principal: Principal) -> None:
    """Sessions pass; a key must be admin-level (the real routes' first check after auth)."""
    access.require_admin_level(principal, "Requires admin-level API key")


def limit_evaluations(recent: int, of: str) -> None:
    """429 once a mission (or an initiative) had its EVALUATIONS_PER_HOUR on-demand evaluations this hour."""
    if recent >= EVALUATIONS_PER_HOUR:
        raise LimitExceeded(
            f"Rate limit: max {EVALUATIONS_PER_HOUR} on-demand evaluations per {of} per hour",
            limit=EVALUATIONS_PER_HOUR,
            current=recent,
        )


class Missions(Area):
    # -- reach ----------------------------------------------------------------------------------------------------

    def mission_for(self, principal: Principal, mission_id: str) -> Record:
        mission = self.store.get("missions", mission_id)
        if mission is None or str(mission["teamId"]) not in principal.team_ids:
            raise NotFound.of("Mission")
        return mission

    def _workspace_in_teams(self, principal: Principal, workspace_id: Any) -> Record:
        workspace = self.store.get("workspaces", str(workspace_id))
        if workspace is None or str(workspace["teamId"]) not in principal.team_ids:
            raise NotFound.of("Workspace")
        return workspace

    def initiative_in_teams(self, team_ids: frozenset[str], initiative_id: Any) -> Record:
        initiative = self.store.get("initiatives", str(initiative_id))
        if initiative is None or str(initiative["teamId"]) not in team_ids:
            raise NotFound.of("Initiative")
        return initiative

    # -- views ----------------------------------------------------------------------------------------------------

    def tasks_of(self, mission_id: str) -> list[Record]:
        tasks = self.store.find("tasks", "missionId", mission_id)
        return sorted(tasks, key=lambda t: (str(t["createdAt"]), str(t["id"])), reverse=True)

    def _latest_worker(self, task_id: str) -> list[dict[str, Any]]:
        workers = sorted(
            self.store.find("workers", "task", task_id), key=lambda w: str(w.get("startedAt") or w["createdAt"])
        )
        return [
            {
                "id": w["id"],
                "status": w["status"],
                "prUrl": w.get("prUrl"),
                "mergedAt": w.get("mergedAt"),
                "prNumber": w.get("prNumber"),
            }
            for w in workers[-1:]
        ]

    def task_summaries(self, mission_id: str) -> list[dict[str, Any]]:
        fields = ("id", "title", "status", "priority", "roleSlug", "mode", "category", "parentTaskId")
        out = []
        for task in self.tasks_of(mission_id):
            summary = {f: task.get(f) for f in fields}
            summary.update(
                creationSource=task.get("creationSource"),
                result=task.get("result"),
                createdAt=task["createdAt"],
                updatedAt=task["updatedAt"],
                workers=self._latest_worker(str(task["id"])),
            )
            out.append(summary)
        return out

    @staticmethod
    def progress_of(summaries: list[dict[str, Any]]) -> dict[str, Any]:
        return mission_progress(summaries, {str(s["id"]): s["workers"] for s in summaries})

    def workspace_ref(self, workspace_id: Any) -> dict[str, Any] | None:
        """`{id, name}` of a mission's or an initiative's workspace, or None."""
        workspace = self.store.get("workspaces", str(workspace_id)) if workspace_id else None
        return {"id": workspace["id"], "name": workspace["name"]} if workspace else None

    def _blocked(self, mission: Record) -> str | None:
        """Why the mission waits on its upstream mission, or None (its gate is met or it has none)."""
        upstream_id = mission.get("dependsOnMissionId")
        if not upstream_id or mission.get("dependencyMetAt"):
            return None
        upstream = self.store.get("missions", str(upstream_id))
        if upstream is None:
            return None
        if mission.get("gateCondition") == "completed":
            return (
                None if upstream["status"] == "completed" else f"Waiting for mission '{upstream['title']}' to complete"
            )
        tasks = self.store.find("tasks", "missionId", str(upstream_id))
        prs = [w for t in tasks for w in self.store.find("workers", "task", str(t["id"])) if w.get("prUrl")]
        if upstream["status"] == "completed" and all(w.get("mergedAt") for w in prs):
            return None
        return f"Waiting for mission '{upstream['title']}' PRs to merge"

    def _list_item(self, mission: Record) -> dict[str, Any]:
        summaries = self.task_summaries(str(mission["id"]))
        schedule = self.store.get("missionSchedules", str(mission["id"])) or {}
        times = [parse_iso(str(s["updatedAt"])) for s in summaries]
        if mission.get("lastTaskStartedAt"):
            times.append(parse_iso(str(mission["lastTaskStartedAt"])))
        return {
            **mission,
            **self.progress_of(summaries),
            "workspace": self.workspace_ref(mission.get("workspaceId")),
            "tasks": summaries,
            "activeAgents": sum(1 for s in summaries for w in s["workers"] if w["status"] == "running"),
            "cronExpression": schedule.get("cronExpression"),
            "lastRunAt": schedule.get("lastRunAt"),
            "nextRunAt": None,  # the mock runs no mission heartbeat
            "lastActivityAt": to_iso(max(times)) if times else None,
            "completedAt": mission["updatedAt"] if mission["status"] in _CLOSED_STATUSES else None,
        }

    # -- list / create --------------------------------------------------------------------------------------------

    def list_missions(self, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
        team_ids = principal.team_ids
        if query.get("teamId"):
            team_ids = team_ids & {query["teamId"]}
        with self.store.lock:
            found = [m for team in sorted(team_ids) for m in self.store.find("missions", "team", team)]
            found = [
                m
                for m in found
                if all(str(m.get(f)) == query[f] for f in ("status", "workspaceId") if query.get(f) is not None)
            ]
            found.sort(
                key=lambda m: (int(m["priority"]), str(m.get("lastTaskStartedAt") or ""), str(m["updatedAt"])),
                reverse=True,
            )
            return self._out({"missions": [self._list_item(m) for m in found]})

    def _start_at(self, body: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """A deferred start as a task reads it (`startAt`, or `startIn` minutes), and how it was given."""
        start_at = self.api.area(Tasks).start_at(body)
        if start_at is None:
            return None, None
        return start_at, "explicit" if body.get("startAt") is not None else "relative"

    def create_mission(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        require_admin(principal)
        title = self._str(body, "title", required=True, message="title is required")
        start_at, resolution = self._start_at(body)
        with self.store.transaction():
            team_id = self._team_for_create(principal, body.get("teamId"))
            if body.get("workspaceId"):
                team_id = str(self._workspace_in_teams(principal, body["workspaceId"])["teamId"])
            upstream = body.get("dependsOnMission")
            if upstream and (self.store.get("missions", str(upstream)) or {}).get("teamId") != team_id:
                raise NotFound.of("Mission")
            if body.get("initiativeId"):
                self.initiative_in_teams(principal.team_ids, body["initiativeId"])
            now = self._now()
            mission: dict[str, Any] = {
                "id": self.ids.uuid4(),
                "teamId": team_id,
                "workspaceId": body.get("workspaceId") or None,
                "title": title,
                "description": body.get("description") or None,
                "status": body.get("status") or "active",
                "costBudgetUsd": f"{float(body['costBudgetUsd']):.2f}"
                if body.get("costBudgetUsd") is not None
                else None,
                "priority": int(body.get("priority") or 0),
                "defaultBackend": body.get("backend") if body.get("backend") in ("claude", "codex") else None,
                "scheduleId": None,
                "parentMissionId": body.get("parentMissionId") or None,
                "initiativeId": body.get("initiativeId") or None,
                "lastEvaluationTaskId": None,
                "dependsOnMissionId": upstream or None,
                "gateCondition": body.get("gateCondition") or "merged",
                "dependencyMetAt": None,
                "contextArtifactIds": list(body.get("contextArtifactIds") or []),
                "maxConcurrentTasks": body.get("maxConcurrentTasks"),
                "pacingMode": "paced" if body.get("pacingMode") == "paced" else "eager",
                "pacingMaxPerHour": body.get("pacingMaxPerHour") if body.get("pacingMode") == "paced" else None,
                "lastTaskStartedAt": None,
                "workingBranch": None,
                "primaryPrNumber": None,
                "primaryPrUrl": None,
                "requiresReview": body.get("requiresReview") is True,
                "mergePolicy": body.get("mergePolicy"),
                "orchestrationMode": body.get("orchestrationMode") or "auto",
                "decompositionSkipped": False,
                "isHeld": body.get("startMode") == "held",
                "startAt": start_at,
                "startResolution": resolution,
                "externalIssueId": None,
                "externalIssueUrl": None,
                "goalCriteria": body.get("goalCriteria"),
                "goalCriteriaState": None,
                "autoVerify": body.get("autoVerify") if isinstance(body.get("autoVerify"), bool) else None,
                "createdByUserId": principal.user_id,
                "createdAt": now,
                "updatedAt": now,
            }
            self.store.insert("missions", mission)
            self._keep_schedule(str(mission["id"]), body)
            organizer = None
            runs = body.get("isHeartbeat") is not False and mission["orchestrationMode"] == "auto"
            if mission["status"] == "active" and runs and start_at is None and mission["workspaceId"]:
                task = self._plan(principal, mission)
                organizer = {"id": task["id"]}
            out = {**self.store.must("missions", str(mission["id"])), "organizerTask": organizer}
            schedule = self.store.get("missionSchedules", str(mission["id"])) or {}
            if schedule.get("cronExpression"):
                out["heartbeatInfo"] = (
                    "Schedule configured but dormant — orchestrationMode is manual"
                    if mission["orchestrationMode"] == "manual"
                    else "Heartbeat enabled"
                )
            return self._out(out)

    def _keep_schedule(self, mission_id: str, body: Mapping[str, Any]) -> None:
        """The heartbeat and template settings (the real server keeps them on a task schedule it owns)."""
        names = ("cronExpression", "skillSlugs", "model", "isHeartbeat", "heartbeatChecklist", "activeHoursStart",
                 "activeHoursEnd", "activeHoursTimezone")  # fmt: skip
        changes = {n: body[n] for n in names if n in body}
        if not changes:
            return
        current = self.store.get("missionSchedules", mission_id)
        if current is None:
            self.store.insert("missionSchedules", {"missionId": mission_id, "lastRunAt": None, **changes})
        else:
            self.store.update("missionSchedules", mission_id, changes)

    # -- one mission ----------------------------------------------------------------------------------------------

    def get_mission(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.lock:
            mission = self.mission_for(principal, mission_id)
            require_admin(principal)
            summaries = self.task_summaries(mission_id)
            schedule = self.store.get("missionSchedules", mission_id) or {}
            status = rationale = evaluated_at = None
            evaluation = next((s for s in summaries if s["id"] == mission.get("lastEvaluationTaskId")), None)
            if evaluation is not None:
                output = (evaluation.get("result") or {}).get("structuredOutput") or {}
                if evaluation["status"] in ACTIVE_TASK_STATUSES:
                    status = "pending"
                elif evaluation["status"] == "completed":
                    status, rationale = output.get("verdict") or "unknown", output.get("rationale")
                    evaluated_at = evaluation["updatedAt"]
            reason = self._blocked(mission)
            upstream = self.store.get("missions", str(mission.get("dependsOnMissionId"))) if reason else None
            subs = [
                m
                for m in self.store.find("missions", "team", str(mission["teamId"]))
                if m.get("parentMissionId") == mission_id
            ]
            return self._out(
                {
                    **mission,
                    **self.progress_of(summaries),
                    "workspace": self.workspace_ref(mission.get("workspaceId")),
                    "tasks": summaries,
                    "subMissions": [{"id": m["id"], "title": m["title"], "status": m["status"]} for m in subs],
                    "skillSlugs": list(schedule.get("skillSlugs") or []),
                    "model": schedule.get("model") or None,
                    "evaluationStatus": status,
                    "lastEvaluationAt": evaluated_at,
                    "evaluationRationale": rationale,
                    "blocked": reason is not None,
                    "blockedReason": reason,
                    "blockedByMissionId": upstream["id"] if upstream else None,
                    "blockedByMissionTitle": upstream["title"] if upstream else None,
                }
            )

    def update_mission(self, principal: Principal, mission_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            existing = dict(self.mission_for(principal, mission_id))  # the store updates records in place
            require_admin(principal)
            plain = ("title", "description", "status", "priority", "externalIssueId", "externalIssueUrl",
                     "maxConcurrentTasks", "gateCondition", "mergePolicy", "orchestrationMode", "pacingMode",
                     "pacingMaxPerHour", "goalCriteria", "contextArtifactIds")  # fmt: skip
            changes: dict[str, Any] = {k: body[k] for k in plain if k in body}
            if "workspaceId" in body:
                if body["workspaceId"]:
                    self._workspace_in_teams(principal, body["workspaceId"])
                changes["workspaceId"] = body["workspaceId"] or None
            if "initiativeId" in body:
                if body["initiativeId"]:
                    self.initiative_in_teams(principal.team_ids, body["initiativeId"])
                changes["initiativeId"] = body["initiativeId"] or None
            if "backend" in body:
                changes["defaultBackend"] = body["backend"] if body["backend"] in ("claude", "codex") else None
            if "dependsOnMission" in body:
                changes["dependsOnMissionId"] = body["dependsOnMission"] or None
                if changes["dependsOnMissionId"] != existing.get("dependsOnMissionId"):
                    changes["dependencyMetAt"] = None
            if "autoVerify" in body:
                changes["autoVerify"] = body["autoVerify"] if isinstance(body["autoVerify"], bool) else None
            if "costBudgetUsd" in body:
                budget = body["costBudgetUsd"]
                changes["costBudgetUsd"] = f"{float(budget):.2f}" if budget is not None else None
                before = existing.get("costBudgetUsd")
                raised = budget is not None and (before is None or float(budget) > float(before))
                if existing["status"] == "budget_exhausted" and raised:
                    changes["status"] = "active"
            if body.get("arm") is True:
                changes["isHeld"] = False
            elif "startMode" in body:
                changes["isHeld"] = body["startMode"] == "held"
            if "startAt" in body or "startIn" in body:
                changes["startAt"], changes["startResolution"] = self._start_at(body)
            self._keep_schedule(mission_id, body)
            changes["updatedAt"] = self._now()
            updated = self.store.update("missions", mission_id, changes)
            actor = f"user {principal.user_id}" if principal.user_id else "API caller"
            if "orchestrationMode" in body and body["orchestrationMode"] != existing.get("orchestrationMode"):
                idle = body["orchestrationMode"] == "manual"
                self.system_note(
                    mission_id,
                    f"Orchestration mode set to {'manual' if idle else 'auto'}",
                    ("Orchestrator is now idle." if idle else "Orchestrator is now active.") + f" (by {actor})",
                )
            if "isHeld" in changes and changes["isHeld"] != existing.get("isHeld"):
                held = changes["isHeld"]
                self.system_note(
                    mission_id,
                    "Mission held" if held else "Mission armed",
                    ("Tasks under this mission are now held." if held else "Tasks are now claimable.")
                    + f" (by {actor})",
                )
            return self._out(updated)

    def delete_mission(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self.mission_for(principal, mission_id)
            require_admin(principal)
            for task in list(self.store.find("tasks", "missionId", mission_id)):
                self.store.update("tasks", str(task["id"]), {"missionId": None})
            for artifact in list(self.store.find("missionArtifacts", "missionId", mission_id)):
                self.store.update("missionArtifacts", str(artifact["id"]), {"missionId": None})
            for note in list(self.store.find("missionNotes", "mission", mission_id)):
                self.store.delete("missionNotes", str(note["id"]))
            for child in self.store.find("missions", "team", str(self.store.must("missions", mission_id)["teamId"])):
                if child.get("parentMissionId") == mission_id:
                    self.store.update("missions", str(child["id"]), {"parentMissionId": None})
            self.store.delete("missionSchedules", mission_id)
            self.store.delete("missions", mission_id)
            return {"success": True}

    # -- run ------------------------------------------------------------------------------------------------------

    def _in_flight_planning(self, mission_id: str) -> Record | None:
        return next(
            (
                t
                for t in self.tasks_of(mission_id)
                if t.get("mode") == "planning" and t["status"] in ACTIVE_TASK_STATUSES
            ),
            None,
        )

    def _plan(self, principal: Principal, mission: Record) -> dict[str, Any]:
        """The planning task, created like any task (its events included), then the cycle announcement."""
        chain = self.ids.uuid4()
        schedule = self.store.get("missionSchedules", str(mission["id"])) or {}
        context: dict[str, Any] = {
            "manualRun": True,
            "cycleNumber": 1,
            "triggerChainId": chain,
            "triggerSource": "manual",
        }
        for name in ("skillSlugs", "model"):
            if schedule.get(name):
                context[name] = schedule[name]
        task = self.api.area(Tasks).create_task(
            principal,
            {
                "title": f"Mission: {mission['title']}",
                "description": mission.get("description"),
                "workspaceId": mission["workspaceId"],
                "priority": mission.get("priority") or 0,
                "mode": "planning",
                "roleSlug": "organizer",
                "context": context,
                "creationSource": "orchestrator",
                "missionId": mission["id"],
                **({"backend": mission["defaultBackend"]} if mission.get("defaultBackend") else {}),
            },
        )
        if schedule:
            self.store.update("missionSchedules", str(mission["id"]), {"lastRunAt": self._now()})
        self._emit(
            mission_channel(mission["id"]),
            "mission:cycle_started",
            {
                "missionId": mission["id"],
                "cycleNumber": 1,
                "triggerChainId": chain,
                "triggerSource": "manual",
                "planningTaskId": task["id"],
            },
        )
        return dict(task)

    def run_mission(self, principal: Principal, mission_id: str) -> tuple[int, dict[str, Any]]:
        with self.store.transaction():
            mission = self.mission_for(principal, mission_id)
            require_admin(principal)
            if mission["status"] != "active":
                raise BadRequest(
                    f"Cannot run mission with status: {mission['status']}. Only active missions can be run."
                )
            reason = self._blocked(mission)
            if reason is not None:
                return 200, {"task": None, "skippedBlocked": True, "blockedReason": reason}
            in_flight = self._in_flight_planning(mission_id)
            if in_flight is not None:
                return 200, self._out({"task": in_flight, "deduped": True})
            if not mission.get("workspaceId"):
                raise BadRequest("Mission has no workspace to plan in")
            task = self._plan(principal, mission)
            if mission.get("orchestrationMode") == "manual":
                actor = f"user {principal.user_id}" if principal.user_id else "API key"
                self.system_note(
                    mission_id,
                    "One-shot run triggered",
                    f"Manual orchestration run triggered by {actor}.",
                    author="user" if principal.user_id else "system",
                )
            return 201, self._out({"task": task})

    # -- notes ----------------------------------------------------------------------------------------------------

    def system_note(
        self, mission_id: str, title: str, text: str, *, author: str = "system", kind: str = "update"
    ) -> Record:
        return self._insert_note(
            mission_id, {"authorType": author, "type": kind, "title": title, "body": text, "status": "open"}
        )

    def _insert_note(self, mission_id: str, fields: Mapping[str, Any]) -> Record:
        note = {
            "id": self.ids.uuid4(),
            "missionId": mission_id,
            "taskId": None,
            "workerId": None,
            "replyTo": None,
            "defaultChoice": None,
            "body": None,
            **fields,
            "createdAt": self._now(),
        }
        return self.store.insert("missionNotes", note)

    def _announce_note(self, note: Record) -> None:
        payload = {"noteId": note["id"], "type": note["type"], "authorType": note["authorType"], "title": note["title"]}
        if note.get("replyTo") and note["type"] == "reply":
            payload["replyTo"] = note["replyTo"]
        self._emit(mission_channel(note["missionId"]), "mission:note_posted", payload)

    def list_notes(self, principal: Principal, mission_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        try:
            limit = min(max(int(query.get("limit") or 50), 1), 100)
        except ValueError as exc:
            raise BadRequest("limit must be an integer") from exc
        with self.store.lock:
            self.mission_for(principal, mission_id)
            require_admin(principal)
            notes = sorted(
                self.store.find("missionNotes", "mission", mission_id),
                key=lambda n: (str(n["createdAt"]), str(n["id"])),
                reverse=True,
            )
            cursor = self.store.get("missionNotes", query.get("cursor")) if query.get("cursor") else None
            if cursor is not None:
                notes = [n for n in notes if str(n["createdAt"]) < str(cursor["createdAt"])]
            if query.get("type"):
                notes = [n for n in notes if n["type"] == query["type"]]
            page = notes[:limit]
            more = len(notes) > limit
            return self._out({"notes": page, "nextCursor": page[-1]["id"] if more else None, "hasMore": more})

    def create_note(self, principal: Principal, mission_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        kind = self._choice(body, "type", NOTE_TYPES_POSTABLE)
        title = self._str(body, "title", required=True, message="title is required")
        if kind is None:
            raise BadRequest(f"Invalid type. Must be one of: {', '.join(NOTE_TYPES_POSTABLE)}")
        with self.store.transaction():
            mission = self.mission_for(principal, mission_id)
            require_admin(principal)
            author = body.get("authorType") if body.get("authorType") in ("agent", "user", "system") else None
            author = author or ("agent" if principal.is_key else "user")
            status = body.get("status") if body.get("status") in ("open", "answered", "dismissed") else None
            workspace = self.store.get("workspaces", str(mission.get("workspaceId"))) or {}
            hidden = workspace.get("dataClass") == "sensitive" and author == "agent"
            reply_to = body.get("replyTo") or None
            if reply_to:
                answered = self.store.get("missionNotes", str(reply_to))
                if answered is not None and answered["missionId"] == mission_id:
                    self.store.update("missionNotes", str(reply_to), {"status": "answered"})
            note = self._insert_note(
                mission_id,
                {
                    "taskId": body.get("taskId") or None,
                    "workerId": body.get("workerId") or None,
                    "authorType": author,
                    "type": kind,
                    "title": title,
                    "body": None if hidden else (body.get("bodyText") or None),
                    "replyTo": reply_to,
                    "defaultChoice": body.get("defaultChoice") or None,
                    "status": status or ("open" if kind == "question" else "answered"),
                },
            )
            self._announce_note({**note, "replyTo": None})
            return self._out(note)

    def reply_to_note(
        self, principal: Principal, mission_id: str, note_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self.store.transaction():
            self.mission_for(principal, mission_id)
            require_admin(principal)
            parent = self.store.get("missionNotes", note_id)
            if parent is None or parent["missionId"] != mission_id:
                raise NotFound.of("Note")
            title = self._str(body, "title", required=True, message="title is required")
            self.store.update("missionNotes", note_id, {"status": "answered"})
            reply = self._insert_note(
                mission_id,
                {
                    "authorType": "agent" if principal.is_key else "user",
                    "type": "reply",
                    "title": title,
                    "body": body.get("bodyText") or None,
                    "replyTo": note_id,
                    "status": "answered",
                },
            )
            self._announce_note(reply)
            return self._out(reply)

    # -- goal criteria --------------------------------------------------------------------------------------------

    def criteria(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.lock:
            mission = self.mission_for(principal, mission_id)
            return self._out(
                {"goalCriteria": mission.get("goalCriteria"), "goalCriteriaState": mission.get("goalCriteriaState")}
            )

    def evaluate(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.transaction():
            mission = self.mission_for(principal, mission_id)
            require_admin(principal)
            criteria = mission.get("goalCriteria") or []
            if not criteria:
                return {"message": "No goalCriteria set — nothing to evaluate", "goalCriteriaState": None}
            hour_ago = to_iso(self.clock.now() - timedelta(hours=1))
            recent = [
                n
                for n in self.store.find("missionNotes", "mission", mission_id)
                if n["title"] == EVALUATION_NOTE and str(n["createdAt"]) >= hour_ago
            ]
            limit_evaluations(len(recent), "mission")
            tasks = self.tasks_of(mission_id)
            workers = [w for t in tasks for w in self.store.find("workers", "task", str(t["id"]))]
            artifacts = self.store.find("missionArtifacts", "missionId", mission_id)
            state = criteria_state(
                criteria,
                tasks=tasks,
                workers=workers,
                artifacts=artifacts,
                evaluated_by="mcp" if principal.is_key else "manual",
                now=self._now(),
            )
            changes: dict[str, Any] = {"goalCriteriaState": state, "updatedAt": self._now()}
            if state["overall"] == "pass" and mission["status"] == "active":
                changes["status"] = "completed"
            self.store.update("missions", mission_id, changes)
            failed = [c for c in state["criteria"] if c["verdict"] != "pass"]
            lines = "\n".join(f"• [{c['verdict']}] {c.get('label', c['type'])}: {c['evidence']}" for c in failed)
            self.system_note(
                mission_id,
                EVALUATION_NOTE,
                f"Overall: {state['overall']}\n\n{lines or 'All criteria passed.'}",
                kind="update" if state["overall"] == "pass" else "warning",
            )
            return self._out({"goalCriteriaState": state})

    # -- artifacts ------------------------------------------------------------------------------------------------

    def attach_artifact(self, owner: Mapping[str, Any], body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """A mission's or initiative's artifact (`owner` has `missionId` or `initiativeId`, and `workspaceId`);
        a `key` already used in that workspace updates that artifact instead."""
        kind = self._str(body, "type", required=True, message="type is required")
        title = self._str(body, "title", required=True, message="title is required")
        if kind == "link" and not body.get("url"):
            raise BadRequest("url is required for link artifacts")
        metadata = {**(body.get("metadata") or {}), **({"url": body["url"]} if body.get("url") else {})}
        now = self._now()
        workspace_id, key = owner.get("workspaceId"), body.get("key") or None
        if key and workspace_id:
            same = next(
                (
                    a
                    for a in self.store.rows("missionArtifacts")
                    if a["workspaceId"] == workspace_id and a["key"] == key
                ),
                None,
            )
            if same is not None:
                changes = {"title": title, "content": body.get("content") or None, "metadata": metadata, "type": kind,
                           "missionId": owner.get("missionId", same["missionId"]), "updatedAt": now}  # fmt: skip
                return self.store.update("missionArtifacts", str(same["id"]), changes), True
        artifact = {
            "id": self.ids.uuid4(),
            "workerId": None,
            "workspaceId": workspace_id,
            "missionId": owner.get("missionId"),
            "initiativeId": owner.get("initiativeId"),
            "key": key,
            "type": kind,
            "title": title,
            "content": body.get("content") or None,
            "visibility": "private",
            "metadata": metadata,
            "shareUrl": None,
            "createdAt": now,
            "updatedAt": now,
        }
        return self.store.insert("missionArtifacts", artifact), False

    def list_artifacts(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.lock:
            self.mission_for(principal, mission_id)
            return self._out({"artifacts": self.store.find("missionArtifacts", "missionId", mission_id)})

    def create_artifact(self, principal: Principal, mission_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            mission = self.mission_for(principal, mission_id)
            artifact, upserted = self.attach_artifact(
                {"missionId": mission_id, "workspaceId": mission.get("workspaceId")}, body
            )
            return self._out({"artifact": artifact, **({"upserted": True} if upserted else {})})

    # -- tracker links and PR state -------------------------------------------------------------------------------

    def link(self, principal: Principal, mission_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            mission = self.mission_for(principal, mission_id)
            require_admin(principal)
            raw = body.get("url")
            url = raw.strip() if isinstance(raw, str) else ""
            if not url:
                raise BadRequest("url is required")
            if not mission.get("workspaceId"):
                raise BadRequest("Mission has no workspace with a Linear connector configured")
            config = (self.store.get("workspaces", str(mission["workspaceId"])) or {}).get("workTrackerConfig") or {}
            if config.get("provider") != "linear" or not config.get("connectorId"):
                raise BadRequest("Workspace has no Linear connector configured (set a Linear work tracker first)")
            parsed = parse_linear_url(url)
            if parsed is None:
                raise BadRequest("Could not parse a Linear project or issue id from the URL")
            now = self._now()
            existing = next(
                (
                    x
                    for x in self.store.rows("trackerLinks")
                    if x["provider"] == "linear" and x["externalId"] == parsed[1]
                ),
                None,
            )
            if existing is not None:  # one link per external id: the URL follows, the owner stays
                link = self.store.update("trackerLinks", str(existing["id"]), {"externalUrl": url, "updatedAt": now})
            else:
                link = self.store.insert(
                    "trackerLinks",
                    {
                        "id": self.ids.uuid4(),
                        "teamId": mission["teamId"],
                        "provider": "linear",
                        "builddEntityType": "mission",
                        "builddEntityId": mission_id,
                        "externalId": parsed[1],
                        "externalUrl": url,
                        "externalUpdatedAt": None,
                        "createdAt": now,
                        "updatedAt": now,
                    },
                )
            self.store.update(
                "missions", mission_id, {"externalIssueId": parsed[1], "externalIssueUrl": url, "updatedAt": now}
            )
            return self._out(link)

    def tracker_item(self, mission_id: str, title: str | None) -> dict[str, Any] | None:
        """The mission's Linear link as a progress item (no Linear data in the mock: percent and state null)."""
        link = next(
            (x for x in self.store.find("trackerLinks", "entity", mission_id) if x["provider"] == "linear"), None
        )
        if link is None:
            return None
        parsed = parse_linear_url(str(link.get("externalUrl") or ""))
        return {
            "kind": parsed[0] if parsed else "project",
            "externalId": link["externalId"],
            "title": title,
            "percent": None,
            "state": None,
            "url": link.get("externalUrl"),
        }

    def tracker_progress(self, principal: Principal, mission_id: str) -> dict[str, Any]:
        with self.store.lock:
            self.mission_for(principal, mission_id)
            require_admin(principal)
            item = self.tracker_item(mission_id, None)
            return {
                "linked": item is not None,
                "provider": "linear" if item else None,
                "items": [item] if item else [],
                "fetchedAt": self._now(),
            }

    def reconcile(self, principal: Principal, mission_id: str, dry_run: bool) -> dict[str, Any]:
        """Every worker PR of the mission is checked; with no GitHub to ask, none can be verified or corrected."""
        with self.store.lock:
            self.mission_for(principal, mission_id)
            prs = [
                w
                for t in self.tasks_of(mission_id)
                for w in self.store.find("workers", "task", str(t["id"]))
                if w.get("prUrl")
            ]
            return {"checked": len(prs), "corrected": 0, "fixes": [], "unverified": len(prs), "dryRun": dry_run}

    @staticmethod
    def capabilities() -> dict[str, Any]:
        return {"version": CAPABILITY_VERSION, "capabilities": list(CAPABILITIES)}
