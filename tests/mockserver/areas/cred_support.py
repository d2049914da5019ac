"""What the area-cred tests share: a strict mock client, the fixture teams' workspaces, credentials by name."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from mockserver import MockSettings, create_app

ADA = "ada@acme.example"  # Acme owner
GRACE = "grace@globex.example"  # Globex owner
ALAN = "alan@consulting.example"  # Acme member, Globex admin


@contextmanager
def mock(world: dict[str, Any], *, seeded_secrets: bool = False, **settings: Any) -> Iterator[TestClient[Any]]:
    """A strict mock of `world`. The cred tests each make the credentials they are about, so by default the world's
    seeded secrets are left out (a team starts with none); `seeded_secrets=True` keeps them."""
    world = copy.deepcopy(world)
    if not seeded_secrets:
        world["secrets"] = []
    with TestClient(create_app(MockSettings(strict=True, **settings), world=world)) as http:
        yield http


def team_of(world: dict[str, Any], account: str) -> str:
    return str(next(a["teamId"] for a in world["accounts"] if a["name"] == account))


def workspace_of(world: dict[str, Any], account: str) -> str:
    """An open workspace of the account's team (keys of the team reach it without a link)."""
    team = team_of(world, account)
    return str(
        next(w["id"] for w in world["workspaces"] if w["teamId"] == team and w.get("accessMode", "open") == "open")
    )


def advance(http: TestClient[Any], seconds: float) -> None:
    assert http.post("/__mock/clock", json={"advanceSeconds": seconds}).status_code == 200
