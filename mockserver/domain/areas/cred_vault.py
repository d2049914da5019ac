"""What the mock puts in place of the real server's encryption and of the providers it calls (Anthropic, OpenAI).

- `seal`/`unseal`: the real server keeps a secret's value AES-GCM encrypted; the mock keeps it XORed with a
  keystream of its own fixed key and a per-write nonce. It is no protection, only a guarantee that a value
  is never stored, dumped or written to the state file as plain text, and that it can be read back where the
  real route reads it back (the runner's credential refresh).
- The simulated providers are deterministic rules on the value: a key or token containing `invalid` or
  `revoked` is refused (HTTP 401 / `invalid_grant`), everything else passes; refreshes rotate tokens to fresh
  `sim` tokens drawn from the mock's seeded ids. Nothing leaves the process.
- `record_auth_success`/`record_auth_failure`: the real credential health state machine (three consecutive
  auth failures, or one that says revoked, make a credential `revoked`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from mockserver.domain.runtime import Ids
from mockserver.domain.store import Record, Store

__all__ = (
    "REVOKE_AFTER_FAILURES",
    "auth_error_severity",
    "hash_text",
    "mint_token",
    "open_blob",
    "provider_refuses",
    "record_auth_failure",
    "record_auth_success",
    "seal",
    "seal_blob",
    "unseal",
)

_KEY = hashlib.sha256(b"buildd-api-kit mock vault v1").digest()
_PREFIX = "sim1"
_REFUSED = re.compile(r"invalid|revoked", re.IGNORECASE)
_REVOKING = re.compile(r"revoked|invalid_grant|HTTP 40[01]|logged out", re.IGNORECASE)
_AUTHISH = re.compile(r"HTTP 4\d\d|unauthori[sz]ed|authentication|invalid (api key|bearer|x-api-key)", re.IGNORECASE)
REVOKE_AFTER_FAILURES = 3


def _keystream(nonce: bytes, length: int) -> bytes:
    blocks = (hashlib.sha256(_KEY + nonce + i.to_bytes(4, "big")).digest() for i in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def seal(ids: Ids, plaintext: str) -> str:
    """`sim1:<nonce>:<base64>`: the stored form of a secret's value."""
    nonce = ids.hex(8)
    data = plaintext.encode()
    mixed = bytes(a ^ b for a, b in zip(data, _keystream(nonce.encode(), len(data)), strict=True))
    return f"{_PREFIX}:{nonce}:{base64.urlsafe_b64encode(mixed).decode()}"


def unseal(sealed: str) -> str:
    prefix, nonce, body = sealed.split(":", 2)
    if prefix != _PREFIX:
        raise ValueError("not a value sealed by the mock")
    data = base64.urlsafe_b64decode(body.encode())
    return bytes(a ^ b for a, b in zip(data, _keystream(nonce.encode(), len(data)), strict=True)).decode()


def seal_blob(ids: Ids, blob: Mapping[str, Any]) -> str:
    """A credential blob (`{"access_token": ..., "refresh_token": ...}`) sealed as JSON, as the real server does."""
    return seal(ids, json.dumps({k: v for k, v in blob.items() if v is not None}, separators=(",", ":")))


def open_blob(record: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON blob in a credential record; a value that is not a JSON object reads as `{}`."""
    try:
        blob = json.loads(unseal(str(record["encryptedValue"])))
    except (KeyError, ValueError):
        return {}
    return blob if isinstance(blob, dict) else {}


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def provider_refuses(value: str | None) -> bool:
    """The simulated providers' one rule: a key or token mentioning `invalid` or `revoked` is refused."""
    return value is None or bool(_REFUSED.search(value))


def mint_token(ids: Ids, prefix: str) -> str:
    """A fresh simulated token, e.g. `sk-ant-oat01-sim-<hex>`."""
    return f"{prefix}-sim-{ids.hex(16)}"


def auth_error_severity(message: str) -> str:
    """`revoked`, `transient` or `none`, as the real classifier sorts provider errors."""
    if _REVOKING.search(message):
        return "revoked"
    return "transient" if _AUTHISH.search(message) else "none"


def record_auth_success(store: Store, secret: Record, now: str) -> Record:
    changes = {"healthStatus": "healthy", "consecutiveAuthFailures": 0, "lastSuccessAt": now, "updatedAt": now}
    return store.update("secrets", str(secret["id"]), changes)


def record_auth_failure(store: Store, secret: Record, message: str, now: str) -> Record:
    """Count an auth failure: `degraded`, or `revoked` after three in a row or one that says so."""
    severity = auth_error_severity(message)
    if severity == "none":
        return secret
    count = int(secret.get("consecutiveAuthFailures") or 0) + 1
    status = "revoked" if severity == "revoked" or count >= REVOKE_AFTER_FAILURES else "degraded"
    changes = {
        "healthStatus": status,
        "lastFailureAt": now,
        "lastFailureMessage": message[:500],
        "consecutiveAuthFailures": count,
        "updatedAt": now,
    }
    return store.update("secrets", str(secret["id"]), changes)
