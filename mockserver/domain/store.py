"""The mock's state: tables of wire-shaped dicts, the indexes the rules read, one lock, optional SQLite write-through.

No rules live here. Records are plain dicts in the spec's wire shape (camelCase). Every change goes through
`insert` / `update` / `delete` inside `transaction()`, which

- holds the one re-entrant lock for the whole call (so a claim is atomic against every other call),
- keeps the indexes in step (tasks per workspace in creation order, pending tasks per workspace ordered by
  (-priority, createdAt), workers per account / task, live workers per account / workspace, ...),
- undoes every change if the block raises,
- and, with a `state_file`, upserts the changed records into SQLite in one transaction (WAL,
  synchronous=FULL) before the block returns, so a kill -9 loses no acknowledged write.

Records handed out by `get`/`find` are the stored objects: read them, copy them out, and change them only with
`update` (never in place), so the undo log and the indexes stay true.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mockserver.domain._indexes import Indexes
from mockserver.domain._statefile import StateFile
from mockserver.domain.runtime import parse_iso

__all__ = ("TABLES", "Store", "Transaction", "clone")

Record = dict[str, Any]
KeyFn = Callable[[Mapping[str, Any]], str]


def clone(value: Any) -> Any:
    """A deep copy of JSON data (records are JSON), several times faster than `copy.deepcopy`."""
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
        self.lock = threading.RLock()
        self._world_text = json.dumps(dict(world or {}))  # what reset() returns to, kept immutable as text
        self._tx: Transaction | None = None
        self._file: StateFile | None = None
        self.meta: dict[str, Any] = {}
        self._tables: dict[str, dict[str, Record]] = {}
        self._indexes = Indexes()
        if state_file is not None:
            self._file = StateFile(Path(state_file))
            saved = self._file.read(TABLES)
            if saved is not None:
                self._install(saved)
                return
        self._load_text(self._world_text)

    # -- whole-state operations ---------------------------------------------------------------------------------

    def load(self, world: Mapping[str, Any]) -> None:
        """Replace every table with `world` (the fixtures' format); it becomes what `reset()` returns to."""
        self._load_text(json.dumps(dict(world)))

    def reset(self) -> None:
        """Back to the last loaded world."""
        self._load_text(self._world_text)

    def dump(self) -> dict[str, Any]:
        """The current state in the world format (credentials carry only hashes)."""
        with self.lock:
            return clone({"meta": self.meta, **{table: list(self._tables[table].values()) for table in TABLES}})

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _load_text(self, text: str) -> None:
        with self.lock:
            self._world_text = text
            self._install(_normalise_world(json.loads(text)))
            self._rewrite_file()

    # -- reads --------------------------------------------------------------------------------------------------

    def get(self, table: str, key: str | None) -> Record | None:
        if key is None:
            return None
        return self._tables[table].get(str(key))

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
        """`(-priority, createdAt, id)` of the workspace's pending tasks, best first.

        The live sorted list: do not change it, and do not write to the store while iterating it.
        """
        return self._indexes.pending.groups.get(workspace_id, [])

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
                records.sort(key=lambda r: parse_iso(str(r.get("createdAt") or _EPOCH)))
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


def _normalise_world(world: Mapping[str, Any]) -> dict[str, Any]:
    """World files carry fixture keys in plaintext; the store keeps only their SHA-256."""
    out = {k: v for k, v in world.items() if k != "credentials"}
    creds = []
    for cred in world.get("credentials") or []:
        digest = cred.get("apiKeyHash") or hashlib.sha256(str(cred["apiKey"]).encode()).hexdigest()
        creds.append({"accountId": cred["accountId"], "apiKeyHash": digest})
    out["credentials"] = creds
    return out
