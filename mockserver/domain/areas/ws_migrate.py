"""Moving a workspace to another team: a dry run (precheck) with a signed, five-minute token, then the move.

The report classifies what the move does to each kind of record, as the real server's `classifyMigration`:
tasks, workers, artifacts, schedules and skills move with the workspace (`MOVES_CLEANLY`); the accounts linked to
it lose their access (`WILL_BREAK`, each to be acknowledged in `confirmedItems`); memories stay with the source
team (`LEFT_BEHIND`). Execute re-checks the token and the acknowledgments against a report it computes again,
then runs the phases in one transaction and records the run, so repair finds every run complete.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound
from mockserver.domain.runtime import epoch_ms
from mockserver.domain.store import TABLES, Record, register_table

__all__ = ("PHASES", "Migrations")

TOKEN_TTL = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)
ACK_REQUIRED = ("NEEDS_RE_ENTRY", "NEEDS_RE_AUTH", "WILL_BREAK")
DISPOSITIONS = ("MOVES_CLEANLY", "NEEDS_RE_ENTRY", "NEEDS_RE_AUTH", "WILL_BREAK", "LEFT_BEHIND")
PHASES = (
    "workspace_team",
    "missions_team",
    "skills_team",
    "clear_account_workspaces",
    "clear_connector_workspaces",
    "delete_secrets",
    "checklist_artifact",
)
_SECRET = b"buildd-mock-migration"  # the mock's signing key: tokens are only ever checked by the mock itself
_LIVE_WORKERS = ("idle", "starting", "running", "waiting_input")

register_table("migrationRuns", "runId")


class Migrations(Area):
    """POST /api/workspaces/{id}/migrate/precheck, /execute and /repair."""

    def precheck(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            workspace = self._workspace(principal, workspace_id)
            destination = self._destination(principal, workspace, body.get("destinationTeamId"))
            report = self._report(workspace, destination)
            now = self.clock.now()
            self._artifact(
                workspace_id,
                f"Migration dry-run → {destination['name']}",
                report,
                {"kind": "workspace-migration-dry-run", "destinationTeamId": destination["id"]},
            )
            return {"report": report, "dryRunToken": self._sign(workspace_id, str(destination["id"]), epoch_ms(now))}

    def execute(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not body.get("destinationTeamId") or not body.get("dryRunToken"):
            raise BadRequest("destinationTeamId and dryRunToken are required")
        confirmed = body.get("confirmedItems") or []
        if not isinstance(confirmed, list):
            raise BadRequest("confirmedItems must be an array")
        with self.store.transaction():
            workspace = self._workspace(principal, workspace_id)
            destination = self._destination(principal, workspace, body["destinationTeamId"])
            reason = self._verify(str(body["dryRunToken"]), workspace_id, str(destination["id"]))
            if reason is not None:
                raise BadRequest("invalid_token", reason=reason)
            report = self._report(workspace, destination)
            if report["precheck"]["status"] == "FAIL":
                raise Conflict("precheck_failed", precheck=report["precheck"])
            missing = [key for key in report["requiredAcks"] if key not in confirmed]
            if missing:
                raise BadRequest("unconfirmed_items", missing=missing)
            run_id = self.ids.uuid4()
            source_team = str(workspace["teamId"])
            outcomes, checklist = self._run_phases(run_id, workspace, destination, report)
            self.store.insert(
                "migrationRuns",
                {
                    "runId": run_id,
                    "workspaceId": workspace_id,
                    "sourceTeamId": source_team,
                    "destinationTeamId": destination["id"],
                    "phases": {o["phase"]: {"status": "completed", "detail": o["detail"]} for o in outcomes},
                    "createdAt": self._now(),
                },
            )
            return {
                "ok": True,
                "runId": run_id,
                "workspaceId": workspace_id,
                "sourceTeamId": source_team,
                "destinationTeamId": destination["id"],
                "outcomes": outcomes,
                "checklistArtifactId": checklist,
            }

    def repair(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        run_id = body.get("runId")
        if not isinstance(run_id, str) or not run_id:
            raise BadRequest("runId is required")
        with self.store.lock:
            self._workspace(principal, workspace_id)
            run = self.store.get("migrationRuns", run_id)
            if run is None:
                raise NotFound.of("Migration run")
            if run["workspaceId"] != workspace_id:
                raise BadRequest("Migration run does not belong to this workspace")
            destination = str(run["destinationTeamId"])
            if destination not in principal.team_ids:
                raise NotFound.of("Destination team")
            if principal.user_id is not None and not self._team_admin(principal, destination):
                raise Forbidden("You must be an admin on the destination team to repair a migration.")
            # the mock runs every phase in one transaction: a recorded run is always complete
            return {"ok": True, "runId": run_id, "alreadyComplete": True}

    # -- checks --------------------------------------------------------------------------------------------------

    def _workspace(self, principal: Principal, workspace_id: str) -> Record:
        """Reach (404), then the level: sessions and admin-level keys (403; the real route says 401)."""
        workspace = access.workspace_for(self.store, principal, workspace_id)
        access.require_admin_level(principal, "Migrating a workspace needs a session or an admin-level API key")
        return workspace

    def _destination(self, principal: Principal, workspace: Record, team_id: Any) -> Record:
        if not isinstance(team_id, str) or not team_id:
            raise BadRequest("destinationTeamId is required")
        if team_id == workspace["teamId"]:
            raise BadRequest("same_team")
        team = self.store.get("teams", team_id)
        if team is None or team_id not in principal.team_ids:
            raise NotFound.of("Destination team")
        if principal.user_id is not None and not (
            self._team_admin(principal, str(workspace["teamId"])) and self._team_admin(principal, team_id)
        ):
            raise Forbidden("You must be an admin on both teams to migrate a workspace.")
        return team

    def _team_admin(self, principal: Principal, team_id: str) -> bool:
        """Admin or owner (the real gate: any role but `member`)."""
        return access.team_role(self.store, principal.user_id, team_id) not in (None, "member")

    # -- the dry-run token ----------------------------------------------------------------------------------------

    @staticmethod
    def _signature(workspace_id: str, team_id: str, issued: int) -> str:
        return hmac.new(_SECRET, f"{workspace_id}:{team_id}:{issued}".encode(), hashlib.sha256).hexdigest()

    def _sign(self, workspace_id: str, team_id: str, issued: int) -> str:
        return f"{issued}.{self._signature(workspace_id, team_id, issued)}"

    def _verify(self, token: str, workspace_id: str, team_id: str) -> str | None:
        """None when valid, else the reason: malformed, tampered, future or stale."""
        issued_text, _, signature = token.partition(".")
        if not issued_text.isdigit() or not signature:
            return "malformed"
        issued = int(issued_text)
        if not hmac.compare_digest(signature, self._signature(workspace_id, team_id, issued)):
            return "tampered"
        now = epoch_ms(self.clock.now())
        if issued > now + CLOCK_SKEW // timedelta(milliseconds=1):
            return "future"
        if now - issued > TOKEN_TTL // timedelta(milliseconds=1):
            return "stale"
        return None

    # -- the report ------------------------------------------------------------------------------------------------

    def _report(self, workspace: Record, destination: Record) -> dict[str, Any]:
        workspace_id = str(workspace["id"])
        source = self.store.get("teams", str(workspace["teamId"])) or {"id": workspace["teamId"], "name": ""}
        tasks = self.store.find("tasks", "workspace", workspace_id)
        workers = [w for t in tasks for w in self.store.find("workers", "task", str(t["id"]))]
        schedules = self.store.find("schedules", "workspace", workspace_id)
        skills = self.store.find("skills", "workspace", workspace_id) if "skills" in TABLES else []
        links = self.store.find("accountWorkspaces", "workspace", workspace_id)
        groups: list[dict[str, Any]] = [
            {"entity": "Tasks", "disposition": "MOVES_CLEANLY", "count": len(tasks)},
            {
                "entity": "Workers",
                "disposition": "MOVES_CLEANLY",
                "count": len(workers),
                "detail": f"{sum(1 for w in workers if w.get('status') in _LIVE_WORKERS)} in-flight",
            },
            {
                "entity": "Artifacts",
                "disposition": "MOVES_CLEANLY",
                "count": len(self.store.find("artifacts", "workspace", workspace_id)),
            },
            {
                "entity": "Task Schedules",
                "disposition": "MOVES_CLEANLY",
                "count": len(schedules),
                **(
                    {"detail": "; ".join(f'"{s["name"]}" ({s["cronExpression"]})' for s in schedules)}
                    if schedules
                    else {}
                ),
            },
            {"entity": "Roles (workspace-scoped)", "disposition": "MOVES_CLEANLY", "count": len(skills)},
        ]
        if links:
            items = []
            for link in links:
                account = self.store.get("accounts", str(link["accountId"])) or {}
                items.append(
                    {
                        "key": f"account:{link['accountId']}",
                        "label": f'Runner account "{account.get("name", link["accountId"])}" access removed',
                        "disposition": "WILL_BREAK",
                    }
                )
            groups.append(
                {
                    "entity": "Account Access",
                    "disposition": "WILL_BREAK",
                    "count": len(items),
                    "detail": "source-team accounts removed — add destination-team accounts post-migration",
                    "items": items,
                }
            )
        groups.append(
            {
                "entity": "Knowledge (memory corpus)",
                "disposition": "LEFT_BEHIND",
                "count": 0,
                "detail": f"{source['id']}:memory stays in source team namespace",
            }
        )
        installation = workspace.get("githubInstallationId")
        github_ok = not installation or self._installation_ok(str(installation))
        summary = dict.fromkeys(DISPOSITIONS, 0)
        for group in groups:
            kind = group["disposition"]
            summary[kind] += len(group.get("items") or []) or group["count"] if kind in ACK_REQUIRED else 1
        github: dict[str, Any] = {"org": "linked installation" if installation else None, "ok": github_ok}
        if not github_ok:
            github["message"] = "Migration blocked: the workspace's GitHub App installation is missing or suspended."
        return {
            "workspaceId": workspace_id,
            "workspaceName": workspace["name"],
            "sourceTeamId": source["id"],
            "sourceTeamName": source.get("name", ""),
            "destinationTeamId": destination["id"],
            "destinationTeamName": destination.get("name", ""),
            "generatedAt": self._now(),
            "precheck": {"status": "PASS" if github_ok else "FAIL", "githubApp": github},
            "summary": summary,
            "groups": groups,
            "requiredAcks": [
                item["key"]
                for group in groups
                for item in group.get("items") or []
                if item["disposition"] in ACK_REQUIRED
            ],
        }

    def _installation_ok(self, installation_id: str) -> bool:
        """An installation another area stores, present and not suspended; none stored means none to trust."""
        if "githubInstallations" not in TABLES:
            return False
        found = self.store.get("githubInstallations", installation_id)
        return found is not None and not found.get("suspendedAt")

    # -- the phases ----------------------------------------------------------------------------------------------

    def _run_phases(
        self, run_id: str, workspace: Record, destination: Record, report: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], str]:
        workspace_id, team_id, now = str(workspace["id"]), str(destination["id"]), self._now()
        source_team = str(workspace["teamId"])
        self.store.update("workspaces", workspace_id, {"teamId": team_id, "updatedAt": now})
        skills = self.store.find("skills", "workspace", workspace_id) if "skills" in TABLES else []
        for skill in skills:
            if skill["teamId"] == source_team:
                self.store.update("skills", str(skill["id"]), {"teamId": team_id})
        removed = []
        for link in self.store.find("accountWorkspaces", "workspace", workspace_id):
            account = self.store.get("accounts", str(link["accountId"])) or {}
            removed.append(f'Runner account "{account.get("name", link["accountId"])}" access removed')
            self.store.delete("accountWorkspaces", f"{link['accountId']}|{workspace_id}")
        artifact = self._artifact(
            workspace_id,
            f"Post-Migration Checklist → {destination['name']}",
            report,
            {"kind": "workspace-migration-checklist", "runId": run_id, "destinationTeamId": team_id},
        )
        details: dict[str, dict[str, Any]] = {
            "workspace_team": {"moved": True},
            "missions_team": {"severedDeps": []},
            "skills_team": {},
            "clear_account_workspaces": {"removedAccounts": removed},
            "clear_connector_workspaces": {"removedConnectors": []},
            "delete_secrets": {"deletedSecrets": []},
            "checklist_artifact": {"checklistArtifactId": artifact},
        }
        return [{"phase": p, "status": "completed", "detail": details[p]} for p in PHASES], artifact

    def _artifact(self, workspace_id: str, title: str, report: Mapping[str, Any], metadata: dict[str, Any]) -> str:
        """A report artifact on the workspace (the audit trail of a dry run, the checklist of a move)."""
        now = self._now()
        record = self.store.insert(
            "artifacts",
            {
                "id": self.ids.uuid4(),
                "workerId": None,
                "workspaceId": workspace_id,
                "taskId": None,
                "key": None,
                "type": "report",
                "title": title,
                "content": json.dumps(report, indent=2, ensure_ascii=False),
                "url": None,
                "storageKey": None,
                "visibility": "private",
                "metadata": metadata,
                "shareUrl": None,
                "createdAt": now,
                "updatedAt": now,
            },
        )
        return str(record["id"])
