"""What the mock puts in place of the real server's encryption and of the providers it calls (Anthropic, OpenAI).

- `seal`/`unseal`/`seal_blob` live in `fixtures.vault` (one floor down, so the seeded world stores its secrets
  exactly as the create paths here do); this module re-exports them.
- The simulated providers are deterministic rules on the value: a key or token containing `invalid` or
  `revoked` is refused (HTTP 401 / `invalid_grant`), everything else passes; refreshes rotate tokens to fresh
  `sim` tokens drawn from the mock's seeded ids. Nothing leaves the process.
- `record_auth_success`/`record_auth_failure`: the real credential health state machine (three consecutive
  auth failures, or one that says revoked, make a credential `revoked`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from fixtures.vault import seal, seal_blob, unseal
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

_REFUSED = re.compile(r"invalid|revoked", re.IGNORECASE)
_REVOKING = re.compile(r"revoked|invalid_grant|HTTP 40[01]|logged out", re.IGNORECASE)
_AUTHISH = re.compile(r"HTTP 4\d\d|unauthori[sz]ed|authentication|invalid (api key|bearer|x-api-key)", re.IGNORECASE)
REVOKE_AFTER_FAILURES = 3


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
