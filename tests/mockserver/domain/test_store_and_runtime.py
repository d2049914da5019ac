"""The store (indexes, undo, SQLite write-through), the injected clock and ids, and the sweep."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mockserver.domain.areas.accounts import Accounts
from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.areas.worker_control import WorkerControl
from mockserver.domain.areas.workers import Workers
from mockserver.domain.areas.workspaces import Workspaces
from mockserver.domain.auth import authenticate
from mockserver.domain.errors import BadRequest
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids, parse_iso, to_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

from .conftest import ACCOUNT_IDS, EPOCH, TASK_IDS, WEB, at, build_world, claim, events, key_for, ms

# -- runtime ---------------------------------------------------------------------------------------------------------


def test_clock_iso_has_milliseconds_and_z():
    clock = Clock(frozen_at=datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=UTC))
    assert clock.iso() == "2026-01-02T03:04:05.678Z"
    assert parse_iso(clock.iso()) == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_frozen_clock_moves_only_when_advanced():
    clock = Clock(frozen_at=EPOCH)
    assert clock.now() == clock.now() == EPOCH
    clock.advance(90)
    assert clock.iso() == "2026-01-15T10:01:30.000Z"


def test_running_clock_adds_its_offset_to_real_time():
    clock = Clock()
    before = clock.now()
    clock.advance(3600)
    assert (clock.now() - before).total_seconds() >= 3600 and clock.now().tzinfo is not None


def test_ids_are_seeded_version_4_uuids_and_documented_key_formats():
    a, b = Ids(42), Ids(42)
    assert [a.uuid4() for _ in range(3)] == [b.uuid4() for _ in range(3)]
    value = uuid.UUID(Ids(1).uuid4())
    assert value.version == 4 and value.variant == uuid.RFC_4122
    assert re.fullmatch(r"bld_[0-9a-f]{64}", Ids(1).api_key())
    assert re.fullmatch(r"[A-HJ-NP-Z]{4}-[0-9]{4}", Ids(1).user_code())
    assert re.fullmatch(r"[0-9a-f]{16}", Ids(1).hex(8))


def test_two_mocks_with_the_same_seed_hand_out_the_same_ids():
    def first_worker_id() -> str:
        api = Buildd(Store(build_world()), Clock(frozen_at=EPOCH), Ids(3), Outbox())
        principal = authenticate(
            api.store, authorization=f"Bearer {key_for('svc')}", session_token=None, accept={"apiKey"}
        )
        return str(api.area(Workers).claim_tasks(principal, {"runner": "r"})["workers"][0]["id"])

    assert first_worker_id() == first_worker_id()


# -- store -----------------------------------------------------------------------------------------------------------


def test_pending_index_orders_by_priority_then_age_and_follows_updates(api):
    order = [entry[2] for entry in api.store.pending_entries(WEB)]
    assert order[:3] == [TASK_IDS["later"], TASK_IDS["blocked"], TASK_IDS["action-only"]]
    with api.store.transaction():
        api.store.update("tasks", TASK_IDS["low"], {"priority": 100})
        api.store.update("tasks", TASK_IDS["later"], {"status": "assigned"})
    order = [entry[2] for entry in api.store.pending_entries(WEB)]
    assert order[0] == TASK_IDS["low"] and TASK_IDS["later"] not in order


def test_a_failing_transaction_leaves_no_trace(api, key):
    before = api.store.dump()
    with pytest.raises(BadRequest), api.store.transaction():
        api.store.update("tasks", TASK_IDS["low"], {"status": "assigned"})
        api.store.insert("notes", {"id": "n1", "taskId": TASK_IDS["low"]})
        raise BadRequest("no")
    assert api.store.dump() == before
    assert TASK_IDS["low"] in [entry[2] for entry in api.store.pending_entries(WEB)]


def test_a_rejected_operation_emits_no_event(api, key):
    events(api)
    with pytest.raises(BadRequest):
        api.area(Tasks).create_task(
            key("svc"), {"title": "x", "workspaceId": WEB, "dependsOn": [TASK_IDS["globex-task"]]}
        )
    assert events(api) == []


def test_reset_returns_to_the_loaded_world(api, key):
    claim(api, key("svc"), workspaceId=WEB)
    api.store.reset()
    assert api.store.count("workers") == 0 and api.store.get("tasks", TASK_IDS["high"])["status"] == "pending"


def test_dump_is_the_world_format_with_key_hashes_only(api):
    dumped = api.store.dump()
    assert {"meta", "teams", "accounts", "credentials", "tasks", "deviceCodes"} <= set(dumped)
    assert all(set(c) == {"accountId", "apiKeyHash"} for c in dumped["credentials"])
    assert key_for("svc") not in repr(dumped)
    assert Store(dumped).get("accounts", ACCOUNT_IDS["svc"]) is not None


def test_state_file_write_through_survives_a_reopen(tmp_path: Path, key):
    path = tmp_path / "state.sqlite"
    api = Buildd(Store(build_world(), state_file=path), Clock(frozen_at=EPOCH), Ids(5), Outbox())
    principal = authenticate(api.store, authorization=f"Bearer {key_for('svc')}", session_token=None, accept={"apiKey"})
    worker = api.area(Workers).claim_tasks(principal, {"runner": "r", "taskId": TASK_IDS["high"]})["workers"][0]
    created = api.area(Tasks).create_task(principal, {"title": "persist me", "workspaceId": WEB})
    api.store.close()

    reopened = Store({"teams": []}, state_file=path)  # an existing state file wins over the world given
    assert reopened.get("workers", worker["id"])["status"] == "idle"
    assert reopened.get("tasks", created["id"])["title"] == "persist me"
    assert reopened.get("tasks", TASK_IDS["high"])["status"] == "assigned"
    assert next(e[2] for e in reopened.pending_entries(WEB)) == TASK_IDS["later"]
    reopened.reset()  # back to the world it was given, and so is the file
    reopened.close()
    assert Store(None, state_file=path).count("tasks") == 0


def _write_then_die(path: str) -> None:
    api = Buildd(Store(build_world(), state_file=path), Clock(frozen_at=EPOCH), Ids(5), Outbox())
    principal = authenticate(api.store, authorization=f"Bearer {key_for('svc')}", session_token=None, accept={"apiKey"})
    api.area(Tasks).create_task(principal, {"title": "acknowledged", "workspaceId": WEB})
    os.kill(os.getpid(), signal.SIGKILL)


def test_an_acknowledged_write_survives_kill_9(tmp_path: Path):
    path = str(tmp_path / "state.sqlite")
    process = multiprocessing.get_context("fork").Process(target=_write_then_die, args=(path,))
    process.start()
    process.join(timeout=30)
    assert process.exitcode == -signal.SIGKILL
    titles = {t["title"] for t in Store(None, state_file=path).rows("tasks")}
    assert "acknowledged" in titles


# -- sweep -----------------------------------------------------------------------------------------------------------


def test_sweep_returns_expired_claims_to_pending(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    with api.store.transaction():  # the worker vanished without failing, the claim lease is all that is left
        api.store.update("workers", worker["id"], {"status": "paused"})
    assert api.advance_clock(16 * 60)["swept"] == {"expiredClaims": 1, "failedWorkers": 0}
    task = api.store.get("tasks", TASK_IDS["high"])
    assert task["status"] == "pending" and task["claimedBy"] is None


def test_sweep_fails_idle_workers_after_five_minutes_and_running_ones_after_fifteen(api, key):
    idle = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    running = claim(api, key("svc"), taskId=TASK_IDS["low"])["workers"][0]
    api.area(Workers).update_worker(key("svc"), running["id"], {"status": "running"})
    events(api)
    assert api.advance_clock(5 * 60 + 1)["swept"]["failedWorkers"] == 1
    assert api.store.get("workers", idle["id"])["status"] == "failed"
    assert api.store.get("tasks", TASK_IDS["high"])["status"] == "pending"
    assert {e.name for e in events(api)} == {"worker:failed", "task:assigned"}
    assert api.advance_clock(10 * 60)["swept"]["failedWorkers"] == 1
    assert api.store.get("workers", running["id"])["error"].startswith("Stale worker expired")


def test_sweep_spares_workers_that_keep_reporting(api, key):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    for _ in range(4):
        api.advance_clock(4 * 60)
        api.area(Workers).update_worker(key("svc"), worker["id"], {"progress": 10})
    assert api.store.get("workers", worker["id"])["status"] == "idle"


def test_clock_never_moves_backwards(api):
    with pytest.raises(BadRequest):
        api.advance_clock(-1)


def test_timestamps_written_by_the_service_come_from_the_injected_clock(api, key):
    api.clock.advance(30)
    task = api.area(Tasks).create_task(key("svc"), {"title": "x", "workspaceId": WEB})
    assert task["createdAt"] == at(0.5) == to_iso(api.clock.now())


def test_advance_clock_reports_the_spec_mock_clock_body(api, spec):
    body = api.advance_clock(60)
    assert body["now"] == at(1) and body["swept"] == {"expiredClaims": 0, "failedWorkers": 0}
    assert not spec.schema_check("MockClock").errors(body)


def test_reset_with_a_seed_replays_the_same_ids(api, key):
    first = claim(api, key("svc"), workspaceId=WEB)["workers"][0]["id"]
    api.reset(seed=7)
    assert claim(api, key("svc"), workspaceId=WEB)["workers"][0]["id"] == first


def test_outbox_listener_gets_events_in_commit_order_instead_of_the_buffer(raw_api, key):
    heard: list[str] = []
    raw_api.outbox.listener = lambda event: heard.append(event.name)
    raw_api.area(Tasks).create_task(key("svc"), {"title": "x", "workspaceId": WEB})
    assert heard == ["task:created", "task:assigned"] and raw_api.outbox.drain() == []


SCHEMA_OF_TABLE = {
    "teams": "Team",
    "users": "User",
    "memberships": "TeamMembership",
    "accounts": "Account",
    "accountWorkspaces": "AccountWorkspace",
    "workspaces": "Workspace",
    "tasks": "Task",
    "workers": "Worker",
    "artifacts": "Artifact",
    "schedules": "Schedule",
    "notes": "TaskNote",
    "heartbeats": "WorkerHeartbeat",
    "sessions": "Session",
}


def test_stored_records_stay_in_the_spec_wire_shape_after_every_kind_of_change(api, key, user, spec):
    worker = claim(api, key("svc"), taskId=TASK_IDS["high"])["workers"][0]
    api.area(Workers).update_worker(
        key("svc"),
        worker["id"],
        {"status": "running", "costUsd": 1.5, "appendMilestones": [{"type": "status", "label": "go", "ts": ms(0)}]},
    )
    api.area(Artifacts).create_worker_artifact(
        key("svc"), worker["id"], {"type": "link", "title": "PR", "url": "https://x"}
    )
    api.area(Workers).update_worker(key("svc"), worker["id"], {"status": "completed", "summary": "done"})
    api.area(TaskActions).create_task_note(key("svc"), TASK_IDS["high"], {"type": "question", "title": "?"})
    api.serve_resource(
        "createSchedule",
        user("ada"),
        {"id": WEB},
        {},
        {"name": "s", "cronExpression": "0 * * * *", "taskTemplate": {"title": "t"}},
    )
    api.area(WorkerControl).send_heartbeat(key("svc"), {"localUiUrl": "http://x", "environment": {"os": "linux"}})
    api.area(Accounts).create_account(user("ada"), {"name": "ci", "type": "service", "workspaceId": WEB})
    api.area(Workspaces).create_workspace(user("ada"), {"repoUrl": "https://github.com/acme/new"})
    api.area(Workspaces).link_workspace_account(
        user("ada"), WEB, {"accountId": ACCOUNT_IDS["admin"], "canCreate": True}
    )
    api.area(Tasks).create_task(key("admin"), {"title": "t", "workspaceId": WEB, "startIn": 5})
    api.advance_clock(20 * 60)
    dumped = api.store.dump()
    for table, schema in SCHEMA_OF_TABLE.items():
        for record in dumped[table]:
            errors = spec.schema_check(schema).errors(record)
            assert not errors, (table, [str(e) for e in errors])


def test_iso_pads_early_years_to_four_digits():
    assert to_iso(datetime(232, 10, 9, 3, 2, 26, 529000, tzinfo=UTC)) == "0232-10-09T03:02:26.529Z"


def test_typed_field_reads_return_strings_and_name_a_broken_record() -> None:
    from mockserver.domain.fields import id_of, text, text_or_none

    record = {"id": "t1", "title": "x", "startAt": None, "priority": 3}
    assert (id_of(record), text(record, "title"), text_or_none(record, "startAt")) == ("t1", "x", None)
    assert text_or_none(record, "missing") is None
    with pytest.raises(TypeError, match="'priority' holds int"):
        text(record, "priority")  # str() would have made it "3" and hidden the broken record
    with pytest.raises(TypeError, match="'startAt' holds NoneType"):
        text(record, "startAt")
