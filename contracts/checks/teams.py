"""Lifecycle rule of the teams area: membership decides access, at once, both ways.

    A (--session-cookie) creates a team; B (--other-session-cookie) creates one to learn its user id.
    B reads A's team: 404.  A adds B as an admin: B reads it and its admin-only invitations: 200.
    A demotes B to member: B's next read of the invitations is 403, the team still 200.
    A removes B: B reads it: 404 again.
    A, the last owner, tries to leave: 400, and still reads the team.
    Both teams are deleted afterwards.

Runs in the `lifecycle` suite (which runs every area's `lifecycle` rule); skipped without both session cookies.
"""

from __future__ import annotations

import re
from typing import NoReturn

from contracts.context import AUTH_OTHER_SESSION, AUTH_SESSION, Skip, SuiteContext
from contracts.failures import LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule
from contracts.target import Exchange

__all__ = ("membership_drives_access",)

RULE = "lifecycle.team-membership"
MEMBER = "DELETE /api/teams/{id}/members/{userId}"
ROLE = "PATCH /api/teams/{id}/members/{userId}"


class _Teams:
    """The two scratch teams of one run and the calls on them."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self.created: list[tuple[str, str]] = []  # (auth, team id), for cleanup

    def create(self, auth: str, suffix: str) -> str:
        # from the run id, not the run's rng: drawing here would move the seed of the state machine that follows
        run = re.sub(r"[^a-z0-9]+", "-", self.ctx.workbench.run_id.lower()).strip("-")
        slug = f"buildd-check-{run}-{suffix}"
        name = self.ctx.workbench.title(suffix)
        exchange = self.ctx.send("POST", "/api/teams", auth=auth, json={"name": name, "slug": slug})
        body = exchange.json()
        if exchange.status != 200 or not isinstance(body, dict) or not body.get("id"):
            self.fail("POST /api/teams", "200 with the new team", exchange)
        self.created.append((auth, str(body["id"])))
        return str(body["id"])

    def read(self, auth: str, team_id: str) -> Exchange:
        return self.ctx.send("GET", f"/api/teams/{team_id}", auth=auth)

    def read_admin_only(self, auth: str, team_id: str) -> Exchange:
        """A read only owners and admins may make (the pending invitations): harmless to repeat."""
        return self.ctx.send("GET", f"/api/teams/{team_id}/invitations", auth=auth)

    def only_member(self, auth: str, team_id: str) -> str:
        exchange = self.read(auth, team_id)
        body = exchange.json()
        members = body.get("members") if exchange.status == 200 and isinstance(body, dict) else None
        if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
            self.fail("GET /api/teams/{id}", "200 with the creator as the only member", exchange)
        return str(members[0].get("userId"))

    def expect(self, exchange: Exchange, status: int, op: str, expected: str) -> None:
        if exchange.status != status:
            self.fail(op, expected, exchange)

    def fail(self, op: str, expected: str, exchange: Exchange) -> NoReturn:
        failure = ServerError if exchange.status == 0 or exchange.status >= 500 else LifecycleRuleBroken
        self.ctx.fail(failure, RULE, op, expected=expected, exchange=exchange)

    def cleanup(self) -> None:
        for auth, team_id in reversed(self.created):
            try:
                self.ctx.send("DELETE", f"/api/teams/{team_id}", auth=auth)
            except Exception as exc:  # cleanup must go on whatever happens
                self.ctx.recorder.note("lifecycle", f"team {team_id} left behind: {type(exc).__name__}")


@rule(
    RULE,
    suite="lifecycle",
    title="Adding, demoting or removing a team member changes their access on the next request",
    failure=LifecycleRuleBroken,
    hint="Read the caller's memberships on every request (no cached team list), and keep the last owner.",
)
def membership_drives_access(ctx: SuiteContext, subject: Subject) -> None:
    if not (ctx.credentials.session_cookie and ctx.credentials.other_session_cookie):
        raise Skip("needs --session-cookie and --other-session-cookie (two users)")
    teams = _Teams(ctx)
    try:
        team = teams.create(AUTH_SESSION, "a")
        owner = teams.only_member(AUTH_SESSION, team)
        other = teams.only_member(AUTH_OTHER_SESSION, teams.create(AUTH_OTHER_SESSION, "b"))
        read = "GET /api/teams/{id}"
        teams.expect(teams.read(AUTH_OTHER_SESSION, team), 404, read, "404: not a member yet")
        added = ctx.send(
            "POST", f"/api/teams/{team}/members", auth=AUTH_SESSION, json={"userId": other, "role": "admin"}
        )
        teams.expect(added, 200, "POST /api/teams/{id}/members", "200: the owner adds an admin")
        teams.expect(
            teams.read(AUTH_OTHER_SESSION, team),
            200,
            "POST /api/teams/{id}/members",
            "the new member reads the team: 200",
        )
        teams.expect(
            teams.read_admin_only(AUTH_OTHER_SESSION, team),
            200,
            "POST /api/teams/{id}/members",
            "the new admin reads the team's invitations: 200",
        )
        demoted = ctx.send("PATCH", f"/api/teams/{team}/members/{other}", auth=AUTH_SESSION, json={"role": "member"})
        teams.expect(demoted, 200, ROLE, "200: the owner demotes the admin to member")
        teams.expect(
            teams.read_admin_only(AUTH_OTHER_SESSION, team),
            403,
            ROLE,
            "the demoted member reads the team's invitations: 403 at once",
        )
        teams.expect(teams.read(AUTH_OTHER_SESSION, team), 200, ROLE, "the demoted member still reads the team: 200")
        removed = ctx.send("DELETE", f"/api/teams/{team}/members/{other}", auth=AUTH_SESSION)
        teams.expect(removed, 200, MEMBER, "200: the owner removes the member")
        teams.expect(teams.read(AUTH_OTHER_SESSION, team), 404, MEMBER, "the removed member reads the team: 404")
        leave = ctx.send("DELETE", f"/api/teams/{team}/members/{owner}", auth=AUTH_SESSION)
        teams.expect(leave, 400, MEMBER, "400: the last owner cannot leave")
        teams.expect(teams.read(AUTH_SESSION, team), 200, read, "200: the last owner is still a member")
    finally:
        teams.cleanup()


membership_drives_access.operation = MEMBER  # type: ignore[attr-defined]
