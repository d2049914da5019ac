"""Team secrets (`/api/secrets`): stored sealed, listed as metadata only, verified against a simulated provider.

Shapes and rules follow apps/web/src/app/api/secrets/route.ts and secrets/[id]/verify/route.ts. Where the real
route trusts the body (a `workspaceId` or `accountId` of any team) the mock follows the note and answers 404
(docs/deviations.md). This module also owns the store tables of the area and the helpers its other modules share:
a secret's public view, storing one sealed, and requeueing the tasks that failed on a dead credential.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any

from contracts.spec import load_spec
from mockserver.domain import access
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound
from mockserver.domain.lifecycle import requeue_task
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, register_table

from .cred_vault import open_blob, provider_refuses, record_auth_failure, record_auth_success, seal, unseal

__all__ = ("Secrets", "caller_team_ids", "public_secret", "store_secret")

register_table("secrets", "id")
register_group_index("secrets", "team", "teamId")
register_table("credentialLeases", "credentialId")  # one lease per credential (the real unique index)
register_table("credentialLogins", "id")  # started Claude OAuth / Codex device logins
register_table("modelTiers", "id")
register_group_index("modelTiers", "team", "teamId")

CLAUDE_PURPOSES = frozenset({"oauth_token", "anthropic_api_key", "claude_credential"})
RAW_STRING_PURPOSES = frozenset(
    {"anthropic_api_key", "oauth_token", "webhook_token", "custom", "mcp_credential", "vercel_token"}
)
REQUIRED_PREFIXES = {"oauth_token": "sk-ant-oat", "anthropic_api_key": "sk-ant-api"}
RECOVERY_WINDOW = timedelta(hours=24)
MAX_REQUEUE = 100
_AUTH_ERROR = re.compile(
    r"401|403|unauthori[sz]ed|authentication|invalid (api key|bearer|x-api-key)|oauth token|revoked|expired",
    re.IGNORECASE,
)


@cache
def _secret_fields() -> tuple[str, ...]:
    """The fields a secret is listed with: the spec's `Secret` schema, nothing else (never the sealed value)."""
    return tuple(load_spec().raw["components"]["schemas"]["Secret"]["properties"])


def public_secret(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in _secret_fields()}


def caller_team_ids(principal: Principal) -> list[str]:
    """The caller's teams, the one a key acts in or a session's personal team first (the real routes' teamIds[0])."""
    if principal.account is not None:
        return [str(principal.account["teamId"])]
    personal = f"personal-{principal.user_id}"
    return sorted(principal.team_ids, key=lambda tid: (tid != personal, tid))


