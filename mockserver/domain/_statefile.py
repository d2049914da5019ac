"""SQLite write-through of the store: one row per record, written in one transaction per store commit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ("StateFile", "StateFileError")


def _encode(record: Mapping[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


class StateFileError(ValueError):
    """The state file cannot be used (no such folder, not SQLite, unreadable): one line for the CLI."""


class StateFile:
    """A SQLite file in WAL mode with synchronous=FULL: a commit that returned is on disk (kill -9 safe)."""

    def __init__(self, path: Path) -> None:
        # a typo in the folder must not silently create a new tree: the folder has to exist
        if not path.parent.is_dir():
            raise StateFileError(f"cannot use state file {path}: folder {path.parent} does not exist")
        if path.is_dir():
            raise StateFileError(f"cannot use state file {path}: it is a folder")
        self.path = path
        # the store's lock serialises every use, so one connection shared by threads is safe
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, key TEXT NOT NULL, "
                "body TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, body TEXT NOT NULL)")
            self._db.execute("SELECT tbl, key, body FROM records LIMIT 0")  # an SQLite file of another shape
        except sqlite3.Error as exc:
            self._db.close()
            reason = "not an SQLite file" if "not a database" in str(exc) else str(exc)
            raise StateFileError(f"cannot use state file {path}: {reason}; pick another --state-file") from None

    def read(self, tables: Iterable[str]) -> dict[str, Any] | None:
        """The saved world, or None for a new file."""
        meta = self._db.execute("SELECT body FROM meta WHERE name = 'meta'").fetchone()
        if meta is None:
            return None
        world: dict[str, Any] = {"meta": json.loads(meta[0]), **{table: [] for table in tables}}
        for table, body in self._db.execute("SELECT tbl, body FROM records"):
            if table in world:
                world[table].append(json.loads(body))
        return world

    def write(self, changes: Iterable[tuple[str, str, Mapping[str, Any] | None]]) -> None:
        """Upsert (record) or delete (None) each `(table, key, record)` in one transaction."""
        upserts, deletes = [], []
        for table, key, record in changes:
            if record is None:
                deletes.append((table, key))
            else:
                upserts.append((table, key, _encode(record)))
        self._transaction(
            lambda db: (
                db.executemany("DELETE FROM records WHERE tbl = ? AND key = ?", deletes),
                db.executemany("INSERT OR REPLACE INTO records (tbl, key, body) VALUES (?, ?, ?)", upserts),
            )
        )

    def rewrite(self, meta: Mapping[str, Any], tables: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        """Replace the whole file's content with `tables` (table -> key -> record)."""
        rows = [(table, key, _encode(rec)) for table, records in tables.items() for key, rec in records.items()]
        self._transaction(
            lambda db: (
                db.execute("DELETE FROM records"),
                db.execute("DELETE FROM meta"),
                db.execute("INSERT INTO meta (name, body) VALUES ('meta', ?)", (json.dumps(meta),)),
                db.executemany("INSERT INTO records (tbl, key, body) VALUES (?, ?, ?)", rows),
            )
        )

    def bump(self, name: str) -> int:
        """Add one to the counter `name` of the meta table (gone again after `rewrite`) and return it."""
        row = self._db.execute("SELECT body FROM meta WHERE name = ?", (name,)).fetchone()
        value = (int(json.loads(row[0])) if row else 0) + 1
        self._transaction(
            lambda db: db.execute("INSERT OR REPLACE INTO meta (name, body) VALUES (?, ?)", (name, json.dumps(value)))
        )
        return value

    def close(self) -> None:
        self._db.close()

    def _transaction(self, work: Any) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            work(self._db)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
