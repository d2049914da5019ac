"""`x-signature`: how an operation a third party calls (a webhook) is signed, as the spec declares it.

Read by the `webhooks` suite (`contracts/checks/webhooks.py`, which sends deliveries signed with `forge`) and by
`spec lint` (rule `signature-declared`), so it stays light: no schemathesis, the Ed25519 key built on first use.

    x-signature:
      scheme: hmac-sha256          # hmac-sha256 | ed25519
      header: X-Hub-Signature-256  # the header carrying the signature
      prefix: 'sha256='            # written before the hex signature (optional)
      signed: '{body}'             # what is signed: {body} the raw body, {timestamp} the timestamp header's value
      timestamp: x-slack-request-timestamp   # the header carrying {timestamp}, when `signed` uses it
      refused: 401                 # the answer to a missing or wrong signature
      probe: {contentType: application/json, headers: {...}, path: {...}, body: {...}}   # a harmless delivery
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.spec import Operation, Spec

__all__ = ("EXTENSION", "FORM", "SCHEMES", "Signature", "forge", "signature_of", "signed_operations")

EXTENSION = "x-signature"
FORM = "application/x-www-form-urlencoded"

# what `check` signs with: never the server's secret or key, so a correct server refuses the signature
_FORGED_SECRET = b"buildd-api check: not the sender's signing secret"


def _hmac_sha256(payload: bytes) -> str:
    return hmac.new(_FORGED_SECRET, payload, hashlib.sha256).hexdigest()


@functools.cache
def _forged_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_FORGED_SECRET).digest())


def _ed25519(payload: bytes) -> str:
    return str(_forged_key().sign(payload).hex())


SCHEMES: Mapping[str, Callable[[bytes], str]] = {"hmac-sha256": _hmac_sha256, "ed25519": _ed25519}


@dataclass(frozen=True, slots=True)
class Signature:
    """An operation's `x-signature`: how a delivery is signed and what a wrong one gets."""

    scheme: str
    header: str
    refused: int
    prefix: str = ""
    signed: str = "{body}"
    timestamp: str | None = None
    content_type: str = "application/json"
    probe_headers: Mapping[str, str] = field(default_factory=dict)
    probe_path: Mapping[str, str] = field(default_factory=dict)
    probe_body: Any = None


def signature_of(op: Operation) -> Signature | None:
    """The operation's `x-signature`, or None; ValueError says what is malformed (`spec lint` reports it)."""
    raw = op.raw.get(EXTENSION)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{EXTENSION} must be a mapping (scheme, header, refused, ...)")
    scheme, header, refused = raw.get("scheme"), raw.get("header"), raw.get("refused")
    if scheme not in SCHEMES:
        raise ValueError(f"{EXTENSION}.scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    if not isinstance(header, str) or not header:
        raise ValueError(f"{EXTENSION}.header must name the header carrying the signature")
    if not isinstance(refused, int) or isinstance(refused, bool) or not 400 <= refused < 500:
        raise ValueError(f"{EXTENSION}.refused must be the 4xx status of a missing or wrong signature")
    signed, timestamp = raw.get("signed", "{body}"), raw.get("timestamp")
    if not isinstance(signed, str) or "{body}" not in signed:
        raise ValueError(f"{EXTENSION}.signed must contain {{body}} (what is signed)")
    if ("{timestamp}" in signed) != isinstance(timestamp, str):
        raise ValueError(f"{EXTENSION}.timestamp names the header of {{timestamp}}: both or neither")
    probe = raw.get("probe") or {}
    if not isinstance(probe, Mapping):
        raise ValueError(f"{EXTENSION}.probe must be a mapping (contentType, headers, path, body)")
    headers, path = probe.get("headers") or {}, probe.get("path") or {}
    for name, value in (("headers", headers), ("path", path)):
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(f"{EXTENSION}.probe.{name} must map names to strings")
    missing = [p["name"] for p in op.path_params() if p.get("name") not in path]
    if missing:
        raise ValueError(f"{EXTENSION}.probe.path must fill the path parameter(s) {', '.join(missing)}")
    content_type = probe.get("contentType", "application/json")
    if content_type not in ("application/json", FORM):
        raise ValueError(f"{EXTENSION}.probe.contentType must be application/json or {FORM}")
    if content_type not in op.body_media_types:
        raise ValueError(f"{EXTENSION}.probe.contentType {content_type} is not a request body media type")
    if content_type == FORM and not isinstance(probe.get("body"), Mapping):
        raise ValueError(f"{EXTENSION}.probe.body of a form must be a mapping of fields")
    return Signature(
        scheme=str(scheme),
        header=header,
        refused=refused,
        prefix=str(raw.get("prefix") or ""),
        signed=signed,
        timestamp=timestamp,
        content_type=content_type,
        probe_headers=dict(headers),
        probe_path=dict(path),
        probe_body=probe.get("body", {}),
    )


def signed_operations(spec: Spec) -> list[Operation]:
    """The spec's operations that declare `x-signature`, in spec order (the mock's control API excluded)."""
    return [op for op in spec.operations.values() if not op.is_mock_only and EXTENSION in op.raw]


def forge(sig: Signature, raw: bytes, timestamp: str) -> str:
    """The header value a sender would write, signed the declared way with a key that is not the server's."""
    payload = sig.signed.replace("{timestamp}", timestamp).encode().replace(b"{body}", raw)
    return sig.prefix + SCHEMES[sig.scheme](payload)
