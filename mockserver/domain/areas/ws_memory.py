"""Workspace memory: what agents learn and recall, kept by the mock itself in place of buildd's memory service.

The real routes proxy an external service that scopes memories by team (its key) and by project (the workspace's
repo, else its name). Here the memories are a table of the store, with the same scoping and a deterministic text
search: a memory matches when its title, content, tags or files contain at least one word of the query, and the
memories matching the most words come first (ties: newest first), so what a runner writes it finds again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, LimitExceeded, NotFound
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, register_table

__all__ = ("MEMORY_TYPES", "Memories", "workspace_project")

MEMORY_TYPES = ("discovery", "decision", "gotcha", "pattern", "architecture", "summary")
DEFAULT_LIMIT = 50
QUICKSTART_LIMIT = 3  # per client address ...
QUICKSTART_WINDOW = timedelta(hours=1)  # ... per hour, as the real route counts
_WORD = re.compile(r"\w+")

register_table("memories", "id")
register_group_index("memories", "team", "teamId")
register_table("memoryQuickstarts", "id")


def workspace_project(workspace: Mapping[str, Any]) -> str:
    """The memory project of a workspace: its repo, else its name (the real route's `repo || name`)."""
    return str(workspace.get("repo") or workspace.get("name") or "")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _haystack(memory: Mapping[str, Any]) -> set[str]:
    parts = [str(memory.get("title") or ""), str(memory.get("content") or "")]
    parts += [str(t) for t in memory.get("tags") or []] + [str(f) for f in memory.get("files") or []]
    return _words(" ".join(parts))


def _strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{field} must be an array of strings")
    return list(value)


class Memories(Area):
    """GET/POST /api/workspaces/{id}/memory, PATCH/DELETE .../memory/{memoryId}, POST /api/memory/quickstart."""

    def list_memories(
        self,
        principal: Principal,
        workspace_id: str,
        *,
        search: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            project = workspace_project(workspace)
            rows = [
                m
                for m in self.store.find("memories", "team", str(workspace["teamId"]))
                if m.get("project") == project and (type is None or m["type"] == type)
            ]
            newest_first = sorted(rows, key=lambda m: (parse_iso(str(m["createdAt"])), str(m["id"])), reverse=True)
            terms = _words(search or "")
            if terms:
                scored = [(len(terms & _haystack(m)), m) for m in newest_first]
                # stable sort: equal scores keep newest first
                newest_first = [m for score, m in sorted(scored, key=lambda pair: -pair[0]) if score > 0]
            start = max(offset or 0, 0)
            page = newest_first[start : start + (limit or DEFAULT_LIMIT)]
            return {"memories": self._out(page), "total": len(newest_first)}

    def save_memory(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        kind = self._choice(body, "type", MEMORY_TYPES)
        if kind is None:
            raise BadRequest(f"type must be one of: {', '.join(MEMORY_TYPES)}")
        title = self._str(body, "title", required=True, message="title is required")
        content = body.get("content")
        if not isinstance(content, str):
            raise BadRequest("content is required")
        tags = _strings(body.get("tags") or body.get("concepts"), "tags")
        files = _strings(body.get("files"), "files")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            now = self._now()
            memory = self.store.insert(
                "memories",
                {
                    "id": self.ids.uuid4(),
                    "teamId": workspace["teamId"],
                    "type": kind,
                    "title": title,
                    "content": content,
                    "project": workspace_project(workspace) or None,
                    "tags": tags,
                    "files": files,
                    "source": self._str(body, "source") or "dashboard",
                    "createdAt": now,
                    "updatedAt": now,
                },
            )
            return self._saved(memory)

    def update_memory(
        self, principal: Principal, workspace_id: str, memory_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if body.get("type") is not None:
            changes["type"] = self._choice(body, "type", MEMORY_TYPES)
        if body.get("title") is not None:
            changes["title"] = self._str(body, "title", required=True, message="title must not be empty")
        if body.get("content") is not None:
            if not isinstance(body["content"], str):
                raise BadRequest("content must be a string")
            changes["content"] = body["content"]
        tags = body.get("tags") or body.get("concepts")
        if tags is not None:
            changes["tags"] = _strings(tags, "tags")
        if body.get("files") is not None:
            changes["files"] = _strings(body["files"], "files")
        if "project" in body:
            changes["project"] = self._str(body, "project")
        with self.store.transaction():
            self._memory(principal, workspace_id, memory_id)
            changes["updatedAt"] = self._now()
            return self._saved(self.store.update("memories", memory_id, changes))

    def delete_memory(self, principal: Principal, workspace_id: str, memory_id: str) -> dict[str, Any]:
        with self.store.transaction():
            self._memory(principal, workspace_id, memory_id)
            self.store.delete("memories", memory_id)
            return {"success": True}

    def quickstart(self, client_address: str) -> dict[str, Any]:
        """A new memory team and key; three per client address per hour (429 after)."""
        with self.store.transaction():
            now = self.clock.now()
            recent = [
                q
                for q in self.store.rows("memoryQuickstarts")
                if q["address"] == client_address and now - parse_iso(str(q["at"])) < QUICKSTART_WINDOW
            ]
            if len(recent) >= QUICKSTART_LIMIT:
                raise LimitExceeded(
                    "Rate limit exceeded. Try again later.", limit=QUICKSTART_LIMIT, current=len(recent)
                )
            team_id = f"team_{self.ids.hex(8)}"
            key = f"bmem_{self.ids.hex(24)}"
            self.store.insert(
                "memoryQuickstarts",
                {"id": self.ids.uuid4(), "address": client_address, "teamId": team_id, "at": self._now()},
            )
            config = {"command": "npx", "args": ["-y", "@buildd/memory-plugin"], "env": {"BUILDD_MEMORY_API_KEY": key}}
            return {"key": key, "teamId": team_id, "mcpConfig": {"mcpServers": {"memory": config}}}

    def count_for(self, workspace: Mapping[str, Any]) -> int:
        """How many memories the workspace's project holds (the knowledge store's `memory` corpus)."""
        project = workspace_project(workspace)
        return sum(
            1 for m in self.store.find("memories", "team", str(workspace["teamId"])) if m.get("project") == project
        )

    def _memory(self, principal: Principal, workspace_id: str, memory_id: str) -> Record:
        """The memory, if it belongs to the team of a workspace the caller reaches (the service's key scope)."""
        workspace = access.workspace_for(self.store, principal, workspace_id)
        memory = self.store.get("memories", memory_id)
        if memory is None or memory["teamId"] != workspace["teamId"]:
            raise NotFound.of("Memory")
        return memory

    def _saved(self, memory: Record) -> dict[str, Any]:
        out = self._out(memory)
        return {"memory": out, "observation": self._out(out)}
