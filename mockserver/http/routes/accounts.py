"""Accounts: list, create (key shown once), get, delete, regenerate key, me."""

from __future__ import annotations

from mockserver.http.routes import Call, Reply, handles

__all__ = ()


@handles("listAccounts")
def list_accounts(call: Call) -> Reply:
    return call.api.list_accounts(call.principal)


@handles("createAccount")
def create_account(call: Call) -> Reply:
    return call.api.create_account(call.principal, call.body or {})


@handles("getAccount")
def get_account(call: Call) -> Reply:
    return call.api.get_account(call.principal, call.path["id"])


@handles("deleteAccount")
def delete_account(call: Call) -> Reply:
    return call.api.delete_account(call.principal, call.path["id"])


@handles("regenerateAccountKey")
def regenerate_account_key(call: Call) -> Reply:
    return call.api.regenerate_account_key(call.principal, call.path["id"])


@handles("getMe")
def get_me(call: Call) -> Reply:
    return call.api.get_me(call.principal)
