"""Requests as copy-pasteable curl commands, with every credential masked.

`Bearer bld_0f1e…` becomes `Bearer bld_****`, a session cookie `authjs.session-token=****`; the known
secrets of a run are masked wherever they appear (headers, URL, body, schemathesis' own code samples).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

__all__ = ("Secrets", "to_curl")

_KEY_RE = re.compile(r"bld_[A-Za-z0-9_]{4,}")
_COOKIE_RE = re.compile(r"(authjs\.session-token=)[^;\s'\"]+")
# the fixed, documented probe values stay readable: they are not secrets
_PUBLIC = frozenset({"bld_dev_key_123"})


class Secrets:
    """The secret values of a run; `mask(text)` hides them (and anything shaped like a key or session)."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._values = sorted({v for v in values if v and len(v) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "bld_****" if value.startswith("bld_") else "****")
        text = _KEY_RE.sub(lambda m: m.group(0) if m.group(0) in _PUBLIC else "bld_****", text)
        return _COOKIE_RE.sub(r"\1****", text)


def to_curl(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    secrets: Secrets | None = None,
) -> str:
    """`curl -X METHOD 'url' -H 'k: v' -d 'body'`, masked."""
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    for name, value in (headers or {}).items():
        if name.lower() in {"content-length", "host", "user-agent", "accept-encoding", "connection", "accept"}:
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if len(text) > 600:
            text = text[:600] + f"…(+{len(text) - 600} characters)"
        parts += ["-d", shlex.quote(text)]
    command = " ".join(parts)
    return (secrets or Secrets()).mask(command)
