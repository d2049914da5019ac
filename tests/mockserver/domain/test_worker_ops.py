"""Worker sub-operations: commands, instructions, activity, artifacts, recover, respond, heartbeats, mine/active."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.worker_control import WorkerControl
from mockserver.domain.areas.workers import Workers
from mockserver.domain.errors import BadRequest, DomainError, Forbidden, NotFound

from .conftest import TASK_IDS, claim, events, ms, uid


@pytest.fixture
def worker(api, key) -> dict[str, Any]:
    return claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]


# -- commands --------------------------------------------------------------------------------------------------------


def test_command_is_sent_on_the_worker_channel(api, key, worker):
    events(api)
    assert api.area(WorkerControl).send_worker_command(key("svc"), worker["id"], {"action": "pause"}) == {
        "ok": True,
        "action": "pause",
    }
    sent = events(api)
    assert [(e.channel, e.name, e.payload["action"]) for e in sent] == [
        (f"worker-{worker['id']}", "worker:command", "pause")
    ]


def test_command_outside_the_allowed_actions_is_400(raw_api, key, worker):
    with pytest.raises(BadRequest):
        raw_api.area(WorkerControl).send_worker_command(key("svc"), worker["id"], {"action": "rollback"})


def test_command_to_another_accounts_worker_is_403_for_keys_and_404_for_outside_sessions(api, key, user, worker):
    with pytest.raises(Forbidden):
        api.area(WorkerControl).send_worker_command(key("admin"), worker["id"], {"action": "abort"})
    with pytest.raises(NotFound, match="Worker not found"):
        api.area(WorkerControl).send_worker_command(user("eve"), worker["id"], {"action": "abort"})
    assert api.area(WorkerControl).send_worker_command(user("bob"), worker["id"], {"action": "abort"})["ok"] is True


# -- instructions ----------------------------------------------------------------------------------------------------


def test_urgent_instruction_goes_out_now_as_a_message_command(api, user, worker):
    events(api)
    got = api.area(WorkerControl).instruct_worker(
        user("ada"), worker["id"], {"message": "Stop and commit", "priority": "urgent"}
    )
    assert got["delivered"] == "sent"
    command = events(api, "worker:command")[0].payload
    assert command["action"] == "message" and command["text"] == "Stop and commit"


def test_instruction_by_a_non_admin_key_is_403(api, key, worker):
    with pytest.raises(Forbidden):
        api.area(WorkerControl).instruct_worker(key("svc"), worker["id"], {"message": "hi"})


def test_instruction_needs_access_to_the_workers_workspace(api, key, user, worker):
    with pytest.raises(NotFound, match="Worker not found"):
        api.area(WorkerControl).instruct_worker(user("eve"), worker["id"], {"message": "hi"})
    assert (
        api.area(WorkerControl).instruct_worker(key("admin"), worker["id"], {"message": "hi"})["delivered"] == "queued"
    )


def test_instruction_to_a_finished_worker_is_400(api, key, user, worker):
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "completed"})
    with pytest.raises(BadRequest):
        api.area(WorkerControl).instruct_worker(user("ada"), worker["id"], {"message": "hi"})


# -- activity --------------------------------------------------------------------------------------------------------


def test_activity_of_another_accounts_worker_is_403(api, key, worker):
    with pytest.raises(Forbidden):
        api.area(WorkerControl).record_worker_activity(key("admin"), worker["id"], {"toolName": "Edit"})


def test_activity_appends_a_milestone_and_sets_the_current_action(api, key, worker):
    got = api.area(WorkerControl).record_worker_activity(
        key("svc"), worker["id"], {"toolName": "Edit", "toolInput": {"file": "a.ts"}}
    )
    assert got == {"ok": True, "milestone": {"type": "action", "label": "Edit: a.ts", "ts": ms(0)}}
    assert api.store.get("workers", worker["id"])["currentAction"] == "Edit: a.ts"


def test_repeated_activity_within_a_second_is_deduplicated(api, key, worker):
    api.area(WorkerControl).record_worker_activity(key("svc"), worker["id"], {"toolName": "Bash"})
    assert (
        api.area(WorkerControl).record_worker_activity(key("svc"), worker["id"], {"toolName": "Bash"})["deduplicated"]
        is True
    )
    api.clock.advance(2)
    assert "milestone" in api.area(WorkerControl).record_worker_activity(key("svc"), worker["id"], {"toolName": "Bash"})


def test_activity_before_1970_is_refused_and_stores_no_milestone(api, key, worker):
    """A milestone's `ts` is epoch ms >= 0: an ISO year 0774 stored -37716922003700 and broke every later read."""
    with pytest.raises(BadRequest):
        api.area(WorkerControl).record_worker_activity(
            key("svc"), worker["id"], {"toolName": "Edit", "timestamp": "0774-10-11T00:00:00Z"}
        )
    assert not api.store.get("workers", worker["id"]).get("milestones")


