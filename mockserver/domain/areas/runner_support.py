"""Routes the runner calls besides the worker protocol: the server version, matching local repos to workspaces,
and the admin cleanup of stalled workers and orphaned tasks.

Shapes follow the real routes (apps/web/src/app/api/version, workspaces/match-repos, tasks/cleanup); where they
break the note (cleanup across every team, match-repos over every team's open workspaces, 401 for a non-admin
key) the mock follows the note and docs/deviations.md says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, NotFound
from mockserver.domain.fields import id_of, text
from mockserver.domain.lifecycle import LIVE_WORKER_STATUSES, fail_worker, requeue_task
from mockserver.domain.runtime import parse_iso

__all__ = ("ErrorTraces", "RunnerSupport", "WorkspaceConfig")

# what the mock reports as the latest commit of buildd (the real route asks GitHub): fixed, so runs repeat
MOCK_COMMIT = hashlib.sha1(b"buildd-api-kit mock").hexdigest()
MATCH_REPOS_KEPT = 100
STALLED_AFTER = timedelta(hours=1)
HEARTBEAT_KEPT = timedelta(minutes=10)
_STALLABLE = ("running", "starting")
_ORPHANABLE = ("assigned", "in_progress")  # a task in review keeps its finished worker


def _normalised_url(url: Any) -> str | None:
    """`https://github.com/Acme/Web.git` and `git@github.com:acme/web` -> `acme/web` (the real route's rule)."""
    if not isinstance(url, str) or not url:
        return None
    text = re.sub(r"\.git$", "", url.lower())
    return re.sub(r"^git@[^:]+:", "", re.sub(r"^https?://[^/]+/", "", text))


class RunnerSupport(Area):
    def get_version(self) -> dict[str, Any]:
        return {"latestCommit": MOCK_COMMIT, "latestTag": None, "updatedAt": self._now()}

    def match_repos(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """Local repos against the caller's workspaces by remote URL; the rest split by whether the owner is one
        of the caller's teams' repo owners (the mock's stand-in for the GitHub App's installed orgs)."""
        repos = body.get("repos")
        if not isinstance(repos, list):
            raise BadRequest("repos array required")
        with self.store.lock:
            workspaces = access.visible_workspaces(self.store, principal)
            by_url = {_normalised_url(ws.get("repo")): ws for ws in workspaces if _normalised_url(ws.get("repo"))}
            orgs = {text(ws, "repo").split("/")[0].lower() for ws in workspaces if ws.get("repo")}
            matched, in_org, external = [], [], []
            for repo in repos[:MATCH_REPOS_KEPT]:
                if not isinstance(repo, Mapping):
                    continue
                ws = by_url.get(_normalised_url(repo.get("remoteUrl")))
                owner = repo.get("owner")
                if ws is not None:
                    matched.append({**repo, "workspaceId": ws["id"], "workspaceName": ws["name"]})
                elif isinstance(owner, str) and owner.lower() in orgs:
                    in_org.append({**repo, "inOrg": True})
                else:
                    external.append({**repo, "inOrg": False})
            return self._out({"matched": matched, "unmatchedInOrg": in_org, "unmatchedExternal": external})

    def cleanup_tasks(self, principal: Principal) -> dict[str, Any]:
        """Session or admin-level key: fail workers silent for an hour, requeue assigned tasks nobody works on,
        drop heartbeats older than ten minutes; all within the caller's teams."""
        access.require_admin_level(principal, "Cleanup needs a session or an admin-level API key")
        with self.store.transaction():
            now = self.clock.now()
            stamp = self._now()
            workspaces = access.visible_workspaces(self.store, principal)
            stalled = orphaned = 0
            accounts: set[str] = set()
            for ws in workspaces:
                for task in self.store.find("tasks", "workspace", id_of(ws)):
                    workers = self.store.find("workers", "task", id_of(task))
                    accounts.update(text(w, "accountId") for w in workers)
                    for worker in workers:
                        if (
                            worker["status"] in _STALLABLE
                            and now - parse_iso(text(worker, "updatedAt")) > STALLED_AFTER
                        ):
                            fail_worker(
                                self.store,
                                worker,
                                stamp,
                                self._emit,
                                exit_cause="infra_failure",
                                error="Worker timed out - no activity for over 1 hour",
                            )
                            stalled += 1
                    task = self.store.get("tasks", id_of(task)) or task
                    live = any(
                        w["status"] in LIVE_WORKER_STATUSES for w in self.store.find("workers", "task", id_of(task))
                    )
                    if task["status"] in _ORPHANABLE and not live:
                        requeue_task(self.store, task, stamp, self._emit, event_task=self._event_task(task))
                        orphaned += 1
            stale_beats = [
                beat
                for account in sorted(accounts)
                for beat in self.store.find("heartbeats", "account", account)
                if now - parse_iso(text(beat, "lastHeartbeatAt")) > HEARTBEAT_KEPT
            ]
            for beat in stale_beats:
                self.store.delete("heartbeats", f"{beat['accountId']}|{beat['localUiUrl']}")
            return {
                "cleaned": {
                    "stalledWorkers": stalled,
                    "orphanedTasks": orphaned,
                    "stuckWaitingInput": 0,
                    "retriedTasks": 0,
                    "heartbeatOrphans": 0,
                    "staleHeartbeats": len(stale_beats),
                }
            }


# the git config fields POST /config writes, with the real route's defaults (`body.x || default` / `?? default`)
_GIT_DEFAULTS: dict[str, Any] = {
    "defaultBranch": "main",
    "branchingStrategy": "feature",
    "useBuildBranch": False,
    "commitStyle": "freeform",
    "requiresPR": False,
    "autoCreatePR": False,
    "autoMergeOnGreenCI": True,
    "useClaudeMd": True,
    "bypassPermissions": False,
}
_GIT_OPTIONAL = (
    "branchPrefix",
    "commitPrefix",
    "targetBranch",
    "agentInstructions",
    "autoMergeDenyPaths",
    "autoMergeMaxLines",
    "maxBudgetUsd",
    "debug",
    "debugFile",
    "sandbox",
    "blockConfigChanges",
    "useBackgroundAgents",
    "fallbackModel",
    "extendedContext",
    "thinking",
    "effort",
    "defaultRunnerPreference",
    "enforceGreenCI",
    "defaultBackend",
    "mergePolicy",
)
_GIT_TRIGGERS = ("defaultBranch", "branchingStrategy", "commitStyle", "requiresPR")


class WorkspaceConfig(Area):
    """`/api/workspaces/{id}/config`: the workspace's git and release config as its last write left it."""

    def get_workspace_config(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.lock:
            ws = access.workspace_for(self.store, principal, workspace_id)
            return self._out(
                {
                    "gitConfig": ws.get("gitConfig"),
                    "configStatus": ws.get("configStatus"),
                    "releaseConfig": ws.get("releaseConfig"),
                }
            )

    def save_workspace_config(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            ws = access.workspace_for(self.store, principal, workspace_id)
            if "releaseConfig" in body:
                release = _release_config(body["releaseConfig"])
                self.store.update("workspaces", id_of(ws), {"releaseConfig": release, "updatedAt": self._now()})
                if not any(body.get(k) for k in _GIT_TRIGGERS):
                    return self._out({"success": True, "releaseConfig": release})
            git = {k: body[k] if body.get(k) not in (None, "") else default for k, default in _GIT_DEFAULTS.items()}
            git.update({k: body[k] for k in _GIT_OPTIONAL if body.get(k) is not None})
            self.store.update(
                "workspaces",
                id_of(ws),
                {"gitConfig": git, "configStatus": "admin_confirmed", "updatedAt": self._now()},
            )
            return self._out({"success": True, "gitConfig": git})

    def update_release_config(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if "releaseConfig" not in body:
            raise BadRequest("Body must contain releaseConfig")
        with self.store.transaction():
            ws = access.workspace_for(self.store, principal, workspace_id)
            release = _release_config(body["releaseConfig"])
            self.store.update("workspaces", id_of(ws), {"releaseConfig": release, "updatedAt": self._now()})
            return self._out({"success": True, "releaseConfig": release})


def _release_config(value: Any) -> dict[str, Any] | None:
    """An object is kept; anything else the schema lets through (null, a boolean) clears it, as the real route does."""
    return dict(value) if isinstance(value, Mapping) else None


class ErrorTraces(Area):
    """What `appendErrorTraces` stored, newest first: per worker (keys: their own workers) and per task."""

    def worker_error_traces(
        self, principal: Principal, worker_id: str, limit: int | None = None, since: str | None = None
    ) -> dict[str, Any]:
        with self.store.lock:
            if principal.is_key:
                worker = access.worker_for(self.store, principal, worker_id)
            else:
                found = self.store.get("workers", worker_id)
                ws = self.store.get("workspaces", found.get("workspaceId")) if found else None
                if found is None or ws is None or not access.can_see_workspace(self.store, principal, ws):
                    raise NotFound.of("Worker")
                worker = found
            return self._traces(list(worker.get("errorTraces") or []), limit, since)

    def task_error_traces(
        self, principal: Principal, task_id: str, limit: int | None = None, since: str | None = None
    ) -> dict[str, Any]:
        with self.store.lock:
            task, _ = access.task_for(self.store, principal, task_id)
            traces = [t for w in self.store.find("workers", "task", id_of(task)) for t in w.get("errorTraces") or []]
            return self._traces(traces, limit, since)

    def _traces(self, traces: list[dict[str, Any]], limit: int | None, since: str | None) -> dict[str, Any]:
        cut = _parsed(since)
        if cut is not None:  # an unreadable `since` is ignored, as the real route does
            traces = [t for t in traces if parse_iso(str(t["ts"])) > cut]
        newest = sorted(traces, key=lambda t: str(t["ts"]), reverse=True)[: min(max(limit or 100, 1), 500)]
        return self._out({"traces": newest, "count": len(newest)})


def _parsed(value: str | None) -> datetime | None:
    try:
        return parse_iso(value) if value else None
    except ValueError:
        return None
