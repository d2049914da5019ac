"""The runner's credential broker: leases on a team credential and runner-side OAuth refresh.

Follows apps/web/src/app/api/runner/credential-lease and credential-refresh. A lease lives five minutes from its
last heartbeat; only an expired (or absent) lease can be acquired, and a heartbeat from a runner that no longer
holds it is `404 {"stolen": true}`. The refresh actions are the one place where token values are answered
(`lock` hands the refresh token, `bootstrap` both tokens to the lease holder), as the real route does. Where the
real refresh route reads any team's secret, the mock answers `404 Secret not found` (docs/deviations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record

from .cred_vault import open_blob, record_auth_failure, record_auth_success, seal_blob

__all__ = ("CredentialBroker",)

LEASE_TTL = timedelta(minutes=5)
REFRESH_LOCK = timedelta(minutes=60)


class LeaseStolen(NotFound):
    """A heartbeat for a lease another runner holds now: the real body, plus the note's `error`."""

    def __init__(self) -> None:
        super().__init__("Lease not found", ok=False, stolen=True)


class CredentialBroker(Area):
    def _team_secret(self, principal: Principal, secret_id: str, kind: str) -> Record:
        secret = self.store.get("secrets", secret_id)
        if secret is None:
            raise NotFound.of(kind)
        if principal.account is None or secret["teamId"] != principal.account["teamId"]:
            raise Forbidden()
        return secret

    def credential_lease(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        credential_id, runner_id, action = str(body["credentialId"]), str(body["runnerId"]), str(body["action"])
        with self.store.transaction():
            self._team_secret(principal, credential_id, "Credential")
            now = self.clock.now()
            lease = self.store.get("credentialLeases", credential_id)
            if action == "acquire":
                if lease is not None and parse_iso(str(lease["expiresAt"])) >= now:
                    return {"acquired": False}
                lease_id = self.ids.uuid4()
                self.store.upsert(
                    "credentialLeases",
                    {
                        "credentialId": credential_id,
                        "id": lease_id,
                        "heldByRunnerId": runner_id,
                        "acquiredAt": to_iso(now),
                        "heartbeatAt": to_iso(now),
                        "expiresAt": to_iso(now + LEASE_TTL),
                    },
                )
                return {"acquired": True, "leaseId": lease_id}
            held = lease is not None and lease["heldByRunnerId"] == runner_id
            if action == "heartbeat":
                if not held:
                    raise LeaseStolen()
                renewed = {"heartbeatAt": to_iso(now), "expiresAt": to_iso(now + LEASE_TTL)}
                self.store.update("credentialLeases", credential_id, renewed)
                return {"ok": True}
            if held:  # release: best effort, silent when the lease is someone else's now
                self.store.delete("credentialLeases", credential_id)
            return {"ok": True}

    def credential_refresh(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        secret_id, action, purpose = str(body["secretId"]), str(body["action"]), str(body["purpose"])
        with self.store.transaction():
            secret = self.store.get("secrets", secret_id)
            account = principal.account or {}
            if secret is None or secret["purpose"] != purpose or secret["teamId"] != account.get("teamId"):
                raise NotFound.of("Secret")
            now = self.clock.now()
            if action == "lock":
                last = secret.get("lastRefreshedAt")
                if last is not None and now - parse_iso(str(last)) < REFRESH_LOCK:
                    return {"locked": False}
                changes = {"lastRefreshedAt": to_iso(now), "updatedAt": to_iso(now)}
                secret = self.store.update("secrets", secret_id, changes)
                refresh = open_blob(secret).get("refresh_token")
                return {
                    "locked": True,
                    "refreshToken": refresh if isinstance(refresh, str) else None,
                    "expiresAt": secret.get("tokenExpiresAt"),
                }
            if action == "commit":
                return self._commit(secret, body, to_iso(now))
            if action == "revoke":
                reason = str(body.get("reason") or "Revoked by runner")
                secret = record_auth_failure(self.store, secret, reason, to_iso(now))
                revoked: dict[str, Any] = {
                    "healthStatus": "revoked",
                    "tokenExpiresAt": None,
                    "lastVerificationError": reason,
                    "updatedAt": to_iso(now),
                }
                self.store.update("secrets", secret_id, revoked)
                return {"ok": True}
            return self._bootstrap(secret, body)

    def _commit(self, secret: Record, body: Mapping[str, Any], now: str) -> dict[str, Any]:
        access_token, refresh_token = body.get("accessToken"), body.get("refreshToken")
        if not access_token or not refresh_token:
            raise BadRequest("accessToken and refreshToken are required for commit")
        blob = {**open_blob(secret), "access_token": access_token, "refresh_token": refresh_token}
        expires = self._timestamp(body["expiresAt"], "expiresAt") if body.get("expiresAt") else None
        changes = {
            "encryptedValue": seal_blob(self.ids, blob),
            "tokenExpiresAt": expires,
            "lastVerificationError": None,
            "lastRefreshedAt": now,
            "updatedAt": now,
        }
        record_auth_success(self.store, self.store.update("secrets", str(secret["id"]), changes), now)
        return {"ok": True}

    def _bootstrap(self, secret: Record, body: Mapping[str, Any]) -> dict[str, Any]:
        runner_id = body.get("runnerId")
        if not runner_id:
            raise BadRequest("runnerId is required for bootstrap")
        lease = self.store.get("credentialLeases", str(secret["id"]))
        if (
            lease is None
            or lease["heldByRunnerId"] != runner_id
            or parse_iso(str(lease["expiresAt"])) <= self.clock.now()
        ):
            raise Forbidden("Forbidden: runner does not hold the active lease")
        blob = open_blob(secret)
        access_token, refresh_token = blob.get("access_token"), blob.get("refresh_token")
        return {
            "accessToken": access_token if isinstance(access_token, str) else None,
            "refreshToken": refresh_token if isinstance(refresh_token, str) else None,
            "expiresAt": secret.get("tokenExpiresAt"),
        }
