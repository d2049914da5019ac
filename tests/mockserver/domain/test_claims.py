"""The claim algorithm: who may claim, what they get, in which order, and what an empty claim says."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta
from typing import Any

import pytest

from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.areas.workers import Workers
from mockserver.domain.auth import authenticate
from mockserver.domain.claims import branch_name, slugify
from mockserver.domain.errors import BadRequest, Forbidden, LimitExceeded
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids, parse_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

from .conftest import ACCOUNT_IDS, EMPTY, EPOCH, GLOBEX_APP, TASK_IDS, VAULT, WEB, at, build_world, claim, events, uid


def titles(result: dict[str, Any]) -> list[str]:
    return [w["task"]["title"] for w in result["workers"]]


# -- who may claim ---------------------------------------------------------------------------------------------------


def test_claim_by_trigger_key_is_forbidden(api, key):
    with pytest.raises(Forbidden) as exc:
        claim(api, key("trigger"))
    assert exc.value.body() == {"error": "Trigger tokens cannot claim tasks. Use a worker or admin token."}


def test_claim_without_runner_is_rejected(api, key):
    with pytest.raises(BadRequest, match="runner is required"):
        api.area(Workers).claim_tasks(key("svc"), {"workspaceId": WEB})


def test_claim_at_worker_limit_is_429_with_int_limit_and_current(api, key):
    claim(api, key("svc"), workspaceId=WEB, maxTasks=3)
    with pytest.raises(LimitExceeded) as exc:
        claim(api, key("svc"), workspaceId=WEB)
    assert exc.value.status == 429
    assert exc.value.body() == {"error": "Max concurrent workers limit reached", "limit": 3, "current": 3}


def test_claim_over_daily_cost_is_429_with_numeric_limit_and_current(api, key):
    with api.store.transaction():
        api.store.update("accounts", ACCOUNT_IDS["svc"], {"maxCostPerDay": "10.00", "totalCost": "12.50"})
    with pytest.raises(LimitExceeded) as exc:
        claim(api, key("svc"))
    assert exc.value.body() == {"error": "Daily cost limit exceeded", "limit": 10.0, "current": 12.5}


def test_claim_at_oauth_session_limit_is_429(api, key):
    with api.store.transaction():
        api.store.update("accounts", ACCOUNT_IDS["oauth"], {"activeSessions": 1})
    with pytest.raises(LimitExceeded) as exc:
        claim(api, key("oauth"), workspaceId=WEB)
    assert exc.value.body() == {"error": "Max concurrent sessions limit reached", "limit": 1, "current": 1}


def test_oauth_claim_seeing_several_workspaces_must_name_one(api, key):
    with pytest.raises(BadRequest) as exc:
        claim(api, key("oauth"))
    assert exc.value.body()["accessibleWorkspaces"] == 2  # web and empty: open in acme, never globex's
    assert claim(api, key("oauth"), claimAcrossAccessible=True)["workers"]


def test_oauth_claim_counts_an_active_session_per_worker(api, key):
    claim(api, key("oauth"), workspaceId=WEB)
    assert api.store.get("accounts", ACCOUNT_IDS["oauth"])["activeSessions"] == 1


# -- empty claims: 200 with a reason ---------------------------------------------------------------------------------


def test_claim_with_zero_slots_reports_no_slots_with_counts(api, key):
    # the spec's schema refuses maxTasks 0 at the HTTP layer (live >= max is a 429 first); the domain still answers
    result = api.area(Workers).claim_tasks(key("svc"), {"runner": "r", "maxTasks": 0})
    assert result == {"workers": [], "diagnostics": {"reason": "no_slots", "activeWorkers": 0, "maxConcurrent": 3}}


def test_claim_outside_any_claimable_workspace_reports_no_workspaces(api, key):
    result = claim(api, key("svc"), workspaceId=GLOBEX_APP)
    assert result == {"workers": [], "diagnostics": {"reason": "no_workspaces"}}


def test_claim_of_restricted_workspace_without_link_reports_no_workspaces(api, key):
    assert claim(api, key("admin"), workspaceId=VAULT)["diagnostics"]["reason"] == "no_workspaces"


def test_claim_of_restricted_workspace_with_can_claim_link_succeeds(api, key):
    assert titles(claim(api, key("svc"), workspaceId=VAULT)) == ["Task vault-task"]


def test_claim_with_nothing_pending_reports_no_pending_tasks_and_slots(api, key):
    result = claim(api, key("svc"), workspaceId=EMPTY)
    assert result == {"workers": [], "diagnostics": {"reason": "no_pending_tasks", "availableSlots": 3}}


def test_claim_without_required_capability_reports_capability_mismatch(api, key):
    result = claim(api, key("svc"), taskId=TASK_IDS["docker"])
    assert result["diagnostics"] == {"reason": "capability_mismatch", "pendingTasks": 1, "matchedTasks": 0}


# -- what is claimable, in which order -------------------------------------------------------------------------------


def test_claim_orders_by_priority_then_age(api, key):
    result = claim(api, key("svc"), workspaceId=WEB, maxTasks=3)
    assert titles(result) == ["Task older-high", "Task high", "Task low"]


def test_claim_skips_task_with_unmet_dependency(api, key):
    assert TASK_IDS["blocked"] not in {
        w["taskId"] for w in claim(api, key("admin"), workspaceId=WEB, maxTasks=3)["workers"]
    }


def test_claim_takes_task_once_its_dependency_completed(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["low"], {"status": "completed"})
    assert titles(claim(api, key("svc"), workspaceId=WEB, maxTasks=1)) == ["Task blocked"]


def test_claim_treats_cancelled_dependency_as_done(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["low"], {"status": "cancelled"})
    assert titles(claim(api, key("svc"), workspaceId=WEB, maxTasks=1)) == ["Task blocked"]


def test_claim_skips_task_whose_start_is_in_the_future(api, key):
    assert "Task later" not in titles(claim(api, key("admin"), workspaceId=WEB, maxTasks=3))


def test_claim_takes_deferred_task_once_its_start_passed(api, key):
    api.clock.advance(3601)
    assert titles(claim(api, key("admin"), workspaceId=WEB, maxTasks=1)) == ["Task later"]


def test_claim_skips_task_for_another_runner_type(api, key):
    assert "Task action-only" not in titles(claim(api, key("svc"), workspaceId=WEB, maxTasks=3))


def test_claim_by_matching_account_type_takes_runner_preference_task(api, key):
    assert titles(claim(api, key("action"), workspaceId=WEB, maxTasks=1)) == ["Task action-only"]


def test_claim_by_user_account_takes_every_runner_preference(api, key):
    assert titles(claim(api, key("admin"), workspaceId=WEB, maxTasks=1)) == ["Task action-only"]


def test_claim_with_capabilities_takes_task_that_requires_them(api, key):
    result = claim(api, key("svc"), taskId=TASK_IDS["docker"], capabilities=["docker", "node"])
    assert titles(result) == ["Task docker"]


def test_claim_derives_capabilities_from_environment(api, key):
    result = claim(api, key("svc"), taskId=TASK_IDS["docker"], environment={"tools": [{"name": "docker"}]})
    assert titles(result) == ["Task docker"]


def test_claim_never_hands_out_a_task_twice(api, key):
    first = {w["taskId"] for w in claim(api, key("svc"), workspaceId=WEB, maxTasks=3)["workers"]}
    second = {w["taskId"] for w in claim(api, key("admin"), workspaceId=WEB, maxTasks=3)["workers"]}
    assert first and second and not first & second


def test_claim_of_other_team_task_by_id_finds_nothing(api, key):
    assert claim(api, key("svc"), taskId=TASK_IDS["globex-task"])["workers"] == []


def test_claim_skips_task_for_runner_that_failed_it_within_a_minute(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "failed", "error": "boom"})
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "pending"})
    assert claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"] == []
    assert claim(api, key("svc"), taskId=TASK_IDS["low"], runner="runner-2")["workers"]


def test_claim_by_same_runner_is_allowed_again_after_the_cooldown(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "failed", "error": "boom"})
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "pending"})
    api.clock.advance(61)
    assert claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"]


def test_claim_ignores_the_workspace_task_cap_which_only_gates_manual_starts(api, key):
    with api.store.transaction():
        api.store.update("workspaces", WEB, {"maxConcurrentTasks": 1})
    claim(api, key("svc"), workspaceId=WEB, maxTasks=1)
    assert claim(api, key("admin"), workspaceId=WEB)["workers"]


# -- what a claim does -----------------------------------------------------------------------------------------------


def test_claim_assigns_task_with_a_lease_and_creates_an_idle_worker(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    task = worker["task"]
    assert task["status"] == "assigned" and task["claimedBy"] == ACCOUNT_IDS["svc"]
    assert task["claimedAt"] == at(0) and task["expiresAt"] == at(15)
    assert task["workspace"]["id"] == WEB
    stored = api.store.get("workers", worker["id"])
    assert stored["status"] == "idle" and stored["name"] == f"svc-{TASK_IDS['high'][:8]}"
    assert stored["runner"] == "runner-1" and stored["accountId"] == ACCOUNT_IDS["svc"]


@pytest.mark.parametrize(("timeout", "minutes"), [(45, 45), (999, 240), ("soon", 15)])
def test_claim_lease_follows_context_timeout_up_to_four_hours(api, key, timeout, minutes):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["high"], {"context": {"timeoutMinutes": timeout}})
    task = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]["task"]
    assert parse_iso(task["expiresAt"]) - EPOCH == timedelta(minutes=minutes)


def test_claim_branch_is_buildd_id8_and_a_30_char_slug(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["high"], {"title": "Fix: the LOGIN page (again) & its flaky tests!"})
    branch = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]["branch"]
    assert branch == f"buildd/{TASK_IDS['high'][:8]}-fix-the-login-page-again-its-f"
    assert re.fullmatch(r"buildd/[0-9a-f]{8}-[a-z0-9-]{0,30}", branch)


def test_slug_keeps_a_trailing_dash_when_the_cut_lands_on_one():
    assert slugify("Add rate limiting to the API now") == "add-rate-limiting-to-the-api-n"
    assert slugify("abcdefghij abcdefghij abcdefgh-xyz") == "abcdefghij-abcdefghij-abcdefgh"
    assert slugify("Hello, World") == "hello-world"
    assert slugify("Trailing!") == "trailing-"


@pytest.mark.parametrize(
    ("git", "context", "expected"),
    [
        ({"branchingStrategy": "none"}, {}, "task-abcdef12"),
        ({"branchPrefix": "feat/"}, {}, "feat/abcdef12-ship-it"),
        ({"branchPrefix": "feat/", "useBuildBranch": True}, {}, "buildd/abcdef12-ship-it"),
        ({"branchingStrategy": "none"}, {"headBranch": "release/1.2"}, "release/1.2"),
        (None, {}, "buildd/abcdef12-ship-it"),
    ],
)
def test_branch_honours_head_branch_and_workspace_git_config(git, context, expected):
    task = {"id": "abcdef12-0000-4000-8000-000000000000", "title": "Ship it", "context": context}
    assert branch_name(task, {"gitConfig": git}) == expected


def test_claim_emits_task_claimed_per_task_on_the_workspace_channel(api, key):
    events(api)
    result = claim(api, key("svc"), workspaceId=WEB, maxTasks=2)
    claimed = events(api, "task:claimed")
    assert [e.payload["task"]["id"] for e in claimed] == [w["taskId"] for w in result["workers"]]
    assert {e.channel for e in claimed} == {f"workspace-{WEB}"}
    assert claimed[0].payload["worker"] == {"id": result["workers"][0]["id"], "name": "svc", "status": "idle"}


def test_claim_first_fails_this_accounts_stale_workers(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    api.clock.advance(5 * 60 + 1)
    claim(api, key("svc"), workspaceId=EMPTY)
    stale = api.store.get("workers", worker["id"])
    assert stale["status"] == "failed" and stale["exitCause"] == "infra_failure"
    assert api.store.get("tasks", TASK_IDS["high"])["status"] == "pending"


def test_claim_reclaims_a_pending_task_whose_old_claim_expired(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["high"], {"claimedBy": ACCOUNT_IDS["admin"], "expiresAt": at(5)})
    assert claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"] == []
    api.clock.advance(6 * 60)
    assert claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"]


# -- concurrency -----------------------------------------------------------------------------------------------------


def test_fifty_concurrent_claimers_get_each_of_twenty_tasks_exactly_once():
    world = build_world()
    world["workspaces"][0]["repo"] = None  # no repo: no workspace task cap
    world["tasks"] = [
        {
            **world["tasks"][0],
            "id": uid(1000 + i),
            "title": f"Job {i}",
            "startAt": None,
            "dependsOn": [],
            "priority": i % 4,
            "createdAt": at(-100 + i),
            "updatedAt": at(-100 + i),
        }
        for i in range(20)
    ]
    base = world["accounts"][1]
    accounts, credentials = [], []
    for i in range(50):
        account_id, key = uid(5000 + i), "bld_" + f"{i:064x}"
        accounts.append({**base, "id": account_id, "name": f"runner-{i}", "maxConcurrentWorkers": 3})
        credentials.append(
            {"accountId": account_id, "apiKey": key, "apiKeyHash": hashlib.sha256(key.encode()).hexdigest()}
        )
    world["accounts"], world["credentials"] = accounts, credentials
    api = Buildd(Store(world), Clock(frozen_at=EPOCH), Ids(1), Outbox())
    principals = [
        authenticate(api.store, authorization=f"Bearer {c['apiKey']}", session_token=None, accept={"apiKey"})
        for c in credentials
    ]
    claimed: list[str] = []
    barrier = threading.Barrier(len(principals))
    lock = threading.Lock()

    def run(principal: Any) -> None:
        barrier.wait()
        got = api.area(Workers).claim_tasks(principal, {"runner": "r", "workspaceId": WEB, "maxTasks": 2})
        with lock:
            claimed.extend(w["taskId"] for w in got["workers"])

    threads = [threading.Thread(target=run, args=(p,)) for p in principals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(claimed) == sorted(uid(1000 + i) for i in range(20))
    assert api.store.count_in("tasks", "status", "assigned") == 20
    assert len(api.outbox.drain()) == 20


def test_claim_reads_the_pending_index_not_the_whole_store(api, key, monkeypatch):
    def no_scans(table: str) -> Any:
        raise AssertionError(f"claim scanned every {table}")

    monkeypatch.setattr(api.store, "rows", no_scans)
    assert claim(api, key("svc"), workspaceId=WEB)["workers"]
