"""The store's ordered indexes answer exactly what brute force over every record answers.

`list_tasks` reads a page from per-workspace sorted lists, the claim merges only the buckets of pending tasks a
claimer can take, and a claim sweeps stale workers only when one is overdue. Each test here runs the operations
on random worlds through random changes and compares them with the plain algorithms they replace (kept below as
the reference: sort every visible task, walk every pending task).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from mockserver.domain import access
from mockserver.domain.areas.tasks import Tasks, page_item
from mockserver.domain.areas.workers import Workers
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.claims import derive_capabilities
from mockserver.domain.errors import DomainError
from mockserver.domain.events import Outbox
from mockserver.domain.lifecycle import (
    HEARTBEAT_WINDOW,
    LIVE_WORKER_STATUSES,
    STALE_AFTER,
    TERMINAL_TASK_STATUSES,
    expire_stale_workers,
)
from mockserver.domain.runtime import Clock, Ids, iso_micros, micros, parse_iso, to_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store, clone

from .conftest import ACCOUNT_IDS, EMPTY, EPOCH, GLOBEX_APP, SESSIONS, TASK_IDS, VAULT, WEB, build_world, key_for, uid

WORKSPACES = (WEB, VAULT, EMPTY, GLOBEX_APP)
STATUSES = ("pending", "pending", "pending", "assigned", "in_progress", "review", "completed", "failed", "cancelled")
CAPS = ((), (), ("docker",), ("node",), ("docker", "node"), ("gpu",))
PREFERENCES = (None, "any", "any", "user", "service", "action")
KEYS = ("svc", "admin", "action", "oauth", "globex-svc")
CLAIMERS = ("svc", "admin", "action", "globex-svc")


# -- the reference: the algorithms the indexes replace ----------------------------------------------------------------

_PAGE_ORDER = {"pending": 0, "assigned": 1, "in_progress": 2}


def reference_list(
    api: Buildd,
    principal: Principal,
    *,
    workspace_id: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> dict[str, Any]:
    """`Tasks.list_tasks` as it was: every visible task filtered and sorted."""
    store = api.store
    workspaces = access.visible_workspaces(store, principal)
    if workspace_id is not None:
        workspaces = [ws for ws in workspaces if ws["id"] == workspace_id]
    tasks = [t for ws in workspaces for t in store.find("tasks", "workspace", str(ws["id"]))]
    if status == "active":
        tasks = [t for t in tasks if t["status"] not in TERMINAL_TASK_STATUSES]
    elif status is not None:
        tasks = [t for t in tasks if t["status"] == status]
    if limit is not None:
        offset = offset or 0
        ordered = sorted(
            tasks,
            key=lambda t: (
                _PAGE_ORDER.get(str(t["status"]), 3),
                -int(t.get("priority") or 0),
                parse_iso(str(t["createdAt"])),
                str(t["id"]),
            ),
        )
        page = ordered[offset : offset + limit]
        return {
            "tasks": [page_item(t) for t in page],  # the projection is not what the indexes replace
            "total": len(ordered),
            "pendingCount": sum(1 for t in ordered if t["status"] == "pending"),
            "hasMore": offset + len(page) < len(ordered),
        }
    if status is None:
        since = api.clock.now() - timedelta(hours=24)
        tasks = [
            t
            for t in tasks
            if t["status"] not in TERMINAL_TASK_STATUSES
            or (t["status"] in ("completed", "failed") and parse_iso(str(t["updatedAt"])) >= since)
        ]
    tasks.sort(key=lambda t: (parse_iso(str(t["createdAt"])), str(t["id"])), reverse=True)
    by_id = {str(ws["id"]): ws for ws in workspaces}
    items = [
        {
            **clone(t),
            "workspace": {
                "id": by_id[str(t["workspaceId"])]["id"],
                "name": by_id[str(t["workspaceId"])]["name"],
                "repo": by_id[str(t["workspaceId"])].get("repo"),
            },
        }
        for t in tasks[:200]
    ]
    out: dict[str, Any] = {"tasks": items}
    if principal.is_key:
        out["budgetWindows"] = {
            "claude": {"resetAt": None, "resolution": "default_budget_window"},
            "codex": {"resetAt": None, "resolution": "default_budget_window"},
        }
    return out


def reference_claim(api: Buildd, account: Mapping[str, Any], body: Mapping[str, Any]) -> tuple[list[str], Any]:
    """The candidate phase of the claim as it was: walk every pending task of the claimable workspaces, best
    first. Returns (ids of the tasks the claim takes, its diagnostics or None)."""
    store, now = api.store, api.clock.now()
    live = store.count_in("workers", "liveAccount", str(account["id"]))
    slots = min(int(body.get("maxTasks", 3)), int(account.get("maxConcurrentWorkers") or 3) - live)
    workspaces = access.claimable_workspaces(store, dict(account), body.get("workspaceId"))
    if slots <= 0:
        return [], {
            "reason": "no_slots",
            "activeWorkers": live,
            "maxConcurrent": int(account.get("maxConcurrentWorkers") or 3),
        }
    if not workspaces:
        return [], {"reason": "no_workspaces"}
    skills = frozenset(str(s) for s in body.get("availableSkills") or [])
    runner = body["runner"]

    def cooling(worker: Mapping[str, Any]) -> bool:
        return (
            worker.get("runner") == runner
            and worker["status"] in ("error", "failed")
            and now - parse_iso(str(worker["updatedAt"])) < timedelta(seconds=60)
        )

    def ok(task: Mapping[str, Any]) -> bool:
        if task.get("claimedBy") and task.get("expiresAt") and parse_iso(str(task["expiresAt"])) >= now:
            return False
        if task.get("startAt") and parse_iso(str(task["startAt"])) > now:
            return False
        kind = account.get("type")
        if kind != "user" and task.get("runnerPreference") not in (None, "any", kind):
            return False
        if skills and task.get("roleSlug") and task["roleSlug"] not in skills:
            return False
        workers = store.find("workers", "task", str(task["id"]))
        if any(w["status"] in LIVE_WORKER_STATUSES for w in workers) or any(cooling(w) for w in workers):
            return False
        if (task.get("context") or {}).get("bypassDepsGate"):
            return True
        return all(
            store.get("tasks", d) is None or store.get("tasks", d)["status"] in ("completed", "cancelled")
            for d in task.get("dependsOn") or []
        )

    def walk() -> Iterator[Mapping[str, Any]]:
        if body.get("taskId") is not None:
            task = store.get("tasks", body["taskId"])
            ids = {str(ws["id"]) for ws in workspaces}
            if task is not None and task["status"] == "pending" and task["workspaceId"] in ids and ok(task):
                yield task
            return
        entries = sorted(
            (-int(t.get("priority") or 0), parse_iso(str(t["createdAt"])), str(t["id"]))
            for ws in workspaces
            for t in store.find("tasks", "workspace", str(ws["id"]))
            if t["status"] == "pending"
        )
        for entry in entries:
            task = store.get("tasks", entry[2])
            if task is not None and ok(task):
                yield task

    capabilities = derive_capabilities(body)
    pending, chosen = 0, []
    for task in walk():
        pending += 1
        if set(task.get("requiredCapabilities") or []) <= capabilities:
            chosen.append(str(task["id"]))
            if len(chosen) >= slots:
                break
    if chosen:
        return chosen, None
    if pending == 0:
        return [], {"reason": "no_pending_tasks", "availableSlots": slots}
    return [], {"reason": "capability_mismatch", "pendingTasks": pending, "matchedTasks": 0}


def reference_overdue(store: Store, account_id: str, now: datetime) -> set[str]:
    """Live workers of the account past the shortest limit that could fail them."""
    out = set()
    for worker in store.find("workers", "liveAccount", account_id):
        limit = STALE_AFTER.get(str(worker["status"]), HEARTBEAT_WINDOW)
        if now - parse_iso(str(worker["updatedAt"])) > limit:
            out.add(str(worker["id"]))
    return out


# -- random worlds ----------------------------------------------------------------------------------------------------


def _stamp(rng: random.Random, minutes: float) -> str:
    """An instant near the epoch in one of the formats a world file may use (the same instant sorts the same)."""
    dt = EPOCH + timedelta(minutes=minutes)
    forms = (
        to_iso(dt),
        to_iso(dt),
        dt.isoformat(),  # +00:00 and, where there are any, microseconds
        dt.replace(tzinfo=None).isoformat(),  # naive: taken as UTC
        (dt + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00",
    )
    return rng.choice(forms)


def random_world(seed: int, n_tasks: int = 240) -> dict[str, Any]:
    rng = random.Random(seed)
    world = build_world()
    for account in world["accounts"]:
        account["maxConcurrentWorkers"] = 40
    world["tasks"] = []
    ids: list[str] = []
    for n in range(n_tasks):
        tid = uid(10_000 + n)
        status = rng.choice(STATUSES)
        created = rng.choice((-600, -300, -120, -60, -30)) + rng.choice((0, 0, 0.5, 1))  # many ties
        task: dict[str, Any] = {
            "id": tid,
            "workspaceId": rng.choice(WORKSPACES),
            "title": f"Task {n}",
            "description": rng.choice((None, "", "short", "x" * 200)),
            "context": {},
            "status": status,
            "priority": rng.choice((None, 0, 0, 1, 2, 5, -3)),
            "mode": "execution",
            "runnerPreference": rng.choice(PREFERENCES),
            "requiredCapabilities": list(rng.choice(CAPS)),
            "dependsOn": [],
            "claimedBy": None,
            "claimedAt": None,
            "expiresAt": None,
            "outputRequirement": "auto",
            "requiresReview": False,
            "backend": "claude",
            "startAt": None,
            "result": None,
            "category": rng.choice((None, "bug", "docs")),
            "createdAt": _stamp(rng, created),
            "updatedAt": _stamp(rng, created),
        }
        if status in ("completed", "failed", "cancelled"):
            # around the 24 h boundary of the default list, some exactly on it
            task["updatedAt"] = _stamp(rng, rng.choice((-24 * 60, -24 * 60 - 0.001, -23 * 60, -30 * 60, -5)))
        if status == "pending" and rng.random() < 0.15:
            task["startAt"] = _stamp(rng, rng.choice((-30, 5, 30, 90)))
        if status == "pending" and rng.random() < 0.05:  # a claim that has not expired yet, or has
            task.update(claimedBy=ACCOUNT_IDS["svc"], expiresAt=_stamp(rng, rng.choice((-5, 20))))
        if ids and rng.random() < 0.15:
            task["dependsOn"] = [rng.choice(ids) if rng.random() < 0.9 else uid(99_999)]
            if rng.random() < 0.2:
                task["context"] = {"bypassDepsGate": True}
        if rng.random() < 0.05:
            task["roleSlug"] = rng.choice(("builder", "reviewer"))
        world["tasks"].append(task)
        ids.append(tid)
    world["workers"] = []
    for n, task in enumerate(rng.sample(world["tasks"], 40)):
        status = rng.choice(("idle", "running", "waiting_input", "failed", "error", "completed"))
        account = rng.choice(("svc", "admin", "action"))
        world["workers"].append(
            {
                "id": uid(50_000 + n),
                "taskId": task["id"],
                "workspaceId": task["workspaceId"],
                "accountId": ACCOUNT_IDS[account],
                "name": f"w{n}",
                "runner": rng.choice(("r1", "r2")),
                "branch": "b",
                "status": status,
                "progress": 0,
                "error": None,
                "milestones": [],
                "instructionHistory": [],
                "createdAt": _stamp(rng, -200),
                "updatedAt": _stamp(rng, rng.choice((-400, -160, -20, -10, -3, -0.5))),
            }
        )
    world["heartbeats"] = [
        {
            "accountId": ACCOUNT_IDS["svc"],
            "localUiUrl": "http://r1",
            "viewerToken": "v",
            "lastHeartbeatAt": _stamp(rng, -10),
        }
    ]
    return world


def principals(api: Buildd) -> list[Principal]:
    keys = [
        authenticate(api.store, authorization=f"Bearer {key_for(name)}", session_token=None, accept={"apiKey"})
        for name in KEYS
    ]
    sessions = [
        authenticate(api.store, authorization=None, session_token=token, accept={"session"})
        for token in SESSIONS.values()
    ]
    return keys + sessions


def new_api(world: dict[str, Any]) -> Buildd:
    return Buildd(Store(world), Clock(frozen_at=EPOCH), Ids(3), Outbox())


def index_snapshot(store: Store) -> dict[str, Any]:
    """Every ordered index of the store as plain data. The claim queue's pending tasks are listed together, with
    whether a dependency holds them back: a task released early (the clock went back) sits in `ready` in a store
    that has run, in `deferred` in one just loaded."""
    tasks = store._indexes.tasks
    queue: dict[str, list[tuple[str, Any, bool]]] = {}
    slot = tasks.slot_of
    for ws, groups in tasks.ready.items():
        queue.setdefault(ws, []).extend(
            (repr(bucket), rank, False) for bucket, ranks in groups.items() for rank in ranks
        )
    for ws, waiting in tasks.deferred.items():
        queue.setdefault(ws, []).extend(
            (repr(slot[rank[2]].bucket), rank, tasks._is_blocked(slot[rank[2]])) for _start, rank in waiting
        )
    for rid in tasks.blocked:
        queue.setdefault(slot[rid].ws, []).append((repr(slot[rid].bucket), slot[rid].rank, True))
    return {
        "rank": clone_lists(tasks.rank),
        "created": clone_lists(tasks.created),
        "updated": clone_lists(tasks.updated),
        "queue": {ws: sorted(entries, key=lambda e: e[1]) for ws, entries in queue.items()},
        "waits_on": {dep: sorted(ids) for dep, ids in tasks.waits_on.items()},
        "stale": {a: list(e) for a, e in store._indexes.stale.by_account.items()},
    }


def clone_lists(outer: Mapping[str, Mapping[Any, list[Any]]]) -> dict[str, dict[Any, list[Any]]]:
    return {ws: {k: list(v) for k, v in groups.items()} for ws, groups in outer.items()}


def assert_lists_match(api: Buildd, rng: random.Random, who: list[Principal]) -> None:
    for principal in who:
        for status in rng.sample(
            (
                None,
                "active",
                "pending",
                "assigned",
                "in_progress",
                "review",
                "completed",
                "failed",
                "cancelled",
                "nope",
            ),
            4,
        ):
            workspace_id = rng.choice((None, None, WEB, VAULT, GLOBEX_APP, uid(404)))
            args: dict[str, Any] = {"workspace_id": workspace_id, "status": status}
            assert api.area(Tasks).list_tasks(principal, **args) == reference_list(api, principal, **args), args
            for limit, offset in (
                (rng.randint(1, 200), rng.randint(0, 260)),
                (rng.randint(1, 30), 0),
                (rng.randint(1, 5), rng.randint(0, 40)),
            ):
                paged = {**args, "limit": limit, "offset": offset}
                assert api.area(Tasks).list_tasks(principal, **paged) == reference_list(api, principal, **paged), paged


# -- the tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_task_lists_from_the_index_equal_brute_force_on_a_random_world(seed: int) -> None:
    api, rng = new_api(random_world(seed)), random.Random(seed)
    assert_lists_match(api, rng, principals(api))
    for minutes in (30, 60 * 23, 60 * 2):  # finished tasks leave the default list as time passes
        api.clock.advance(minutes * 60)
        assert_lists_match(api, rng, principals(api)[:3])


@pytest.mark.parametrize("seed", range(6))
def test_indexes_follow_random_changes_and_rollbacks(seed: int) -> None:
    """Claims, worker reports, task edits, deletes, rollbacks and clock moves (forward and back): after each, the
    lists and the claim equal brute force, and the indexes equal those of a store loaded from scratch."""
    rng = random.Random(1000 + seed)
    api = new_api(random_world(seed, n_tasks=160))
    who = principals(api)
    by_name = dict(zip(KEYS, who[: len(KEYS)], strict=True))
    ada = who[len(KEYS)]  # owner of team acme: sees and edits every acme workspace
    for step in range(90):
        roll = rng.random()
        try:
            if roll < 0.35:
                name = rng.choice(CLAIMERS)
                body: dict[str, Any] = {
                    "runner": rng.choice(("r1", "r2")),
                    "maxTasks": rng.randint(1, 4),
                    "capabilities": list(rng.choice(CAPS)),
                }
                if rng.random() < 0.15:
                    body["workspaceId"] = rng.choice(WORKSPACES)
                if rng.random() < 0.1:
                    body["taskId"] = rng.choice(list(api.store._tables["tasks"]))
                if rng.random() < 0.1:
                    body["availableSkills"] = ["builder"]
                account = api.store.get("accounts", by_name[name].account_id)
                with api.store.transaction():  # what the claim does first, so the reference sees the same state
                    expire_stale_workers(
                        api.store, api.clock.now(), api._emit, api._event_task, account_id=str(account["id"])
                    )
                expected = reference_claim(api, account, body)
                result = api.area(Workers).claim_tasks(by_name[name], body)
                assert ([w["taskId"] for w in result["workers"]], result.get("diagnostics")) == expected, body
            elif roll < 0.5:
                live = [
                    w
                    for w in api.store.rows("workers")
                    if w["status"] in LIVE_WORKER_STATUSES and w["accountId"] in {ACCOUNT_IDS[n] for n in CLAIMERS}
                ]
                if live:
                    worker = rng.choice(live)
                    owner = next(p for p in who if p.account_id == worker["accountId"])
                    api.area(Workers).update_worker(
                        owner, worker["id"], {"status": rng.choice(("running", "completed", "failed", "waiting_input"))}
                    )
            elif roll < 0.62:
                task = rng.choice(list(api.store.rows("tasks")))
                change = rng.choice(
                    (
                        {"priority": rng.randint(-5, 9)},
                        {"status": "pending"},
                        {"status": "completed"},
                        {"status": "cancelled"},
                        {"title": "renamed"},
                    )
                )
                api.area(Tasks).update_task(ada, task["id"], change)
            elif roll < 0.7:
                api.area(Tasks).create_task(
                    ada,
                    {
                        "title": f"new {step}",
                        "workspaceId": rng.choice((WEB, EMPTY)),
                        "priority": rng.randint(0, 9),
                        "requiredCapabilities": list(rng.choice(CAPS)),
                        "startIn": rng.choice((None, 0, 10, 120)),
                        "runnerPreference": rng.choice(("any", "service", "action")),
                    },
                )
            elif roll < 0.75:
                task = rng.choice(list(api.store.rows("tasks")))
                api.area(Tasks).delete_task(ada, task["id"], force=True)
            elif roll < 0.85:
                with pytest.raises(RuntimeError), api.store.transaction():
                    for task in rng.sample(list(api.store.rows("tasks")), 5):
                        api.store.update(
                            "tasks",
                            task["id"],
                            {
                                "status": rng.choice(STATUSES),
                                "priority": rng.randint(-9, 9),
                                "startAt": to_iso(api.clock.now()),
                            },
                        )
                    raise RuntimeError("undo all of it")
            elif roll < 0.93:
                api.clock.advance(rng.choice((30, 600, 3600, 4 * 3600)))
            else:  # time may also go back: a task released early must still wait for its startAt
                api.clock.freeze(api.clock.now() - timedelta(minutes=rng.choice((20, 90))))
        except DomainError:
            pass
        api.outbox.drain()
        if step % 10 == 9:
            assert_lists_match(api, rng, who[:2] + who[-1:])
            fresh = Store(api.store.dump())
            assert index_snapshot(api.store) == index_snapshot(fresh)
            for name in CLAIMERS:
                account_id = ACCOUNT_IDS[name]
                assert set(api.store.overdue_workers(account_id, micros(api.clock.now()))) == reference_overdue(
                    api.store, account_id, api.clock.now()
                )


def test_a_claim_sweeps_exactly_the_stale_workers_the_full_scan_finds() -> None:
    world = random_world(11, n_tasks=120)
    for worker in world["workers"]:  # every live status, half of them stale, for the account that heartbeats
        worker["accountId"] = ACCOUNT_IDS["svc"]
    api = new_api(world)
    svc = principals(api)[0]
    for minutes in (0, 4, 6, 16, 140, 160, 600):
        api.clock.freeze(EPOCH + timedelta(minutes=minutes))
        now = api.clock.now()
        expected = {
            str(w["id"])
            for w in api.store.find("workers", "liveAccount", ACCOUNT_IDS["svc"])
            if now - parse_iso(str(w["updatedAt"])) > STALE_AFTER.get(str(w["status"]), timedelta.max)
            or (now - parse_iso(str(w["updatedAt"])) > HEARTBEAT_WINDOW and minutes >= 160)
        }
        api.area(Workers).claim_tasks(svc, {"runner": "r9", "maxTasks": 0})
        failed = {e.payload["workerId"] for e in api.outbox.drain() if e.name == "worker:failed"}
        assert failed == expected, minutes


def test_a_world_with_a_key_twice_keeps_the_last_record_indexed() -> None:
    world = build_world()
    twice = dict(world["tasks"][0], priority=99, status="completed")
    world["tasks"].append(twice)
    store = Store(world)
    assert store.get("tasks", twice["id"])["status"] == "completed"
    assert twice["id"] not in [entry[2] for entry in store.pending_entries(twice["workspaceId"])]
    assert [entry[2] for entry in store.task_ranks(twice["workspaceId"])["completed"]] == [twice["id"]]


def test_index_timestamps_order_as_the_datetimes_do() -> None:
    stamps = [
        "2026-01-15T10:00:00Z",
        "2026-01-15T10:00:00.000Z",
        "2026-01-15T10:00:00.001Z",
        "2026-01-15T11:00:00+01:00",
        "2026-01-15T09:59:59.999999",
        "0001-01-01T00:00:00Z",
    ]
    assert sorted(stamps, key=iso_micros) == sorted(stamps, key=parse_iso)
    assert iso_micros("1970-01-01T00:00:00Z") == 0 == micros(parse_iso("1970-01-01T00:00:00.000Z"))


def test_the_claim_queue_releases_a_task_when_its_start_comes_and_still_checks_it_after_the_clock_goes_back() -> None:
    world = build_world()
    api = new_api(world)
    later = next(t for t in world["tasks"] if t.get("startAt"))
    assert later["id"] not in [e[2] for entries in api.store.claim_queue(WEB, micros(EPOCH)).values() for e in entries]
    after = micros(parse_iso(later["startAt"]))
    assert later["id"] in [e[2] for entries in api.store.claim_queue(WEB, after).values() for e in entries]
    # released, then asked for an earlier instant: the claim's own startAt check keeps it back
    svc = principals(api)[0]
    result = api.area(Workers).claim_tasks(svc, {"runner": "r", "maxTasks": 10, "workspaceId": WEB})
    assert later["id"] not in [w["taskId"] for w in result["workers"]]


def test_heap_merge_of_the_rank_lists_is_the_sorted_order() -> None:
    api = new_api(random_world(5))
    for ws in WORKSPACES:
        merged = list(heapq.merge(*api.store.task_ranks(ws).values()))
        assert merged == sorted(merged)
        assert len(merged) == api.store.count_in("tasks", "workspace", ws)


def test_a_task_waits_outside_the_claim_queue_until_its_dependency_is_done() -> None:
    api = new_api(build_world())
    blocked, low = TASK_IDS["blocked"], TASK_IDS["low"]

    def queued() -> list[str]:
        return [e[2] for entries in api.store.claim_queue(WEB, micros(EPOCH)).values() for e in entries]

    assert blocked not in queued() and low in queued()
    assert blocked in [e[2] for e in api.store.pending_entries(WEB)]  # still pending, still in the full queue
    with pytest.raises(RuntimeError), api.store.transaction():
        api.store.update("tasks", low, {"status": "completed"})
        assert blocked in queued() and low not in queued()
        raise RuntimeError("roll back")
    assert blocked not in queued()
    api.store.update("tasks", low, {"status": "cancelled"})
    assert blocked in queued()
    api.store.update("tasks", low, {"status": "pending"})  # back to work: the dependant waits again
    assert blocked not in queued()
    api.store.delete("tasks", low)  # a dependency that no longer exists holds nothing back
    assert blocked in queued()
