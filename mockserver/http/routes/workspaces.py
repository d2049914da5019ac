"""Workspaces and their account links."""

from __future__ import annotations

from mockserver.domain.areas.workspaces import Workspaces
from mockserver.http.routes import Call, Reply, handles

__all__ = ()


@handles("listWorkspaces")
def list_workspaces(call: Call) -> Reply:
    return call.api.area(Workspaces).list_workspaces(call.principal, call.query.get("teamId"))


@handles("createWorkspace")
def create_workspace(call: Call) -> Reply:
    return call.api.area(Workspaces).create_workspace(call.principal, call.body or {})


@handles("getWorkspace")
def get_workspace(call: Call) -> Reply:
    return call.api.area(Workspaces).get_workspace(call.principal, call.path["id"])


@handles("updateWorkspace")
def update_workspace(call: Call) -> Reply:
    return call.api.area(Workspaces).update_workspace(call.principal, call.path["id"], call.body or {})


@handles("deleteWorkspace")
def delete_workspace(call: Call) -> Reply:
    return call.api.area(Workspaces).delete_workspace(call.principal, call.path["id"])


@handles("listWorkspaceAccounts")
def list_workspace_accounts(call: Call) -> Reply:
    return call.api.area(Workspaces).list_workspace_accounts(call.principal, call.path["id"])


@handles("linkWorkspaceAccount")
def link_workspace_account(call: Call) -> Reply:
    return call.api.area(Workspaces).link_workspace_account(call.principal, call.path["id"], call.body or {})


@handles("unlinkWorkspaceAccount")
def unlink_workspace_account(call: Call) -> Reply:
    return call.api.area(Workspaces).unlink_workspace_account(
        call.principal, call.path["id"], call.query.get("accountId")
    )


@handles("getWorkspaceByRepo")
def get_workspace_by_repo(call: Call) -> Reply:
    return call.api.area(Workspaces).get_workspace_by_repo(call.principal, call.query.get("repo"))
