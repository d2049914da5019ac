"""The mock's state: tables of wire-shaped dicts, the indexes the rules read, one lock, optional SQLite write-through.

No rules live here. Records are plain dicts in the spec's wire shape (camelCase). Every change goes through
`insert` / `update` / `delete` inside `transaction()`, which

- holds the one re-entrant lock for the whole call (so a claim is atomic against every other call),
- keeps the indexes in step (tasks per workspace in creation order, workers per account / task, live workers per
  account / workspace, ...; and the ordered ones of `_indexes`: tasks per workspace and status by
  (-priority, createdAt), by createdAt and, when finished, by updatedAt; the claim queue of pending tasks; live
  workers by when they could go stale), so that reads take a page or a count instead of sorting every record,
- undoes every change if the block raises,
- and, with a `state_file`, upserts the changed records into SQLite in one transaction (WAL,
  synchronous=FULL) before the block returns, so a kill -9 loses no acknowledged write.

Records handed out by `get`/`find` are the stored objects: read them, copy them out, and change them only with
`update` (never in place), so the undo log and the indexes stay true.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from mockserver.domain._indexes import Indexes
from mockserver.domain._statefile import StateFile
from mockserver.domain.fields import id_of, text, text_or_none
from mockserver.domain.runtime import iso_micros

__all__ = (
    "TABLES",
    "Record",
    "Store",
    "Transaction",
    "clone",
    "id_of",
    "register_table",
    "text",
    "text_or_none",
    "unregister_table",
)

Record = dict[str, Any]
KeyFn = Callable[[Mapping[str, Any]], str]


_encode, _decode = msgspec.json.encode, msgspec.json.decode


def clone(value: Any) -> Any:
    """A deep copy of JSON data (records are JSON): a msgspec round trip, ~4x faster than stdlib json and
    `copy.deepcopy`; what msgspec refuses (e.g. non-string dict keys) goes through stdlib json as before."""
    try:
        return _decode(_encode(value))
    except (TypeError, ValueError, msgspec.MsgspecError):
        return json.loads(json.dumps(value))


def _field(name: str) -> KeyFn:
    return lambda rec: str(rec[name])


def _pair(a: str, b: str) -> KeyFn:
    return lambda rec: f"{rec[a]}|{rec[b]}"


# table -> primary key of its records (world files use the same names)
TABLES: dict[str, KeyFn] = {
    "teams": _field("id"),
    "users": _field("id"),
    "memberships": _pair("teamId", "userId"),
    "accounts": _field("id"),
    "credentials": _field("apiKeyHash"),
    "accountWorkspaces": _pair("accountId", "workspaceId"),
    "workspaces": _field("id"),
    "tasks": _field("id"),
    "workers": _field("id"),
    "artifacts": _field("id"),
    "schedules": _field("id"),
    "notes": _field("id"),
    "heartbeats": _pair("accountId", "localUiUrl"),
    "deviceCodes": _field("deviceTokenHash"),
    "sessions": _field("token"),
}
_BUILT_IN = frozenset(TABLES)


def register_table(table: str, key_field: str) -> None:
    """A declared resource's table, for every store built from now on (see mockserver.domain.resources)."""
    if table in TABLES:
        raise ValueError(f"table {table!r} exists already")
    TABLES[table] = _field(key_field)


def unregister_table(table: str) -> None:
    if table in _BUILT_IN:
        raise ValueError(f"table {table!r} is built in")
    del TABLES[table]


# order that keeps ids in creation order when a world or state file is loaded
_CREATION_ORDERED = ("tasks", "workers", "artifacts", "schedules", "notes", "accounts", "workspaces")
_EPOCH = "1970-01-01T00:00:00.000Z"


class Transaction:
    """One (possibly nested) unit of change; `on_commit` callbacks run after the outermost block commits."""

    __slots__ = ("_callbacks", "dirty", "undo")

    def __init__(self) -> None:
        self.undo: list[tuple[str, str, Record | None]] = []
        self.dirty: dict[tuple[str, str], None] = {}
        self._callbacks: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)