# -- artifacts -------------------------------------------------------------------------------------------------------


def test_artifact_is_private_and_announced_after_progress(api, key, worker):
    events(api)
    got = api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "Load test"})
    artifact = got["artifact"]
    assert (artifact["visibility"], artifact["shareUrl"], artifact["taskId"]) == ("private", None, TASK_IDS["high"])
    assert [e.name for e in events(api)] == ["worker:progress", "worker:progress", "worker:artifact"]


def test_link_artifact_without_url_is_400(raw_api, key, worker):
    with pytest.raises(BadRequest, match="url is required"):
        raw_api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "link", "title": "PR"})


def test_artifact_with_a_used_key_updates_that_artifact(api, key, worker):
    first = api.area(Artifacts).create_worker_artifact(
        key("svc"), worker["id"], {"type": "data", "title": "v1", "key": "bench"}
    )
    second = api.area(Artifacts).create_worker_artifact(
        key("svc"), worker["id"], {"type": "data", "title": "v2", "key": "bench"}
    )
    assert second["upserted"] is True and second["artifact"]["id"] == first["artifact"]["id"]
    assert second["artifact"]["title"] == "v2"


def test_artifacts_of_another_accounts_worker_are_403(api, key, worker):
    with pytest.raises(Forbidden):
        api.area(Artifacts).list_worker_artifacts(key("admin"), worker["id"])


def test_artifact_reads_and_edits_stay_within_the_team(api, key, user, worker):
    artifact = api.area(Artifacts).create_worker_artifact(key("svc"), worker["id"], {"type": "report", "title": "r"})[
        "artifact"
    ]
    path = {"artifactId": artifact["id"]}
    assert api.serve_resource("getArtifact", key("admin"), path, {}, None)[1]["artifact"]["id"] == artifact["id"]
    with pytest.raises(DomainError, match="Artifact not found") as refused:
        api.serve_resource("getArtifact", key("globex-svc"), path, {}, None)
    assert refused.value.status == 404
    shared = api.serve_resource("updateArtifact", key("admin"), path, {}, {"visibility": "public"})[1]["artifact"]
    assert shared["shareUrl"].startswith(f"{api.settings.base_url}/share/")
    again = api.serve_resource("updateArtifact", key("admin"), path, {}, {"title": "r2"})[1]["artifact"]
    assert again["shareUrl"] == shared["shareUrl"]  # minted once
    hidden = api.serve_resource("updateArtifact", key("admin"), path, {}, {"visibility": "private"})[1]["artifact"]
    assert hidden["shareUrl"] is None and hidden["title"] == "r2"
    listed = api.area(Artifacts).list_artifacts(user("ada"), task_id=TASK_IDS["high"])["artifacts"]
    assert [a["id"] for a in listed] == [artifact["id"]]
    assert api.area(Artifacts).list_artifacts(user("eve"))["artifacts"] == []


# -- recover / respond -----------------------------------------------------------------------------------------------


def test_recover_sets_the_worker_running_and_sends_recover(api, key, worker):
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "error", "error": "stuck"})
    events(api)
    assert api.area(WorkerControl).recover_worker(key("svc"), worker["id"], {"mode": "diagnose"})["ok"] is True
    stored = api.store.get("workers", worker["id"])
    assert stored["status"] == "running" and stored["error"] is None
    assert api.store.get("tasks", worker["taskId"])["status"] == "in_progress"
    assert events(api, "worker:command")[0].payload["recoveryMode"] == "diagnose"


