"""Knowledge ingest jobs (a queue runners claim from) and watched projects (a plain resource with a few rules).

Ingest jobs: `POST /api/knowledge/ingest-jobs` queues one `full` job per workspace at a time; runners claim the
oldest queued job of a repo they hold (`queued` -> `running`, never twice), upload files and a graph while it runs,
then complete it (`running` -> `done | error`). Only keys act on jobs; a job is reachable through its workspace:
the key's team's claimable workspaces (admin keys: any workspace of their team, for enqueue and list).

The mock holds no embeddings: a file batch is "ingested" by remembering each path's hash per workspace
(`knowledgeFiles`), which is what the hash-skip and the deletions need, and the file's first `KEPT_TEXT` characters,
which is what the knowledge store's lexical view (`know_store.py`: `spec_compare`) searches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound
from mockserver.domain.resources import Resource, declare
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, register_table

__all__ = ("WATCHED_PROJECT", "Knowledge", "WatchedProjects")

JOBS = "ingestJobs"
FILES = "knowledgeFiles"  # key `<workspaceId>|<path>`: what a workspace's full ingest holds
register_table(JOBS, "id")
register_table(FILES, "key")

TRIGGERS = ("manual", "backfill", "repo_link", "scheduled")
ACTIVE = ("queued", "running")
LIST_LIMIT = 20
MAX_OFFERED_REPOS = 200
MAX_BATCH_FILES = 64
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_GRAPH_ELEMENTS = 200_000
CHUNK_BYTES = 2000  # a simulated chunk: one per started 2000 bytes of content
KEPT_TEXT = 8000  # characters of each file kept for the lexical search (bounds the state a big repo leaves)
ALIAS_SOURCES = ("scip", "system", "agent", "confirmed")
# what the real ingest filter leaves out: lock files, vendored trees, binaries
SKIPPED_PARTS = ("node_modules/", "vendor/", "dist/", ".git/")
SKIPPED_SUFFIXES = (".lock", "-lock.json", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".woff", ".woff2")
DOC_SUFFIXES = (".md", ".mdx", ".txt", ".rst")

JOB_NOT_FOUND = "Ingest job not found"


def _ingestible(path: str) -> bool:
    lowered = path.lower()
    return not any(part in lowered for part in SKIPPED_PARTS) and not lowered.endswith(SKIPPED_SUFFIXES)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


class Knowledge(Area):
    """The ingest-job queue and what a running job accepts."""

    # -- reach ----------------------------------------------------------------------------------------------------

    def _key_account(self, principal: Principal) -> Record:
        if not principal.is_key:  # the routes are key-only; the HTTP layer refuses sessions first
            raise Forbidden()
        return self._caller_account(principal)

    def _workspaces_of(self, principal: Principal) -> set[str]:
        """Where the key may enqueue and work on jobs: its claimable workspaces, any of its team's for admin."""
        account = self._key_account(principal)
        if principal.is_admin_key:
            return {str(ws["id"]) for ws in self.store.find("workspaces", "team", str(account["teamId"]))}
        return {str(ws["id"]) for ws in access.claimable_workspaces(self.store, account)}

    def _job(self, principal: Principal, job_id: str) -> Record:
        job = self.store.get(JOBS, job_id)
        if job is None or str(job["workspaceId"]) not in self._workspaces_of(principal):
            raise NotFound(JOB_NOT_FOUND)
        return job

    def _running_job(self, principal: Principal, job_id: str) -> Record:
        job = self._job(principal, job_id)
        if job["status"] != "running":
            raise Conflict(f"Job is {job['status']}, expected running")
        return job

    # -- the queue ------------------------------------------------------------------------------------------------

    def list_jobs(self, principal: Principal, workspace_id: str | None) -> dict[str, Any]:
        if not principal.is_admin_key:
            raise Forbidden("Admin-level API key required")
        with self.store.lock:
            reach = self._workspaces_of(principal)
            jobs = [
                j
                for j in self.store.rows(JOBS)
                if str(j["workspaceId"]) in reach and (workspace_id is None or j["workspaceId"] == workspace_id)
            ]
            jobs.sort(key=lambda j: (parse_iso(str(j["createdAt"])), str(j["id"])), reverse=True)
            return self._out({"jobs": jobs[:LIST_LIMIT]})

    def enqueue(self, principal: Principal, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        if principal.level == "trigger":
            raise Forbidden("Trigger tokens cannot enqueue ingest jobs")
        workspace_id = self._str(body, "workspaceId", required=True, message="workspaceId (string) is required")
        trigger = body.get("trigger") if body.get("trigger") in TRIGGERS else "manual"
        with self.store.transaction():
            if workspace_id not in self._workspaces_of(principal):
                raise NotFound.of("Workspace")
            repo = self._linked_repo(str(workspace_id))
            if repo is None:
                raise DomainErrorWithBody(422, "Workspace has no linked GitHub repo", job=None, reason="no_github_repo")
            if self.active_full_job(str(workspace_id), repo) is not None:
                return 200, {"job": None, "reason": "already_queued"}
            job = self.queue_full_job(str(workspace_id), repo, str(trigger))
            return 201, {"job": self._out(job)}

    def _linked_repo(self, workspace_id: str) -> str | None:
        """The `owner/name` of the workspace's linked GitHub repo (the GitHub area's records), if any."""
        workspace = self.store.must("workspaces", workspace_id)
        repo = self.store.get("githubRepos", workspace.get("githubRepoId"))
        return str(repo["fullName"]) if repo is not None else None

    def active_full_job(self, workspace_id: str, repo: str) -> Record | None:
        return next(
            (
                j
                for j in self.store.rows(JOBS)
                if j["workspaceId"] == workspace_id
                and j["repo"] == repo
                and j["scope"] == "full"
                and j["status"] in ACTIVE
            ),
            None,
        )

    def queue_full_job(self, workspace_id: str, repo: str, trigger: str) -> Record:
        return self.store.insert(
            JOBS,
            {
                "id": self.ids.uuid4(),
                "workspaceId": workspace_id,
                "repo": repo,
                "trigger": trigger,
                "sha": None,
                "prNumber": None,
                "scope": "full",
                "status": "queued",
                "changedFiles": None,
                "stats": None,
                "error": None,
                "createdAt": self._now(),
                "startedAt": None,
                "finishedAt": None,
            },
        )

    def claim(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """The oldest queued full job of an offered repo in reach becomes `running`; one lock, so never twice."""
        if principal.level == "trigger":
            raise Forbidden("Trigger tokens cannot claim ingest jobs")
        repos = body.get("repos")
        if not isinstance(repos, list) or not repos or not all(isinstance(r, str) for r in repos):
            raise BadRequest("repos (non-empty string array) is required")
        offered = {r.lower() for r in repos[:MAX_OFFERED_REPOS]}
        with self.store.transaction():
            reach = self._workspaces_of(principal)
            queued = [
                j
                for j in self.store.rows(JOBS)
                if j["status"] == "queued"
                and j["scope"] == "full"
                and str(j["repo"]).lower() in offered
                and str(j["workspaceId"]) in reach
            ]
            if not queued:
                return {"job": None}
            oldest = min(queued, key=lambda j: (parse_iso(str(j["createdAt"])), str(j["id"])))
            claimed = self.store.update(JOBS, str(oldest["id"]), {"status": "running", "startedAt": self._now()})
            return {"job": self._out(claimed)}

    def complete(self, principal: Principal, job_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        status = body.get("status")
        if status not in ("done", "error"):
            raise BadRequest("status must be 'done' or 'error'")
        with self.store.transaction():
            job = self._running_job(principal, job_id)
            changes: dict[str, Any] = {"status": status, "finishedAt": self._now()}
            if isinstance(body.get("stats"), dict):
                changes["stats"] = body["stats"]
            if isinstance(body.get("changedFiles"), list):
                changes["changedFiles"] = [f for f in body["changedFiles"] if isinstance(f, str)]
            if status == "error" and isinstance(body.get("error"), str):
                changes["error"] = body["error"]
            pruned = 0
            if status == "done" and body.get("sweep") is True and job["scope"] == "full" and job.get("startedAt"):
                pruned = self._sweep(str(job["workspaceId"]), str(job["startedAt"]))
                if pruned:
                    changes["stats"] = {**(changes.get("stats") or {}), "prunedChunks": pruned}
            updated = self.store.update(JOBS, job_id, changes)
            return {"job": self._out(updated), "prunedChunks": pruned}

    def _sweep(self, workspace_id: str, started_at: str) -> int:
        """Drop the workspace's files this run did not refresh (stored before the job started); their chunks."""
        start = parse_iso(started_at)
        pruned = 0
        for record in list(self.store.rows(FILES)):
            if record["workspaceId"] == workspace_id and parse_iso(str(record["updatedAt"])) < start:
                pruned += int(record.get("chunks") or 0)
                self.store.delete(FILES, str(record["key"]))
        return pruned

    # -- what a running job takes -------------------------------------------------------------------------------

    def upload_files(self, principal: Principal, job_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        files = body.get("files")
        if not isinstance(files, list):
            raise BadRequest("files (array) is required")
        batch: list[Mapping[str, Any]] = []
        for f in files:
            if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not isinstance(f.get("content"), str):
                raise BadRequest("each file needs string path and content")
            batch.append(f)
        deletions = [d for d in body.get("deletions") or [] if isinstance(d, str)]
        with self.store.transaction():
            job = self._running_job(principal, job_id)  # a job out of reach is 404 whatever the batch holds
            if len(batch) > MAX_BATCH_FILES:
                raise DomainErrorWithBody(413, f"files exceeds {MAX_BATCH_FILES} per batch")
            if sum(len(str(f["content"]).encode()) for f in batch) > MAX_BATCH_BYTES:
                raise DomainErrorWithBody(413, f"batch exceeds {MAX_BATCH_BYTES} bytes")
            workspace_id, now = str(job["workspaceId"]), self._now()
            counts = dict.fromkeys(("filesIngested", "chunksUpserted", "filesSkipped", "filesDeleted"), 0)
            counts["skippedUnchanged"] = 0
            for path in deletions:
                if self.store.delete(FILES, f"{workspace_id}|{path}") is not None:
                    counts["filesDeleted"] += 1
            for f in batch:
                path, content = str(f["path"]), str(f["content"])
                if not _ingestible(path) or not content:
                    counts["filesSkipped"] += 1
                    continue
                key = f"{workspace_id}|{path}"
                stored = self.store.get(FILES, key)
                file_hash = f.get("fileHash") if isinstance(f.get("fileHash"), str) else None
                if stored is not None and file_hash is not None and stored.get("fileHash") == file_hash:
                    counts["skippedUnchanged"] += 1
                    self.store.update(FILES, key, {"updatedAt": now})  # refreshed: the sweep keeps it
                    continue
                chunks = max(1, math.ceil(len(content.encode()) / CHUNK_BYTES))
                corpus = "docs" if path.lower().endswith(DOC_SUFFIXES) else "code"
                self.store.upsert(
                    FILES,
                    {
                        "key": key,
                        "workspaceId": workspace_id,
                        "path": path,
                        "corpus": corpus,
                        "fileHash": file_hash,
                        "chunks": chunks,
                        "text": content[:KEPT_TEXT],
                        "updatedAt": now,
                    },
                )
                counts["filesIngested"] += 1
                counts["chunksUpserted"] += chunks
            return counts

    def push_graph(self, principal: Principal, job_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        parts = [body.get(name, []) for name in ("entities", "edges", "aliases")]
        if not all(isinstance(p, list) for p in parts):
            raise BadRequest("entities, edges and aliases must be arrays")
        entities, edges, aliases = parts
        if len(entities) + len(edges) + len(aliases) > MAX_GRAPH_ELEMENTS:
            raise DomainErrorWithBody(413, f"graph exceeds {MAX_GRAPH_ELEMENTS} elements")
        with self.store.lock:
            self._running_job(principal, job_id)
        return graph_counts(entities, edges, aliases)


def graph_counts(entities: list[Any], edges: list[Any], aliases: list[Any]) -> dict[str, int]:
    """Edges and aliases that resolve to entities of this graph; malformed entries are skipped, not refused."""
    known = {
        f"{e['kind']}:{e['key']}"
        for e in entities
        if isinstance(e, dict) and _text(e.get("kind")) and _text(e.get("key")) and _text(e.get("canonicalName"))
    }
    edge_fields = ("fromEntityKind", "fromEntityKey", "toEntityKind", "toEntityKey", "type", "rule")
    written_edges = sum(
        1
        for e in edges
        if isinstance(e, dict)
        and all(_text(e.get(f)) for f in edge_fields)
        and f"{e['fromEntityKind']}:{e['fromEntityKey']}" in known
        and f"{e['toEntityKind']}:{e['toEntityKey']}" in known
    )
    written_aliases = sum(
        1
        for a in aliases
        if isinstance(a, dict)
        and all(_text(a.get(f)) for f in ("entityKind", "entityKey", "alias"))
        and f"{a['entityKind']}:{a['entityKey']}" in known
    )
    return {"edges": written_edges, "aliases": written_aliases}


class DomainErrorWithBody(DomainError):
    """A refusal with its own status and extra body fields (413 for a batch, 422 `no_github_repo`)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.status = status


# -- watched projects: a plain resource of a workspace, plus the create rules and the run ---------------------------

WATCHED_PROJECT = declare(
    Resource(
        "watchedProject",
        scope="workspace",
        defaults={
            "enabled": True,
            "vercelProjectId": None,
            "vercelTokenSecretId": None,
            "releasePrFilter": {"base": "main"},
            "inFlightWindowMin": 60,
            "prodGraceMin": 60,
            "roleSlug": "ops",
            "pushoverApp": "alerts",
            "notes": None,
            "lastCheckedAt": None,
            "lastError": None,
            "createdByUserId": lambda stamp: stamp.principal.user_id,
        },
        immutable=frozenset({"createdByUserId", "lastCheckedAt", "lastError"}),
    )
)


class WatchedProjects(Area):
    """What the generic layer cannot say: one project per repo and workspace, normalised inputs, the run."""

    def create(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            repo = body.get("repo")
            existing = next(
                (p for p in self.store.find(WATCHED_PROJECT.table, "scope", workspace_id) if p.get("repo") == repo),
                None,
            )
            if existing is not None:
                raise DomainErrorWithBody(
                    409, f"A watched project for {repo} already exists in this workspace", id=existing["id"]
                )
            return self.api.serve_resource(
                "createWatchedProject", principal, {"workspaceId": workspace_id}, {}, normalise_input(body, create=True)
            )

    def update(self, principal: Principal, project_id: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.api.serve_resource(
            "updateWatchedProject", principal, {"watchedProjectId": project_id}, {}, normalise_input(body, create=False)
        )

    def delete(self, principal: Principal, project_id: str) -> dict[str, Any]:
        self.api.serve_resource("deleteWatchedProject", principal, {"watchedProjectId": project_id}, {}, None)
        return {"ok": True}

    def run(self, principal: Principal, project_id: str) -> dict[str, Any]:
        """The watcher asks GitHub and Vercel; the mock has neither, so the run finds nothing to fire."""
        with self.store.transaction():
            self.api.serve_resource("getWatchedProject", principal, {"watchedProjectId": project_id}, {}, None)
            self.store.update(WATCHED_PROJECT.table, project_id, {"lastCheckedAt": self._now(), "lastError": None})
            return {"ok": True, "fired": 0}


def normalise_input(body: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """As the real input parser: empty strings are null, a null filter is `{}`, a new filter's base is `main`."""
    out = dict(body)
    for field in ("vercelProjectId", "vercelTokenSecretId"):
        if out.get(field) == "":
            out[field] = None
    if "notes" in out and (out["notes"] == "" and create):
        out["notes"] = None
    if create and out.get("roleSlug") == "":  # the default (`ops`) stands; an update stores it as given
        del out["roleSlug"]
    if "releasePrFilter" in out:
        out["releasePrFilter"] = dict(out["releasePrFilter"] or {})
        if create and not out["releasePrFilter"].get("base"):
            out["releasePrFilter"]["base"] = "main"
    return out