class Store:
    """Tables, indexes and one lock; see the module docstring for the rules of use.

    >>> store = Store({"teams": [{"id": "t1", "name": "Team"}]})
    >>> store.get("teams", "t1")["name"]
    'Team'
    """

    def __init__(self, world: Mapping[str, Any] | None = None, *, state_file: Path | str | None = None) -> None:
        import mockserver.domain.areas  # noqa: F401  (the areas' tables and resources exist in every store)

        self.lock = threading.RLock()
        self._world_text = _world_bytes(world or {})  # what reset() returns to, kept immutable as JSON
        self._tx: Transaction | None = None
        self._file: StateFile | None = None
        self.meta: dict[str, Any] = {}
        self._tables: dict[str, dict[str, Record]] = {}
        self._indexes = Indexes()
        self.resumes = 0  # how often the state file was resumed since its world was written (0: a fresh world)
        if state_file is not None:
            self._file = StateFile(Path(state_file))
            saved = self._file.read(TABLES)
            if saved is not None:
                self._install(saved)
                self.resumes = self._file.bump("resumes")
                return
        self._load_text(self._world_text)

    # -- whole-state operations ---------------------------------------------------------------------------------

    def load(self, world: Mapping[str, Any]) -> None:
        """Replace every table with `world` (the fixtures' format); it becomes what `reset()` returns to."""
        self._load_text(_world_bytes(world))

    def reset(self) -> None:
        """Back to the last loaded world."""
        self._load_text(self._world_text)

    def dump(self) -> dict[str, Any]:
        """The current state in the world format (credentials carry only hashes)."""
        with self.lock:
            world: dict[str, Any] = clone(
                {"meta": self.meta, **{t: list(rows.values()) for t, rows in self._tables.items()}}
            )
            return world

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _load_text(self, text: bytes | str) -> None:
        with self.lock:
            self._world_text = text
            with _gc_paused():
                self._install(_normalise_world(_parse_world(text)))
            self._rewrite_file()

    # -- reads --------------------------------------------------------------------------------------------------

    def get(self, table: str, key: str | None) -> Record | None:
        if key is None:
            return None
        return self._tables[table].get(str(key))

    def must(self, table: str, key: str) -> Record:
        """A record an index or another record points at: its absence is a broken store, not a client's 404."""
        record = self._tables[table].get(str(key))
        if record is None:
            raise LookupError(f"{table}/{key} is indexed but not stored")
        return record

    def rows(self, table: str) -> Iterator[Record]:
        return iter(list(self._tables[table].values()))

    def count(self, table: str) -> int:
        return len(self._tables[table])

    def find(self, table: str, index: str, group: str | None) -> list[Record]:
        """Records of `table` in `index`'s `group`, in insertion order (e.g. tasks of a workspace)."""
        if group is None:
            return []
        members = self._indexes.members(table, index, str(group))
        rows = self._tables[table]
        return [rows[rid] for rid in members]

    def count_in(self, table: str, index: str, group: str | None) -> int:
        if group is None:
            return 0
        return len(self._indexes.members(table, index, str(group)))

    def pending_entries(self, workspace_id: str) -> list[tuple[Any, ...]]:
        """`(-priority, createdAt µs, id)` of the workspace's pending tasks, best first.

        The live sorted list: do not change it, and do not write to the store while iterating it (the same holds
        for every index read below).
        """
        return self._indexes.tasks.rank.get(workspace_id, {}).get("pending", [])

    def task_ranks(self, workspace_id: str) -> Mapping[Any, list[tuple[int, int, str]]]:
        """status -> `(-priority, createdAt µs, id)` of the workspace's tasks in that status, ascending."""
        return self._indexes.tasks.rank.get(workspace_id, {})

    def task_ages(self, workspace_id: str) -> Mapping[Any, list[tuple[int, str]]]:
        """status -> `(createdAt µs, id)` of the workspace's tasks in that status, oldest first."""
        return self._indexes.tasks.created.get(workspace_id, {})

    def task_finishes(self, workspace_id: str) -> Mapping[Any, list[tuple[int, int, str]]]:
        """terminal status -> `(updatedAt µs, createdAt µs, id)` of the workspace's tasks in it, oldest update first
        (a task whose updatedAt does not parse is left out)."""
        return self._indexes.tasks.updated.get(workspace_id, {})

    def claim_queue(self, workspace_id: str, now_us: int) -> Mapping[Any, list[tuple[int, int, str]]]:
        """(sorted tuple of requiredCapabilities | None, runnerPreference) -> pending entries as `pending_entries`,
        without the tasks whose startAt lies after `now_us` (µs since the epoch) or whose dependencies have not
        finished."""
        return self._indexes.tasks.claim_queue(workspace_id, now_us)

    def overdue_workers(self, account_id: str, now_us: int) -> list[str]:
        """Ids of the account's live workers that `now_us` is past the stale limit of (a superset of those
        `lifecycle.expire_stale_workers` fails: idle or running too long, or silent beyond the heartbeat window)."""
        return self._indexes.stale.overdue(account_id, now_us)

    # -- writes (inside a transaction) --------------------------------------------------------------------------

    @property
    def tx(self) -> Transaction:
        """The transaction of the thread that holds the lock."""
        assert self._tx is not None, "no transaction is open"
        return self._tx

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.lock:
            outermost = self._tx is None
            if outermost:
                self._tx = Transaction()
            tx = self._tx
            assert tx is not None
            mark = (len(tx.undo), len(tx._callbacks))
            try:
                yield tx
            except BaseException:
                self._rollback(tx, mark)
                if outermost:
                    self._tx = None
                raise
            if outermost:
                try:
                    self._write_through(tx)
                except BaseException:
                    self._rollback(tx, (0, 0))
                    raise
                finally:
                    self._tx = None
                for callback in tx._callbacks:
                    callback()

    def insert(self, table: str, record: Record) -> Record:
        key = TABLES[table](record)
        with self.transaction():
            assert key not in self._tables[table], f"{table} {key} already exists"
            self._put(table, key, record)
        return record

    def upsert(self, table: str, record: Record) -> Record:
        key = TABLES[table](record)
        with self.transaction():
            self._put(table, key, record)
        return record

    def update(self, table: str, key: str, changes: Mapping[str, Any]) -> Record:
        """Apply `changes` (top-level fields) to the record and return it."""
        with self.transaction():
            current = self._tables[table][key]
            self._put(table, key, {**current, **changes})
            return self._tables[table][key]

    def delete(self, table: str, key: str) -> Record | None:
        with self.transaction():
            if key not in self._tables[table]:
                return None
            return self._put(table, key, None)

    # -- internals ----------------------------------------------------------------------------------------------

    def _put(self, table: str, key: str, record: Record | None) -> Record | None:
        tx = self.tx
        rows = self._tables[table]
        old = rows.get(key)
        tx.undo.append((table, key, clone(old)))
        tx.dirty[(table, key)] = None
        if record is None:
            rows.pop(key, None)
        else:
            if old is not None and old is not record:
                # keep the stored object's identity so references held by the caller stay current
                old.clear()
                old.update(record)
                record = old
            rows[key] = record
        self._indexes.update(table, key, record)
        return old

    def _rollback(self, tx: Transaction, mark: tuple[int, int]) -> None:
        undo_mark, callback_mark = mark
        del tx._callbacks[callback_mark:]
        while len(tx.undo) > undo_mark:
            table, key, old = tx.undo.pop()
            rows = self._tables[table]
            if old is None:
                rows.pop(key, None)
            elif key in rows:
                rows[key].clear()
                rows[key].update(old)
            else:
                rows[key] = old
            self._indexes.update(table, key, rows.get(key))
        if undo_mark == 0:
            tx.dirty.clear()

    def _install(self, world: Mapping[str, Any]) -> None:
        self.meta = dict(world.get("meta") or {})
        self._tables = {table: {} for table in TABLES}
        self._indexes = Indexes()
        for table, key_fn in TABLES.items():
            records = list(world.get(table) or [])  # fresh dicts: the caller parsed them for us
            if table in _CREATION_ORDERED:
                records.sort(key=lambda r: iso_micros(str(r.get("createdAt") or _EPOCH)))
            rows = self._tables[table]
            for rec in records:
                rows[key_fn(rec)] = rec
            if len(rows) == len(records):
                self._indexes.load(table, rows)  # in bulk: each sorted index is sorted once
                continue
            # the same key twice: index record by record, as each replaces the one before
            self._tables[table] = {}
            for rec in records:
                key = key_fn(rec)
                self._tables[table][key] = rec
                self._indexes.update(table, key, rec)

    def _write_through(self, tx: Transaction) -> None:
        if self._file is not None and tx.dirty:
            self._file.write((table, key, self._tables[table].get(key)) for table, key in tx.dirty)

    def _rewrite_file(self) -> None:
        if self._file is not None:
            self._file.rewrite(self.meta, self._tables)


