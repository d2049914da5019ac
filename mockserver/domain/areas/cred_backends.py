"""A workspace's Claude and Codex credentials: status, paste, remove, the connect flows, refresh, verify, write-back.

Follows apps/web/src/app/api/workspaces/[id]/{claude,codex}-credential/** and lib/{claude,codex}-credential.ts: one
credential per scope (team-wide, or `scope=workspace`), stored as a `claude_credential`/`codex_credential` secret
whose tokens are sealed (cred_vault) and never answered; the routes answer a status. The providers are simulated
step by step:

- Claude OAuth: `start` remembers the login (its verifier only as a hash) for ten minutes; `exchange` takes any
  code for that login once, when its state and verifier match (the user approved on Anthropic's page).
- Codex device login: `start` hands out a code; the simulated user approves it `2 * interval` seconds later on the
  mock's clock (`POST /__mock/clock` moves it); `poll` is pending until then and the code expires after 15 minutes.
- Refresh: at most once an hour per credential; a refresh token with `revoked`/`invalid` in it is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record

from .cred import Secrets, caller_team_ids, requeue_auth_failed, store_secret
from .cred_vault import (
    hash_text,
    mint_token,
    open_blob,
    provider_refuses,
    record_auth_failure,
    record_auth_success,
    seal_blob,
)

__all__ = ("BackendCredentials", "rotate_tokens")

CLAUDE = "claude_credential"
CODEX = "codex_credential"
_STATUS_STAMPS = ("lastRefreshedAt", "lastVerifiedAt", "lastVerificationError")  # as stored, in both statuses
REFRESH_LOCK = timedelta(minutes=60)
WRITE_BACK_LOCK = timedelta(seconds=30)
TOKEN_LIFETIME = timedelta(hours=8)
OAUTH_LOGIN_TTL = timedelta(minutes=10)
DEVICE_CODE_TTL = timedelta(minutes=15)
DEVICE_INTERVAL = 5  # seconds between polls; the simulated user approves after two intervals
CLAUDE_AUTHORIZE_URL = "https://claude.ai/oauth/authorize"
CLAUDE_CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
CLAUDE_REDIRECT_URI = "https://platform.claude.com/oauth/code/callback"
CLAUDE_SCOPES = "user:profile user:inference user:sessions:claude_code user:mcp_servers"
CODEX_VERIFICATION_URI = "https://auth.openai.com/codex/device"
EXCHANGE_REFUSED = "HTTP 400: invalid_grant. The code is single-use and expires quickly — re-run the connect flow."


def _scope_workspace(workspace_id: str, scope: Any) -> str | None:
    """`scope=workspace` narrows to this workspace; anything else (absent, `team`, unknown) is team-wide."""
    return workspace_id if scope == "workspace" else None


def _jwt_exp(token: Any) -> int | None:
    if not isinstance(token, str) or token.count(".") < 1:
        return None
    part = token.split(".")[1]
    try:
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return exp if isinstance(exp, int) else None


def rotate_tokens(
    area: Area, secret: Record, blob: Mapping[str, Any], prefixes: tuple[str, str] = ("codex-at", "rt")
) -> Record:
    """The provider rotated the tokens (refresh grant passed): keep the new pair sealed, eight hours of validity."""
    now = area.clock.now()
    rotated = {
        **blob,
        "access_token": mint_token(area.ids, prefixes[0]),
        "refresh_token": mint_token(area.ids, prefixes[1]),
    }
    changes = {
        "encryptedValue": seal_blob(area.ids, rotated),
        "tokenExpiresAt": to_iso(now + TOKEN_LIFETIME),
        "lastRefreshedAt": to_iso(now),
        "updatedAt": to_iso(now),
    }
    return area.store.update("secrets", str(secret["id"]), changes)


class BackendCredentials(Area):
    # -- lookups ---------------------------------------------------------------------------------------------------

    def _at_scope(self, team_id: str, purpose: str, workspace_id: str | None) -> Record | None:
        for secret in self.store.find("secrets", "team", team_id):
            if secret["purpose"] == purpose and secret.get("workspaceId") == workspace_id:
                return secret
        return None

    def _expired(self, secret: Record) -> bool:
        expires = secret.get("tokenExpiresAt")
        return expires is not None and parse_iso(str(expires)) < self.clock.now()

    def _claude_status(self, team_id: str, workspace_id: str | None) -> dict[str, Any]:
        secret = self._at_scope(team_id, CLAUDE, workspace_id)
        status, health = self._status(secret), secret.get("healthStatus") if secret else None
        return {**status, "expired": status["expired"] or health == "revoked", "healthStatus": health}

    def _codex_status(self, team_id: str, workspace_id: str | None) -> dict[str, Any]:
        secret = self._at_scope(team_id, CODEX, workspace_id)
        return {**self._status(secret), "accountId": open_blob(secret).get("account_id") if secret else None}

    def _status(self, secret: Record | None) -> dict[str, Any]:
        """What both backends' status says of the credential stored at the scope, or of none."""
        if secret is None:
            return {"connected": False, "expired": False, **dict.fromkeys(_STATUS_STAMPS), "scope": None}
        return {
            "connected": True,
            "expired": self._expired(secret),
            **{field: secret.get(field) for field in _STATUS_STAMPS},
            "scope": "workspace" if secret.get("workspaceId") else "team",
        }

    def _store_backend(self, purpose: str, team_id: str, workspace_id: str | None, blob: Mapping[str, Any]) -> None:
        """One credential per scope, sealed; `expires_at` (epoch s), `expires_in` (s) or `expiry` set its expiry."""
        now = self.clock.now()
        expires: str | None = None
        if isinstance(blob.get("expires_at"), (int, float)):
            expires = to_iso(parse_iso("1970-01-01T00:00:00Z") + timedelta(seconds=float(blob["expires_at"])))
        elif isinstance(blob.get("expires_in"), (int, float)):
            expires = to_iso(now + timedelta(seconds=float(blob["expires_in"])))
        elif isinstance(blob.get("expiry"), str):
            try:
                expires = to_iso(parse_iso(blob["expiry"]))
            except ValueError:
                expires = None
        kept = ("api_key",) if blob.get("api_key") else ("access_token", "refresh_token", "account_id", "id_token")
        value = json.dumps({k: blob[k] for k in kept if blob.get(k) is not None}, separators=(",", ":"))
        store_secret(
            self,
            value,
            team_id=team_id,
            purpose=purpose,
            workspace_id=workspace_id,
            extra={"tokenExpiresAt": expires, "lastRefreshedAt": to_iso(now)},
        )

    # -- status, paste, remove -------------------------------------------------------------------------------------

    def credential_status(self, principal: Principal, kind: str, workspace_id: str, scope: Any) -> dict[str, Any]:
        with self.store.lock:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, scope)
            status = self._claude_status(team, narrowed) if kind == "claude" else self._codex_status(team, narrowed)
            return self._out(status)

    def save_claude(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            blob = _parsed(body.get("credentialsJson"), "credentialsJson")
            for field in ("access_token", "refresh_token"):
                if not isinstance(blob.get(field), str) or not blob[field]:
                    raise BadRequest(f"Must contain {field}")
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, body.get("scope"))
            kept: dict[str, Any] = {k: blob[k] for k in ("access_token", "refresh_token") if k in blob}
            if isinstance(blob.get("expires_at"), (int, float)) and not isinstance(blob.get("expires_at"), bool):
                kept["expires_at"] = blob["expires_at"]
            self._store_backend(CLAUDE, team, narrowed, kept)
            requeue_auth_failed(self, team)
            return self._claude_status(team, narrowed)

    def save_codex(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            blob = _codex_auth(_parsed(body.get("authJson"), "authJson"), self.clock.now().timestamp())
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, body.get("scope"))
            self._store_backend(CODEX, team, narrowed, blob)
            requeue_auth_failed(self, team)
            return self._codex_status(team, narrowed)

    def delete_credential(self, principal: Principal, kind: str, workspace_id: str, scope: Any) -> None:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            purpose = CLAUDE if kind == "claude" else CODEX
            secret = self._at_scope(str(workspace["teamId"]), purpose, _scope_workspace(workspace_id, scope))
            if secret is not None:
                self.store.delete("secrets", str(secret["id"]))
                self.store.delete("credentialLeases", str(secret["id"]))

    # -- Claude OAuth (authorization code + PKCE, the code pasted back) --------------------------------------------

    def start_claude_oauth(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            verifier, state = _b64(bytes.fromhex(self.ids.hex(32))), _b64(bytes.fromhex(self.ids.hex(32)))
            challenge = _b64(hashlib.sha256(verifier.encode()).digest())
            self.store.insert(
                "credentialLogins",
                {
                    "id": f"claude|{state}",
                    "kind": "claude",
                    "verifierHash": hash_text(verifier),
                    "userId": principal.user_id,
                    "workspaceId": workspace_id,
                    "createdAt": self._now(),
                    "used": False,
                },
            )
            query = {
                "code": "true",
                "client_id": CLAUDE_CLIENT_ID,
                "response_type": "code",
                "redirect_uri": CLAUDE_REDIRECT_URI,
                "scope": CLAUDE_SCOPES,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
            }
            return {"authorizeUrl": f"{CLAUDE_AUTHORIZE_URL}?{urlencode(query)}", "verifier": verifier, "state": state}

    def exchange_claude_oauth(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            code, _, pasted_state = str(body.get("code") or "").strip().partition("#")
            if not code:
                raise BadRequest("No authorization code provided")
            state = pasted_state or str(body.get("state") or "")
            login = self.store.get("credentialLogins", f"claude|{state}")
            if (
                login is None
                or login["used"]
                or login["userId"] != principal.user_id
                or login["verifierHash"] != hash_text(str(body.get("verifier")))
                or self.clock.now() - parse_iso(str(login["createdAt"])) > OAUTH_LOGIN_TTL
            ):
                raise BadRequest(EXCHANGE_REFUSED)
            self.store.update("credentialLogins", str(login["id"]), {"used": True})
            expires_at = int((self.clock.now() + TOKEN_LIFETIME).timestamp())
            tokens = {
                "access_token": mint_token(self.ids, "sk-ant-oat01"),
                "refresh_token": mint_token(self.ids, "sk-ant-ort01"),
                "expires_at": expires_at,
            }
            if body.get("scope") == "all_teams":
                teams = caller_team_ids(principal)
                for team in teams:
                    self._store_backend(CLAUDE, team, None, tokens)
                    requeue_auth_failed(self, team)
                return {"status": "connected", "teams": len(teams), "totalTeams": len(teams)}
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, body.get("scope"))
            self._store_backend(CLAUDE, team, narrowed, tokens)
            requeue_auth_failed(self, team)
            return {"status": "connected", **self._claude_status(team, narrowed)}

    # -- Codex device login ----------------------------------------------------------------------------------------

    def start_codex_device(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            device_id, user_code = f"deviceauth_{self.ids.hex(12)}", self.ids.user_code()
            self.store.insert(
                "credentialLogins",
                {
                    "id": device_id,
                    "kind": "codex",
                    "userCodeHash": hash_text(user_code),
                    "userId": principal.user_id,
                    "workspaceId": workspace_id,
                    "createdAt": self._now(),
                    "used": False,
                },
            )
            return {
                "deviceAuthId": device_id,
                "userCode": user_code,
                "interval": DEVICE_INTERVAL,
                "verificationUri": CODEX_VERIFICATION_URI,
            }

    def poll_codex_device(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> Any:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            login = self.store.get("credentialLogins", str(body.get("deviceAuthId")))
            # the provider answers 403/404 for codes it does not know (or not for this user): the route says pending
            if (
                login is None
                or login.get("kind") != "codex"
                or login["used"]
                or login["userId"] != principal.user_id
                or login["userCodeHash"] != hash_text(str(body.get("userCode")))
            ):
                return {"status": "pending"}
            age = self.clock.now() - parse_iso(str(login["createdAt"]))
            if age > DEVICE_CODE_TTL:
                return 502, {"status": "error", "error": "Device code expired; start the login again"}
            if age < timedelta(seconds=2 * DEVICE_INTERVAL):
                return {"status": "pending"}
            self.store.update("credentialLogins", str(login["id"]), {"used": True})
            tokens = {
                "access_token": mint_token(self.ids, "codex-at"),
                "refresh_token": mint_token(self.ids, "rt"),
                "account_id": f"acct_sim_{self.ids.hex(6)}",
                "id_token": mint_token(self.ids, "codex-id"),
                "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            }
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, body.get("scope"))
            self._store_backend(CODEX, team, narrowed, tokens)
            requeue_auth_failed(self, team)
            return {"status": "connected", **self._codex_status(team, narrowed)}

    # -- refresh, verify, write-back -------------------------------------------------------------------------------

    def refresh(self, principal: Principal, kind: str, workspace_id: str, scope: Any) -> dict[str, Any]:
        """The hourly lock, then the simulated provider: refused -> revoked; passed -> rotated tokens."""
        purpose = CLAUDE if kind == "claude" else CODEX
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            secret = self._at_scope(str(workspace["teamId"]), purpose, _scope_workspace(workspace_id, scope))
            if secret is None:
                return {"status": "no_credential"}
            now = self.clock.now()
            last = secret.get("lastRefreshedAt")
            if last is not None and now - parse_iso(str(last)) < REFRESH_LOCK:
                return {"status": "locked"}
            secret = self.store.update("secrets", str(secret["id"]), {"lastRefreshedAt": to_iso(now)})
            blob = open_blob(secret)
            if not blob.get("refresh_token"):
                return {"status": "no_credential"}
            if provider_refuses(str(blob["refresh_token"])):
                detail = "HTTP 400: invalid_grant"
                changes = {"tokenExpiresAt": None, "healthStatus": "revoked", "lastVerificationError": detail}
                secret = self.store.update("secrets", str(secret["id"]), changes)
                record_auth_failure(self.store, secret, detail, to_iso(now))
                return {"status": "error" if kind == "claude" else "revoked"}
            prefixes = ("sk-ant-oat01", "sk-ant-ort01") if kind == "claude" else ("codex-at", "rt")
            secret = rotate_tokens(self, secret, blob, prefixes)
            secret = self.store.update("secrets", str(secret["id"]), {"lastVerificationError": None})
            record_auth_success(self.store, secret, to_iso(now))
            return {"status": "refreshed"}

    def verify_codex(self, principal: Principal, workspace_id: str, scope: Any) -> dict[str, Any]:
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            team, narrowed = str(workspace["teamId"]), _scope_workspace(workspace_id, scope)
            secret = self._at_scope(team, CODEX, narrowed)
            if secret is None:
                raise NotFound.of("Codex credential")
            result = self.api.area(Secrets).verify_codex_blob(secret)
            return {**result, "status": self._codex_status(team, narrowed)}

    def write_back_codex(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The runner's refreshed Codex tokens onto the most specific OAuth credential it may use here."""
        if principal.level == "trigger":
            raise Forbidden("Trigger tokens cannot write back credentials")
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            account_id = principal.account_id
            candidates = [
                s
                for s in self.store.find("secrets", "team", str(workspace["teamId"]))
                if s["purpose"] == CODEX
                and s.get("accountId") in (None, account_id)
                and s.get("workspaceId") in (None, workspace_id)
            ]
            if not candidates:
                return {"ok": True}
            best = max(
                candidates,
                key=lambda s: 2 * (s.get("workspaceId") == workspace_id) + (s.get("accountId") == account_id),
            )
            blob = open_blob(best)
            now = self.clock.now()
            last = best.get("lastRefreshedAt")
            if blob.get("api_key") or (last is not None and now - parse_iso(str(last)) < WRITE_BACK_LOCK):
                return {"ok": True}
            written = {
                "access_token": body["accessToken"],
                "refresh_token": body["refreshToken"],
                "account_id": body.get("accountId")
                if isinstance(body.get("accountId"), str)
                else blob.get("account_id"),
                "id_token": body.get("idToken") if isinstance(body.get("idToken"), str) else blob.get("id_token"),
            }
            changes: dict[str, Any] = {
                "encryptedValue": seal_blob(self.ids, written),
                "lastRefreshedAt": to_iso(now),
                "updatedAt": to_iso(now),
            }
            expires_in = body.get("expiresIn")
            if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
                changes["tokenExpiresAt"] = to_iso(now + timedelta(seconds=float(expires_in)))
            self.store.update("secrets", str(best["id"]), changes)
            return {"ok": True}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parsed(text: Any, field: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        raise BadRequest(f"{field} is required")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"{field} must be valid JSON") from exc
    if not isinstance(value, dict):
        raise BadRequest("Must be a JSON object")
    return value


def _codex_auth(root: Mapping[str, Any], now_epoch: float) -> dict[str, Any]:
    """`{"api_key"}`, or the OAuth fields at the top level or under `tokens`, with an expiry when one is known."""
    if isinstance(root.get("api_key"), str) and root["api_key"]:
        return {"api_key": root["api_key"]}
    tokens = root.get("tokens")
    src: Mapping[str, Any] = tokens if isinstance(tokens, dict) else root
    if not all(isinstance(src.get(f), str) for f in ("access_token", "refresh_token", "account_id")):
        raise BadRequest(
            'Must be either {"api_key": "sk-..."} or an OAuth blob with access_token, refresh_token, and account_id '
            '(top-level or under "tokens")'
        )
    id_token = src.get("id_token") or root.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise BadRequest(
            "OAuth credential is missing required field 'id_token'. Copy the complete ~/.codex/auth.json — the "
            "ChatGPT login writes all required fields."
        )
    value: dict[str, Any] = {k: src[k] for k in ("access_token", "refresh_token", "account_id")}
    value["id_token"] = id_token
    expires_in, expiry = root.get("expires_in", src.get("expires_in")), root.get("expiry", src.get("expiry"))
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        value["expires_in"] = expires_in
    elif isinstance(expiry, str):
        value["expiry"] = expiry
    elif (exp := _jwt_exp(src["access_token"])) is not None:
        value["expires_in"] = max(0, exp - int(now_epoch))
    return value
