"""Connectors, integrations, webhooks, the OAuth server for MCP clients, MCP-OAuth and JWKS (area `ext`)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from mockserver.domain.areas.ext import STATE_COOKIE, Connectors
from mockserver.domain.areas.ext_oauth import OAuthServer
from mockserver.domain.areas.ext_webhooks import Webhooks
from mockserver.domain.errors import Unauthorized
from mockserver.http.routes import Call, Page, Reply, handles

__all__ = ("mock_get_webhook_secrets", "mock_list_webhook_deliveries")  # control handlers (control.py)

ACTIVE_TEAM_COOKIE = "buildd-team"


def _cookie(call: Call, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(call.headers.get("cookie") or "")
    except Exception:  # a malformed Cookie header carries no usable cookie  # noqa: BLE001
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _origin(call: Call) -> str:
    """The scheme and host the client used, so redirects and links stay on the mock whatever its port."""
    host = call.headers.get("host") or "127.0.0.1:4010"
    return f"{call.headers.get('x-forwarded-proto') or 'http'}://{host}"


def _redirect(location: str) -> Reply:
    return 302, Page("", "text/plain; charset=utf-8"), {"Location": location}


# -- connectors ------------------------------------------------------------------------------------------------


def _connectors(call: Call) -> Connectors:
    return call.api.area(Connectors)  # type: ignore[no-any-return]


@handles("listConnectors")
def list_connectors(call: Call) -> Reply:
    return _connectors(call).list_connectors(
        call.principal, call.query.get("teamId"), _cookie(call, ACTIVE_TEAM_COOKIE)
    )


@handles("createConnector")
def create_connector(call: Call) -> Reply:
    return _connectors(call).create_connector(call.principal, call.body or {}, _cookie(call, ACTIVE_TEAM_COOKIE))


@handles("getConnector")
def get_connector(call: Call) -> Reply:
    return _connectors(call).get_connector(call.principal, call.path["id"])


@handles("updateConnector")
def update_connector(call: Call) -> Reply:
    return _connectors(call).update_connector(call.principal, call.path["id"], call.body or {})


@handles("deleteConnector")
def delete_connector(call: Call) -> Reply:
    return _connectors(call).delete_connector(call.principal, call.path["id"])


@handles("getConnectorStatus")
def get_connector_status(call: Call) -> Reply:
    return _connectors(call).connector_status(call.principal, call.path["id"])


@handles("disconnectConnector")
def disconnect_connector(call: Call) -> Reply:
    return _connectors(call).disconnect_connector(call.principal, call.path["id"])


@handles("connectConnector")
def connect_connector(call: Call) -> Reply:
    body, cookie = _connectors(call).connect_connector(call.principal, call.path["id"], _origin(call))
    setting = f"{STATE_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=900"
    return 200, body, {"Set-Cookie": setting}


@handles("connectorOAuthCallback")
def connector_oauth_callback(call: Call) -> Reply:
    location, spent = _connectors(call).connector_callback(call.query, _cookie(call, STATE_COOKIE))
    headers = {"Location": f"{_origin(call)}{location}"}
    if spent:
        headers["Set-Cookie"] = f"{STATE_COOKIE}=; Path=/; Max-Age=0"
    return 302, Page("", "text/plain; charset=utf-8"), headers


@handles("listConnectorShares")
def list_connector_shares(call: Call) -> Reply:
    return _connectors(call).list_shares(call.principal, call.path["id"])


@handles("shareConnector")
def share_connector(call: Call) -> Reply:
    return _connectors(call).share_connector(call.principal, call.path["id"], call.body or {})


@handles("unshareConnector")
def unshare_connector(call: Call) -> Reply:
    team = call.query.get("teamId")
    if not team and call.raw_body:  # the real route also reads `teamId` from a JSON body
        import json

        try:
            parsed = json.loads(call.raw_body)
        except ValueError:
            parsed = None
        team = parsed.get("teamId") if isinstance(parsed, dict) and isinstance(parsed.get("teamId"), str) else None
    return _connectors(call).unshare_connector(call.principal, call.path["id"], team)


@handles("transferConnector")
def transfer_connector(call: Call) -> Reply:
    return _connectors(call).transfer_connector(call.principal, call.path["id"], call.body or {})


@handles("mintConnectorAssertion")
def mint_connector_assertion(call: Call) -> Reply:
    return _connectors(call).mint_assertion(call.principal, call.path["id"], call.body or {})


@handles("listWorkspaceConnectors")
def list_workspace_connectors(call: Call) -> Reply:
    return _connectors(call).list_workspace_connectors(call.principal, call.path["id"])


@handles("toggleWorkspaceConnector")
def toggle_workspace_connector(call: Call) -> Reply:
    return _connectors(call).toggle_workspace_connector(call.principal, call.path["id"], call.body or {})


# -- integrations and webhooks ---------------------------------------------------------------------------------


def _webhooks(call: Call) -> Webhooks:
    return call.api.area(Webhooks)  # type: ignore[no-any-return]


@handles("discordInteraction")
def discord_interaction(call: Call) -> Reply:
    return _webhooks(call).discord(call.headers, call.raw_body, call.body or {})


@handles("slackEvent")
def slack_event(call: Call) -> Reply:
    is_form = (call.headers.get("content-type") or "").lower().startswith("application/x-www-form-urlencoded")
    return _webhooks(call).slack(call.headers, call.raw_body, call.body or {}, is_form)


@handles("getWorkspaceSlack")
def get_workspace_slack(call: Call) -> Reply:
    return _webhooks(call).slack_config(call.principal, call.path["id"])


@handles("updateWorkspaceSlack")
def update_workspace_slack(call: Call) -> Reply:
    return _webhooks(call).update_slack_config(call.principal, call.path["id"], call.body or {})


@handles("ingestWebhook")
def ingest_webhook(call: Call) -> Reply:
    return _webhooks(call).ingest(
        call.principal,
        call.headers.get("x-webhook-event"),
        call.headers.get("x-webhook-signature"),
        call.raw_body,
        call.body or {},
    )


@handles("linearWebhook")
def linear_webhook(call: Call) -> Reply:
    return _webhooks(call).linear(
        call.path["workspaceId"], call.headers.get("linear-signature"), call.raw_body, call.body or {}
    )


@handles("saveWorkspaceWebhook")
def save_workspace_webhook(call: Call) -> Reply:
    return _webhooks(call).save_webhook(call.principal, call.path["id"], call.body or {})


@handles("testWorkspaceWebhook")
def test_workspace_webhook(call: Call) -> Reply:
    return _webhooks(call).test_webhook(call.principal, call.path["id"], call.body or {})


def mock_list_webhook_deliveries(call: Call) -> Reply:
    limit = call.query.get("limit")
    return _webhooks(call).deliveries(call.query.get("workspaceId"), int(limit) if limit is not None else None)


def mock_get_webhook_secrets(call: Call) -> Reply:
    return Webhooks.secrets(call.query.get("workspaceId"))


# -- the OAuth server, MCP-OAuth, JWKS -------------------------------------------------------------------------


def _oauth(call: Call) -> OAuthServer:
    return call.api.area(OAuthServer)  # type: ignore[no-any-return]


@handles("registerOAuthClient")
def register_oauth_client(call: Call) -> Reply:
    return 201, _oauth(call).register_client(call.body or {})


@handles("authorizeOAuthClient")
def authorize_oauth_client(call: Call) -> Reply:
    here = "/api/oauth/authorize"
    if call.query:
        from urllib.parse import urlencode

        here += "?" + urlencode({k: v for k, v in call.query.items() if k != "workspace"})
    kind, value = _oauth(call).authorize(call.principal, call.query, here)
    return _redirect(value) if kind == "redirect" else (200, Page(value))


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@handles("exchangeOAuthToken")
def exchange_oauth_token(call: Call) -> Reply:
    return 200, _oauth(call).token(call.body or {}), _NO_STORE


@handles("mcpOAuthStream")
def mcp_oauth_stream(call: Call) -> Reply:
    return 405, {"error": "SSE not supported on stateless server"}


def _mcp_claims(call: Call) -> Reply | None:
    """None when the bearer opens this workspace; else the 401 (with its discovery hint) or 404 to answer."""
    oauth = _oauth(call)
    workspace = call.path["workspace"]
    try:
        oauth.mcp_claims(call.headers.get("authorization"), workspace)
    except Unauthorized as exc:
        return 401, exc.body(), {"WWW-Authenticate": oauth.www_authenticate(workspace)}
    return None


@handles("mcpOAuthRequest")
def mcp_oauth_request(call: Call) -> Reply:
    refused = _mcp_claims(call)
    if refused is not None:
        return refused
    answer = _oauth(call).mcp_message(call.path["workspace"], call.body or {})
    return (202, Page("", "text/plain; charset=utf-8")) if answer is None else answer


@handles("mcpOAuthEndSession")
def mcp_oauth_end_session(call: Call) -> Reply:
    refused = _mcp_claims(call)
    if refused is not None:
        return refused
    return 405, {"error": "Method Not Allowed: Session termination not supported"}


@handles("getJwks")
def get_jwks(call: Call) -> Reply:
    headers = {"Cache-Control": "public, max-age=3600, s-maxage=3600, stale-while-revalidate=86400"}
    return 200, OAuthServer.jwks(), headers
