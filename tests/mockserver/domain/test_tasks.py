"""Tasks: creation and its workspace rules, reads within reach, PATCH statuses, delete, start, reassign, notes."""

from __future__ import annotations

import pytest

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.areas.workers import Workers
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable

from .conftest import ACCOUNT_IDS, GLOBEX_APP, TASK_IDS, VAULT, WEB, at, claim, events

# -- create ----------------------------------------------------------------------------------------------------------


def test_create_with_only_a_title_uses_the_keys_only_can_create_workspace(api, key):
    task = api.area(Tasks).create_task(key("svc"), {"title": "Fix flaky login test"})
    assert task["workspaceId"] == VAULT and task["status"] == "pending" and task["mode"] == "execution"
    assert task["priority"] == 0 and task["createdByAccountId"] == ACCOUNT_IDS["svc"]


def test_create_without_workspace_and_no_can_create_link_is_400(api, key):
    with pytest.raises(BadRequest, match="workspaceId is required"):
        api.area(Tasks).create_task(key("admin"), {"title": "x"})


def test_create_by_session_without_workspace_is_400(api, user):
    with pytest.raises(BadRequest, match="workspaceId is required"):
        api.area(Tasks).create_task(user("ada"), {"title": "x"})


def test_create_in_restricted_workspace_without_can_create_is_403_naming_the_account(api, key):
    with pytest.raises(Forbidden) as exc:
        api.area(Tasks).create_task(key("action"), {"title": "x", "workspaceId": VAULT})
    assert exc.value.body()["error"] == ('Account "action" does not have permission to create tasks in this workspace.')


def test_create_in_restricted_workspace_without_any_link_is_404(api, key):
    with pytest.raises(NotFound, match="Workspace not found"):
        api.area(Tasks).create_task(key("admin"), {"title": "x", "workspaceId": VAULT})


def test_create_by_key_in_other_teams_open_workspace_is_404(api, key):
    with pytest.raises(NotFound, match="Workspace not found"):
        api.area(Tasks).create_task(key("svc"), {"title": "x", "workspaceId": GLOBEX_APP})


def test_create_by_session_in_other_teams_workspace_is_404(api, user):
    with pytest.raises(NotFound, match="Workspace not found"):
        api.area(Tasks).create_task(user("ada"), {"title": "x", "workspaceId": GLOBEX_APP})


@pytest.mark.parametrize("reference", ["acme/web", "WEB", "web"])
def test_create_resolves_workspace_by_repo_or_name(api, key, reference):
    assert api.area(Tasks).create_task(key("svc"), {"title": "x", "workspaceId": reference})["workspaceId"] == WEB


def test_create_with_dependency_in_another_workspace_is_400(api, key):
    with pytest.raises(BadRequest, match="dependsOn references unknown tasks"):
        api.area(Tasks).create_task(
            key("svc"), {"title": "x", "workspaceId": WEB, "dependsOn": [TASK_IDS["vault-task"]]}
        )


def test_create_with_blank_title_is_400(raw_api, key):
    with pytest.raises(BadRequest, match="Title is required"):
        raw_api.area(Tasks).create_task(key("svc"), {"title": "  ", "workspaceId": WEB})


def test_create_emits_task_created_then_task_assigned_on_the_workspace(api, key):
    events(api)
    task = api.area(Tasks).create_task(key("svc"), {"title": "Ship it", "workspaceId": WEB, "priority": 4})
    sent = events(api)
    assert [(e.channel, e.name) for e in sent] == [
        (f"workspace-{WEB}", "task:created"),
        (f"workspace-{WEB}", "task:assigned"),
    ]
    assert sent[0].payload["task"] == {
        "id": task["id"],
        "title": "Ship it",
        "description": None,
        "workspaceId": WEB,
        "mode": "execution",
        "priority": 4,
        "workspace": {"name": "web", "repo": "acme/web"},
    }
    assert sent[1].payload["targetLocalUiUrl"] is None


def test_create_with_start_in_defers_the_task(api, key):
    task = api.area(Tasks).create_task(key("svc"), {"title": "x", "workspaceId": WEB, "startIn": 30})
    assert task["startAt"] == at(30)


# -- read ------------------------------------------------------------------------------------------------------------


def test_get_of_other_teams_task_is_404(api, key, user):
    for principal in (key("svc"), user("ada")):
        with pytest.raises(NotFound, match="Task not found"):
            api.area(Tasks).get_task(principal, TASK_IDS["globex-task"])


def test_get_of_restricted_task_without_link_is_404_for_keys_but_visible_to_members(api, key, user):
    with pytest.raises(NotFound):
        api.area(Tasks).get_task(key("admin"), TASK_IDS["vault-task"])
    assert api.area(Tasks).get_task(user("bob"), TASK_IDS["vault-task"])["workspace"]["id"] == VAULT


