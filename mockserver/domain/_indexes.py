"""The store's secondary indexes: record groups in insertion order, and pending tasks in claim order."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.domain.lifecycle import LIVE_WORKER_STATUSES
from mockserver.domain.runtime import parse_iso

__all__ = ("Indexes",)

GroupKey = Callable[[Mapping[str, Any]], "str | None"]


def _live(rec: Mapping[str, Any], by: str) -> str | None:
    return str(rec[by]) if rec.get("status") in LIVE_WORKER_STATUSES and rec.get(by) else None


def _opt(name: str, *, lower: bool = False) -> GroupKey:
    def key(rec: Mapping[str, Any]) -> str | None:
        value = rec.get(name)
        if value is None:
            return None
        return str(value).lower() if lower else str(value)

    return key


# (table, index name) -> group of a record (None: not indexed). Groups keep insertion order.
_GROUP_INDEXES: dict[tuple[str, str], GroupKey] = {
    ("accounts", "team"): _opt("teamId"),
    ("credentials", "account"): _opt("accountId"),
    ("memberships", "user"): _opt("userId"),
    ("memberships", "team"): _opt("teamId"),
    ("accountWorkspaces", "account"): _opt("accountId"),
    ("accountWorkspaces", "workspace"): _opt("workspaceId"),
    ("workspaces", "team"): _opt("teamId"),
    ("workspaces", "repo"): _opt("repo", lower=True),
    ("tasks", "workspace"): _opt("workspaceId"),
    ("tasks", "status"): _opt("status"),
    ("workers", "account"): _opt("accountId"),
    ("workers", "task"): _opt("taskId"),
    ("workers", "status"): _opt("status"),
    ("workers", "liveAccount"): lambda rec: _live(rec, "accountId"),
    ("workers", "liveWorkspace"): lambda rec: _live(rec, "workspaceId"),
    ("artifacts", "worker"): _opt("workerId"),
    ("artifacts", "workspace"): _opt("workspaceId"),
    ("artifacts", "workspaceKey"): lambda rec: f"{rec['workspaceId']}|{rec['key']}" if rec.get("key") else None,
    ("schedules", "workspace"): _opt("workspaceId"),
    ("notes", "task"): _opt("taskId"),
    ("heartbeats", "account"): _opt("accountId"),
    ("deviceCodes", "userCode"): _opt("userCode"),
}


def _pending_key(rec: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    if rec.get("status") != "pending":
        return None
    return str(rec["workspaceId"]), (-int(rec.get("priority") or 0), parse_iso(rec["createdAt"]), rec["id"])


class _GroupIndex:
    __slots__ = ("group_of", "groups", "key")

    def __init__(self, key: GroupKey) -> None:
        self.key = key
        self.groups: dict[str, dict[str, None]] = {}
        self.group_of: dict[str, str] = {}

    def update(self, rid: str, rec: Mapping[str, Any] | None) -> None:
        new = self.key(rec) if rec is not None else None
        old = self.group_of.get(rid)
        if old == new:
            return
        if old is not None:
            members = self.groups[old]
            del members[rid]
            if not members:
                del self.groups[old]
            del self.group_of[rid]
        if new is not None:
            self.groups.setdefault(new, {})[rid] = None
            self.group_of[rid] = new


class _PendingIndex:
    """Pending tasks per workspace, sorted by (-priority, createdAt, id)."""

    __slots__ = ("entry_of", "groups")

    def __init__(self) -> None:
        self.groups: dict[str, list[tuple[Any, ...]]] = {}
        self.entry_of: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def update(self, rid: str, rec: Mapping[str, Any] | None) -> None:
        new = _pending_key(rec) if rec is not None else None
        old = self.entry_of.get(rid)
        if old == new:
            return
        if old is not None:
            entries = self.groups[old[0]]
            del entries[bisect.bisect_left(entries, old[1])]
            if not entries:
                del self.groups[old[0]]
            del self.entry_of[rid]
        if new is not None:
            bisect.insort(self.groups.setdefault(new[0], []), new[1])
            self.entry_of[rid] = new



class Indexes:
    """Every index of every table, kept in step by `update(table, key, record_or_None)`."""

    __slots__ = ("_by_table", "groups", "pending")

    def __init__(self) -> None:
        self.groups = {name: _GroupIndex(key) for name, key in _GROUP_INDEXES.items()}
        self.pending = _PendingIndex()
        self._by_table: dict[str, list[_GroupIndex]] = {}
        for (table, _name), index in self.groups.items():
            self._by_table.setdefault(table, []).append(index)

    def update(self, table: str, key: str, record: Mapping[str, Any] | None) -> None:
        for index in self._by_table.get(table, ()):
            index.update(key, record)
        if table == "tasks":
            self.pending.update(key, record)

    def members(self, table: str, index: str, group: str) -> dict[str, None]:
        return self.groups[(table, index)].groups.get(group, {})
