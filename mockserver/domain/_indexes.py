"""The store's secondary indexes: record groups in insertion order; tasks per workspace and status in the orders
the task list and the claim read (`_TaskIndex`); live workers per account by when they could go stale."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from mockserver.domain.lifecycle import HEARTBEAT_WINDOW, LIVE_WORKER_STATUSES, STALE_AFTER, TERMINAL_TASK_STATUSES
from mockserver.domain.runtime import iso_micros

__all__ = ("Indexes", "register_group_index", "unregister_group_index")

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


def register_group_index(table: str, name: str, field: str) -> None:
    """Index `table` by `field` under `name` in every `Indexes` built from now on (declared resources)."""
    if (table, name) in _GROUP_INDEXES:
        raise ValueError(f"index {table}.{name} exists already")
    _GROUP_INDEXES[(table, name)] = _opt(field)


def unregister_group_index(table: str, name: str) -> None:
    del _GROUP_INDEXES[(table, name)]


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

    def load(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """`update` for every record of a freshly filled table (this index must be empty)."""
        key, groups, group_of = self.key, self.groups, self.group_of
        for rid, rec in rows.items():
            group = key(rec)
            if group is not None:
                members = groups.get(group)
                if members is None:
                    members = groups[group] = {}
                members[rid] = None
                group_of[rid] = group


_MIN = -(1 << 62)  # the key of a timestamp that does not parse: due before every real instant
_OTHER_PREFERENCE = "\x00other"  # runnerPreference that is no string: fits only a user account, as in the claim


def _stamp(value: Any) -> int | None:
    """`iso_micros` of a record's timestamp field; None when it is absent or does not parse."""
    if not value:
        return None
    try:
        return iso_micros(str(value))
    except (ValueError, TypeError, OverflowError):
        return None


def _priority(value: Any) -> int:
    try:
        return int(value or 0)
    except (ValueError, TypeError):
        return 0


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


def _bucket(rec: Mapping[str, Any]) -> tuple[Any, Any]:
    """(requiredCapabilities as a sorted tuple of distinct values, or None when they cannot form one;
    runnerPreference). Tuples of strings, not frozensets: the cyclic GC stops tracking them."""
    try:
        caps: tuple[Any, ...] | None = tuple(sorted(set(rec.get("requiredCapabilities") or [])))
    except TypeError:
        caps = None  # the claim compares such a task itself (and fails as it always did)
    preference = rec.get("runnerPreference")
    return caps, preference if preference is None or isinstance(preference, str) else _OTHER_PREFERENCE


def _gating_deps(rec: Mapping[str, Any]) -> tuple[str, ...]:
    """The ids a pending task waits for (none when its context bypasses the gate, or is no object: then the
    claim judges the task itself)."""
    context = rec.get("context") or {}
    depends_on = rec.get("dependsOn")
    if not isinstance(context, Mapping) or context.get("bypassDepsGate") or not isinstance(depends_on, list):
        return ()
    return tuple(dict.fromkeys(str(dep) for dep in depends_on))


_ABSENT = object()  # the status of a task that is not in the table


def _done(status: Any) -> bool:
    """A dependency in this status no longer holds its dependants back (a missing one neither): the rule of
    `claims._Candidates._dependencies_done`, which still judges every task the claim queue yields."""
    return status is _ABSENT or status in ("completed", "cancelled")


class _Slot(NamedTuple):
    """Where one task sits in `_TaskIndex`: what its entries are made of. Two equal slots mean nothing to move.
    Immutable, and made of strings, ints and tuples only, so the cyclic GC stops tracking it after one pass
    (100k tasks must not add 100k objects to every full collection)."""

    ws: str
    status: Any
    rank: tuple[int, int, str]
    created: tuple[int, str]
    updated: tuple[int, int, str] | None  # terminal statuses only
    bucket: tuple[Any, Any] | None  # pending only
    start: int | None  # pending only
    deps: tuple[str, ...]  # pending only