def test_get_includes_workers_and_artifacts_on_request(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "r"})
    got = api.area(Tasks).get_task(key("svc"), TASK_IDS["high"], include="workers,artifacts")
    assert [w["id"] for w in got["workers"]] == [worker["id"]] and len(got["artifacts"]) == 1


def test_list_shows_only_tasks_in_reach(api, key, user):
    listed = {t["id"] for t in api.area(Tasks).list_tasks(key("svc"))["tasks"]}
    assert TASK_IDS["globex-task"] not in listed and TASK_IDS["vault-task"] in listed
    assert TASK_IDS["vault-task"] not in {t["id"] for t in api.area(Tasks).list_tasks(key("admin"))["tasks"]}
    assert api.area(Tasks).list_tasks(user("ada"), workspace_id=GLOBEX_APP)["tasks"] == []


def test_list_default_hides_old_terminal_tasks(api, key):
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "completed"})
    assert TASK_IDS["low"] in {t["id"] for t in api.area(Tasks).list_tasks(key("svc"))["tasks"]}
    api.clock.advance(25 * 3600)
    assert TASK_IDS["low"] not in {t["id"] for t in api.area(Tasks).list_tasks(key("svc"))["tasks"]}


def test_list_page_orders_pending_first_by_priority_and_counts(api, key):
    page = api.area(Tasks).list_tasks(key("svc"), workspace_id=WEB, limit=2, offset=0)
    assert [t["id"] for t in page["tasks"]] == [TASK_IDS["later"], TASK_IDS["blocked"]]
    assert page["total"] == 7 and page["pendingCount"] == 7 and page["hasMore"] is True


# -- PATCH -----------------------------------------------------------------------------------------------------------


def test_patch_to_an_unpatchable_status_is_400(raw_api, key):
    with pytest.raises(BadRequest) as exc:
        raw_api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "in_progress"})
    assert exc.value.body() == {"error": "Invalid status. Allowed: pending, completed, failed, cancelled"}


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_patch_to_completed_or_failed_while_worker_runs_is_409(api, key, status):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "running"})
    with pytest.raises(Conflict):
        api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": status})


def test_patch_to_pending_clears_the_claim(api, key):
    claim(api, key("svc"), taskId=TASK_IDS["low"])
    task = api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "pending"})
    assert (task["claimedBy"], task["claimedAt"], task["expiresAt"]) == (None, None, None)


def test_patch_to_cancelled_tells_the_live_worker_to_abort(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    events(api)
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "cancelled"})
    abort = events(api, "worker:command")
    assert [(e.channel, e.payload["action"], e.payload["reason"]) for e in abort] == [
        (f"worker-{worker['id']}", "abort", "task_cancelled")
    ]


def test_patch_status_emits_task_updated_and_task_completed(api, key):
    events(api)
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "completed"})
    assert [e.name for e in events(api)] == ["task:updated", "task:completed"]


def test_patch_of_other_teams_task_is_404(api, key):
    with pytest.raises(NotFound):
        api.area(Tasks).update_task(key("svc"), TASK_IDS["globex-task"], {"priority": 1})


def test_patch_with_self_dependency_is_400(api, key):
    with pytest.raises(BadRequest):
        api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"dependsOn": [TASK_IDS["low"]]})


# -- delete ----------------------------------------------------------------------------------------------------------


