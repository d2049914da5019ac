"""Query-string values as the domain wants them (the spec's validation already checked their shape)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ("csv", "flag", "integer")


def flag(query: Mapping[str, str], name: str) -> bool:
    return str(query.get(name, "")).lower() in ("true", "1")


def integer(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    return int(value) if value not in (None, "") else None


def csv(query: Mapping[str, str], name: str) -> list[str] | None:
    value = query.get(name)
    return [part for part in value.split(",") if part] if value else None
