"""Initiatives: planning containers above missions (initiative -> mission -> task), with no engine of their own.

Edit and delete are plain, so they are the resource layer's (`INITIATIVE`, admin-level keys only; deleting one
detaches its missions and artifacts, as the real `ON DELETE SET NULL` does). Listing, creating and reading roll up
the child missions, which is this area's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain.area import Area
from mockserver.domain.areas.missions import Missions, limit_evaluations, require_admin
from mockserver.domain.areas.missions_rules import initiative_progress, kpi_state
from mockserver.domain.auth import Principal
from mockserver.domain.errors import NotFound
from mockserver.domain.resources import Cascade, Resource, declare
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record, register_table

__all__ = ("EFFORT_DAYS", "INITIATIVE", "UNASSIGNED", "Initiatives")

EFFORT_DAYS = 14
UNASSIGNED = "__unassigned__"

register_table("initiativeEvaluations", "id")  # when on-demand KPI evaluations ran (the hourly limit)

INITIATIVE = declare(
    Resource(
        "initiative",
        scope="team",
        key_level="admin",
        cascades=(
            Cascade("missions", "initiativeId", detach=True),
            Cascade("missionArtifacts", "initiativeId", detach=True),
            Cascade("initiativeEvaluations", "initiativeId"),
        ),
    )
)


class Initiatives(Area):
    @property
    def missions(self) -> Missions:
        return self.api.area(Missions)

    def initiative_for(self, principal: Principal, initiative_id: str) -> Record:
        initiative = self.store.get("initiatives", initiative_id)
        if initiative is None or str(initiative["teamId"]) not in principal.team_ids:
            raise NotFound.of("Initiative")
        return initiative

    def _children(self, initiative_id: str) -> list[dict[str, Any]]:
        """Each child mission with its task tally (what the rollup reads)."""
        out = []
        for mission in self.store.find("missions", "initiativeId", initiative_id):
            summaries = self.missions.task_summaries(str(mission["id"]))
            out.append({"mission": mission, "summaries": summaries, **self.missions.progress_of(summaries)})
        return out

    def _list_item(self, initiative: Record) -> dict[str, Any]:
        children = self._children(str(initiative["id"]))
        rollup = initiative_progress([{**c, "status": c["mission"]["status"]} for c in children])
        times = [parse_iso(str(c["mission"]["updatedAt"])) for c in children]
        times += [parse_iso(str(s["updatedAt"])) for c in children for s in c["summaries"]]
        return {
            **initiative,
            "workspace": self.missions.workspace_ref(initiative.get("workspaceId")),
            "progress": rollup,
            "segments": [seg for c in children for seg in c["segments"]],
            "missionCount": len(children),
            "lastMotionAt": to_iso(max(times)) if times else None,
        }

    def list_initiatives(self, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
        team_ids = principal.team_ids & {query["teamId"]} if query.get("teamId") else principal.team_ids
        with self.store.lock:
            found = [i for team in sorted(team_ids) for i in self.store.find("initiatives", "scope", team)]
            found = [
                i
                for i in found
                if all(str(i.get(f)) == query[f] for f in ("status", "workspaceId") if query.get(f) is not None)
            ]
            found.sort(key=lambda i: (str(i["createdAt"]), str(i["id"])), reverse=True)
            return self._out({"initiatives": [self._list_item(i) for i in found]})

    def create_initiative(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        require_admin(principal)
        title = self._str(body, "title", required=True, message="title is required")
        with self.store.transaction():
            team_id = self._team_for_create(principal, body.get("teamId"))
            if body.get("workspaceId"):
                workspace = self.store.get("workspaces", str(body["workspaceId"]))
                if workspace is None or str(workspace["teamId"]) not in principal.team_ids:
                    raise NotFound.of("Workspace")
                team_id = str(workspace["teamId"])
            now = self._now()
            initiative = {
                "id": self.ids.uuid4(),
                "teamId": team_id,
                "workspaceId": body.get("workspaceId") or None,
                "title": title,
                "description": body.get("description") or None,
                "status": body.get("status") or "active",
                "priority": int(body.get("priority") or 0),
                "progressCache": None,
                "contextArtifactIds": list(body.get("contextArtifactIds") or []),
                "kpis": body.get("kpis"),
                "kpiState": None,
                "autoVerify": body.get("autoVerify") if isinstance(body.get("autoVerify"), bool) else None,
                "createdByUserId": principal.user_id,
                "createdAt": now,
                "updatedAt": now,
            }
            return self._out(self.store.insert("initiatives", initiative))

    def get_initiative(self, principal: Principal, initiative_id: str) -> dict[str, Any]:
        with self.store.lock:
            initiative = self.initiative_for(principal, initiative_id)
            children = self._children(initiative_id)
            missions = [
                {
                    **{
                        f: c["mission"].get(f)
                        for f in ("id", "title", "status", "priority", "workspaceId", "updatedAt")
                    },
                    "workspace": self.missions.workspace_ref(c["mission"].get("workspaceId")),
                    **{f: c[f] for f in ("totalTasks", "completedTasks", "progress", "segments")},
                }
                for c in children
            ]
            own = self.store.find("missionArtifacts", "initiativeId", initiative_id)
            return self._out(
                {
                    **initiative,
                    "workspace": self.missions.workspace_ref(initiative.get("workspaceId")),
                    "missions": missions,
                    "progress": initiative_progress([{**c, "status": c["mission"]["status"]} for c in children]),
                    "artifacts": own,
                }
            )

    # -- artifacts, KPIs, tracker ---------------------------------------------------------------------------------

    def list_artifacts(self, principal: Principal, initiative_id: str) -> dict[str, Any]:
        with self.store.lock:
            self.initiative_for(principal, initiative_id)
            found = {str(a["id"]): a for a in self.store.find("missionArtifacts", "initiativeId", initiative_id)}
            for mission in self.store.find("missions", "initiativeId", initiative_id):
                for artifact in self.store.find("missionArtifacts", "missionId", str(mission["id"])):
                    found.setdefault(str(artifact["id"]), artifact)
            return self._out({"artifacts": list(found.values())})

    def create_artifact(self, principal: Principal, initiative_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            initiative = self.initiative_for(principal, initiative_id)
            artifact, upserted = self.missions.attach_artifact(
                {"initiativeId": initiative_id, "workspaceId": initiative.get("workspaceId")}, body
            )
            return self._out({"artifact": artifact, **({"upserted": True} if upserted else {})})

    def kpis(self, principal: Principal, initiative_id: str) -> dict[str, Any]:
        with self.store.lock:
            initiative = self.initiative_for(principal, initiative_id)
            return self._out({"kpis": initiative.get("kpis"), "kpiState": initiative.get("kpiState")})

    def evaluate(self, principal: Principal, initiative_id: str) -> dict[str, Any]:
        with self.store.transaction():
            initiative = self.initiative_for(principal, initiative_id)
            require_admin(principal)
            kpis = initiative.get("kpis") or []
            if not kpis:
                return {"message": "No KPIs set — nothing to evaluate", "kpiState": None}
            hour_ago = self.clock.now() - timedelta(hours=1)
            runs = self.store.find("initiativeEvaluations", "initiativeId", initiative_id)
            recent = [r for r in runs if parse_iso(str(r["createdAt"])) >= hour_ago]
            limit_evaluations(len(recent), "initiative")
            now = self._now()
            state = kpi_state(kpis, evaluated_by="mcp" if principal.is_key else "manual", now=now)
            self.store.update("initiatives", initiative_id, {"kpiState": state, "updatedAt": now})
            self.store.insert(
                "initiativeEvaluations", {"id": self.ids.uuid4(), "initiativeId": initiative_id, "createdAt": now}
            )
            return self._out({"kpiState": state})

    def tracker_progress(self, principal: Principal, initiative_id: str) -> dict[str, Any]:
        with self.store.lock:
            self.initiative_for(principal, initiative_id)
            items = [
                item
                for mission in self.store.find("missions", "initiativeId", initiative_id)
                if (item := self.missions.tracker_item(str(mission["id"]), str(mission["title"]))) is not None
            ]
            return {
                "linked": bool(items),
                "provider": "linear" if items else None,
                "items": items,
                "fetchedAt": self._now(),
            }

    def effort(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        """Per initiative (missions without one under `__unassigned__`), 14 days ending today: the tokens of the
        workers on its missions' tasks and their completed / failed outcomes, by the day they started."""
        with self.store.lock:
            workspace = self.store.get("workspaces", workspace_id)
            if workspace is None or str(workspace["teamId"]) not in principal.team_ids:
                raise NotFound.of("Workspace")
            today = self.clock.now().date()
            days = [(today - timedelta(days=n)).isoformat() for n in range(EFFORT_DAYS - 1, -1, -1)]
            efforts: dict[str, dict[str, dict[str, Any]]] = {}
            for mission in self.store.rows("missions"):
                if mission.get("workspaceId") != workspace_id:
                    continue
                window = efforts.setdefault(
                    str(mission.get("initiativeId") or UNASSIGNED),
                    {d: {"date": d, "tokens": 0, "completed": 0, "failed": 0} for d in days},
                )
                for task in self.store.find("tasks", "missionId", str(mission["id"])):
                    for worker in self.store.find("workers", "task", str(task["id"])):
                        day = window.get(str(worker.get("startedAt") or worker["createdAt"])[:10])
                        if day is None:
                            continue
                        day["tokens"] += int(worker.get("inputTokens") or 0) + int(worker.get("outputTokens") or 0)
                        if worker["status"] in ("completed", "failed"):
                            day[worker["status"]] += 1
            return {"efforts": [{"initiativeId": k, "days": list(v.values())} for k, v in sorted(efforts.items())]}
