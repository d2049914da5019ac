"""The OAuth 2.1 server for MCP clients (dynamic registration, authorize with PKCE S256, token with rotation),
the workspace-bound MCP endpoint those tokens open, and the JWKS (issue #14, area `ext`).

Codes and refresh tokens are single-use and time out on the mock's clock. Access tokens are ES256 JWTs signed with
the mock's deterministic key (`ext_keys`), verifiable against `/api/.well-known/jwks.json`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.areas.ext import OAuthError
from mockserver.domain.areas.ext_keys import jwks, sign_jwt, verify_jwt
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound, Unauthorized
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import register_table

__all__ = ("AuthorizeAnswer", "OAuthServer")

register_table("oauthClients", "clientId")
register_table("oauthCodes", "code")
register_table("oauthRefreshTokens", "token")

ACCESS_TOKEN_SECONDS = 60 * 60
AUTH_CODE_SECONDS = 10 * 60
REFRESH_TOKEN_SECONDS = 60 * 60 * 24 * 90
LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
MCP_PROTOCOL = "2025-06-18"

# what `authorize` answers: ("redirect", url) or ("page", html)
AuthorizeAnswer = tuple[str, str]


class OAuthServer(Area):
    # -- registration -------------------------------------------------------------------------------------------

    def register_client(self, body: Mapping[str, Any]) -> dict[str, Any]:
        uris = body.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(_is_url(u) for u in uris):
            raise OAuthError(400, "invalid_client_metadata", "redirect_uris must be a non-empty list of URLs")
        client_id = f"c_{self.ids.hex(16)}"
        name = body.get("client_name")
        self.store.insert(
            "oauthClients",
            {"clientId": client_id, "clientName": name, "redirectUris": list(uris), "createdAt": self._now()},
        )
        answer: dict[str, Any] = {
            "client_id": client_id,
            "client_id_issued_at": int(self.clock.now().timestamp()),
            "redirect_uris": list(uris),
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        if isinstance(name, str):
            answer["client_name"] = name
        return answer

    # -- authorize ----------------------------------------------------------------------------------------------

    def authorize(self, principal: Principal, query: Mapping[str, str], here: str) -> AuthorizeAnswer:
        """`here` is the request's own path and query (the consent page links back to it with `workspace`)."""
        client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri")
        if not client_id or not redirect_uri:
            raise BadRequest("missing client_id or redirect_uri")
        client = self.store.get("oauthClients", client_id)
        if client is None:
            raise BadRequest("unknown client_id")
        if not _registered(list(client["redirectUris"]), redirect_uri):
            raise BadRequest("redirect_uri not registered for this client")
        state = query.get("state")
        if query.get("response_type") != "code":
            return "redirect", _with_query(redirect_uri, error="unsupported_response_type", state=state)
        challenge = query.get("code_challenge")
        if not challenge or query.get("code_challenge_method", "plain") != "S256":
            return "redirect", _with_query(redirect_uri, error="invalid_request", state=state)
        workspaces = sorted(access.visible_workspaces(self.store, principal), key=lambda w: str(w["name"]))
        workspace_id = query.get("workspace")
        if not workspace_id:
            if not workspaces:
                raise Forbidden("no workspaces available for this account — sign in to buildd and create one first")
            return "page", _consent_page(here, workspaces, str(client.get("clientName") or client_id))
        if not any(w["id"] == workspace_id for w in workspaces):
            raise Forbidden("you do not have access to that workspace")
        code = self.ids.hex(32)
        self.store.insert(
            "oauthCodes",
            {
                "code": code,
                "clientId": client_id,
                "userId": principal.user_id,
                "workspaceId": workspace_id,
                "redirectUri": redirect_uri,
                "codeChallenge": challenge,
                "codeChallengeMethod": "S256",
                "scope": query.get("scope"),
                "expiresAt": to_iso(self.clock.now() + timedelta(seconds=AUTH_CODE_SECONDS)),
                "consumedAt": None,
            },
        )
        return "redirect", _with_query(redirect_uri, code=code, state=state)

    # -- token --------------------------------------------------------------------------------------------------

    def token(self, form: Mapping[str, Any]) -> dict[str, Any]:
        grant = form.get("grant_type")
        with self.store.transaction():
            if grant == "authorization_code":
                code, client_id = form.get("code"), form.get("client_id")
                redirect_uri, verifier = form.get("redirect_uri"), form.get("code_verifier")
                if not code or not client_id or not redirect_uri or not verifier:
                    raise OAuthError(400, "invalid_request", "missing required parameter")
                row = self.store.get("oauthCodes", str(code))
                if (
                    row is None
                    or row["consumedAt"] is not None
                    or parse_iso(str(row["expiresAt"])) < self.clock.now()
                    or row["clientId"] != client_id
                    or row["redirectUri"] != redirect_uri
                    or not hmac.compare_digest(_s256(str(verifier)), str(row["codeChallenge"]))
                ):
                    raise OAuthError(400, "invalid_grant")
                self.store.update("oauthCodes", str(code), {"consumedAt": self._now()})
                return self._issue(str(client_id), str(row["userId"]), str(row["workspaceId"]), row.get("scope"))
            if grant == "refresh_token":
                token, client_id = form.get("refresh_token"), form.get("client_id")
                if not token or not client_id:
                    raise OAuthError(400, "invalid_request", "missing required parameter")
                row = self.store.get("oauthRefreshTokens", str(token))
                if (
                    row is None
                    or row["revokedAt"] is not None
                    or parse_iso(str(row["expiresAt"])) < self.clock.now()
                    or row["clientId"] != client_id
                ):
                    raise OAuthError(400, "invalid_grant")
                self.store.update("oauthRefreshTokens", str(token), {"revokedAt": self._now()})
                return self._issue(str(client_id), str(row["userId"]), str(row["workspaceId"]), row.get("scope"))
        raise OAuthError(400, "unsupported_grant_type")

    def _issue(self, client_id: str, user_id: str, workspace_id: str, scope: Any) -> dict[str, Any]:
        now = self.clock.now()
        granted = str(scope) if scope else "mcp"
        access_token = sign_jwt(
            {
                "sub": user_id,
                "scope": granted,
                "client_id": client_id,
                "workspace_id": workspace_id,
                "iss": self._issuer(),
                "aud": self._resource(workspace_id),
                "iat": int(now.timestamp()),
                "exp": int(now.timestamp()) + ACCESS_TOKEN_SECONDS,
            }
        )
        refresh = self.ids.hex(32)
        self.store.insert(
            "oauthRefreshTokens",
            {
                "token": refresh,
                "clientId": client_id,
                "userId": user_id,
                "workspaceId": workspace_id,
                "scope": scope,
                "expiresAt": to_iso(now + timedelta(seconds=REFRESH_TOKEN_SECONDS)),
                "revokedAt": None,
            },
        )
        return {
            "access_token": access_token,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": granted,
        }

    def _issuer(self) -> str:
        return self.settings.base_url.rstrip("/")

    def _resource(self, workspace_id: str) -> str:
        return f"{self._issuer()}/api/mcp-oauth/{workspace_id}"

    # -- the workspace-bound MCP endpoint -----------------------------------------------------------------------

    def mcp_claims(self, authorization: str | None, workspace_id: str) -> dict[str, Any]:
        """The access token's claims when it is this mock's, unexpired, for this workspace; else 401 (with the
        resource metadata hint), or 404 when the workspace does not exist."""
        token = authorization[7:] if authorization and authorization.startswith("Bearer ") else None
        claims = (
            verify_jwt(
                token,
                issuer=self._issuer(),
                audience=self._resource(workspace_id),
                now_s=int(self.clock.now().timestamp()),
            )
            if token
            else None
        )
        if claims is None or claims.get("workspace_id") != workspace_id:
            raise Unauthorized()
        if self.store.get("workspaces", workspace_id) is None:
            raise NotFound.of("Workspace")
        return claims

    def www_authenticate(self, workspace_id: str) -> str:
        # percent-encoded: the id comes from the path and a header is latin-1
        metadata = f"{self._issuer()}/.well-known/oauth-protected-resource/api/mcp-oauth/{quote(workspace_id, safe='')}"
        return f'Bearer realm="buildd", resource_metadata="{metadata}"'

    def mcp_message(self, workspace_id: str, message: Mapping[str, Any]) -> dict[str, Any] | None:
        """The JSON-RPC answer to one message (None for a notification)."""
        if "id" not in message:
            return None
        method = message.get("method")
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id")}
        if method == "initialize":
            params = message.get("params") or {}
            reply["result"] = {
                "protocolVersion": params.get("protocolVersion") or MCP_PROTOCOL,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "buildd", "version": "0.1.0"},
                "instructions": f"Buildd MCP (OAuth) — scoped to workspace {workspace_id}.",
            }
        elif method == "ping":
            reply["result"] = {}
        elif method == "tools/list":
            reply["result"] = {"tools": [_BUILDD_TOOL]}
        else:
            reply["error"] = {
                "code": -32601,
                "message": f"{method}: the mock serves MCP tools at /api/mcp (with an API key), not over MCP-OAuth",
            }
        return reply

    @staticmethod
    def jwks() -> dict[str, Any]:
        return jwks()


