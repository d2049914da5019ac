"""Connectors: a team's MCP servers, their shares with other teams, per-workspace toggles, the (simulated) OAuth
connect flow and the assertion grant (issue #14, area `ext`).

Outside services are simulated: OAuth discovery and client registration answer a fixed shape without any network,
and the provider of the connect flow approves at once, redirecting to the mock's own callback with a code.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from mockserver.domain import access
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.areas.ext_keys import sign_jwt
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, DomainError, Forbidden, LimitExceeded, NotFound
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record, register_table

__all__ = ("STATE_COOKIE", "Connectors", "OAuthError")

# connector rows, shares (connector -> team), per-workspace toggles, the stored credential (one per connector,
# what the real server keeps as a `mcp_connector_credential` secret), pending connect flows, assertion mint counts
register_table("connectors", "id")
register_group_index("connectors", "team", "teamId")
register_table("connectorShares", "id")
register_group_index("connectorShares", "connector", "connectorId")
register_group_index("connectorShares", "sharedWith", "sharedWithTeamId")
register_table("connectorWorkspaces", "key")
register_group_index("connectorWorkspaces", "connector", "connectorId")
register_group_index("connectorWorkspaces", "workspace", "workspaceId")
register_table("connectorCredentials", "connectorId")
register_table("connectorOAuthFlows", "cookie")
register_table("assertionMints", "key")

STATE_COOKIE = "buildd_mcp_oauth_state"
FLOW_SECONDS = 15 * 60
TOKEN_SECONDS = 3600
ASSERTION_SECONDS = 300
MINTS_PER_MINUTE = 12
TERMINAL_WORKER = frozenset({"completed", "error", "cancelled", "failed"})


class OAuthError(DomainError):
    """An OAuth-style error: `{"error": <code>, "error_description": ...}` with the given status."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        extra = {"error_description": description} if description else {}
        super().__init__(error, **extra)
        self.status = status


