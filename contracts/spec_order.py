"""The order of `paths` in openapi.yaml: grouped by tag in the order of the top-level `tags` list, the `/__mock`
control API last. `buildd-api spec lint --rule paths-order` reports what is out of place; `buildd-api spec sort`
moves the path blocks into place as text, so comments, flow style and quoting stay exactly as written.

    misplaced(raw)          -> [(path, its tag, the tag it follows)] of a loaded document
    sort_paths(text)        -> the document text with its path blocks in order (SortError if it cannot be sure)

A path's tag is the first tag of its first operation. Within a tag the paths keep the order they are written in
(the sort is stable). The text sort is line-based: a path block is its key line, everything indented under it,
and the comment lines directly above it (no blank line between). The area anchor comments of a parallel round
(`# ====...` and the `# (keep this line...)` under it) belong to no path: they are kept, in their order, at the
end of the non-mock paths. The result is re-parsed and must hold exactly the same data, or nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .spec import METHODS, parse_yaml

__all__ = ("MOCK_PREFIX", "SortError", "misplaced", "path_order", "sort_paths")

MOCK_PREFIX = "/__mock"
_KEY = re.compile(r"""^  (?P<q>['"]?)(?P<path>/[^'"]*)(?P=q):\s*(?:#.*)?$""")
_ANCHOR = re.compile(r"^  # (?:={10,}|\(keep this line)")


class SortError(ValueError):
    """The document's paths cannot be sorted safely as text (a layout this sorter does not understand)."""


def _tag_of(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    for method, op in item.items():
        if method in METHODS and isinstance(op, Mapping):
            tags = op.get("tags")
            if isinstance(tags, list) and tags and isinstance(tags[0], str):
                return tags[0]
    return None


def path_order(raw: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """path -> its sort key (group, position): the group is the tag's index in `tags` (unknown tags after the
    known ones), every `/__mock` path after all of them."""
    declared = [t.get("name") for t in raw.get("tags") or () if isinstance(t, Mapping)]
    index = {name: i for i, name in enumerate(declared)}
    keys: dict[str, tuple[int, int]] = {}
    for position, (path, item) in enumerate((raw.get("paths") or {}).items()):
        if str(path).startswith(MOCK_PREFIX):
            group = len(declared) + 1
        else:
            tag = _tag_of(item)
            group = index.get(tag, len(declared)) if tag is not None else len(declared)
        keys[str(path)] = (group, position)
    return keys


@dataclass(frozen=True, slots=True)
class Misplaced:
    path: str
    tag: str
    after: str  # the path it is written after that belongs further down


def misplaced(raw: Mapping[str, Any]) -> list[Misplaced]:
    """The paths written after a path of a later group (a later tag, or the mock API)."""
    found: list[Misplaced] = []
    paths = raw.get("paths") or {}
    latest: tuple[int, str] | None = None  # (group, path) of the furthest group seen so far
    unplaced = len([t for t in raw.get("tags") or () if isinstance(t, Mapping)])  # no or undeclared tag
    for path, (group, _) in path_order(raw).items():
        if group == unplaced:
            continue  # where it belongs is unknown; `operation-id` reports the missing or undeclared tag
        if latest is not None and group < latest[0]:
            found.append(Misplaced(path, _tag_of(paths.get(path)) or "(no tag)", latest[1]))
        elif latest is None or group > latest[0]:
            latest = (group, path)
    return found


def _chunks(lines: Sequence[str]) -> tuple[list[str], list[tuple[str, list[str]]], list[str]]:
    """(lines before the first path, [(path, its block)], anchor lines) of the paths section's lines."""
    head: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    anchors: list[str] = []
    pending: list[str] = []  # comment lines waiting for the path they stand above
    for line in lines:
        key = _KEY.match(line)
        if key:
            blocks.append((key.group("path"), [*pending, line]))
            pending = []
        elif _ANCHOR.match(line):
            anchors.extend(pending)
            pending = []
            anchors.append(line)
        elif line.lstrip().startswith("#") and len(line) - len(line.lstrip()) <= 2:
            pending.append(line)
        elif not line.strip():
            (blocks[-1][1] if blocks else head).extend([*pending, line])
            pending = []
        elif line.startswith(("   ", "\t")):
            if not blocks or pending:
                raise SortError(f"an indented line outside any path: {line.strip()[:60]!r}")
            blocks[-1][1].append(line)
        else:
            raise SortError(f"a line this sorter does not understand inside `paths`: {line.strip()[:60]!r}")
    anchors.extend(pending)
    return head, blocks, anchors


def sort_paths(text: str) -> str:
    """`text` with its `paths` blocks in order; the same text if they already are."""
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SortError(f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, Mapping) or not isinstance(raw.get("paths"), Mapping):
        raise SortError("the document has no `paths` mapping")
    if not misplaced(raw):
        return text
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "paths:"), None)
    if start is None:
        raise SortError("`paths:` is not a block mapping at the top level (flow style or an anchor)")
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "\n", "\r", "#")), len(lines))
    while end > start + 1 and lines[end - 1].startswith("#"):  # a comment above the next section stays with it
        end -= 1
    head, blocks, anchors = _chunks(lines[start + 1 : end])
    order = path_order(raw)
    if sorted(p for p, _ in blocks) != sorted(order):
        raise SortError("the path keys found in the text are not the document's paths (a multi-line key?)")
    blocks.sort(key=lambda block: order[block[0]])
    mock = [b for b in blocks if b[0].startswith(MOCK_PREFIX)]
    body = [line for path, block in blocks if not path.startswith(MOCK_PREFIX) for line in block]
    tail = [line for _, block in mock for line in block]
    for part in (body, anchors):  # each moved block ends in a newline, so the next key starts a line
        if part and not part[-1].endswith("\n"):
            part[-1] += "\n"
    out = "".join([*lines[: start + 1], *head, *body, *anchors, *tail, *lines[end:]])
    if parse_yaml(out) != raw:
        raise SortError("sorting as text would change the document's data; nothing written")
    return out