def _slot(rid: str, rec: Mapping[str, Any], buckets: dict[Any, Any]) -> _Slot | None:
    """The task's slot; None for a task without a workspace (no list shows it, no claim finds it)."""
    workspace_id = rec.get("workspaceId")
    if workspace_id is None:
        return None
    status = rec.get("status")
    if type(status) is not str:
        status = _hashable(status)
    created = _stamp(rec.get("createdAt"))
    created = 0 if created is None else created  # as the load orders a record without createdAt
    updated = _stamp(rec.get("updatedAt")) if status in TERMINAL_TASK_STATUSES else None
    pending = status == "pending"
    bucket = _bucket(rec) if pending else None
    return _new_slot(
        _Slot,
        (
            str(workspace_id),
            status,
            (-_priority(rec.get("priority")), created, rid),
            (created, rid),
            None if updated is None else (updated, created, rid),
            None if bucket is None else buckets.setdefault(bucket, bucket),  # one object per distinct bucket
            _stamp(rec.get("startAt")) if pending else None,
            _gating_deps(rec) if pending else (),
        ),
    )


_new_slot = tuple.__new__  # _Slot(...) without the Python-level __new__ of a NamedTuple (the load makes 100k)


def _drop(outer: dict[str, dict[Any, list[Any]]], ws: str, key: Any, entry: Any) -> None:
    groups = outer[ws]
    entries = groups[key]
    del entries[bisect.bisect_left(entries, entry)]
    if not entries:
        del groups[key]
        if not groups:
            del outer[ws]


