"""The concurrency verdict (`_load.check_consistency`) must be able to fail: each violation it exists to catch,
planted in a small hand-made state, is reported."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.hardening._load import LoadResult, check_consistency

ACC, OTHER = "acc-1", "acc-2"
IDS = {"runner": ACC, "other": OTHER}


def _states() -> tuple[dict[str, Any], dict[str, Any], LoadResult]:
    accounts = [
        {"id": ACC, "name": "runner", "maxConcurrentWorkers": 2, "totalTasks": 1},
        {"id": OTHER, "name": "other", "maxConcurrentWorkers": 2, "totalTasks": 0},
    ]
    before = {
        "accounts": copy.deepcopy(accounts),
        "tasks": [
            {"id": "t1", "status": "pending", "claimedBy": None},
            {"id": "t2", "status": "pending", "claimedBy": None},
        ],
        "workers": [],
    }
    after = {
        "accounts": [{**accounts[0], "totalTasks": 3}, accounts[1]],
        "tasks": [
            {"id": "t1", "status": "completed", "claimedBy": ACC},
            {"id": "t2", "status": "in_progress", "claimedBy": ACC},
            {"id": "t3", "status": "pending", "claimedBy": None},
        ],
        "workers": [
            {"id": "w1", "taskId": "t1", "accountId": ACC, "status": "completed", "progress": 100},
            {"id": "w2", "taskId": "t2", "accountId": ACC, "status": "running", "progress": 10},
        ],
    }
    result = LoadResult(
        claims=[("runner", "w1", "t1"), ("runner", "w2", "t2")],
        acked_patch={"w1": {"status": "completed", "progress": 100}, "w2": {"status": "running", "progress": 10}},
        created=["t3"],
    )
    return before, after, result


def test_a_consistent_run_passes() -> None:
    assert check_consistency(*_states(), IDS) == []


def _claimed_twice(before: Any, after: Any, result: LoadResult) -> None:
    result.claims.append(("other", "w9", "t1"))


def _lost_status(before: Any, after: Any, result: LoadResult) -> None:
    after["workers"][1]["status"] = "idle"


def _lost_progress(before: Any, after: Any, result: LoadResult) -> None:
    after["workers"][1]["progress"] = 0


def _two_live_workers(before: Any, after: Any, result: LoadResult) -> None:
    after["workers"].append({"id": "w3", "taskId": "t2", "accountId": ACC, "status": "idle"})


def _over_limit(before: Any, after: Any, result: LoadResult) -> None:
    for n in range(3):
        after["workers"].append({"id": f"x{n}", "taskId": f"z{n}", "accountId": OTHER, "status": "idle"})


def _lost_create(before: Any, after: Any, result: LoadResult) -> None:
    after["tasks"].pop()


def _lost_counter(before: Any, after: Any, result: LoadResult) -> None:
    after["accounts"][0]["totalTasks"] = 2


def _server_error(before: Any, after: Any, result: LoadResult) -> None:
    result.server_errors.append("claim -> 500")


@pytest.mark.parametrize(
    "plant",
    [
        _claimed_twice,
        _lost_status,
        _lost_progress,
        _two_live_workers,
        _over_limit,
        _lost_create,
        _lost_counter,
        _server_error,
    ],
)
def test_each_violation_is_reported(plant: Callable[[Any, Any, LoadResult], None]) -> None:
    before, after, result = _states()
    plant(before, after, result)
    assert check_consistency(before, after, result, IDS) != []