def test_recover_of_a_reassigned_worker_is_400(api, key, user, worker):
    api.area(TaskActions).reassign_task(user("ada"), worker["taskId"], force=True)
    with pytest.raises(BadRequest):
        api.area(WorkerControl).recover_worker(key("svc"), worker["id"], {"mode": "restart"})


def test_respond_to_a_worker_that_is_not_waiting_is_400(api, key, worker):
    with pytest.raises(BadRequest, match="not waiting"):
        api.area(WorkerControl).respond_to_worker(key("svc"), worker["id"], {"message": "Use Postgres"})


def test_respond_continues_in_a_new_pending_task(api, key, worker):
    api.area(Workers).update_worker(
        key("svc"), worker["id"], {"status": "waiting_input", "waitingFor": {"type": "question", "prompt": "Which DB?"}}
    )
    events(api)
    got = api.area(WorkerControl).respond_to_worker(key("svc"), worker["id"], {"message": "Use Postgres"})
    follow_up = api.store.get("tasks", got["taskId"])
    assert follow_up["title"] == "Continue: Task high" and follow_up["parentTaskId"] == TASK_IDS["high"]
    assert follow_up["context"]["userInput"] == "Use Postgres" and follow_up["context"]["iteration"] == 1
    assert api.store.get("workers", worker["id"])["status"] == "completed"
    assert [e.name for e in events(api)] == ["task:created", "task:assigned"]


# -- heartbeats, mine, active ----------------------------------------------------------------------------------------


def test_heartbeat_upserts_per_local_ui_and_keeps_its_viewer_token(api, key):
    first = api.area(WorkerControl).send_heartbeat(
        key("svc"), {"localUiUrl": "http://127.0.0.1:8766", "activeWorkerCount": 1}
    )
    second = api.area(WorkerControl).send_heartbeat(key("svc"), {"localUiUrl": "http://127.0.0.1:8766"})
    assert first["viewerToken"] == second["viewerToken"] and first["pendingTaskCount"] == 8
    assert api.store.count("heartbeats") == 1


def test_active_lists_recent_runners_of_the_callers_teams_only(api, key, user):
    api.area(WorkerControl).send_heartbeat(key("svc"), {"localUiUrl": "http://a", "activeWorkerCount": 1})
    api.area(WorkerControl).send_heartbeat(key("globex-svc"), {"localUiUrl": "http://b"})
    active = api.area(WorkerControl).list_active_workers(user("ada"))["activeLocalUis"]
    assert [(a["accountName"], a["capacity"]) for a in active] == [("svc", 2)]
    api.clock.advance(151 * 60)
    assert api.area(WorkerControl).list_active_workers(user("ada"))["activeLocalUis"] == []


def test_mine_lists_only_the_callers_workers_filtered_by_status(api, key, worker):
    claim(api, key("admin"), taskId=TASK_IDS["low"])
    mine = api.area(Workers).list_my_workers(key("svc"))["workers"]
    assert [w["id"] for w in mine] == [worker["id"]]
    assert api.area(Workers).list_my_workers(key("svc"), ["running"])["workers"] == []
    assert api.area(Workers).list_my_workers(key("svc"), ["idle", "running"])["workers"][0]["status"] == "idle"


def test_unknown_worker_is_404_for_every_sub_operation(api, key):
    for call in (
        lambda: api.area(WorkerControl).send_worker_command(key("svc"), uid(9), {"action": "pause"}),
        lambda: api.area(WorkerControl).record_worker_activity(key("svc"), uid(9), {"toolName": "x"}),
        lambda: api.area(Artifacts).list_worker_artifacts(key("svc"), uid(9)),
        lambda: api.area(WorkerControl).recover_worker(key("svc"), uid(9), {"mode": "diagnose"}),
    ):
        with pytest.raises(NotFound, match="Worker not found"):
            call()
