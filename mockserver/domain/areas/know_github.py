"""The GitHub App, simulated: installations and their repos, pull requests, the signed webhook, the merge inbox.

The mock never calls GitHub. It holds what the real server would read from it: installations (`githubInstallations`),
their repos (`githubRepos`, which workspaces point at with `githubRepoId`) and the pull requests its workers opened
(`pullRequests`, one per repo and number). `create_pr` opens a PR there and records `prUrl`/`prNumber` on the
worker; merging or closing changes it; a signed `pull_request` webhook changes it the way GitHub says it changed.

Reach: a key acts on its team's workers (another team's is `403`); a session sees the installations a workspace of
its teams points at or that the user installed, and merges PRs of its workspaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.areas.know import DomainErrorWithBody
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, register_table

__all__ = ("WEBHOOK_SECRET", "GitHub", "webhook_signature")

INSTALLATIONS = "githubInstallations"
REPOS = "githubRepos"
PULLS = "pullRequests"
register_table(INSTALLATIONS, "id")
register_table(REPOS, "id")
register_table(PULLS, "id")

WEBHOOK_SECRET = "mock-github-webhook-secret"  # the App's webhook secret on the mock (documented in the spec)
APP_INSTALL_URL = "https://github.com/apps/buildd-mock/installations/new"
DEFAULT_RETURN = "/app/workspaces"
OPEN_EVENTS = ("opened", "reopened", "ready_for_review", "synchronize")
PR_NOT_FOUND = "Pull request not found"
NOT_MERGEABLE = "Pull Request is not mergeable"
MERGED = "Pull Request successfully merged"


def webhook_signature(raw: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """`X-Hub-Signature-256` for a body: `sha256=` + hex HMAC-SHA256 under the App's webhook secret."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _summary(pr: Mapping[str, Any]) -> dict[str, Any]:
    return {"number": pr["number"], "url": pr["url"], "state": pr["state"], "title": pr["title"]}


