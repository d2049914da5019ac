"""Who is calling: API key (`Authorization: Bearer bld_…`) first, then the session cookie, else 401."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.domain.errors import Unauthorized
from mockserver.domain.fields import id_of, text
from mockserver.domain.store import Store

__all__ = ("API_KEY_PATTERN", "Principal", "authenticate", "hash_key", "key_from_header")

API_KEY_PATTERN = re.compile(r"^bld_[0-9a-f]{64}$")
_BEARER = "Bearer "


def hash_key(key: str) -> str:
    """SHA-256 hex of a plaintext key: the only form the store keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_from_header(authorization: str | None) -> str | None:
    """The key in an Authorization value: the literal, case-sensitive `Bearer ` prefix is stripped (as the real
    server does), so a raw key also works and `bearer bld_…` does not."""
    if not authorization:
        return None
    key = authorization[len(_BEARER) :] if authorization.startswith(_BEARER) else authorization
    return key if API_KEY_PATTERN.match(key) else None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: an account (API key) or a user (session), and the teams it acts in."""

    account: Mapping[str, Any] | None
    user: Mapping[str, Any] | None
    team_ids: frozenset[str]

    @property
    def is_key(self) -> bool:
        return self.account is not None

    @property
    def level(self) -> str | None:
        """The key's level (`trigger|worker|admin`); None for a session."""
        return str(self.account.get("level") or "worker") if self.account is not None else None

    @property
    def account_id(self) -> str | None:
        return id_of(self.account) if self.account is not None else None

    @property
    def user_id(self) -> str | None:
        return id_of(self.user) if self.user is not None else None

    @property
    def is_admin_key(self) -> bool:
        return self.level == "admin"


def _account_for_key(store: Store, key: str) -> Mapping[str, Any] | None:
    digest = hash_key(key)
    cred = store.get("credentials", digest)
    if cred is None or not hmac.compare_digest(text(cred, "apiKeyHash"), digest):
        return None
    return store.get("accounts", cred["accountId"])


def _user_for_session(store: Store, token: str) -> Mapping[str, Any] | None:
    session = store.get("sessions", token)
    if session is None or not hmac.compare_digest(text(session, "token"), token):
        return None
    return store.get("users", session["userId"])


def authenticate(
    store: Store,
    *,
    authorization: str | None,
    session_token: str | None,
    accept: Collection[str],
) -> Principal:
    """Resolve the caller for an operation whose spec security allows `accept` ⊆ {"apiKey", "session"}.

    Raises:
        Unauthorized: neither an accepted, valid API key nor an accepted, valid session ({"error": "Unauthorized"}).
    """
    with store.lock:
        if "apiKey" in accept:
            key = key_from_header(authorization)
            account = _account_for_key(store, key) if key else None
            if account is not None:
                return Principal(dict(account), None, frozenset({text(account, "teamId")}))
        if "session" in accept and session_token:
            user = _user_for_session(store, session_token)
            if user is not None:
                teams = frozenset(text(m, "teamId") for m in store.find("memberships", "user", id_of(user)))
                return Principal(None, dict(user), teams)
    raise Unauthorized()
