"""Who acts on the teams routes, and what role they hold: read from the live memberships table on every call.

- A session acts as its user. A key acts as the first owner of its account's team, as the real server's
  `getUserFromRequest` does (no owner: no user, 401).
- Roles rank owner > admin > member. Nothing is cached: a membership added, changed or removed counts on the
  very next request, here and in `access` (whose session scope is the same table, read by `auth.authenticate`).

The tables of the teams area are declared here (every module of `areas/` is imported before a store is built).
"""

from __future__ import annotations

from mockserver.domain._indexes import register_group_index
from mockserver.domain.auth import Principal
from mockserver.domain.errors import Unauthorized
from mockserver.domain.store import Record, Store, register_table

__all__ = (
    "ROLE_RANK",
    "acting_user",
    "membership",
    "owners",
    "role_at_least",
    "user_team_ids",
)

ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}

# tables of the area: team extras (updatedAt, enabledBackends: the fixture world's `Team` is closed), when each
# member joined, invitations, notification settings, feedback, the model aliases admins set (roles are rows of the
# `skills` table, declared in ws_skills.py)
for _table, _key in (
    ("teamExtras", "teamId"),
    ("memberSince", "key"),
    ("teamInvitations", "id"),
    ("teamNotifications", "teamId"),
    ("feedback", "id"),
    ("modelAliases", "name"),
):
    register_table(_table, _key)
register_group_index("teamInvitations", "team", "teamId")
register_group_index("teamInvitations", "token", "token")
register_group_index("feedback", "user", "userId")


def membership(store: Store, team_id: str, user_id: str) -> Record | None:
    return store.get("memberships", f"{team_id}|{user_id}")


def owners(store: Store, team_id: str) -> list[Record]:
    return [m for m in store.find("memberships", "team", team_id) if m.get("role") == "owner"]


def acting_user(store: Store, principal: Principal) -> Record:
    """The user the caller acts as: the session's user, or the first owner of the key's team (else 401)."""
    if principal.account is not None:
        account = store.get("accounts", principal.account_id)
        found = owners(store, str(account["teamId"])) if account is not None else []
        user = store.get("users", found[0]["userId"]) if found else None
    else:
        user = store.get("users", principal.user_id)
    if user is None:
        raise Unauthorized()
    return user


def role_at_least(store: Store, team_id: str, user_id: str, minimum: str) -> str | None:
    """The user's role in the team when it ranks at least `minimum`, else None (not a member, or too low)."""
    found = membership(store, team_id, user_id)
    if found is None or ROLE_RANK.get(str(found["role"]), 0) < ROLE_RANK[minimum]:
        return None
    return str(found["role"])


def user_team_ids(store: Store, user_id: str) -> list[str]:
    """The user's teams, in the order they joined (the real server's `teamIds[0]` is the first)."""
    return [str(m["teamId"]) for m in store.find("memberships", "user", user_id)]
