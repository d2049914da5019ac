"""Accounts and their keys, and the device login that hands a CLI a key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal, hash_key
from mockserver.domain.errors import BadRequest, NotFound, PreconditionPending
from mockserver.domain.fields import id_of, text
from mockserver.domain.records import account_view, new_account
from mockserver.domain.runtime import parse_iso, to_iso

__all__ = ("Accounts", "Devices")

ACCOUNT_TYPES = ("user", "service", "action")
ACCOUNT_LEVELS = ("trigger", "worker", "admin")
AUTH_TYPES = ("api", "oauth")
DEVICE_CODE_TTL = 900
DEVICE_POLL_INTERVAL = 5


class Accounts(Area):
    def list_accounts(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            rows = [a for team in principal.team_ids for a in self.store.find("accounts", "team", team)]
            rows.sort(key=lambda a: (parse_iso(text(a, "createdAt")), a["id"]), reverse=True)
            return {"accounts": [account_view(a) for a in rows]}

    def create_account(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        """The new account with its plaintext `apiKey`, shown only here."""
        if not body.get("name") or not body.get("type"):
            raise BadRequest("Name and type are required")
        self._choice(body, "type", ACCOUNT_TYPES)
        self._choice(body, "level", ACCOUNT_LEVELS)
        self._choice(body, "authType", AUTH_TYPES)
        self._int(body, "maxConcurrentWorkers", minimum=1, maximum=1000)
        with self.store.transaction():
            workspace = None
            if body.get("workspaceId") is not None:
                workspace = access.workspace_for(self.store, principal, body["workspaceId"])
            # without a usable teamId, an account made for a workspace joins that workspace's team
            requested = body.get("teamId") if body.get("teamId") in principal.team_ids else None
            team_id = self._team_for_create(principal, requested or (workspace["teamId"] if workspace else None))
            if workspace is not None and workspace["teamId"] != team_id:
                raise NotFound.of("Workspace")
            account = self.store.insert(
                "accounts", new_account(id=self.ids.uuid4(), team_id=team_id, fields=body, now=self._now())
            )
            key = self.api.area(Accounts).issue_key(id_of(account))
            if workspace is not None:
                self.store.upsert(
                    "accountWorkspaces",
                    {"accountId": account["id"], "workspaceId": workspace["id"], "canClaim": True, "canCreate": True},
                )
            return {**account_view(account), "apiKey": key}

    def get_account(self, principal: Principal, account_id: str) -> dict[str, Any]:
        with self.store.lock:
            return {"account": account_view(access.account_for(self.store, principal, account_id))}

    def delete_account(self, principal: Principal, account_id: str) -> dict[str, Any]:
        with self.store.transaction():
            account = access.account_for(self.store, principal, account_id)
            for cred in self.store.find("credentials", "account", account_id):
                self.store.delete("credentials", text(cred, "apiKeyHash"))
            for link in self.store.find("accountWorkspaces", "account", account_id):
                self.store.delete("accountWorkspaces", f"{account_id}|{link['workspaceId']}")
            for beat in self.store.find("heartbeats", "account", account_id):
                self.store.delete("heartbeats", f"{account_id}|{beat['localUiUrl']}")
            self.store.delete("accounts", id_of(account))
            return {"success": True}

    def regenerate_account_key(self, principal: Principal, account_id: str) -> dict[str, Any]:
        """A new key; the old one stops working at once."""
        with self.store.transaction():
            account = access.account_for(self.store, principal, account_id)
            key = self.issue_key(id_of(account))
            return {"apiKey": key, "apiKeyPrefix": key[:12]}

    def get_me(self, principal: Principal) -> dict[str, Any]:
        with self.store.lock:
            account = self._caller_account(principal)
            me = {
                k: account.get(k) for k in ("id", "name", "type", "level", "authType", "maxConcurrentWorkers", "teamId")
            }
            if account.get("authType") == "oauth":
                me["budgetPacing"] = {"enabled": False, "state": "inert"}
            return self._out(me)

    def issue_key(self, account_id: str) -> str:
        """Replace the account's credential with a fresh key; only its hash is stored."""
        for cred in self.store.find("credentials", "account", account_id):
            self.store.delete("credentials", text(cred, "apiKeyHash"))
        key = self.ids.api_key()
        self.store.insert("credentials", {"accountId": account_id, "apiKeyHash": hash_key(key)})
        self.store.update("accounts", account_id, {"apiKeyPrefix": key[:12]})
        return key