_COLLECT_AFTER = 100_000  # new GC-tracked objects (~10 per task: a 10k-task world) after which a load collects once


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while a world loads: it only allocates, nothing there is garbage, and the collector's passes
    over the growing heap cost as much as the load itself. After a big load, one full collection right away: it
    moves the new records to the oldest generation in one pass, where letting them age through the young ones
    costs three (100k tasks: `create_app` 6.7 s before these changes, 7.0 s with the pause alone, 4.8 s with it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if enabled and gc.get_count()[0] >= _COLLECT_AFTER:
            gc.collect()
    finally:
        if enabled:
            gc.enable()


def _world_bytes(world: Mapping[str, Any]) -> bytes | str:
    """The world as JSON (msgspec: ~4x faster than stdlib json on 100k tasks; stdlib for what msgspec refuses)."""
    try:
        return _encode(dict(world))
    except (TypeError, ValueError, msgspec.MsgspecError):
        return json.dumps(dict(world))


def _parse_world(text: bytes | str) -> Any:
    """Stdlib json, not msgspec: with the GC paused it is nearly as fast (0.65 s vs 0.45 s for 100k tasks), and it
    shares the dict keys between all records (msgspec repeats its long ones: +0.4 KiB per task)."""
    return json.loads(text)


def _normalise_world(world: Mapping[str, Any]) -> dict[str, Any]:
    """World files carry fixture keys in plaintext; the store keeps only their SHA-256."""
    out = {k: v for k, v in world.items() if k != "credentials"}
    creds = []
    for cred in world.get("credentials") or []:
        digest = cred.get("apiKeyHash") or hashlib.sha256(str(cred["apiKey"]).encode()).hexdigest()
        creds.append({"accountId": cred["accountId"], "apiKeyHash": digest})
    out["credentials"] = creds
    return out
