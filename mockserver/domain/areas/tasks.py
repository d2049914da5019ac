"""Tasks: list, read, create, edit, delete."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound
from mockserver.domain.events import task_channel, worker_channel, workspace_channel
from mockserver.domain.fields import id_of, is_uuid, text
from mockserver.domain.lifecycle import (
    ACTIVE_WORKER_STATUSES,
    CLAIM_RELEASED,
    LIVE_WORKER_STATUSES,
    TERMINAL_TASK_STATUSES,
    check_task_patch_status,
    move_task,
)
from mockserver.domain.records import new_task, task_view
from mockserver.domain.runtime import epoch_ms, micros, parse_iso, to_iso
from mockserver.domain.store import Record

__all__ = ("Tasks", "page_item")

RUNNER_PREFERENCES = ("any", "user", "service", "action")
LIST_LIMIT = 200
RECENT = timedelta(hours=24)
_PAGE_ORDER = {"pending": 0, "assigned": 1, "in_progress": 2}
_PATCH_FIELDS = (
    "title",
    "description",
    "priority",
    "project",
    "roleSlug",
    "backend",
    "externalIssueId",
    "externalIssueUrl",
    "missionId",  # link a task to a mission, or null to unlink (manage_missions link_task / unlink_task)
)


def page_item(task: Record) -> dict[str, Any]:
    """A task as a page of `GET /api/tasks?limit=` lists it: a summary with a preview of the description."""
    return {
        "id": task["id"],
        "workspaceId": task["workspaceId"],
        "title": task["title"],
        "status": task["status"],
        "priority": task.get("priority", 0),
        "category": task.get("category"),
        "descriptionPreview": (task.get("description") or "")[:150] or None,
    }


class Tasks(Area):
    # -- list / read --------------------------------------------------------------------------------------------

    def list_tasks(
        self,
        principal: Principal,
        *,
        workspace_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        with self.store.lock:
            workspaces = access.visible_workspaces(self.store, principal)
            if workspace_id is not None:
                workspaces = [ws for ws in workspaces if ws["id"] == workspace_id]
            workspace_ids = [id_of(ws) for ws in workspaces]
            if limit is not None:
                return self._page(workspace_ids, status, limit, offset or 0)
            # without a status: the non-terminal tasks and those completed or failed in the last 24 h
            since = micros(self.clock.now() - RECENT) if status is None else None
            tasks = [self.store.must("tasks", task_id) for task_id in self._newest(workspace_ids, status, since)]
            by_id = {id_of(ws): ws for ws in workspaces}
            items = self._out([{**t, "workspace": _ref(by_id[text(t, "workspaceId")])} for t in tasks])
            out: dict[str, Any] = {"tasks": items}
            if principal.is_key:
                out["budgetWindows"] = {
                    "claude": {"resetAt": None, "resolution": "default_budget_window"},
                    "codex": {"resetAt": None, "resolution": "default_budget_window"},
                }
            return out

    def _newest(self, workspace_ids: list[str], status: str | None, since: int | None) -> list[str]:
        """Ids of the newest (createdAt, then id, descending) LIST_LIMIT tasks in the workspaces with `status`;
        with `since` (µs): the non-terminal ones and those completed or failed at or after it.

        Reads the store's per-status age lists: a merge of sorted lists, not a sort of every task."""
        wanted = _wanted(status)
        lists: list[Sequence[tuple[int, str]]] = []
        finished: list[tuple[int, str]] = []
        for workspace_id in workspace_ids:
            for task_status, entries in self.store.task_ages(workspace_id).items():
                if (task_status not in TERMINAL_TASK_STATUSES) if since is not None else wanted(task_status):
                    lists.append(entries)
            if since is not None:
                finishes = self.store.task_finishes(workspace_id)
                for task_status in ("completed", "failed"):
                    done = finishes.get(task_status) or []
                    finished.extend(
                        (created, task_id) for _updated, created, task_id in done[bisect.bisect_left(done, (since,)) :]
                    )
        if finished:
            finished.sort()
            lists.append(finished)
        newest = heapq.merge(*(reversed(entries) for entries in lists), reverse=True)
        return [task_id for _created, task_id in itertools.islice(newest, LIST_LIMIT)]

    def _page(self, workspace_ids: list[str], status: str | None, limit: int, offset: int) -> dict[str, Any]:
        """Tasks ordered by (pending, assigned, in_progress, the rest), then priority desc, createdAt, id.

        Reads the store's per-status rank lists: counts are their lengths, and a page merges only what it shows."""
        if not 1 <= limit <= LIST_LIMIT or offset < 0:
            raise BadRequest(f"limit must be between 1 and {LIST_LIMIT}, offset at least 0")
        wanted = _wanted(status)
        groups: list[list[list[tuple[int, int, str]]]] = [[] for _ in range(len(_PAGE_ORDER) + 1)]
        total = pending = 0
        for workspace_id in workspace_ids:
            for task_status, entries in self.store.task_ranks(workspace_id).items():
                if wanted(task_status):
                    groups[_PAGE_ORDER.get(str(task_status), len(_PAGE_ORDER))].append(entries)
                    total += len(entries)
                    if task_status == "pending":
                        pending += len(entries)
        ids: list[str] = []
        skip = offset
        for lists in groups:
            size = sum(len(entries) for entries in lists)
            if skip >= size:
                skip -= size
                continue
            merged = lists[0] if len(lists) == 1 else heapq.merge(*lists)
            ids.extend(task_id for _rank, _created, task_id in itertools.islice(merged, skip, skip + limit - len(ids)))
            skip = 0
            if len(ids) >= limit:
                break
        page = [self.store.must("tasks", task_id) for task_id in ids]
        return {
            "tasks": [page_item(t) for t in page],
            "total": total,
            "pendingCount": pending,
            "hasMore": offset + len(page) < total,
        }

    def get_task(self, principal: Principal, task_id: str, include: str | None = None) -> dict[str, Any]:
        extras = {part.strip() for part in (include or "").split(",") if part.strip()}
        with self.store.lock:
            task, workspace = access.task_for(self.store, principal, task_id)
            out = {**task_view(task, workspace), "mission": None}
            if "workers" in extras:
                workers = self.store.find("workers", "task", task_id)
                out["workers"] = self._out(list(reversed(workers)))
            if "artifacts" in extras:
                out["artifacts"] = self._out(
                    [
                        a
                        for w in self.store.find("workers", "task", task_id)
                        for a in self.store.find("artifacts", "worker", id_of(w))
                    ]
                )
            return out

    # -- create -------------------------------------------------------------------------------------------------

    def create_task(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """A pending task; emits `task:created` then `task:assigned` on the workspace channel."""
        title = self._str(body, "title", required=True, message="Title is required")
        self._choice(body, "runnerPreference", RUNNER_PREFERENCES)
        priority = self._int(body, "priority", minimum=-1000, maximum=1000)
        if body.get("outputSchema") is not None and not isinstance(body["outputSchema"], Mapping):
            raise BadRequest("outputSchema must be a JSON Schema object")
        if body.get("context") is not None and not isinstance(body["context"], Mapping):
            raise BadRequest("context must be an object")
        with self.store.transaction():
            workspace = self._workspace_for_create(principal, body.get("workspaceId"))
            workspace_id = id_of(workspace)
            depends_on = self._check_dependencies(workspace_id, body.get("dependsOn"), None)
            git = workspace.get("gitConfig") or {}
            fields = {
                **body,
                "title": title,
                "priority": priority or 0,
                "dependsOn": depends_on,
                "startAt": self.start_at(body),
                "runnerPreference": body.get("runnerPreference") or git.get("defaultRunnerPreference") or "any",
                "backend": body.get("backend") or git.get("defaultBackend") or "claude",
                "createdByAccountId": principal.account_id,
                "creationSource": body.get("creationSource") or ("api" if principal.is_key else "dashboard"),
            }
            task = self.store.insert(
                "tasks", new_task(id=self.ids.uuid4(), workspace_id=workspace_id, fields=fields, now=self._now())
            )
            self._announce_new_task(task)
            return self._out(task)

    def _workspace_for_create(self, principal: Principal, reference: Any) -> Record:
        if reference is None:
            if principal.account is None:
                raise BadRequest("workspaceId is required")
            links = [
                link
                for link in self.store.find("accountWorkspaces", "account", str(principal.account_id))
                if link.get("canCreate")
            ]
            targets = [self.store.get("workspaces", link["workspaceId"]) for link in links]
            visible = [ws for ws in targets if ws is not None and access.can_see_workspace(self.store, principal, ws)]
            if len(visible) != 1:
                raise BadRequest("workspaceId is required")
            return visible[0]
        workspace = self._resolve_workspace(principal, str(reference))
        if principal.account is not None and workspace.get("accessMode") == "restricted":
            link = access.link_of(self.store, str(principal.account_id), id_of(workspace))
            if link is None or not link.get("canCreate"):
                raise Forbidden(
                    f'Account "{principal.account["name"]}" does not have permission to create tasks in this workspace.'
                )
        return workspace

    def _resolve_workspace(self, principal: Principal, reference: str) -> Record:
        """A workspace id, exact `owner/name` repo, case-insensitive name, or repo suffix, within reach."""
        if is_uuid(reference):
            return access.workspace_for(self.store, principal, reference)
        visible = access.visible_workspaces(self.store, principal)
        lowered = reference.lower()
        matchers: tuple[Callable[[Record], bool], ...] = (
            lambda ws: (ws.get("repo") or "").lower() == lowered,
            lambda ws: text(ws, "name").lower() == lowered,
            lambda ws: (ws.get("repo") or "").lower().endswith("/" + lowered),
        )
        for match in matchers:
            found = [ws for ws in visible if match(ws)]
            if found:
                return found[0]
        raise NotFound.of("Workspace")

    def _check_dependencies(self, workspace_id: str, depends_on: Any, task_id: str | None) -> list[str]:
        if depends_on is None:
            return []
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise BadRequest("dependsOn must be an array of task ids")
        unknown = [
            d
            for d in depends_on
            if d == task_id or (self.store.get("tasks", d) or {}).get("workspaceId") != workspace_id
        ]
        if unknown:
            raise BadRequest("dependsOn references unknown tasks in this workspace", unknownTaskIds=unknown)
        return list(dict.fromkeys(depends_on))

    def start_at(self, body: Mapping[str, Any]) -> str | None:
        """A deferred start: `startAt` (a timestamp), else `startIn` minutes from now, else none."""
        if body.get("startAt") is not None:
            return self._timestamp(body["startAt"], "startAt")
        minutes = self._int(body, "startIn", minimum=0, maximum=525600)
        if minutes:
            return to_iso(self.clock.now() + timedelta(minutes=minutes))
        return None

    # -- update / delete ----------------------------------------------------------------------------------------

    def update_task(self, principal: Principal, task_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        status = check_task_patch_status(body["status"]) if body.get("status") is not None else None
        if "priority" in body:
            self._int(body, "priority", minimum=-1000, maximum=1000)
        if "title" in body:
            self._str(body, "title", required=True, message="Title is required")
        with self.store.transaction():
            task, _workspace = access.task_for(self.store, principal, task_id)
            changes: dict[str, Any] = {f: body[f] for f in _PATCH_FIELDS if f in body}
            if "dependsOn" in body:
                changes["dependsOn"] = self._check_dependencies(text(task, "workspaceId"), body["dependsOn"], task_id)
            previous = dict(task)
            now = self._now()
            workers = self.store.find("workers", "task", task_id)
            if status is not None:
                self._check_status_change(task, status, workers)
                if status == "pending":
                    changes.update(CLAIM_RELEASED)
                task = move_task(self.store, task, status, now, changes)
            else:
                task = self.store.update("tasks", task_id, {**changes, "updatedAt": now})
            self._announce_update(previous, task, workers, now)
            return self._out(task)

    def _check_status_change(self, task: Record, status: str, workers: list[Record]) -> None:
        if status in ("completed", "failed") and any(w["status"] in ACTIVE_WORKER_STATUSES for w in workers):
            verb = "complete" if status == "completed" else "fail"
            raise Conflict(f"Cannot {verb} a task while a worker is running")

    def _announce_update(self, previous: Record, task: Record, workers: list[Record], now: str) -> None:
        status_changed = previous["status"] != task["status"]
        if status_changed or previous.get("backend") != task.get("backend"):
            self._emit(
                workspace_channel(text(task, "workspaceId")),
                "task:updated",
                {
                    "task": {
                        "id": task["id"],
                        "workspaceId": task["workspaceId"],
                        "status": task["status"],
                        "backend": task.get("backend"),
                    }
                },
            )
        if not status_changed:
            return
        if task["status"] in ("completed", "failed"):
            self._emit(
                task_channel(id_of(task)),
                f"task:{task['status']}",
                {"taskId": task["id"], "workspaceId": task["workspaceId"], "status": task["status"], "workerId": None},
            )
        if task["status"] == "cancelled":
            for worker in workers:
                if worker["status"] in LIVE_WORKER_STATUSES:
                    self._emit(
                        worker_channel(id_of(worker)),
                        "worker:command",
                        {"action": "abort", "reason": "task_cancelled", "timestamp": epoch_ms(parse_iso(now))},
                    )

    def delete_task(self, principal: Principal, task_id: str, force: bool = False) -> dict[str, Any]:
        """A task with a live worker needs `force=true`; its workers go with it."""
        with self.store.transaction():
            access.task_for(self.store, principal, task_id)
            live = [w for w in self.store.find("workers", "task", task_id) if w["status"] in LIVE_WORKER_STATUSES]
            if live and not force:
                raise BadRequest("Cannot delete a task with a live worker; pass force=true")
            self._purge_task(task_id)
            return {"success": True}


def _wanted(status: str | None) -> Callable[[Any], bool]:
    """The `status` filter of the task list: any, `active` (not terminal), or one status."""
    if status is None:
        return lambda _status: True
    if status == "active":
        return lambda task_status: task_status not in TERMINAL_TASK_STATUSES
    return lambda task_status: task_status == status


def _ref(workspace: Record) -> dict[str, Any]:
    return {"id": workspace["id"], "name": workspace["name"], "repo": workspace.get("repo")}
