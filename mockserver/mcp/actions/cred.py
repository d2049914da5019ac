"""`buildd` actions of area cred: manage_secrets and manage_model_tiers (packages/core/mcp-tools.ts), each sending
the REST requests the real tool sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, Outcome, _require, _workspace_id, action

__all__ = ()

TIERS = ("premium", "standard", "budget")
PROVIDERS = ("anthropic", "openai-codex", "openrouter")


@action(
    "manage_secrets",
    "admin",
    'Manage encrypted MCP credential secrets. Params: action ("list"|"set"|"delete"), label? and value? (set), '
    "purpose? (default mcp_credential), secretId? (delete)",
)
async def manage_secrets(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    sub = params.get("action")
    if sub not in ("list", "set", "delete"):
        raise ActionInputError('action is required: "list", "set", or "delete"')
    if sub == "list":
        data = await api("GET", "/api/secrets")
        secrets = data.get("secrets") or []
        if not secrets:
            return Outcome("No secrets found.", data)
        lines = [
            f"- **{s.get('label') or s.get('purpose')}** ({s.get('purpose')})\n  ID: {s.get('id')} | "
            f"Created: {s.get('createdAt')}"
            for s in secrets
        ]
        return Outcome(f"{len(secrets)} secret(s):\n\n" + "\n".join(lines), data)
    if sub == "set":
        if not params.get("label"):
            raise ActionInputError('label is required (env var name, e.g. "buildd-api-key")')
        if not params.get("value"):
            raise ActionInputError("value is required (the secret value)")
        body = {
            "value": params["value"],
            "purpose": params.get("purpose") or "mcp_credential",
            "label": params["label"],
        }
        data = await api("POST", "/api/secrets", body=body)
        return Outcome(f'Secret stored: label="{params["label"]}" | ID: {data.get("id")}', data)
    _require(params, "secretId")
    data = await api("DELETE", "/api/secrets", query={"id": str(params["secretId"])})
    return Outcome(f"Secret {params['secretId']} deleted.", data)


def _tier(params: Mapping[str, Any]) -> str:
    tier = params.get("tier")
    if tier not in TIERS:
        raise ActionInputError('tier must be "premium", "standard", or "budget"')
    return str(tier)


@action(
    "manage_model_tiers",
    "admin",
    'Manage the model tier registry. Params: action ("list"|"set"|"delete"), workspaceId? (a workspace override; '
    "omit for the team default), tier? (set/delete), provider? and model? (set), defaultEffort?, defaultMaxTurns?",
)
async def manage_model_tiers(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _workspace_id(params, ctx)
    sub = params.get("action")
    if sub not in ("list", "set", "delete"):
        raise ActionInputError('action must be "list", "set", or "delete"')
    if sub == "list":
        data = await api("GET", "/api/model-tiers", query={"workspaceId": ws} if ws else None)
        lines = [
            f"  {tier}: {entry.get('model')} (provider: {entry.get('provider')}, source: {entry.get('source')})"
            for tier, entry in data.items()
        ]
        return Outcome("Model tier registry (effective):\n\n" + "\n".join(lines), data)
    tier = _tier(params)
    if sub == "set":
        if params.get("provider") not in PROVIDERS:
            raise ActionInputError('provider must be "anthropic", "openai-codex", or "openrouter"')
        if not params.get("model"):
            raise ActionInputError("model is required for set")
        body: dict[str, Any] = {"tier": tier, "provider": params["provider"], "model": params["model"]}
        if ws:
            body["workspaceId"] = ws
        if params.get("defaultEffort"):
            body["defaultEffort"] = params["defaultEffort"]
        if isinstance(params.get("defaultMaxTurns"), int):
            body["defaultMaxTurns"] = params["defaultMaxTurns"]
        data = await api("POST", "/api/model-tiers", body=body)
        scope = f"workspace {ws}" if ws else "team-wide"
        return Outcome(
            f"Model tier updated: {tier} → {params['model']} (provider: {params['provider']}, scope: {scope}).", data
        )
    query = {"tier": tier, **({"workspaceId": ws} if ws else {})}
    data = await api("DELETE", "/api/model-tiers", query=query)
    scope = "workspace override" if ws else "team default"
    return Outcome(
        f'Model tier {scope} for "{tier}" removed. The resolution chain will now fall back to the next level.', data
    )