def test_delete_of_task_with_live_worker_needs_force(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    with pytest.raises(BadRequest):
        api.area(Tasks).delete_task(key("svc"), TASK_IDS["low"])
    assert api.area(Tasks).delete_task(key("svc"), TASK_IDS["low"], force=True) == {"success": True}
    assert api.store.get("workers", worker["id"]) is None
    with pytest.raises(NotFound):
        api.area(Tasks).get_task(key("svc"), TASK_IDS["low"])


def test_delete_of_other_teams_task_is_404(api, user):
    with pytest.raises(NotFound):
        api.area(Tasks).delete_task(user("ada"), TASK_IDS["globex-task"])


# -- start -----------------------------------------------------------------------------------------------------------


def test_start_announces_the_task_and_bumps_priority_once(api, key):
    events(api)
    assert api.area(TaskActions).start_task(key("svc"), TASK_IDS["low"], {}) == {
        "started": True,
        "taskId": TASK_IDS["low"],
        "targetLocalUiUrl": None,
    }
    api.area(TaskActions).start_task(key("svc"), TASK_IDS["low"], {})
    assert api.store.get("tasks", TASK_IDS["low"])["priority"] == 1
    assert [e.name for e in events(api)] == ["task:assigned", "task:assigned"]


def test_start_of_deferred_task_is_422_unless_forced(api, key):
    with pytest.raises(Unprocessable) as exc:
        api.area(TaskActions).start_task(key("svc"), TASK_IDS["later"], {})
    assert exc.value.body()["gateReason"] == "deferred_start"
    api.area(TaskActions).start_task(key("svc"), TASK_IDS["later"], {"forceOverride": True})
    assert claim(api, key("admin"), taskId=TASK_IDS["later"])["workers"]


def test_start_of_task_with_open_dependency_is_422(api, key):
    with pytest.raises(Unprocessable) as exc:
        api.area(TaskActions).start_task(key("svc"), TASK_IDS["blocked"], {})
    assert exc.value.body()["blockingDeps"][0]["taskId"] == TASK_IDS["low"]


def test_start_of_non_pending_task_is_400(api, key):
    claim(api, key("svc"), taskId=TASK_IDS["low"])
    with pytest.raises(BadRequest) as exc:
        api.area(TaskActions).start_task(key("svc"), TASK_IDS["low"], {})
    assert exc.value.body()["status"] == "assigned"


# -- reassign --------------------------------------------------------------------------------------------------------


def test_reassign_of_claimed_task_without_force_is_refused_with_200(api, key):
    claim(api, key("svc"), taskId=TASK_IDS["low"])
    got = api.area(TaskActions).reassign_task(key("svc"), TASK_IDS["low"])
    assert got["reassigned"] is False and got["status"] == "assigned"


def test_forced_reassign_of_fresh_claim_by_team_member_is_403(api, key, user):
    claim(api, key("svc"), taskId=TASK_IDS["low"])
    with pytest.raises(Forbidden) as exc:
        api.area(TaskActions).reassign_task(user("bob"), TASK_IDS["low"], force=True)
    assert exc.value.body()["reassigned"] is False


def test_forced_reassign_by_owner_requeues_and_fails_the_worker(api, key, user):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    events(api)
    got = api.area(TaskActions).reassign_task(user("ada"), TASK_IDS["low"], force=True, body={"backend": "codex"})
    assert got["reassigned"] is True and got["wasAssigned"] is True and got["backendSwitched"] is True
    assert api.store.get("tasks", TASK_IDS["low"])["status"] == "pending"
    assert api.store.get("workers", worker["id"])["status"] == "failed"
    assert [e.name for e in events(api)] == ["worker:failed", "worker:failed", "task:assigned"]


def test_reassign_of_failed_task_requeues_it_and_clears_the_result(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "failed", "error": "x"})
    assert api.area(TaskActions).reassign_task(key("svc"), TASK_IDS["low"])["reassigned"] is True
    task = api.store.get("tasks", TASK_IDS["low"])
    assert task["status"] == "pending" and task["result"] is None


def test_reassign_checks_access_for_every_status(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["globex-task"], {"status": "failed"})
    with pytest.raises(NotFound):
        api.area(TaskActions).reassign_task(key("svc"), TASK_IDS["globex-task"])


def test_reassign_of_completed_task_says_why_not(api, key):
    api.area(Tasks).update_task(key("svc"), TASK_IDS["low"], {"status": "completed"})
    got = api.area(TaskActions).reassign_task(key("svc"), TASK_IDS["low"])
    assert got == {
        "reassigned": False,
        "taskId": TASK_IDS["low"],
        "status": "completed",
        "reason": "Cannot reassign task with status: completed",
    }


# -- messages and notes ----------------------------------------------------------------------------------------------


def test_messages_of_unclaimed_task_are_empty(api, key):
    assert api.area(TaskActions).list_task_messages(key("svc"), TASK_IDS["low"]) == {
        "taskId": TASK_IDS["low"],
        "workerId": None,
        "messages": [],
    }


def test_note_defaults_follow_the_caller_and_type(api, key, user):
    question = api.area(TaskActions).create_task_note(
        key("svc"), TASK_IDS["low"], {"type": "question", "title": "Which DB?"}
    )
    assert question["authorType"] == "agent" and question["status"] == "open"
    update = api.area(TaskActions).create_task_note(user("ada"), TASK_IDS["low"], {"type": "update", "title": "FYI"})
    assert update["authorType"] == "user" and update["status"] == "answered"


def test_note_emits_note_posted_on_the_task_channel(api, key):
    events(api)
    note = api.area(TaskActions).create_task_note(
        key("svc"), TASK_IDS["low"], {"type": "decision", "title": "Use Postgres"}
    )
    sent = events(api)
    assert [(e.channel, e.name) for e in sent] == [(f"task-{TASK_IDS['low']}", "mission:note_posted")]
    assert sent[0].payload["noteId"] == note["id"]


def test_note_on_mission_task_is_409(api, key):
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["low"], {"missionId": TASK_IDS["low"]})
    with pytest.raises(Conflict):
        api.area(TaskActions).create_task_note(key("svc"), TASK_IDS["low"], {"type": "update", "title": "x"})


def test_note_on_other_teams_task_is_404(api, key):
    with pytest.raises(NotFound):
        api.area(TaskActions).create_task_note(key("svc"), TASK_IDS["globex-task"], {"type": "update", "title": "x"})
