"""Credentials, secrets and models (area cred): Claude/Codex credentials, the runner's broker, secrets, model tiers."""

from __future__ import annotations

from typing import cast

from mockserver.domain.areas.cred import Secrets
from mockserver.domain.areas.cred_backends import BackendCredentials
from mockserver.domain.areas.cred_models import ModelTiers
from mockserver.domain.areas.cred_runner import CredentialBroker
from mockserver.http.routes import Call, Reply, handles

__all__ = ()


def _backends(call: Call) -> BackendCredentials:
    return cast(BackendCredentials, call.api.area(BackendCredentials))


# -- Claude credential ------------------------------------------------------------------------------------------------


@handles("getClaudeCredential")
def get_claude_credential(call: Call) -> Reply:
    return _backends(call).credential_status(call.principal, "claude", call.path["id"], call.query.get("scope"))


@handles("saveClaudeCredential")
def save_claude_credential(call: Call) -> Reply:
    return _backends(call).save_claude(call.principal, call.path["id"], call.body or {})


@handles("deleteClaudeCredential")
def delete_claude_credential(call: Call) -> Reply:
    _backends(call).delete_credential(call.principal, "claude", call.path["id"], call.query.get("scope"))
    return 204, None


@handles("startClaudeOAuth")
def start_claude_oauth(call: Call) -> Reply:
    return _backends(call).start_claude_oauth(call.principal, call.path["id"])


@handles("exchangeClaudeOAuth")
def exchange_claude_oauth(call: Call) -> Reply:
    return _backends(call).exchange_claude_oauth(call.principal, call.path["id"], call.body or {})


@handles("refreshClaudeCredential")
def refresh_claude_credential(call: Call) -> Reply:
    return _backends(call).refresh(call.principal, "claude", call.path["id"], call.query.get("scope"))


# -- Codex credential -------------------------------------------------------------------------------------------------


@handles("getCodexCredential")
def get_codex_credential(call: Call) -> Reply:
    return _backends(call).credential_status(call.principal, "codex", call.path["id"], call.query.get("scope"))


@handles("saveCodexCredential")
def save_codex_credential(call: Call) -> Reply:
    return _backends(call).save_codex(call.principal, call.path["id"], call.body or {})


@handles("deleteCodexCredential")
def delete_codex_credential(call: Call) -> Reply:
    _backends(call).delete_credential(call.principal, "codex", call.path["id"], call.query.get("scope"))
    return 204, None


@handles("startCodexDeviceLogin")
def start_codex_device_login(call: Call) -> Reply:
    return _backends(call).start_codex_device(call.principal, call.path["id"])


@handles("pollCodexDeviceLogin")
def poll_codex_device_login(call: Call) -> Reply:
    return _backends(call).poll_codex_device(call.principal, call.path["id"], call.body or {})


@handles("refreshCodexCredential")
def refresh_codex_credential(call: Call) -> Reply:
    return _backends(call).refresh(call.principal, "codex", call.path["id"], call.query.get("scope"))


@handles("verifyCodexCredential")
def verify_codex_credential(call: Call) -> Reply:
    return _backends(call).verify_codex(call.principal, call.path["id"], call.query.get("scope"))


@handles("writeBackCodexCredential")
def write_back_codex_credential(call: Call) -> Reply:
    return _backends(call).write_back_codex(call.principal, call.path["id"], call.body or {})


# -- the runner's credential broker -----------------------------------------------------------------------------------


@handles("credentialLease")
def credential_lease(call: Call) -> Reply:
    return call.api.area(CredentialBroker).credential_lease(call.principal, call.body or {})


@handles("credentialRefresh")
def credential_refresh(call: Call) -> Reply:
    return call.api.area(CredentialBroker).credential_refresh(call.principal, call.body or {})


# -- secrets ----------------------------------------------------------------------------------------------------------


@handles("listSecrets")
def list_secrets(call: Call) -> Reply:
    return call.api.area(Secrets).list_secrets(call.principal, call.query.get("teamId"))


@handles("createSecret")
def create_secret(call: Call) -> Reply:
    return call.api.area(Secrets).create_secret(call.principal, call.body or {})


@handles("deleteSecret")
def delete_secret(call: Call) -> Reply:
    return call.api.area(Secrets).delete_secret(call.principal, call.query.get("id"))


@handles("verifySecret")
def verify_secret(call: Call) -> Reply:
    return call.api.area(Secrets).verify_secret(call.principal, call.path["id"])


# -- models -----------------------------------------------------------------------------------------------------------


@handles("listModels")
def list_models(call: Call) -> Reply:
    return call.api.area(ModelTiers).list_models()


@handles("getModelTiers")
def get_model_tiers(call: Call) -> Reply:
    return call.api.area(ModelTiers).get_model_tiers(call.principal, call.query.get("workspaceId") or None)


@handles("setModelTier")
def set_model_tier(call: Call) -> Reply:
    return call.api.area(ModelTiers).set_model_tier(call.principal, call.body or {})


@handles("deleteModelTier")
def delete_model_tier(call: Call) -> Reply:
    return call.api.area(ModelTiers).delete_model_tier(
        call.principal, call.query["tier"], call.query.get("workspaceId")
    )
