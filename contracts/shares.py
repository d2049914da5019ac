"""`x-shared-in`: a list that shows, by design, records another team shared into the caller's team.

A team's connectors list also shows the connectors other teams shared with it, each marked `shared: true`. The
list operation says so, and how the record's owner can confirm the share:

    x-shared-in: {field: shared, shares: listConnectorShares, list: shares, team: sharedWithTeamId}

- `field`: the listed record's property that is `true` on a record shared in;
- `shares`: the operationId the record's owner calls on the record (its id as the path id) to list its shares;
- `list`, `team`: the array of that answer, and the entry field naming the team the record is shared with.

The ownership suite never takes the record's own mark for proof: the owner's `shares` answer must name the
caller's team. An unmarked record, or a marked one not shared with that team, is still a leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.spec import Operation

__all__ = ("EXTENSION", "SharedIn", "shared_in", "shared_with")

EXTENSION = "x-shared-in"
_FIELDS = ("field", "shares", "list", "team")


@dataclass(frozen=True, slots=True)
class SharedIn:
    field: str
    shares: str
    list: str
    team: str

    def marked(self, record: Any) -> bool:
        """The record says it is another team's, shared into the caller's team."""
        return isinstance(record, Mapping) and record.get(self.field) is True


def parse(raw: Any) -> SharedIn | None:
    """The extension's value, or None when it is absent; ValueError says what is malformed (`spec lint`)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{EXTENSION} must be a mapping of {', '.join(_FIELDS)}")
    missing = [k for k in _FIELDS if not isinstance(raw.get(k), str) or not raw.get(k)]
    if missing:
        raise ValueError(f"{EXTENSION} needs {', '.join(missing)} (strings)")
    return SharedIn(*(str(raw[k]) for k in _FIELDS))


def shared_in(op: Operation) -> SharedIn | None:
    """`op`'s `x-shared-in`, or None (absent or malformed: then nothing in its list counts as shared)."""
    try:
        return parse(op.raw.get(EXTENSION))
    except ValueError:
        return None


def shared_with(marked: SharedIn, answer: Any) -> set[str]:
    """The teams the owner's `shares` answer names."""
    entries = answer.get(marked.list) if isinstance(answer, Mapping) else None
    return {str(e[marked.team]) for e in entries or [] if isinstance(e, Mapping) and e.get(marked.team) is not None}
