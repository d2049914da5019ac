"""Worker PATCH: the protocol fields, the task following its worker, the terminal guard and the completion gates."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.areas.worker_control import WorkerControl
from mockserver.domain.areas.workers import Workers
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound

from .conftest import ACCOUNT_IDS, TASK_IDS, WEB, at, claim, events, ms, uid


@pytest.fixture
def worker(api, key) -> dict[str, Any]:
    return claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]


def patch(api, key, worker, **body: Any) -> dict[str, Any]:
    return api.area(Workers).update_worker(key("svc"), worker["id"], body)


def task_of(api, worker) -> dict[str, Any]:
    return api.store.get("tasks", worker["taskId"])


# -- ownership -------------------------------------------------------------------------------------------------------


def test_patch_of_another_accounts_worker_is_forbidden(api, key, worker):
    with pytest.raises(Forbidden) as exc:
        api.area(Workers).update_worker(key("admin"), worker["id"], {"progress": 5})
    assert exc.value.body() == {"error": "Forbidden"}


def test_patch_of_unknown_worker_is_not_found_before_ownership(api, key):
    with pytest.raises(NotFound, match="Worker not found"):
        api.area(Workers).update_worker(key("admin"), uid(999), {"progress": 5})


def test_get_of_another_accounts_worker_is_forbidden(api, key, worker):
    with pytest.raises(Forbidden):
        api.area(Workers).get_worker(key("globex-svc"), worker["id"])


def test_get_worker_returns_it_with_task_and_workspace(api, key, worker):
    got = api.area(Workers).get_worker(key("svc"), worker["id"])
    assert got["task"]["id"] == TASK_IDS["high"] and got["workspace"]["id"] == WEB


# -- the task follows its worker -------------------------------------------------------------------------------------


def test_running_worker_moves_task_to_in_progress_and_sets_started_at_once(api, key, worker):
    first = patch(api, key, worker, status="running")
    assert first["startedAt"] == at(0) and task_of(api, worker)["status"] == "in_progress"
    api.clock.advance(60)
    assert patch(api, key, worker, status="running")["startedAt"] == at(0)


def test_first_running_report_emits_progress_then_started_on_worker_and_workspace(api, key, worker):
    events(api)
    patch(api, key, worker, status="running")
    patch(api, key, worker, status="running", progress=10)
    sent = [(e.channel.split("-")[0], e.name) for e in events(api)]
    assert sent == [
        ("worker", "worker:progress"),
        ("workspace", "worker:progress"),
        ("worker", "worker:started"),
        ("workspace", "worker:started"),
        ("worker", "worker:progress"),
        ("workspace", "worker:progress"),
    ]


def test_completed_worker_completes_task_with_result(api, key, worker):
    patch(api, key, worker, status="running")
    patch(
        api,
        key,
        worker,
        status="completed",
        summary="Done",
        commitCount=2,
        lastCommitSha="abc1234",
        prUrl="https://github.com/acme/web/pull/7",
        prNumber=7,
    )
    task = task_of(api, worker)
    assert task["status"] == "completed"
    assert task["result"]["summary"] == "Done" and task["result"]["prNumber"] == 7
    assert task["result"]["commits"] == 2 and task["result"]["branch"] == worker["branch"]


def test_completed_worker_puts_review_task_into_review(api, key, worker):
    with api.store.transaction():
        api.store.update("tasks", worker["taskId"], {"requiresReview": True})
    patch(api, key, worker, status="completed")
    assert task_of(api, worker)["status"] == "review"


def test_completion_emits_worker_completed_and_task_completed(api, key, worker):
    events(api)
    patch(api, key, worker, status="completed")
    sent = [(e.channel, e.name) for e in events(api)]
    assert (f"worker-{worker['id']}", "worker:completed") in sent
    assert (f"workspace-{WEB}", "worker:completed") in sent
    assert sent[-1] == (f"task-{worker['taskId']}", "task:completed")


@pytest.mark.parametrize("status", ["failed", "error"])
def test_failed_or_error_worker_fails_task(api, key, worker, status):
    patch(api, key, worker, status=status, error="tests broke")
    task = task_of(api, worker)
    assert task["status"] == "failed" and task["result"]["error"] == "tests broke"
    assert task["context"]["failureContext"] == "tests broke"


def test_error_status_is_announced_as_progress_and_failed_as_failed(api, key, worker):
    events(api)
    patch(api, key, worker, status="error", error="x")
    assert {e.name for e in events(api)} == {"worker:progress", "task:failed"}


def test_worker_of_cancelled_task_does_not_revive_it(api, key, worker):
    api.area(Tasks).update_task(key("svc"), worker["taskId"], {"status": "cancelled"})
    patch(api, key, worker, status="completed")
    assert task_of(api, worker)["status"] == "cancelled"


# -- terminal guard --------------------------------------------------------------------------------------------------


def test_patch_after_completion_is_409_with_abort(api, key, worker):
    patch(api, key, worker, status="completed")
    with pytest.raises(Conflict) as exc:
        patch(api, key, worker, progress=50)
    assert exc.value.body() == {
        "error": "Worker already completed",
        "abort": True,
        "reason": None,
        "actualStatus": "completed",
        "hasDeliverables": False,
    }


def test_running_after_reassignment_is_409_terminated(api, key, user, worker):
    api.area(TaskActions).reassign_task(user("ada"), worker["taskId"], force=True)
    with pytest.raises(Conflict) as exc:
        patch(api, key, worker, status="running")
    assert exc.value.body()["error"] == "Worker was terminated - task may have been reassigned"
    assert exc.value.body()["actualStatus"] == "failed"


def test_running_reactivates_a_failed_worker_whose_task_is_still_its_own(api, key, worker):
    patch(api, key, worker, status="failed", error="flaky")
    revived = patch(api, key, worker, status="running")
    assert revived["status"] == "running" and revived["error"] is None and revived["completedAt"] is None
    assert task_of(api, worker)["status"] == "in_progress"


def test_deliverables_are_reported_in_the_conflict(api, key, worker):
    patch(api, key, worker, commitCount=3)
    patch(api, key, worker, status="failed", error="x")
    with pytest.raises(Conflict) as exc:
        patch(api, key, worker, status="completed")
    assert exc.value.body()["hasDeliverables"] is True


# -- completion gates ------------------------------------------------------------------------------------------------


def test_completion_of_pr_required_task_without_pr_is_400_with_hint(api, key, worker):
    with api.store.transaction():
        api.store.update("tasks", worker["taskId"], {"outputRequirement": "pr_required"})
    with pytest.raises(BadRequest) as exc:
        patch(api, key, worker, status="completed")
    assert exc.value.body()["hint"] == "create_pr"
    assert patch(api, key, worker, status="completed", prUrl="https://x/pull/1")["status"] == "completed"


def test_completion_of_artifact_required_task_needs_a_pr_or_an_artifact(api, key, worker):
    with api.store.transaction():
        api.store.update("tasks", worker["taskId"], {"outputRequirement": "artifact_required"})
    with pytest.raises(BadRequest) as exc:
        patch(api, key, worker, status="completed")
    assert exc.value.body()["hint"] == "create_pr or create_artifact"
    api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "Findings"})
    assert patch(api, key, worker, status="completed")["status"] == "completed"


def test_completion_with_commits_but_no_output_carries_a_warning(api, key, worker):
    assert "outputWarning" in patch(api, key, worker, status="completed", commitCount=1)


# -- protocol fields -------------------------------------------------------------------------------------------------


def test_unknown_status_is_rejected(raw_api, key, worker):
    with pytest.raises(BadRequest, match="Invalid status"):
        raw_api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "done"})


@pytest.mark.parametrize("progress", [-1, 101, "50"])
def test_progress_outside_0_to_100_is_rejected(raw_api, key, worker, progress):
    with pytest.raises(BadRequest):
        raw_api.area(Workers).update_worker(key("svc"), worker["id"], {"progress": progress})


def test_cost_is_stored_as_decimal_string_and_charged_to_the_account_once(api, key, worker):
    assert patch(api, key, worker, costUsd=0.42)["costUsd"] == "0.420000"
    patch(api, key, worker, costUsd=0.5)
    assert api.store.get("accounts", ACCOUNT_IDS["svc"])["totalCost"] == "0.500000"


def test_append_milestones_appends_and_keeps_the_last_fifty(api, key, worker):
    patch(api, key, worker, milestones=[{"type": "status", "label": "start", "ts": ms(0)}])
    for i in range(3):
        patch(
            api,
            key,
            worker,
            appendMilestones=[{"type": "status", "label": f"m{i}-{j}", "ts": ms(i)} for j in range(20)],
        )
    milestones = api.store.get("workers", worker["id"])["milestones"]
    assert len(milestones) == 50 and milestones[-1]["label"] == "m2-19" and milestones[0]["label"] == "m0-10"


def test_milestones_replace_the_list(api, key, worker):
    patch(api, key, worker, appendMilestones=[{"type": "status", "label": "a", "ts": ms(0)}])
    got = patch(api, key, worker, milestones=[{"type": "status", "label": "b", "ts": ms(1)}])
    assert [m["label"] for m in got["milestones"]] == ["b"]


def test_nonzero_git_stats_are_never_reset_to_zero(api, key, worker):
    patch(api, key, worker, linesAdded=10, commitCount=1)
    got = patch(api, key, worker, linesAdded=0, commitCount=2)
    assert got["linesAdded"] == 10 and got["commitCount"] == 2


def test_running_clears_waiting_for(api, key, worker):
    patch(api, key, worker, status="waiting_input", waitingFor={"type": "question", "prompt": "Which DB?"})
    assert patch(api, key, worker, status="running")["waitingFor"] is None


def test_task_progress_is_forwarded_in_the_event_only(api, key, worker):
    events(api)
    progress = [{"taskId": "t1", "agentName": None, "toolCount": 3, "durationMs": 900, "cumulativeUsage": None}]
    got = patch(api, key, worker, taskProgress=progress)
    assert "taskProgress" not in got
    assert events(api, "worker:progress")[0].payload["taskProgress"] == progress


def test_milestones_without_type_or_epoch_ms_ts_are_rejected(api, key, worker):
    for bad in (
        {"label": "old shape", "timestamp": at(0)},
        {"type": "status", "ts": at(0)},
        {"type": "status", "ts": True},
    ):
        with pytest.raises(BadRequest):
            patch(api, key, worker, appendMilestones=[bad])


def test_queued_instructions_are_delivered_once(api, key, user, worker):
    api.area(WorkerControl).instruct_worker(user("ada"), worker["id"], {"message": "Update the changelog"})
    assert patch(api, key, worker, progress=1)["instructions"] == ["Update the changelog"]
    assert patch(api, key, worker, progress=2)["instructions"] == []
    history = api.area(TaskActions).list_task_messages(key("svc"), worker["taskId"])["messages"]
    assert history[0]["deliveryState"] == "delivered"
