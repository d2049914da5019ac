"""Accounts: list, create (key shown once), get, delete, regenerate key, me."""

from __future__ import annotations

from mockserver.domain.areas.accounts import Accounts
from mockserver.http.routes import Call, Reply, handles

__all__ = ()


@handles("listAccounts")
def list_accounts(call: Call) -> Reply:
    return call.api.area(Accounts).list_accounts(call.principal)


@handles("createAccount")
def create_account(call: Call) -> Reply:
    return call.api.area(Accounts).create_account(call.principal, call.body or {})


@handles("getAccount")
def get_account(call: Call) -> Reply:
    return call.api.area(Accounts).get_account(call.principal, call.path["id"])


@handles("deleteAccount")
def delete_account(call: Call) -> Reply:
    return call.api.area(Accounts).delete_account(call.principal, call.path["id"])


@handles("regenerateAccountKey")
def regenerate_account_key(call: Call) -> Reply:
    return call.api.area(Accounts).regenerate_account_key(call.principal, call.path["id"])


@handles("getMe")
def get_me(call: Call) -> Reply:
    return call.api.area(Accounts).get_me(call.principal)
