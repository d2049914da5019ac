"""Teams, members, invitations, notifications, roles, admin, feedback and the CLI login hand-off."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from mockserver.domain.areas.teams import Teams
from mockserver.domain.areas.teams_admin import TeamAdmin
from mockserver.domain.areas.teams_notify import TeamNotify
from mockserver.domain.areas.teams_roles import TeamRoles
from mockserver.http.routes import Call, Reply, handles

__all__ = ()

# the `session` security scheme's cookie: /api/auth/cli is public, so the dispatcher resolves no session for it
SESSION_COOKIE = "authjs.session-token"


def _session_token(call: Call) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(call.headers.get("cookie") or "")
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


@handles("cliLogin")
def cli_login(call: Call) -> Reply:
    return 302, None, {"Location": call.api.area(TeamAdmin).cli_login(call.query, _session_token(call))}


# -- teams ----------------------------------------------------------------------------------------------------


@handles("listTeams")
def list_teams(call: Call) -> Reply:
    return call.api.area(Teams).list_teams(call.principal)


@handles("createTeam")
def create_team(call: Call) -> Reply:
    return call.api.area(Teams).create_team(call.principal, call.body or {})


@handles("getTeam")
def get_team(call: Call) -> Reply:
    return call.api.area(Teams).get_team(call.principal, call.path["id"])


@handles("updateTeam")
def update_team(call: Call) -> Reply:
    return call.api.area(Teams).update_team(call.principal, call.path["id"], call.body or {})


@handles("deleteTeam")
def delete_team(call: Call) -> Reply:
    return call.api.area(Teams).delete_team(call.principal, call.path["id"])


@handles("listTeamMembers")
def list_team_members(call: Call) -> Reply:
    return call.api.area(Teams).list_members(call.principal, call.path["id"])


@handles("addTeamMember")
def add_team_member(call: Call) -> Reply:
    return call.api.area(Teams).add_member(call.principal, call.path["id"], call.body or {})


@handles("updateTeamMember")
def update_team_member(call: Call) -> Reply:
    return call.api.area(Teams).update_member(call.principal, call.path["id"], call.path["userId"], call.body or {})


@handles("removeTeamMember")
def remove_team_member(call: Call) -> Reply:
    return call.api.area(Teams).remove_member(call.principal, call.path["id"], call.path["userId"])


@handles("listTeamInvitations")
def list_team_invitations(call: Call) -> Reply:
    return call.api.area(Teams).list_invitations(call.principal, call.path["id"])


@handles("createTeamInvitation")
def create_team_invitation(call: Call) -> Reply:
    return call.api.area(Teams).create_invitation(call.principal, call.path["id"], call.body or {})


@handles("deleteTeamInvitation")
def delete_team_invitation(call: Call) -> Reply:
    return call.api.area(Teams).delete_invitation(call.principal, call.path["id"], call.path["invitationId"])


@handles("acceptInvitation")
def accept_invitation(call: Call) -> Reply:
    return call.api.area(Teams).accept_invitation(call.principal, call.path["token"])


@handles("getTeamNotifications")
def get_team_notifications(call: Call) -> Reply:
    return call.api.area(TeamNotify).get_notifications(call.principal, call.path["id"])


@handles("updateTeamNotifications")
def update_team_notifications(call: Call) -> Reply:
    return call.api.area(TeamNotify).update_notifications(call.principal, call.path["id"], call.body or {})


# -- roles ----------------------------------------------------------------------------------------------------


@handles("listRoles")
def list_roles(call: Call) -> Reply:
    return call.api.area(TeamRoles).list_roles(call.principal)


@handles("createRole")
def create_role(call: Call) -> Reply:
    return call.api.area(TeamRoles).create_role(call.principal, call.body or {})


@handles("getRole")
def get_role(call: Call) -> Reply:
    return call.api.area(TeamRoles).get_role(call.principal, call.path["id"])


@handles("updateRole")
def update_role(call: Call) -> Reply:
    return call.api.area(TeamRoles).update_role(call.principal, call.path["id"], call.body or {})


@handles("deleteRole")
def delete_role(call: Call) -> Reply:
    return call.api.area(TeamRoles).delete_role(call.principal, call.path["id"])


@handles("createRoleOverride")
def create_role_override(call: Call) -> Reply:
    return call.api.area(TeamRoles).create_override(call.principal, call.path["id"], call.body or {})


# -- admin and feedback ---------------------------------------------------------------------------------------


@handles("backfillEntityGraph")
def backfill_entity_graph(call: Call) -> Reply:
    return call.api.area(TeamAdmin).backfill_entity_graph(call.principal, call.body)


@handles("backfillMergedPrs")
def backfill_merged_prs(call: Call) -> Reply:
    return call.api.area(TeamAdmin).backfill_merged_prs(call.principal)


@handles("refreshModelAliases")
def refresh_model_aliases(call: Call) -> Reply:
    return call.api.area(TeamAdmin).refresh_model_aliases(call.principal, call.body)


@handles("listFeedback")
def list_feedback(call: Call) -> Reply:
    return call.api.area(TeamNotify).list_feedback(
        call.principal, call.query.get("entityType"), call.query.get("entityIds")
    )


@handles("submitFeedback")
def submit_feedback(call: Call) -> Reply:
    return call.api.area(TeamNotify).submit_feedback(call.principal, call.body or {})