def store_secret(
    area: Area,
    value: str,
    *,
    team_id: str,
    purpose: str,
    account_id: str | None = None,
    workspace_id: str | None = None,
    label: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Record:
    """Replace whatever is stored at exactly this scope (team, account, workspace, purpose, label) with a fresh,
    sealed secret whose health starts `unknown`: the real `replaceScoped`."""
    store = area.store
    for old in store.find("secrets", "team", team_id):
        if (old["purpose"], old.get("accountId"), old.get("workspaceId"), old.get("label")) == (
            purpose,
            account_id,
            workspace_id,
            label,
        ):
            store.delete("secrets", str(old["id"]))
            store.delete("credentialLeases", str(old["id"]))
    now = area._now()
    secret_id = area.ids.uuid4()
    record: Record = {
        "id": secret_id,
        "teamId": team_id,
        "accountId": account_id,
        "workspaceId": workspace_id,
        "purpose": purpose,
        "label": label,
        "healthStatus": "unknown",
        "lastFailureAt": None,
        "lastFailureMessage": None,
        "consecutiveAuthFailures": 0,
        "lastSuccessAt": None,
        "lastVerifiedAt": None,
        "lastVerificationError": None,
        "createdAt": now,
        "updatedAt": now,
        "encryptedValue": seal(area.ids, value),
        "tokenExpiresAt": None,
        "lastRefreshedAt": None,
        **(extra or {}),
    }
    return store.insert("secrets", record)


def requeue_auth_failed(area: Area, team_id: str) -> int:
    """Back to `pending`: the team's tasks failed in the last day whose latest worker died of an auth error."""
    store = area.store
    now = area.clock.now()
    count = 0
    for workspace in store.find("workspaces", "team", team_id):
        for task in store.find("tasks", "workspace", str(workspace["id"])):
            if task["status"] != "failed" or now - parse_iso(str(task["updatedAt"])) > RECOVERY_WINDOW:
                continue
            workers = sorted(store.find("workers", "task", str(task["id"])), key=lambda w: str(w.get("createdAt")))
            error = workers[-1].get("error") if workers else None
            if not isinstance(error, str) or not _AUTH_ERROR.search(error) or count >= MAX_REQUEUE:
                continue
            requeue_task(store, task, area._now(), area._emit, event_task=area._event_task(task))
            count += 1
    return count


def _sanitised(raw: str, purpose: str) -> str:
    """Trim; for raw-string purposes strip one pair of wrapping quotes (pasted tokens often carry them)."""
    value = raw.strip()
    if purpose in RAW_STRING_PURPOSES and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


class Secrets(Area):
    def list_secrets(self, principal: Principal, team_id: str | None) -> dict[str, Any]:
        teams = caller_team_ids(principal)
        if not teams:
            return {"secrets": []}
        team = team_id or teams[0]
        if team not in teams:
            raise NotFound.of("Team")
        with self.store.lock:
            return self._out({"secrets": [public_secret(s) for s in self.store.find("secrets", "team", team)]})

    def create_secret(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        teams = caller_team_ids(principal)
        if not teams:
            raise Forbidden("No team found")
        purpose = str(body.get("purpose"))
        label = body.get("label") if isinstance(body.get("label"), str) and body.get("label") else None
        if purpose == "mcp_credential" and not label:
            raise BadRequest("label is required for mcp_credential secrets")
        value = _sanitised(str(body.get("value") or ""), purpose)
        if not value:
            raise BadRequest("value is required")
        prefix = REQUIRED_PREFIXES.get(purpose)
        if prefix and not value.startswith(prefix):
            raise BadRequest(f"Token must start with {prefix}…")
        team = self._str(body, "teamId") or teams[0]
        if team not in teams:
            raise NotFound.of("Team")
        with self.store.transaction():
            workspace_id = self._str(body, "workspaceId")
            if workspace_id is not None:
                workspace = access.workspace_for(self.store, principal, workspace_id)
                if workspace["teamId"] != team:
                    raise NotFound.of("Workspace")
            account_id = self._str(body, "accountId")
            if account_id is not None:
                account = self.store.get("accounts", account_id)
                if account is None or account["teamId"] != team:
                    raise NotFound.of("Account")
            if purpose != "mcp_credential":  # MCP credentials are team-wide unless an account is named
                account_id = account_id or principal.account_id
            secret = store_secret(
                self,
                value,
                team_id=team,
                purpose=purpose,
                account_id=account_id,
                workspace_id=workspace_id,
                label=label,
            )
            requeued = requeue_auth_failed(self, team) if purpose in CLAUDE_PURPOSES else 0
            return {"id": secret["id"], "requeued": requeued}

    def delete_secret(self, principal: Principal, secret_id: str | None) -> dict[str, Any]:
        teams = caller_team_ids(principal)
        if not teams:
            raise Forbidden("No team found")
        if not secret_id:
            raise BadRequest("id is required")
        with self.store.transaction():
            secret = self.store.get("secrets", secret_id)
            if secret is None or secret["teamId"] not in teams:
                raise NotFound.of("Secret")
            self.store.delete("secrets", secret_id)
            self.store.delete("credentialLeases", secret_id)
            return {"success": True}

    def verify_secret(self, principal: Principal, secret_id: str) -> dict[str, Any]:
        teams = caller_team_ids(principal)
        if not teams:
            raise Forbidden("No team found")
        with self.store.transaction():
            secret = self.store.get("secrets", secret_id)
            if secret is None:
                raise NotFound.of("Credential")
            if secret["teamId"] not in teams:
                raise Forbidden()
            if secret["purpose"] in ("oauth_token", "anthropic_api_key"):
                return self.verify_claude_value(secret)
            if secret["purpose"] == "codex_credential":
                return self.verify_codex_blob(secret)
            raise BadRequest("Verification not supported for this credential type")

    # -- simulated provider checks, shared with the Codex credential routes ----------------------------------------

    def _stamp_verification(self, secret: Record, error: str | None) -> Record:
        now = self._now()
        changes = {"lastVerifiedAt": now, "lastVerificationError": error, "updatedAt": now}
        return self.store.update("secrets", str(secret["id"]), changes)

    def _settle(self, secret: Record, verified: bool, error: str | None, *, keeps_revoked: bool) -> dict[str, Any]:
        """Health after a check: a pass clears it, except that a passing session check cannot clear a `revoked`
        seen by a real run (`revoked: true` instead); a refusal counts as an auth failure."""
        if verified:
            if keeps_revoked and secret.get("healthStatus") == "revoked":
                return {"verified": True, "error": None, "revoked": True}
            record_auth_success(self.store, secret, self._now())
        elif error:
            record_auth_failure(self.store, secret, error, self._now())
        return {"verified": verified, "error": error}

    def verify_claude_value(self, secret: Record) -> dict[str, Any]:
        """GET /v1/models with the key (`anthropic_api_key`) or as a bearer (`oauth_token`)."""
        refused = provider_refuses(unseal(str(secret["encryptedValue"])))
        error = None
        if refused:
            error = (
                "HTTP 401: invalid x-api-key"
                if secret["purpose"] == "anthropic_api_key"
                else "HTTP 401: Invalid bearer token"
            )
        secret = self._stamp_verification(secret, error)
        return self._settle(secret, not refused, error, keeps_revoked=secret["purpose"] == "oauth_token")

    def verify_codex_blob(self, secret: Record) -> dict[str, Any]:
        """An API key: GET /v1/models. OAuth: the refresh grant, whose rotated tokens are kept on success."""
        blob = open_blob(secret)
        if blob.get("api_key"):
            refused = provider_refuses(str(blob["api_key"]))
            error = "HTTP 401: Incorrect API key provided" if refused else None
            secret = self._stamp_verification(secret, error)
            return self._settle(secret, not refused, error, keeps_revoked=False)
        if not blob.get("refresh_token"):
            return {"verified": False, "error": "No refresh token available"}
        refused = provider_refuses(str(blob["refresh_token"]))
        error = "HTTP 401: invalid_grant" if refused else None
        secret = self._stamp_verification(secret, error)
        if not refused:
            from .cred_backends import rotate_tokens  # the backends module imports this one

            secret = rotate_tokens(self, secret, blob)
        return self._settle(secret, not refused, error, keeps_revoked=True)