class Connectors(Area):
    # -- access -------------------------------------------------------------------------------------------------

    @staticmethod
    def _require_admin_key(principal: Principal) -> None:
        """Connector routes take an admin key or a session; a weaker key is refused (403, the note's rule)."""
        access.require_admin_level(principal)

    def _is_team_admin(self, principal: Principal, team_id: str) -> bool:
        """A session user must not be a plain `member` (no membership row: a personal team, allowed)."""
        if principal.is_key:
            return True
        return access.team_role(self.store, principal.user_id, team_id) != "member"

    def _connector(self, principal: Principal, connector_id: str) -> Record:
        connector = self.store.get("connectors", connector_id)
        if connector is None or str(connector["teamId"]) not in principal.team_ids:
            raise NotFound.of("Connector")
        return connector

    def _active_team(self, principal: Principal, requested: str | None, cookie_team: str | None) -> str | None:
        if principal.is_key:
            return str(principal.account["teamId"]) if principal.account else None
        teams = sorted(principal.team_ids)
        for candidate in (requested, cookie_team):
            if candidate and candidate in principal.team_ids:
                return candidate
        return teams[0] if teams else None

    # -- status -------------------------------------------------------------------------------------------------

    def _status(self, connector_id: str) -> str:
        credential = self.store.get("connectorCredentials", connector_id)
        if credential is None:
            return "not_connected"
        expires = credential.get("tokenExpiresAt")
        if expires and parse_iso(str(expires)) < self.clock.now():
            return "expired"
        if expires is None and credential.get("lastVerificationError") is not None:
            return "expired"
        return "connected"

    def _summary(self, connector: Record) -> dict[str, Any]:
        meta = connector.get("discoveredMetadata") or {}
        return {
            "id": connector["id"],
            "name": connector["name"],
            "url": connector["url"],
            "authMode": connector["authMode"],
            "transport": connector["transport"],
            "status": self._status(str(connector["id"])),
            "needsReview": isinstance(meta, dict) and meta.get("needsReview") is True,
        }

    # -- list / create / get / update / delete ------------------------------------------------------------------

    def list_connectors(
        self, principal: Principal, team_id: str | None = None, cookie_team: str | None = None
    ) -> dict[str, Any]:
        self._require_admin_key(principal)
        team = self._active_team(principal, team_id, cookie_team)
        if team is None:
            return {"connectors": []}
        with self.store.transaction():
            owned = self.store.find("connectors", "team", team)
            owned_ids = {str(c["id"]) for c in owned}
            result = [self._summary(c) for c in owned]
            for share in self.store.find("connectorShares", "sharedWith", team):
                connector = self.store.get("connectors", str(share["connectorId"]))
                if connector is None or str(connector["id"]) in owned_ids:
                    continue
                owner = self.store.get("teams", str(connector["teamId"]))
                result.append(
                    {
                        **self._summary(connector),
                        "shared": True,
                        "ownerTeamId": connector["teamId"],
                        "ownerTeamName": owner.get("name") if owner else None,
                    }
                )
            return self._out({"connectors": result})

    def create_connector(
        self, principal: Principal, body: Mapping[str, Any], cookie_team: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        self._require_admin_key(principal)
        team = self._active_team(principal, None, cookie_team)
        if team is None:
            raise BadRequest("No team found")
        if not self._is_team_admin(principal, team):
            raise Forbidden()
        name = self._str(body, "name", required=True)
        transport = "stdio" if body.get("transport") == "stdio" else "http"
        url = self._str(body, "url")
        command = self._str(body, "command")
        if transport == "stdio" and not command:
            raise BadRequest("command_required")
        if transport == "http" and not url:
            raise BadRequest("url is required")
        auth_mode = "none" if transport == "stdio" else str(body.get("authMode") or "oauth")
        if auth_mode == "header" and not body.get("headerName"):
            raise BadRequest("header_name_required")
        if auth_mode == "assertion":
            if not body.get("assertionAudience"):
                raise BadRequest("assertion_audience_required")
            if not body.get("assertionTokenEndpoint"):
                raise BadRequest("assertion_token_endpoint_required")
        with self.store.transaction():
            existing = self._named(team, str(name))
            if existing is not None:
                if body.get("reuseIfExists"):
                    return 200, self._out({"connector": existing, "reused": True})
                raise Conflict("connector_name_taken")
            now = self._now()
            connector_id = self.ids.uuid4()
            discovered, client_id = None, body.get("clientId")
            if auth_mode == "oauth" and url:
                discovered = self._discover(url)
                client_id = client_id or f"mock-client-{self.ids.hex(8)}"
            connector = {
                "id": connector_id,
                "teamId": team,
                "name": name,
                "url": url or "",
                "transport": transport,
                "command": command if transport == "stdio" else None,
                "args": list(body.get("args") or []) if transport == "stdio" else [],
                "envMapping": dict(body.get("envMapping") or {}) if transport == "stdio" else {},
                "authMode": auth_mode,
                "headerName": body.get("headerName") if auth_mode == "header" else None,
                "discoveredMetadata": discovered,
                "clientId": client_id,
                "assertionAudience": body.get("assertionAudience") if auth_mode == "assertion" else None,
                "assertionTokenEndpoint": body.get("assertionTokenEndpoint") if auth_mode == "assertion" else None,
                "createdAt": now,
                "updatedAt": now,
            }
            self.store.insert("connectors", connector)
            if auth_mode == "header" and body.get("headerValue"):
                self._store_credential(connector, expires_at=None)
            return 201, self._out({"connector": connector})

    def _named(self, team_id: str, name: str) -> Record | None:
        return next((c for c in self.store.find("connectors", "team", team_id) if c["name"] == name), None)

    @staticmethod
    def _discover(url: str) -> dict[str, Any]:
        """What OAuth discovery of `url` would find; simulated, so the same URL always gives the same answer."""
        parts = urlsplit(url)
        origin = f"{parts.scheme or 'https'}://{parts.netloc or 'mcp.invalid'}"
        return {
            "authMode": "oauth",
            "authorizationServer": {
                "issuer": origin,
                "authorization_endpoint": f"{origin}/authorize",
                "token_endpoint": f"{origin}/token",
                "registration_endpoint": f"{origin}/register",
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["mcp"],
            },
            "protectedResource": {"resource": url},
            "simulated": True,
        }

    def get_connector(self, principal: Principal, connector_id: str) -> dict[str, Any]:
        self._require_admin_key(principal)
        return self._out({"connector": self._connector(principal, connector_id)})

    def update_connector(self, principal: Principal, connector_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            connector = self._connector(principal, connector_id)
            changes: dict[str, Any] = {"updatedAt": self._now()}
            for field in ("name", "url", "headerName", "clientId", "assertionAudience", "assertionTokenEndpoint"):
                if field in body and body[field] is not None:
                    changes[field] = body[field]
            if "name" in changes and changes["name"] != connector["name"]:
                clash = self._named(str(connector["teamId"]), str(changes["name"]))
                if clash is not None and clash["id"] != connector["id"]:
                    raise Conflict("connector_name_taken")
            if (body.get("rediscover") or body.get("url")) and connector["authMode"] == "oauth":
                changes["discoveredMetadata"] = self._discover(str(changes.get("url", connector["url"])))
                if not body.get("clientId") and not connector.get("clientId"):
                    changes["clientId"] = f"mock-client-{self.ids.hex(8)}"
            updated = self.store.update("connectors", connector_id, changes)
            if body.get("headerValue") is not None and connector["authMode"] == "header":
                self._store_credential(updated, expires_at=None)
            return self._out({"connector": updated})

    def delete_connector(self, principal: Principal, connector_id: str) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            self._connector(principal, connector_id)
            self.store.delete("connectorCredentials", connector_id)
            for share in list(self.store.find("connectorShares", "connector", connector_id)):
                self.store.delete("connectorShares", str(share["id"]))
            for toggle in list(self.store.find("connectorWorkspaces", "connector", connector_id)):
                self.store.delete("connectorWorkspaces", str(toggle["key"]))
            self.store.delete("connectors", connector_id)
        return {"success": True}

    # -- credentials --------------------------------------------------------------------------------------------

    def _store_credential(self, connector: Record, *, expires_at: str | None) -> None:
        now = self._now()
        self.store.upsert(
            "connectorCredentials",
            {
                "connectorId": connector["id"],
                "teamId": connector["teamId"],
                "tokenExpiresAt": expires_at,
                "lastVerificationError": None,
                "lastRefreshedAt": now,
            },
        )

    def connector_status(self, principal: Principal, connector_id: str) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            self._connector(principal, connector_id)
            status = self._status(connector_id)
            credential = self.store.get("connectorCredentials", connector_id)
            expires = credential.get("tokenExpiresAt") if credential else None
            return {"status": status, **({"expiresAt": expires} if expires and status != "not_connected" else {})}

    def disconnect_connector(self, principal: Principal, connector_id: str) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            self._connector(principal, connector_id)
            if self.store.delete("connectorCredentials", connector_id) is None:
                return {"success": True, "alreadyDisconnected": True}
        return {"success": True}

    # -- the connect flow (PKCE against the simulated provider) -------------------------------------------------

    def connect_connector(self, principal: Principal, connector_id: str, origin: str) -> tuple[dict[str, Any], str]:
        """The authorization URL and the state cookie's value. The simulated provider approves at once, so the URL
        is the mock's own callback with a code and the state (what the provider would redirect to)."""
        self._require_admin_key(principal)
        with self.store.transaction():
            connector = self._connector(principal, connector_id)
            if connector["authMode"] != "oauth":
                raise BadRequest("Connector does not use OAuth")
            meta = connector.get("discoveredMetadata")
            if not isinstance(meta, dict) or meta.get("authMode") != "oauth":
                raise BadRequest("OAuth metadata not yet discovered; re-run discovery first")
            if not connector.get("clientId"):
                raise BadRequest("No client ID configured; re-create connector to trigger DCR")
            verifier = self.ids.hex(32)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            flow = {
                "cookie": self.ids.hex(24),
                "state": self.ids.hex(16),
                "code": self.ids.hex(16),
                "codeVerifier": verifier,
                "codeChallenge": challenge,
                "connectorId": connector_id,
                "userId": principal.user_id or principal.account_id,
                "expiresAt": to_iso(self._later(FLOW_SECONDS)),
            }
            self.store.insert("connectorOAuthFlows", flow)
        query = urlencode({"code": flow["code"], "state": flow["state"]})
        return {"authorizationUrl": f"{origin}/api/connectors/callback?{query}"}, str(flow["cookie"])

    def connector_callback(self, query: Mapping[str, str], cookie: str | None) -> tuple[str, bool]:
        """Where the callback redirects (`/app/connections?...`) and whether the flow's cookie is spent."""
        if query.get("error"):
            return _connections(error=query.get("error_description") or query["error"]), False
        code, state = query.get("code"), query.get("state")
        if not code or not state:
            return _connections(error="missing_code_or_state"), False
        if not cookie:
            return _connections(error="missing_state_cookie"), False
        with self.store.transaction():
            flow = self.store.get("connectorOAuthFlows", cookie)
            if flow is None or parse_iso(str(flow["expiresAt"])) < self.clock.now():
                return _connections(error="invalid_state_cookie"), False
            if flow["state"] != state:
                return _connections(error="state_mismatch"), False
            connector = self.store.get("connectors", str(flow["connectorId"]))
            if connector is None:
                return _connections(error="connector_not_found"), True
            if connector["authMode"] != "oauth":
                return _connections(error="connector_not_oauth"), True
            if flow["code"] != code:  # the simulated token endpoint knows only the code it issued
                return _connections(error="token_exchange_failed"), True
            self.store.delete("connectorOAuthFlows", cookie)
            self._store_credential(connector, expires_at=to_iso(self._later(TOKEN_SECONDS)))
            return _connections(connected=str(connector["id"])), True

    def _later(self, seconds: int) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    # -- shares and transfer ------------------------------------------------------------------------------------

    def _owner_admin(self, principal: Principal, connector_id: str) -> Record:
        self._require_admin_key(principal)
        connector = self._connector(principal, connector_id)
        if not self._is_team_admin(principal, str(connector["teamId"])):
            raise Forbidden()
        return connector

    def list_shares(self, principal: Principal, connector_id: str) -> dict[str, Any]:
        with self.store.transaction():
            connector = self._owner_admin(principal, connector_id)
            shares = []
            for share in self.store.find("connectorShares", "connector", connector_id):
                team = self.store.get("teams", str(share["sharedWithTeamId"]))
                entry = {
                    "sharedWithTeamId": share["sharedWithTeamId"],
                    "grantedByAccountId": share["grantedByAccountId"],
                    "createdAt": share["createdAt"],
                }
                if team is not None:
                    entry["teamName"] = team["name"]
                shares.append(entry)
            return self._out({"shares": shares, "ownerTeamId": connector["teamId"]})

    def share_connector(
        self, principal: Principal, connector_id: str, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self.store.transaction():
            connector = self._owner_admin(principal, connector_id)
            target = self._str(body, "teamId", required=True)
            if target == connector["teamId"]:
                raise BadRequest("self_share_not_allowed")
            if target not in principal.team_ids:
                raise NotFound("Target team not found")
            for share in self.store.find("connectorShares", "connector", connector_id):
                if share["sharedWithTeamId"] == target:
                    return 200, self._out({"share": share})
            share = {
                "id": self.ids.uuid4(),
                "connectorId": connector_id,
                "sharedWithTeamId": target,
                "grantedByAccountId": principal.account_id,
                "createdAt": self._now(),
            }
            self.store.insert("connectorShares", share)
            return 201, self._out({"share": share})

    def unshare_connector(self, principal: Principal, connector_id: str, team_id: str | None) -> dict[str, Any]:
        with self.store.transaction():
            self._owner_admin(principal, connector_id)
            if not team_id:
                raise BadRequest("teamId is required")
            for share in list(self.store.find("connectorShares", "connector", connector_id)):
                if share["sharedWithTeamId"] == team_id:
                    self.store.delete("connectorShares", str(share["id"]))
                    return {"success": True}
            raise NotFound.of("Share")  # the real text: "share_not_found"

    def transfer_connector(self, principal: Principal, connector_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            connector = self._owner_admin(principal, connector_id)
            target = self._str(body, "teamId", required=True)
            if target == connector["teamId"]:
                raise BadRequest("already_owner")
            if target not in principal.team_ids:
                raise NotFound("Target team not found")
            if not self._is_team_admin(principal, str(target)):
                raise Forbidden()
            if self._named(str(target), str(connector["name"])) is not None:
                raise Conflict("connector_name_taken")
            updated = self.store.update("connectors", connector_id, {"teamId": target, "updatedAt": self._now()})
            credential = self.store.get("connectorCredentials", connector_id)
            if credential is not None:  # credentials are keyed on the owner team
                self.store.update("connectorCredentials", connector_id, {"teamId": target})
            for share in list(self.store.find("connectorShares", "connector", connector_id)):
                if share["sharedWithTeamId"] == target:
                    self.store.delete("connectorShares", str(share["id"]))
            return self._out({"connector": updated})

    # -- workspace toggles --------------------------------------------------------------------------------------

    def list_workspace_connectors(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            result = []
            for toggle in self.store.find("connectorWorkspaces", "workspace", workspace_id):
                connector = self.store.get("connectors", str(toggle["connectorId"]))
                if connector is None or not toggle["enabled"]:
                    continue
                result.append(
                    {
                        "id": connector["id"],
                        "name": connector["name"],
                        "url": connector["url"],
                        "authMode": connector["authMode"],
                        "enabled": True,
                        "status": self._status(str(connector["id"])),
                    }
                )
            return self._out({"connectors": result})

    def toggle_workspace_connector(
        self, principal: Principal, workspace_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            workspace = access.workspace_for(self.store, principal, workspace_id)
            connector_id, enabled = body.get("connectorId"), body.get("enabled")
            if not isinstance(connector_id, str) or not connector_id or not isinstance(enabled, bool):
                raise BadRequest("connectorId and enabled are required")
            connector = self.store.get("connectors", connector_id)
            team = str(workspace["teamId"])
            visible = connector is not None and (
                connector["teamId"] == team
                or any(
                    s["sharedWithTeamId"] == team for s in self.store.find("connectorShares", "connector", connector_id)
                )
            )
            if not visible:
                raise NotFound.of("Connector")
            self.store.upsert(
                "connectorWorkspaces",
                {
                    "key": f"{connector_id}|{workspace_id}",
                    "connectorId": connector_id,
                    "workspaceId": workspace_id,
                    "enabled": enabled,
                },
            )
        return {"success": True}

    # -- the assertion grant ------------------------------------------------------------------------------------

    def mint_assertion(self, principal: Principal, connector_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A 5-minute ES256 assertion for the caller's active worker on its task (RFC 7523)."""
        with self.store.transaction():
            connector = self.store.get("connectors", connector_id)
            if connector is None or str(connector["teamId"]) not in principal.team_ids:
                raise OAuthError(404, "Connector not found")  # the real error: "not_found"
            worker_id, task_id = body.get("workerId"), body.get("taskId")
            if not worker_id or not task_id:
                raise OAuthError(400, "invalid_request", "workerId and taskId are required")
            worker = self.store.get("workers", str(worker_id))
            if worker is None or worker.get("accountId") != principal.account_id:
                raise OAuthError(403, "Forbidden", "Worker not found or does not belong to this account")
            if worker.get("status") in TERMINAL_WORKER:
                raise OAuthError(403, "Forbidden", "Worker token has been revoked")
            if worker.get("taskId") != task_id:
                raise OAuthError(403, "Forbidden", "taskId does not match worker active task")
            task = self.store.get("tasks", str(task_id))
            if task is None:
                raise OAuthError(403, "Forbidden", "Task not found")
            if connector["authMode"] != "assertion":
                raise OAuthError(403, "Forbidden", "Connector does not use assertion auth mode")
            toggle = self.store.get("connectorWorkspaces", f"{connector_id}|{task['workspaceId']}")
            if toggle is not None and not toggle["enabled"]:
                raise OAuthError(403, "Forbidden", "Connector not enabled for this workspace")
            now_s = int(self.clock.now().timestamp())
            key = f"{worker_id}|{connector_id}"
            window = self.store.get("assertionMints", key)
            count = 1 if window is None or now_s - int(window["windowStart"]) >= 60 else int(window["count"]) + 1
            start = now_s if count == 1 else int(window["windowStart"]) if window else now_s
            if count > MINTS_PER_MINUTE:
                raise LimitExceeded("rate_limit_exceeded", limit=MINTS_PER_MINUTE, current=count - 1)
            self.store.upsert("assertionMints", {"key": key, "windowStart": start, "count": count})
            account = principal.account or {}
            claims = {
                "iss": "https://buildd.dev",
                "sub": f"{principal.account_id}:{account.get('teamId')}",
                "act": {"sub": f"worker:{worker_id}", "tid": task_id},
                "aud": connector["assertionAudience"],
                "jti": self.ids.hex(16),
                "iat": now_s,
                "exp": now_s + ASSERTION_SECONDS,
            }
            return {
                "assertion": sign_jwt(claims),
                "audience": connector["assertionAudience"],
                "tokenEndpoint": connector["assertionTokenEndpoint"],
                "expiresAt": to_iso(self._later(ASSERTION_SECONDS)),
            }


def _connections(**params: str) -> str:
    return f"/app/connections?{urlencode(params)}"