class Devices(Area):
    """Device login: code -> approve (session) -> token (the key, once).

    The store never holds a plaintext key, so approval only binds the code to an account; the key is issued
    (and the account's previous key replaced) when the device collects it.
    """

    def create_device_code(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        body = body or {}
        client = self._str(body, "clientName") or "CLI"
        level = self._choice(body, "level", ACCOUNT_LEVELS) or "admin"
        with self.store.transaction():
            token = self.ids.hex(32)
            code = self.ids.user_code()
            while self.store.find("deviceCodes", "userCode", code):
                code = self.ids.user_code()
            now = self.clock.now()
            self.store.insert(
                "deviceCodes",
                {
                    "deviceTokenHash": hash_key(token),
                    "userCode": code,
                    "clientName": client,
                    "level": level,
                    "status": "pending",
                    "accountId": None,
                    "userId": None,
                    "createdAt": to_iso(now),
                    "expiresAt": to_iso(now + timedelta(seconds=DEVICE_CODE_TTL)),
                },
            )
        return {
            "user_code": code,
            "device_token": token,
            "verification_url": f"{self.settings.base_url}/device?code={code}",
            "expires_in": DEVICE_CODE_TTL,
            "interval": DEVICE_POLL_INTERVAL,
        }

    def approve_device(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        raw = self._str(body, "code", required=True) or ""
        compact = raw.replace("-", "").upper()
        code = f"{compact[:4]}-{compact[4:]}"
        with self.store.transaction():
            found = self.store.find("deviceCodes", "userCode", code)
            entry = found[0] if found else None
            if entry is None or entry["status"] != "pending" or self._expired(entry):
                raise BadRequest("Invalid or expired code")
            team_id = self._team_for_create(principal, None)
            name = text(entry, "clientName")
            account = next((a for a in self.store.find("accounts", "team", team_id) if a["name"] == name), None)
            if account is None:
                account = self.store.insert(
                    "accounts",
                    new_account(
                        id=self.ids.uuid4(),
                        team_id=team_id,
                        fields={"name": name, "type": "user", "level": entry["level"], "authType": "api"},
                        now=self._now(),
                    ),
                )
                self.api.area(Accounts).issue_key(id_of(account))  # nobody learns this key: the device gets a fresh one
            self.store.update(
                "deviceCodes",
                text(entry, "deviceTokenHash"),
                {"status": "approved", "accountId": account["id"], "userId": principal.user_id},
            )
            return {"success": True, "accountId": account["id"], "accountName": account["name"]}

    def exchange_device_token(self, body: Mapping[str, Any]) -> dict[str, Any]:
        token = self._str(body, "device_token", required=True, message="device_token required") or ""
        with self.store.transaction():
            entry = self.store.get("deviceCodes", hash_key(token))
            if entry is None or entry["status"] == "collected":
                raise BadRequest("Invalid device token")
            if self._expired(entry):
                raise BadRequest("Device code expired")
            if entry["status"] == "pending":
                raise PreconditionPending("authorization_pending")
            account = self.store.get("accounts", entry.get("accountId"))
            if account is None:
                raise BadRequest("Unexpected state")
            key = self.api.area(Accounts).issue_key(id_of(account))
            self.store.update("deviceCodes", text(entry, "deviceTokenHash"), {"status": "collected"})
            user = self.store.get("users", entry.get("userId")) or {}
            return {
                "api_key": key,
                "email": str(user.get("email") or ""),
                "pusherKey": self.settings.pusher_key,
                "pusherCluster": self.settings.pusher_cluster,
                "pusherChannelPrefix": self.settings.pusher_channel_prefix,
            }

    def _expired(self, entry: Mapping[str, Any]) -> bool:
        return self.clock.now() > parse_iso(text(entry, "expiresAt"))
