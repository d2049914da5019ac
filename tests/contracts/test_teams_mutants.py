"""`check` catches a membership gap on the teams routes: the ownership suite probes the key's team (`teamId` of
`GET /api/accounts/me`) with another team's key, on the clean mock (passes) and on a mock whose membership check
lets a non-member in (fails with `ownership.team-404` on `GET /api/teams/{id}`); and `lifecycle.team-membership`
catches a demotion that is answered but ignored (the demoted admin still reads admin-only data).

A mutant in the style of tests/contracts/mutants.py, kept here so the shared catalogue stays untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import contracts
from tests.contracts.conftest import FAST
from tests.contracts.mutants import Patch


def _members_for_everyone(original: Callable[..., str | None]) -> Callable[..., str | None]:
    """The membership check answers "member" for anyone: a non-member reads (and lists members of) any team."""

    def patched(store: Any, team_id: str, user_id: str, minimum: str) -> str | None:
        return original(store, team_id, user_id, minimum) or ("member" if minimum == "member" else None)

    return patched


NON_MEMBER_READS_TEAM = Patch(
    "non-member-reads-team",
    "ownership.team-404",
    "GET /api/teams/{id}",
    ("ownership",),
    ("getTeam", "listTeamMembers"),
    patches=(("mockserver.domain.areas.teams:role_at_least", _members_for_everyone),),
)


def _options() -> contracts.RunOptions:
    mutant = NON_MEMBER_READS_TEAM
    return dataclasses.replace(FAST, suites=mutant.suites, operations=mutant.operations)


def test_the_clean_mock_passes_the_team_membership_probe(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=_options())
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    ran = [c for s in result.suites for c in s.checks if c.rule == "ownership.team-404" and c.runs > 0]
    assert {c.operation for c in ran} == {"GET /api/teams/{id}", "GET /api/teams/{id}/members"}


def test_a_mock_letting_non_members_read_a_team_fails_the_probe(run_broken: Callable[..., Any]) -> None:
    result, credentials = run_broken(NON_MEMBER_READS_TEAM, _options())
    assert result.exit_code == 1
    found = {f.operation for f in result.failures if f.rule == "ownership.team-404"}
    assert "GET /api/teams/{id}" in found, [f"{f.rule} {f.operation}" for f in result.failures]
    failure = next(f for f in result.failures if f.operation == "GET /api/teams/{id}")
    assert failure.hint and failure.expected and failure.actual
    assert credentials.key not in (failure.request or "")


def _demotion_ignored(original: Callable[..., Any]) -> Callable[..., Any]:
    """`PATCH /api/teams/{id}/members/{userId}` answers success and keeps the old role: a demoted admin stays one."""
    return lambda self, principal, team_id, user_id, body: {"success": True}


DEMOTION_IGNORED = Patch(
    "demoted-admin-keeps-admin-access",
    "lifecycle.team-membership",
    "PATCH /api/teams/{id}/members/{userId}",
    ("lifecycle",),
    ("createTeam",),
    patches=(("mockserver.domain.areas.teams:Teams.update_member", _demotion_ignored),),
)


def _membership_options() -> contracts.RunOptions:
    return dataclasses.replace(FAST, suites=DEMOTION_IGNORED.suites, operations=DEMOTION_IGNORED.operations)


def test_the_clean_mock_passes_the_membership_rule_with_a_demotion(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=_membership_options())
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    ran = [c for s in result.suites for c in s.checks if c.rule == DEMOTION_IGNORED.rule and c.runs > 0]
    assert ran, "lifecycle.team-membership never ran"


def test_an_ignored_demotion_fails_the_membership_rule_on_the_role_change(run_broken: Callable[..., Any]) -> None:
    result, _ = run_broken(DEMOTION_IGNORED, _membership_options())
    assert result.exit_code == 1
    found = [f for f in result.failures if f.rule == DEMOTION_IGNORED.rule]
    assert [f.operation for f in found] == [DEMOTION_IGNORED.operation], [f"{f.rule} {f.operation}" for f in found]
    assert "403" in str(found[0].expected) and "200" in str(found[0].actual)
    assert found[0].hint