_BUILDD_TOOL: dict[str, Any] = {
    "name": "buildd",
    "description": "Task coordination for this workspace (the mock lists the tool; call it through /api/mcp).",
    "inputSchema": {
        "type": "object",
        "properties": {"action": {"type": "string"}, "params": {"type": "object"}},
        "required": ["action"],
    },
}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def _registered(registered: list[str], requested: str) -> bool:
    """Exact match, or a loopback URI that differs only in its port (RFC 8252 native clients)."""
    if requested in registered:
        return True
    want = urlsplit(requested)
    if want.hostname not in LOOPBACK and want.netloc.split(":")[0] not in LOOPBACK:
        return False
    for uri in registered:
        have = urlsplit(uri)
        if (
            (have.hostname in LOOPBACK)
            and have.scheme == want.scheme
            and have.port == want.port
            and have.path == want.path
            and have.query == want.query
        ):
            return True
    return False


def _with_query(url: str, **params: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _consent_page(here: str, workspaces: list[Any], client_name: str) -> str:
    joiner = "&" if "?" in here else "?"
    items = "".join(
        f'<a class="ws" href="{escape(here + joiner + urlencode({"workspace": w["id"]}))}">'
        f'<div class="name">{escape(str(w["name"]))}</div><div class="id">{escape(str(w["id"]))}</div></a>'
        for w in workspaces
    )
    title = f"Authorize {escape(client_name)}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>'
        f"<h1>{title}</h1><p>Pick the buildd workspace this connection should have access to (mock consent page)."
        f"</p>{items}</body></html>"
    )
