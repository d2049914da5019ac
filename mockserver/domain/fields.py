"""Typed reads of record fields: records stay wire-shaped dicts (the spec is the only place their shapes are
written), and the domain reads their ids and strings through these instead of a `str(...)` cast at every use.

    from mockserver.domain.fields import id_of, text
    self.store.find("workers", "task", id_of(task))
    workspace_channel(text(task, "workspaceId"))

A leaf module (no domain imports), so every module can use it; `mockserver.domain.store` re-exports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ("id_of", "is_uuid", "text", "text_or_none")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def text(record: Mapping[str, Any], field: str) -> str:
    """A string field of a record, typed for the reader. Records are wire-shaped dicts whose string fields the spec
    declares; one that holds something else (missing, None, a number) is a broken record and fails here, by name,
    instead of travelling on as the string "None"."""
    value = record[field]
    if not isinstance(value, str):
        raise TypeError(f"record field {field!r} holds {type(value).__name__}, not a string")
    return value


def text_or_none(record: Mapping[str, Any], field: str) -> str | None:
    """A nullable string field (`type: [string, 'null']`): its value, or None when it is absent or null."""
    value = record.get(field)
    return None if value is None else text(record, field)


def id_of(record: Mapping[str, Any]) -> str:
    """A record's `id` (every id in the spec is a string)."""
    return text(record, "id")


def is_uuid(value: str) -> bool:
    """Whether a reference is written as a UUID (either case), as the real routes tell an id from a name."""
    return _UUID.fullmatch(value) is not None
