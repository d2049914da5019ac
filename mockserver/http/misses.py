"""Route misses as the real server answers them: 405 (with `Allow`) only where the path exists, else 404.

Litestar routes `/api/workspaces/{id:str}` for any segment, so `POST /api/workspaces/match-repos` would be a 405
("the path exists, not with POST"). On the real server that path is no `{id}` at all: an unknown sub-path is a 404.
A path counts as existing only when every segment in a parameter slot is a valid value of that parameter
(its schema's `pattern`: ids are UUIDs), so `/api/tasks/cleanup` is a 404 and `/api/tasks/<uuid>` a 405.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException

from contracts.spec import Spec
from mockserver.http.errors import error_response

__all__ = ("ExistingPaths",)

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_ANY_SEGMENT = "[^/]+"


class ExistingPaths:
    """Which concrete paths are paths of the spec (parameter slots matched against their schema's pattern)."""

    def __init__(self, spec: Spec) -> None:
        patterns: dict[str, re.Pattern[str]] = {}
        for op in spec.operations.values():
            if op.path in patterns:
                continue
            slots = {p["name"]: _slot(spec.deref(p.get("schema")) or {}) for p in op.path_params()}
            parts = _PARAM.split(op.path)
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"({slots.get(part, _ANY_SEGMENT)})" for i, part in enumerate(parts)
            )
            patterns[op.path] = re.compile(regex)
        self._spec_paths = frozenset(patterns)
        self._patterns = tuple(patterns.values())

    def add_routes(self, paths: Iterable[str]) -> None:
        """Routes of the app that are not spec paths (the spec file, realtime, control): any segment in a slot."""
        extra = [_PARAM.sub(r"{\1}", p) for p in paths]
        self._patterns += tuple(
            re.compile(
                "".join(
                    re.escape(part) if i % 2 == 0 else f"({_ANY_SEGMENT})" for i, part in enumerate(_PARAM.split(p))
                )
            )
            for p in dict.fromkeys(extra)
            if p not in self._spec_paths
        )

    def exists(self, path: str) -> bool:
        return any(p.fullmatch(path) for p in self._patterns)

    def method_not_allowed(self, request: Request[Any, Any, Any], exc: MethodNotAllowedException) -> Response[Any]:
        if self.exists(request.url.path):
            return error_response(405, "Method not allowed", exc.headers)  # headers carry Allow (toolchain P4)
        return error_response(404, "Not found")


def _slot(schema: Any) -> str:
    """A segment regex from a parameter schema's `pattern` (anchors dropped), else any one segment."""
    pattern = schema.get("pattern") if isinstance(schema, dict) else None
    if not isinstance(pattern, str):
        return _ANY_SEGMENT
    return f"(?:{pattern.removeprefix('^').removesuffix('$')})"
