"""The committed fixture world loads into the store and every fixture key can claim by the rules."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.workers import Workers
from mockserver.domain.auth import authenticate
from mockserver.domain.errors import DomainError
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids, parse_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

from .conftest import SpecChecked


@pytest.fixture(scope="module")
def fixture_world() -> dict[str, Any]:
    world = pytest.importorskip("fixtures.world")
    return world.load_world("default")  # type: ignore[no-any-return]


def test_every_fixture_key_gets_a_documented_claim_answer(fixture_world, spec):
    epoch = parse_iso(fixture_world["meta"]["epoch"])
    api = SpecChecked(Buildd(Store(fixture_world), Clock(frozen_at=epoch), Ids(1), Outbox()), spec)
    answers = {}
    for credential in fixture_world["credentials"]:
        principal = authenticate(
            api.store, authorization=f"Bearer {credential['apiKey']}", session_token=None, accept={"apiKey"}
        )
        try:
            result = api.area(Workers).claim_tasks(principal, {"runner": "r", "claimAcrossAccessible": True})
            answers[principal.account["name"]] = len(result["workers"]) or result["diagnostics"]["reason"]
        except DomainError as exc:
            answers[principal.account["name"]] = exc.status
    assert 403 in answers.values() and any(isinstance(v, int) and 0 < v < 100 for v in answers.values())


@pytest.mark.parametrize("size", [5_000, 10_000])
def test_the_large_world_leaves_every_repo_workspace_room_under_its_cap(size):
    """At 2.5k-20k tasks the fleets' live workers used to fill every workspace past maxConcurrentTasks."""
    generate = pytest.importorskip("fixtures.generate")
    world = generate.build_world("large", size=size)
    capped = {"idle", "starting", "running"}
    for workspace in (ws for ws in world["workspaces"] if ws.get("repo")):
        active = sum(1 for w in world["workers"] if w["workspaceId"] == workspace["id"] and w["status"] in capped)
        assert active <= workspace["maxConcurrentTasks"] // 2, (workspace["name"], active)
    api = Buildd(Store(world), Clock(frozen_at=parse_iso(world["meta"]["epoch"])), Ids(1), Outbox())
    admin = next(
        c
        for c in world["credentials"]
        if c.get("apiKey") and next(a for a in world["accounts"] if a["id"] == c["accountId"])["name"] == "acme-admin"
    )
    principal = authenticate(
        api.store, authorization=f"Bearer {admin['apiKey']}", session_token=None, accept={"apiKey"}
    )
    task = next(
        t
        for t in world["tasks"]
        if t["status"] == "pending"
        and not t.get("startAt")
        and not t["dependsOn"]
        and api.store.get("workspaces", t["workspaceId"])["teamId"] == principal.account["teamId"]
        and api.store.get("workspaces", t["workspaceId"]).get("accessMode") == "open"
    )
    assert api.area(TaskActions).start_task(principal, task["id"], None)["started"] is True  # no workspace_cap_reached