class GitHub(Area):
    # -- reach ----------------------------------------------------------------------------------------------------

    def _team_workspaces(self, principal: Principal) -> list[Record]:
        """A key's team's workspaces (the real routes match by team, whatever the access mode); a session's."""
        if principal.is_key:
            account = self._caller_account(principal)
            return list(self.store.find("workspaces", "team", str(account["teamId"])))
        return access.visible_workspaces(self.store, principal)

    def _worker_for_key(self, principal: Principal, worker_id: str) -> Record:
        worker = self.store.get("workers", worker_id)
        if worker is None:
            raise NotFound.of("Worker")
        workspace = self.store.get("workspaces", worker.get("workspaceId"))
        account = self._caller_account(principal)
        if workspace is None or workspace["teamId"] != account["teamId"]:
            raise Forbidden()
        return worker

    def _workers_with_open_pr(self, workspaces: list[Record], number: int) -> list[Record]:
        return [
            w
            for ws in workspaces
            for w in self._workers_in(str(ws["id"]))
            if w.get("prNumber") == number and w.get("prUrl") and not w.get("mergedAt")
        ]

    def _workers_in(self, workspace_id: str) -> list[Record]:
        """A workspace's workers (each belongs to one of its tasks)."""
        return [
            w
            for t in self.store.find("tasks", "workspace", workspace_id)
            for w in self.store.find("workers", "task", str(t["id"]))
        ]

    def _narrow(self, workspaces: list[Record], wanted: str | None) -> list[Record]:
        """`workspaceId` may be an id, a name or a repo (`owner/name` or `name`), as the real route accepts."""
        if not wanted:
            return workspaces
        lower = wanted.lower()
        for ws in workspaces:
            repo = str(ws.get("repo") or "").lower()
            if ws["id"] == wanted or str(ws["name"]).lower() == lower or repo == lower or repo.endswith("/" + lower):
                return [ws]
        return workspaces

    def _worker_by_number(self, principal: Principal, number: int, workspace_hint: str | None) -> Record:
        workspaces = self._team_workspaces(principal)
        if not workspaces:
            raise Forbidden("No workspaces found for account")
        found = self._workers_with_open_pr(self._narrow(workspaces, workspace_hint), number)
        if not found:
            raise NotFound(PR_NOT_FOUND)
        candidates = sorted({str(w["workspaceId"]) for w in found})
        if len(candidates) > 1:
            raise Conflict(
                f"PR #{number} exists in multiple workspaces — pass workspaceId to disambiguate", candidates=candidates
            )
        return found[0]

    def _linked_repo(self, worker: Record, *, missing_status: int = 400) -> tuple[Record, Record]:
        """The worker's workspace and its GitHub repo; an unlinked workspace is refused."""
        workspace = self.store.must("workspaces", str(worker["workspaceId"]))
        if not workspace.get("githubRepoId") or not workspace.get("githubInstallationId"):
            if missing_status == 422:
                raise DomainErrorWithBody(422, "Workspace has no GitHub installation")
            raise BadRequest("Workspace not linked to GitHub repo")
        repo = self.store.get(REPOS, str(workspace["githubRepoId"]))
        if repo is None or self.store.get(INSTALLATIONS, str(repo["installationId"])) is None:
            if missing_status == 422:
                raise DomainErrorWithBody(422, "Workspace has no GitHub installation")
            raise NotFound("GitHub repo not found")
        return workspace, repo

    # -- the simulated GitHub's pull requests --------------------------------------------------------------------

    def _pull(self, repo_name: str, number: int) -> Record | None:
        return next((p for p in self.store.rows(PULLS) if p["repo"] == repo_name and p["number"] == number), None)

    def _pull_of_worker(self, repo: Record, worker: Record, number: int) -> Record | None:
        """The PR, or the one a worker of the fixture world already points at (recorded on first use)."""
        pull = self._pull(str(repo["fullName"]), number)
        if pull is None and worker.get("prNumber") == number and worker.get("prUrl"):
            pull = self._open_pull(
                repo,
                worker,
                title=None,
                body=None,
                head=str(worker.get("branch") or ""),
                base=str(repo.get("defaultBranch") or "main"),
                number=number,
                url=str(worker["prUrl"]),
            )
            if worker.get("mergedAt"):
                pull = self.store.update(
                    PULLS, str(pull["id"]), {"state": "closed", "merged": True, "mergedAt": worker["mergedAt"]}
                )
        return pull

    def _next_number(self, repo: Record) -> int:
        name = str(repo["fullName"])
        taken = [int(p["number"]) for p in self.store.rows(PULLS) if p["repo"] == name]
        for ws in self.store.rows("workspaces"):
            if ws.get("githubRepoId") == repo["id"]:
                taken += [
                    int(w["prNumber"]) for w in self._workers_in(str(ws["id"])) if isinstance(w.get("prNumber"), int)
                ]
        return max(taken, default=0) + 1

    def _open_pull(
        self,
        repo: Record,
        worker: Record,
        *,
        title: str | None,
        body: str | None,
        head: str,
        base: str,
        number: int | None = None,
        url: str | None = None,
        draft: bool = False,
    ) -> Record:
        number = number if number is not None else self._next_number(repo)
        now = self._now()
        return self.store.insert(
            PULLS,
            {
                "id": self.ids.uuid4(),
                "repo": repo["fullName"],
                "number": number,
                "url": url or f"https://github.com/{repo['fullName']}/pull/{number}",
                "workspaceId": worker["workspaceId"],
                "workerId": worker["id"],
                "title": title,
                "body": body,
                "head": head,
                "base": base,
                "draft": draft,
                "state": "open",
                "merged": False,
                "mergedAt": None,
                "mergeable": True,
                "mergeableState": "clean",
                "headSha": worker.get("lastCommitSha"),
                "additions": worker.get("linesAdded"),
                "deletions": worker.get("linesRemoved"),
                "changedFiles": worker.get("filesChanged"),
                "createdAt": now,
                "updatedAt": now,
            },
        )

    def _set_worker_pr(self, worker: Record, number: int | None, url: str) -> None:
        self.store.update(
            "workers",
            str(worker["id"]),
            {"prUrl": url, "prNumber": number, "prLifecycleStatus": "pr_open", "updatedAt": self._now()},
        )

    # -- /api/github/pr (MCP create_pr, get_pr, merge_pr, close_pr) -----------------------------------------------

    def create_pr(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        title, head = self._str(body, "title"), self._str(body, "head")
        if title is None or head is None:
            raise BadRequest("title and head branch required")
        with self.store.transaction():
            worker = self._worker_for_key(principal, str(body.get("workerId")))
            existing_url = body.get("prUrl")
            if isinstance(existing_url, str) and existing_url:
                return self._register_pr(worker, existing_url, title)
            sibling = (
                next(
                    (
                        w
                        for w in self.store.find("workers", "task", str(worker.get("taskId")))
                        if w.get("prUrl") and w.get("prNumber")
                    ),
                    None,
                )
                if worker.get("taskId")
                else None
            )
            if sibling is not None:
                self._set_worker_pr(worker, sibling["prNumber"], str(sibling["prUrl"]))
                pr = {"number": sibling["prNumber"], "url": sibling["prUrl"], "state": "open", "title": title}
                return {"ok": True, "pr": pr, "deduplicated": True}
            workspace, repo = self._linked_repo(worker)
            same_head = next(
                (
                    p
                    for p in self.store.rows(PULLS)
                    if p["repo"] == repo["fullName"] and p["head"] == head and p["state"] == "open"
                ),
                None,
            )
            if same_head is not None:
                self._set_worker_pr(worker, same_head["number"], str(same_head["url"]))
                return {"ok": True, "pr": _summary(same_head), "deduplicated": True}
            pull = self._open_pull(
                repo,
                worker,
                title=title,
                body=self._str(body, "body") or f"Created by buildd worker {worker['name']}",
                head=head,
                base=self._base_branch(workspace, repo, worker, body, head),
                draft=bool(body.get("draft")),
            )
            self._set_worker_pr(worker, pull["number"], str(pull["url"]))
            out: dict[str, Any] = {"ok": True, "pr": _summary(pull)}
            git = workspace.get("gitConfig") or {}
            if git.get("autoMergeOnGreenCI") or git.get("autoMergePR") or git.get("mergePolicy") == "auto_on_green":
                out["autoMergeEnabled"] = True
            return self._out(out)

    def _register_pr(self, worker: Record, url: str, title: str) -> dict[str, Any]:
        """A PR opened elsewhere (gh CLI): recorded on the worker as is; a worker that has one keeps it."""
        if worker.get("prUrl") and worker.get("prNumber"):
            pr = {"number": worker["prNumber"], "url": worker["prUrl"], "state": "open", "title": title}
            return {"ok": True, "pr": pr, "deduplicated": True}
        match = re.search(r"/pull/(\d+)", url)
        number = int(match.group(1)) if match else None
        self._set_worker_pr(worker, number, url)
        return {"ok": True, "pr": {"number": number, "url": url, "state": "open", "title": title}}

    def _base_branch(self, workspace: Record, repo: Record, worker: Record, body: Mapping[str, Any], head: str) -> str:
        task = self.store.get("tasks", worker.get("taskId")) or {}
        context = task.get("context") or {}
        git = workspace.get("gitConfig") or {}
        context_base = context.get("baseBranch") if context.get("baseBranch") != head else None
        for candidate in (
            body.get("base"),
            context_base,
            context.get("targetBranch"),
            git.get("targetBranch"),
            git.get("defaultBranch"),
            repo.get("defaultBranch"),
        ):
            if isinstance(candidate, str) and candidate:
                return candidate
        return "main"

    def get_pr(self, principal: Principal, query: Mapping[str, Any]) -> dict[str, Any]:
        worker_id, asked = query.get("workerId"), query.get("prNumber")
        number = int(asked) if asked is not None else None
        if not worker_id and number is None:
            raise BadRequest("workerId or prNumber required")
        with self.store.transaction():
            if worker_id:
                worker = self._worker_for_key(principal, str(worker_id))
                number = number if number is not None else worker.get("prNumber")
                if not isinstance(number, int):
                    raise BadRequest("Worker has no PR; pass prNumber")
            else:
                assert number is not None
                worker = self._worker_by_number(principal, number, query.get("workspaceId"))
            _, repo = self._linked_repo(worker)
            pull = self._pull_of_worker(repo, worker, number)
            if pull is None:
                raise NotFound(PR_NOT_FOUND)
            return self._out(
                {
                    "ok": True,
                    "pr": {
                        "number": pull["number"],
                        "title": pull["title"],
                        "body": pull["body"],
                        "state": pull["state"],
                        "url": pull["url"],
                        "mergeable": None if pull["state"] != "open" else pull["mergeable"],
                        "mergeableState": pull["mergeableState"],
                        "headSha": pull.get("headSha") or worker.get("lastCommitSha"),
                        "additions": pull.get("additions"),
                        "deletions": pull.get("deletions"),
                        "changedFiles": pull.get("changedFiles"),
                    },
                    "checks": {"total": 0, "passed": 0, "failed": 0, "pending": 0, "state": "none"},
                    "reviews": {"approved": 0, "changesRequested": 0, "pending": 0},
                }
            )

    def close_pr(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        number = int(body["prNumber"])
        with self.store.transaction():
            worker = self._worker_for_key(principal, str(body["workerId"]))
            _, repo = self._linked_repo(worker)
            pull = self._pull_of_worker(repo, worker, number)
            if pull is None:
                raise NotFound(PR_NOT_FOUND)
            if pull["state"] == "open":
                pull = self.store.update(PULLS, str(pull["id"]), {"state": "closed", "updatedAt": self._now()})
                self._mark_workers(str(pull["repo"]), number, {"prLifecycleStatus": "closed"})
            return self._out({"ok": True, "pr": _summary(pull)})

    def merge_pr(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        number = int(body["prNumber"])
        with self.store.transaction():
            if body.get("workerId"):
                worker = self._worker_for_key(principal, str(body["workerId"]))
            else:
                workspace_hint = body.get("workspaceId") if isinstance(body.get("workspaceId"), str) else None
                worker = self._worker_by_number(principal, number, workspace_hint)
            _, repo = self._linked_repo(worker)
            merged, message = self._merge(repo, worker, number)
            return {
                "ok": merged,
                "merged": merged,
                "message": message,
                "pr": {"number": number, "url": worker.get("prUrl")},
            }

    def _merge(self, repo: Record, worker: Record, number: int) -> tuple[bool, str]:
        """GitHub's merge: an open PR merges (closing it); anything else is refused with GitHub's message."""
        pull = self._pull_of_worker(repo, worker, number)
        if pull is None:
            return False, "Not Found"
        if pull["state"] != "open":
            return False, NOT_MERGEABLE
        now = self._now()
        self.store.update(
            PULLS, str(pull["id"]), {"state": "closed", "merged": True, "mergedAt": now, "updatedAt": now}
        )
        self._mark_workers(str(repo["fullName"]), number, {"mergedAt": now, "prLifecycleStatus": "merged"})
        return True, MERGED

    def _mark_workers(self, repo_name: str, number: int, changes: Mapping[str, Any]) -> list[Record]:
        """The workers whose PR this is (their workspace points at the repo), changed."""
        out = []
        for ws in self.store.rows("workspaces"):
            repo = self.store.get(REPOS, ws.get("githubRepoId"))
            if repo is None or repo["fullName"] != repo_name:
                continue
            for worker in self._workers_in(str(ws["id"])):
                if worker.get("prNumber") == number:
                    out.append(self.store.update("workers", str(worker["id"]), {**changes, "updatedAt": self._now()}))
        return out

    # -- the merge inbox (sessions) -------------------------------------------------------------------------------

    def escalation_inbox(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            now = self.clock.now()
            items = []
            for ws in access.visible_workspaces(self.store, principal):
                if (ws.get("gitConfig") or {}).get("mergePolicy") != "manual":
                    continue
                for w in self._workers_in(str(ws["id"])):
                    if not w.get("prUrl") or w.get("mergedAt") or w.get("prLifecycleStatus") in ("closed", "merged"):
                        continue
                    task = self.store.get("tasks", w.get("taskId")) or {}
                    done = w.get("completedAt")
                    waiting = round((now - parse_iso(str(done))).total_seconds() / 60) if done else None
                    items.append(
                        {
                            "workerId": w["id"],
                            "taskId": w.get("taskId"),
                            "taskTitle": task.get("title") or "",
                            "missionId": task.get("missionId"),
                            "workspaceId": ws["id"],
                            "workspaceName": ws["name"],
                            "prNumber": w.get("prNumber"),
                            "prUrl": w.get("prUrl"),
                            "policyTier": "human",
                            "leaseState": "pending_human",
                            "escalationReason": "Human Gate — manual merge required",
                            "verdictSummary": None,
                            "waitingMinutes": waiting,
                            "conflictRetryTaskId": None,
                            "conflictRetryIteration": None,
                        }
                    )
            items.sort(key=lambda i: -(i["waitingMinutes"] or 0))
            return self._out({"items": items, "count": len(items)})

    def merge_escalated(self, principal: Principal, number: int, body: Mapping[str, Any] | None) -> dict[str, Any]:
        with self.store.transaction():
            workspaces = access.visible_workspaces(self.store, principal)
            wanted = (body or {}).get("workspaceId")
            if isinstance(wanted, str) and any(ws["id"] == wanted for ws in workspaces):
                workspaces = [ws for ws in workspaces if ws["id"] == wanted]
            found = self._workers_with_open_pr(workspaces, number)
            if not found:
                raise NotFound(PR_NOT_FOUND)
            candidates = sorted({str(w["workspaceId"]) for w in found})
            if len(candidates) > 1:
                raise Conflict(
                    f"PR #{number} exists in multiple workspaces — pass workspaceId to disambiguate",
                    candidates=candidates,
                )
            worker = found[0]
            if worker.get("prLifecycleStatus") == "closed":
                raise Conflict("PR is closed and cannot be merged")
            _, repo = self._linked_repo(worker, missing_status=422)
            merged, message = self._merge(repo, worker, number)
            if not merged:
                raise DomainErrorWithBody(422, f"GitHub rejected the merge: {message}")
            return {"ok": True, "merged": True}

    # -- installations (sessions) ---------------------------------------------------------------------------------

    def _visible_installation_ids(self, principal: Principal) -> set[str]:
        linked = {
            str(ws["githubInstallationId"])
            for ws in access.visible_workspaces(self.store, principal)
            if ws.get("githubInstallationId")
        }
        mine = {
            str(i["id"])
            for i in self.store.rows(INSTALLATIONS)
            if principal.user_id is not None and i.get("installedByUserId") == principal.user_id
        }
        return linked | mine

    def _installation(self, principal: Principal, installation_id: str) -> Record:
        installation = self.store.get(INSTALLATIONS, installation_id)
        if installation is None or installation_id not in self._visible_installation_ids(principal):
            raise NotFound.of("Installation")
        return installation

    def list_installations(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            ids = self._visible_installation_ids(principal)
            rows = [i for i in self.store.rows(INSTALLATIONS) if i["id"] in ids]
            rows.sort(key=lambda i: (parse_iso(str(i["createdAt"])), str(i["id"])), reverse=True)
            fields = (
                "id",
                "installationId",
                "accountType",
                "accountLogin",
                "accountAvatarUrl",
                "repositorySelection",
                "suspendedAt",
                "createdAt",
            )
            return self._out({"installations": [{f: i.get(f) for f in fields} for i in rows], "configured": True})

    def delete_installation(self, principal: Principal, installation_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._installation(principal, installation_id)
            self._remove_installation(installation_id)
            return {"ok": True}

    def _remove_installation(self, installation_id: str) -> None:
        """The installation, its repos, and the workspaces' links to them (set null, as the real foreign keys)."""
        repo_ids = {str(r["id"]) for r in self.store.rows(REPOS) if r["installationId"] == installation_id}
        for ws in list(self.store.rows("workspaces")):
            if ws.get("githubInstallationId") == installation_id or ws.get("githubRepoId") in repo_ids:
                self.store.update("workspaces", str(ws["id"]), {"githubInstallationId": None, "githubRepoId": None})
        for repo_id in repo_ids:
            self.store.delete(REPOS, repo_id)
        self.store.delete(INSTALLATIONS, installation_id)

    def _repos_of(self, installation_id: str) -> list[Record]:
        repos = [r for r in self.store.rows(REPOS) if r["installationId"] == installation_id]
        return sorted(repos, key=lambda r: str(r["fullName"]))

    def list_installation_repos(self, principal: Principal, installation_id: str) -> dict[str, Any]:
        with self.store.lock:
            self._installation(principal, installation_id)
            used = {
                str(ws.get("repo"))
                for ws in self.store.rows("workspaces")
                if ws.get("githubInstallationId") == installation_id and ws.get("repo")
            }
            repos = [
                {
                    "id": str(r["repoId"]),
                    "repoId": r["repoId"],
                    "fullName": r["fullName"],
                    "name": r["name"],
                    "owner": r["owner"],
                    "private": r["private"],
                    "defaultBranch": r.get("defaultBranch") or "main",
                    "htmlUrl": r.get("htmlUrl") or f"https://github.com/{r['fullName']}",
                    "description": r.get("description"),
                    "hasWorkspace": r["fullName"] in used,
                }
                for r in self._repos_of(installation_id)
            ]
            return self._out({"repos": repos})

    def sync_installation_repos(self, principal: Principal, installation_id: str) -> dict[str, Any]:
        """Link the caller's workspaces whose repo is one of the installation's and that have no repo yet."""
        with self.store.transaction():
            self._installation(principal, installation_id)
            repos = {str(r["fullName"]).lower(): r for r in self._repos_of(installation_id)}
            linked = []
            for ws in access.visible_workspaces(self.store, principal):
                repo = repos.get(str(ws.get("repo") or "").lower())
                if repo is not None and not ws.get("githubRepoId"):
                    self.store.update(
                        "workspaces",
                        str(ws["id"]),
                        {"githubRepoId": repo["id"], "githubInstallationId": installation_id},
                    )
                    linked.append(str(ws["id"]))
            return {"synced": len(repos), "linked": len(linked), "linkedWorkspaceIds": linked}

    # -- the install flow (redirects) -----------------------------------------------------------------------------

    def install_redirect(self, principal: Principal, return_url: str | None) -> str:
        user = principal.user or {}
        state = json.dumps({"userId": user.get("email"), "returnUrl": return_url or DEFAULT_RETURN})
        encoded = base64.urlsafe_b64encode(state.encode()).decode().rstrip("=")
        return f"{APP_INSTALL_URL}?state={encoded}"

    def callback_redirect(self, principal: Principal, query: Mapping[str, Any]) -> str:
        """Record the installation GitHub names (simulated account `mock-org-<id>`), then back to the dashboard."""
        base = self.settings.base_url.rstrip("/")
        number = query.get("installation_id")
        if number is None:
            return f"{base}{DEFAULT_RETURN}?error=no_installation_id"
        return_url = _return_url(query.get("state"))
        login = f"mock-org-{number}"
        with self.store.transaction():
            existing = next((i for i in self.store.rows(INSTALLATIONS) if i["installationId"] == number), None)
            if existing is not None:
                self.store.update(
                    INSTALLATIONS,
                    str(existing["id"]),
                    {
                        "installedByUserId": existing.get("installedByUserId") or principal.user_id,
                        "suspendedAt": None,
                        "updatedAt": self._now(),
                    },
                )
                login = str(existing["accountLogin"])
            else:
                self.record_installation(int(number), login, "Organization", installed_by=principal.user_id)
        return f"{base}{return_url}?github_connected=true&org={quote(login)}"

    def record_installation(
        self,
        number: int,
        login: str,
        account_type: str,
        *,
        installed_by: str | None,
        avatar: str | None = None,
        selection: str | None = "selected",
        account_id: int | None = None,
    ) -> Record:
        now = self._now()
        return self.store.insert(
            INSTALLATIONS,
            {
                "id": self.ids.uuid4(),
                "installationId": number,
                "accountType": account_type,
                "accountLogin": login,
                "accountId": account_id if account_id is not None else number,
                "accountAvatarUrl": avatar,
                "permissions": {"contents": "write", "pull_requests": "write"},
                "repositorySelection": selection,
                "suspendedAt": None,
                "installedByUserId": installed_by,
                "createdAt": now,
                "updatedAt": now,
            },
        )

    def record_repo(self, installation: Record, repo_id: int, full_name: str, *, private: bool = False) -> Record:
        owner, _, name = full_name.partition("/")
        now = self._now()
        return self.store.insert(
            REPOS,
            {
                "id": self.ids.uuid4(),
                "installationId": installation["id"],
                "repoId": repo_id,
                "fullName": full_name,
                "name": name,
                "owner": owner,
                "private": private,
                "defaultBranch": "main",
                "htmlUrl": f"https://github.com/{full_name}",
                "description": None,
                "createdAt": now,
                "updatedAt": now,
            },
        )

    # -- the webhook ----------------------------------------------------------------------------------------------

    def receive_webhook(self, raw: bytes, headers: Mapping[str, str], payload: Any) -> dict[str, Any]:
        """Refused (401, nothing changes) unless signed with the App's secret; then the event is applied."""
        given = headers.get("x-hub-signature-256") or ""
        if not hmac.compare_digest(given.encode(), webhook_signature(raw).encode()):
            raise Unauthorized()
        if not isinstance(payload, dict):
            raise BadRequest("The payload must be a JSON object")
        event = headers.get("x-github-event") or ""
        with self.store.transaction():
            if event == "pull_request":
                self._on_pull_request(payload)
            elif event == "installation":
                self._on_installation(payload)
        return {"ok": True}

    def _on_pull_request(self, payload: Mapping[str, Any]) -> None:
        pr, repository = payload.get("pull_request"), payload.get("repository")
        if not isinstance(pr, dict) or not isinstance(repository, dict):
            raise BadRequest("pull_request and repository are required")
        number, repo_name = pr.get("number"), repository.get("full_name")
        if not isinstance(number, int) or not isinstance(repo_name, str):
            raise BadRequest("pull_request.number and repository.full_name are required")
        action, now = payload.get("action"), self._now()
        head: Mapping[str, Any] = pr["head"] if isinstance(pr.get("head"), dict) else {}
        changes: dict[str, Any] = {"updatedAt": now}
        if isinstance(head.get("sha"), str):
            changes["headSha"] = head["sha"]
        if isinstance(pr.get("mergeable"), bool):
            changes["mergeable"] = pr["mergeable"]
        worker_changes: dict[str, Any]
        if action == "closed":
            merged = pr.get("merged") is True
            changes.update(state="closed", merged=merged, mergedAt=now if merged else None)
            worker_changes = (
                {"prLifecycleStatus": "merged", "mergedAt": now} if merged else {"prLifecycleStatus": "closed"}
            )
        elif action in OPEN_EVENTS:
            changes["state"] = "open"
            worker_changes = {"prLifecycleStatus": "conflict" if pr.get("mergeable") is False else "pr_open"}
        else:
            return
        pull = self._pull(repo_name, number)
        if pull is not None:
            self.store.update(PULLS, str(pull["id"]), changes)
        self._mark_workers(repo_name, number, worker_changes)

    def _on_installation(self, payload: Mapping[str, Any]) -> None:
        installation = payload.get("installation")
        if not isinstance(installation, dict) or not isinstance(installation.get("id"), int):
            raise BadRequest("installation.id is required")
        number, action = int(installation["id"]), payload.get("action")
        existing = next((i for i in self.store.rows(INSTALLATIONS) if i["installationId"] == number), None)
        if action == "deleted" and existing is not None:
            self._remove_installation(str(existing["id"]))
        elif action in ("suspend", "unsuspend") and existing is not None:
            self.store.update(
                INSTALLATIONS,
                str(existing["id"]),
                {"suspendedAt": self._now() if action == "suspend" else None, "updatedAt": self._now()},
            )
        elif action == "created" and existing is None:
            account: Mapping[str, Any] = (
                installation["account"] if isinstance(installation.get("account"), dict) else {}
            )
            created = self.record_installation(
                number,
                str(account.get("login") or f"mock-org-{number}"),
                "User" if account.get("type") == "User" else "Organization",
                installed_by=None,
                avatar=account.get("avatar_url") if isinstance(account.get("avatar_url"), str) else None,
                selection=installation.get("repository_selection")
                if installation.get("repository_selection") in ("all", "selected")
                else None,
            )
            for repo in payload.get("repositories") or []:
                if (
                    isinstance(repo, dict)
                    and isinstance(repo.get("id"), int)
                    and isinstance(repo.get("full_name"), str)
                ):
                    self.record_repo(created, repo["id"], repo["full_name"], private=repo.get("private") is True)


def _return_url(state: Any) -> str:
    if not isinstance(state, str) or not state:
        return DEFAULT_RETURN
    try:
        decoded = json.loads(base64.urlsafe_b64decode(state + "=" * (-len(state) % 4)))
    except (ValueError, TypeError):
        return DEFAULT_RETURN
    url = decoded.get("returnUrl") if isinstance(decoded, dict) else None
    # only a path of this site: a state is the caller's text, and an absolute URL would make this an open redirect
    return url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else DEFAULT_RETURN
