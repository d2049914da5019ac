"""The mock's signing keys: one deterministic ES256 key pair (JWKS, assertions, OAuth access tokens), the
deterministic webhook secrets, and the Discord Ed25519 key pair. JOSE is PyJWT's, the curves are `cryptography`'s.

Deterministic so a restarted mock, a test and a frontend all agree on them without any state: the private
values are derived from fixed seeds, which is fine for a mock and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm

__all__ = (
    "DISCORD_PRIVATE_HEX",
    "SLACK_SIGNING_SECRET",
    "discord_public_hex",
    "jwks",
    "sign_jwt",
    "verify_discord",
    "verify_jwt",
    "webhook_secret",
)

_JWKS_SEED = b"buildd-mock-jwks-es256"
_WEBHOOK_KEY = b"buildd-mock-webhooks"
SLACK_SIGNING_SECRET = "buildd-mock-slack-signing-secret"
DISCORD_PRIVATE_HEX = hashlib.sha256(b"buildd-mock-discord-ed25519").hexdigest()
# the order of P-256: the private scalar must lie in [1, n - 1]
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@cache
def _signing_key() -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(_JWKS_SEED).digest(), "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


@cache
def _kid() -> str:
    public = (
        _signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return "mock-" + hashlib.sha256(public).hexdigest()[:16]


def jwks() -> dict[str, Any]:
    """The key set of `GET /api/.well-known/jwks.json`."""
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(_signing_key().public_key(), as_dict=True)
    return {
        "keys": [
            {
                "kty": jwk["kty"],
                "crv": jwk["crv"],
                "kid": _kid(),
                "use": "sig",
                "alg": "ES256",
                "x": jwk["x"],
                "y": jwk["y"],
            }
        ]
    }


def sign_jwt(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _signing_key(), algorithm="ES256", headers={"kid": _kid()})


def verify_jwt(token: str, *, issuer: str, audience: str, now_s: int) -> dict[str, Any] | None:
    """The claims of a token this mock signed for `audience`, unexpired on the mock's clock; None otherwise.
    PyJWT checks the signature, issuer and audience; the times are checked here against the mock clock."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key().public_key(),
            algorithms=["ES256"],
            issuer=issuer,
            audience=audience,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["exp", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now_s:
        return None
    return claims


def webhook_secret(provider: str, workspace_id: str) -> str:
    """A workspace's signing secret for `linear` or `ingest` deliveries."""
    return hmac.new(_WEBHOOK_KEY, f"{provider}:{workspace_id}".encode(), hashlib.sha256).hexdigest()


@cache
def _discord_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(DISCORD_PRIVATE_HEX))


def discord_public_hex() -> str:
    raw = _discord_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def verify_discord(signature_hex: str | None, timestamp: str | None, raw_body: bytes) -> bool:
    if not signature_hex or not timestamp:
        return False
    try:
        _discord_key().public_key().verify(bytes.fromhex(signature_hex), timestamp.encode() + raw_body)
    except (ValueError, InvalidSignature):  # malformed hex or a bad signature: both are "not signed by Discord"
        return False
    return True