class _TaskIndex:
    """Tasks per workspace and status as sorted lists of small tuples, so that reads take a page instead of
    sorting every task:

    - `rank[ws][status]`:    (-priority, createdAt µs, id): the claim queue / page order within a status;
    - `created[ws][status]`: (createdAt µs, id): the newest-first list;
    - `updated[ws][status]`: (updatedAt µs, createdAt µs, id), terminal statuses only: what finished recently;
    - `ready[ws][bucket]`:   the rank entries of the pending tasks a claim may take now, by (requiredCapabilities,
      runnerPreference), so that a claimer merges only the buckets it can take. Held back from it:
      a pending task with a `startAt` waits in `deferred[ws]` (by startAt) until a claim at or after that instant
      releases it (`claim_queue`), and one with an unfinished dependency waits in `blocked` until the dependency
      completes or is cancelled (`waits_on`: dependency id -> the pending tasks gated on it). `place_of` says
      which of the three holds each pending task.

    Timestamps are microseconds since the epoch (`iso_micros`): they order exactly as the parsed datetimes.
    """

    __slots__ = (
        "blocked",
        "buckets",
        "created",
        "deferred",
        "place_of",
        "rank",
        "ready",
        "slot_of",
        "status_of",
        "updated",
        "waits_on",
    )

    def __init__(self) -> None:
        self.rank: dict[str, dict[Any, list[tuple[int, int, str]]]] = {}
        self.created: dict[str, dict[Any, list[tuple[int, str]]]] = {}
        self.updated: dict[str, dict[Any, list[tuple[int, int, str]]]] = {}
        self.ready: dict[str, dict[Any, list[tuple[int, int, str]]]] = {}
        self.deferred: dict[str, list[tuple[int, tuple[int, int, str]]]] = {}
        self.blocked: dict[str, None] = {}
        self.waits_on: dict[str, dict[str, None]] = {}
        self.slot_of: dict[str, _Slot] = {}
        self.place_of: dict[str, str] = {}  # pending task -> "ready" | "deferred" | "blocked"
        self.status_of: dict[str, Any] = {}  # every task's status, for the dependency gate
        self.buckets: dict[Any, Any] = {}

    def update(self, rid: str, rec: Mapping[str, Any] | None) -> None:
        was = self.status_of.get(rid, _ABSENT)
        now = _ABSENT if rec is None else rec.get("status")
        if rec is None:
            self.status_of.pop(rid, None)
        else:
            self.status_of[rid] = now
        new = _slot(rid, rec, self.buckets) if rec is not None else None
        old = self.slot_of.get(rid)
        if old != new:
            if old is not None:
                self._remove(rid, old)
            if new is not None:
                self._add(rid, new, insert=bisect.insort)
        if _done(was) != _done(now):
            for dependant in list(self.waits_on.get(rid, ())):
                self._recheck(dependant)

    def load(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """Index every task of a fresh table: append, then sort each list once."""
        self.status_of = {rid: rec.get("status") for rid, rec in rows.items()}
        append = list.append
        buckets = self.buckets
        for rid, rec in rows.items():
            slot = _slot(rid, rec, buckets)
            if slot is not None:
                self._add(rid, slot, insert=append)
        for outer in (self.rank, self.created, self.updated, self.ready):
            for groups in outer.values():
                for entries in groups.values():
                    entries.sort()
        for waiting in self.deferred.values():
            waiting.sort()

    def claim_queue(self, ws: str, now_us: int) -> dict[Any, list[tuple[int, int, str]]]:
        """The workspace's pending tasks by bucket, after releasing those whose startAt has come (live lists)."""
        waiting = self.deferred.get(ws)
        if waiting and waiting[0][0] <= now_us:
            due = bisect.bisect_right(waiting, now_us, key=lambda entry: entry[0])
            for _start, rank in waiting[:due]:
                self._place(rank[2], self.slot_of[rank[2]], insert=bisect.insort)
            del waiting[:due]
            if not waiting:
                del self.deferred[ws]
        return self.ready.get(ws, {})

    def _is_blocked(self, slot: _Slot) -> bool:
        status_of = self.status_of
        return any(not _done(status_of.get(dep, _ABSENT)) for dep in slot.deps)

    def _place(self, rid: str, slot: _Slot, *, insert: Callable[[list[Any], Any], None]) -> None:
        """Put a pending task that is not (or no longer) deferred where a claim finds it, or in `blocked`."""
        if self._is_blocked(slot):
            self.place_of[rid] = "blocked"
            self.blocked[rid] = None
        else:
            self.place_of[rid] = "ready"
            insert(self.ready.setdefault(slot.ws, {}).setdefault(slot.bucket, []), slot.rank)

    def _unplace(self, rid: str, slot: _Slot) -> None:
        place = self.place_of.pop(rid)
        if place == "ready":
            _drop(self.ready, slot.ws, slot.bucket, slot.rank)
        elif place == "blocked":
            del self.blocked[rid]
        else:
            waiting = self.deferred[slot.ws]
            del waiting[bisect.bisect_left(waiting, (slot.start, slot.rank))]
            if not waiting:
                del self.deferred[slot.ws]

    def _recheck(self, rid: str) -> None:
        """A dependency of this pending task finished or came back: move it between `ready` and `blocked` (a
        deferred one is judged when its startAt releases it)."""
        place = self.place_of[rid]
        if place == "deferred":
            return
        slot = self.slot_of[rid]
        if self._is_blocked(slot) != (place == "blocked"):
            self._unplace(rid, slot)
            self._place(rid, slot, insert=bisect.insort)

    def _add(self, rid: str, slot: _Slot, *, insert: Callable[[list[Any], Any], None]) -> None:
        self.slot_of[rid] = slot
        ws, status = slot.ws, slot.status
        insert(self.rank.setdefault(ws, {}).setdefault(status, []), slot.rank)
        insert(self.created.setdefault(ws, {}).setdefault(status, []), slot.created)
        if slot.updated is not None:
            insert(self.updated.setdefault(ws, {}).setdefault(status, []), slot.updated)
        if slot.bucket is not None:
            for dep in slot.deps:
                self.waits_on.setdefault(dep, {})[rid] = None
            if slot.start is None:
                self._place(rid, slot, insert=insert)
            else:
                self.place_of[rid] = "deferred"
                insert(self.deferred.setdefault(ws, []), (slot.start, slot.rank))

    def _remove(self, rid: str, slot: _Slot) -> None:
        ws, status = slot.ws, slot.status
        _drop(self.rank, ws, status, slot.rank)
        _drop(self.created, ws, status, slot.created)
        if slot.updated is not None:
            _drop(self.updated, ws, status, slot.updated)
        if slot.bucket is not None:
            self._unplace(rid, slot)
            for dep in slot.deps:
                dependants = self.waits_on[dep]
                del dependants[rid]
                if not dependants:
                    del self.waits_on[dep]
        del self.slot_of[rid]


def _stale_limits() -> tuple[dict[str, int], int]:
    us = 1_000_000
    return (
        {status: int(limit.total_seconds()) * us for status, limit in STALE_AFTER.items()},
        int(HEARTBEAT_WINDOW.total_seconds()) * us,
    )


class _StaleIndex:
    """Live workers per account by the first instant `expire_stale_workers` could fail them: updatedAt plus their
    status's stale limit (or the heartbeat window, for statuses without one). A claim sweeps its account only
    when one of these has passed."""

    __slots__ = ("by_account", "entry_of")

    LIMITS, DEFAULT = _stale_limits()

    def __init__(self) -> None:
        self.by_account: dict[str, list[tuple[int, str]]] = {}
        self.entry_of: dict[str, tuple[tuple[Any, ...], str, tuple[int, str]]] = {}

    def update(
        self, rid: str, rec: Mapping[str, Any] | None, *, insert: Callable[[list[Any], Any], None] = bisect.insort
    ) -> None:
        account = _live(rec, "accountId") if rec is not None else None
        sig = (account, rec.get("status"), rec.get("updatedAt")) if rec is not None and account is not None else None
        old = self.entry_of.get(rid)
        if old is not None:
            if old[0] == sig:
                return
            entries = self.by_account[old[1]]
            del entries[bisect.bisect_left(entries, old[2])]
            if not entries:
                del self.by_account[old[1]]
            del self.entry_of[rid]
        if sig is not None:
            assert rec is not None and account is not None
            updated = _stamp(rec.get("updatedAt"))
            limit = self.LIMITS.get(str(rec.get("status")), self.DEFAULT)
            entry = (_MIN if updated is None else updated + limit, rid)
            insert(self.by_account.setdefault(account, []), entry)
            self.entry_of[rid] = (sig, account, entry)

    def load(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        for rid, rec in rows.items():
            self.update(rid, rec, insert=list.append)
        for entries in self.by_account.values():
            entries.sort()

    def overdue(self, account: str, now_us: int) -> list[str]:
        """Ids of the account's live workers whose deadline lies before `now_us`."""
        entries = self.by_account.get(account)
        if not entries or entries[0][0] >= now_us:
            return []
        return [rid for _deadline, rid in entries[: bisect.bisect_left(entries, (now_us,))]]


class Indexes:
    """Every index of every table, kept in step by `update(table, key, record_or_None)`."""

    __slots__ = ("_by_table", "groups", "stale", "tasks")

    def __init__(self) -> None:
        self.groups = {name: _GroupIndex(key) for name, key in _GROUP_INDEXES.items()}
        self.tasks = _TaskIndex()
        self.stale = _StaleIndex()
        self._by_table: dict[str, list[_GroupIndex]] = {}
        for (table, _name), index in self.groups.items():
            self._by_table.setdefault(table, []).append(index)

    def update(self, table: str, key: str, record: Mapping[str, Any] | None) -> None:
        for index in self._by_table.get(table, ()):
            index.update(key, record)
        if table == "tasks":
            self.tasks.update(key, record)
        elif table == "workers":
            self.stale.update(key, record)

    def load(self, table: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """Index a freshly filled table in bulk (the indexes of `table` must be empty)."""
        for index in self._by_table.get(table, ()):
            index.load(rows)
        if table == "tasks":
            self.tasks.load(rows)
        elif table == "workers":
            self.stale.load(rows)

    def members(self, table: str, index: str, group: str) -> dict[str, None]:
        return self.groups[(table, index)].groups.get(group, {})
