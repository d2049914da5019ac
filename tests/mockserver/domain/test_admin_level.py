"""`access.require_admin_level`, the one level check of the routes that take a session or an admin-level key
(skills, migrations, connectors, missions, cron-like maintenance, schedule writes, instructions, ...)."""

from __future__ import annotations

import pytest

from mockserver.domain import access
from mockserver.domain.auth import Principal
from mockserver.domain.errors import Forbidden


def _key(level: str) -> Principal:
    return Principal(account={"id": "a1", "level": level}, user=None, team_ids=frozenset({"t1"}))


SESSION = Principal(account=None, user={"id": "u1"}, team_ids=frozenset({"t1"}))


def test_a_session_and_an_admin_key_pass() -> None:
    access.require_admin_level(SESSION, "never raised")
    access.require_admin_level(_key("admin"))


@pytest.mark.parametrize("level", ["worker", "trigger"])
def test_a_lower_key_is_refused_with_the_routes_message(level: str) -> None:
    with pytest.raises(Forbidden) as refused:
        access.require_admin_level(_key(level), "Skills need a session or an admin-level API key")
    assert refused.value.body() == {"error": "Skills need a session or an admin-level API key"}
    with pytest.raises(Forbidden) as bare:
        access.require_admin_level(_key(level))
    assert bare.value.body() == {"error": "Forbidden"}
