"""Workspaces, account links, by-repo lookup and schedules: all within the caller's team."""

from __future__ import annotations

import pytest

from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.areas.workspaces import Workspaces
from mockserver.domain.errors import BadRequest, DomainError, Forbidden, NotFound

from .conftest import ACCOUNT_IDS, EMPTY, GLOBEX_APP, T1, T2, TASK_IDS, VAULT, WEB, at, claim, uid


def ids(rows):
    return {row["id"] for row in rows}


# -- visibility ------------------------------------------------------------------------------------------------------


def test_key_sees_its_teams_open_workspaces_and_linked_restricted_ones(api, key):
    assert ids(api.area(Workspaces).list_workspaces(key("svc"))["workspaces"]) == {WEB, VAULT, EMPTY}
    assert ids(api.area(Workspaces).list_workspaces(key("admin"))["workspaces"]) == {WEB, EMPTY}


def test_open_workspaces_of_other_teams_stay_invisible(api, key, user):
    assert GLOBEX_APP not in ids(api.area(Workspaces).list_workspaces(key("svc"))["workspaces"])
    with pytest.raises(NotFound, match="Workspace not found"):
        api.area(Workspaces).update_workspace(key("svc"), GLOBEX_APP, {"name": "mine now"})
    with pytest.raises(NotFound):
        api.area(Workspaces).get_workspace(user("ada"), GLOBEX_APP)


def test_session_sees_every_workspace_of_its_teams_and_can_filter_by_team(api, user):
    assert ids(api.area(Workspaces).list_workspaces(user("bob"))["workspaces"]) == {WEB, VAULT, EMPTY}
    assert api.area(Workspaces).list_workspaces(user("bob"), T2)["workspaces"] == []


def test_list_reports_runner_kinds_and_connected_accounts(api, user):
    vault = next(w for w in api.area(Workspaces).list_workspaces(user("ada"))["workspaces"] if w["id"] == VAULT)
    assert vault["runners"] == {"action": True, "service": True, "user": False}
    assert {a["accountName"] for a in vault["connectedAccounts"]} == {"svc", "action"}


def test_get_workspace_carries_its_tasks_and_workers(api, key, user):
    claim(api, key("svc"), taskId=TASK_IDS["low"])
    got = api.area(Workspaces).get_workspace(user("ada"), WEB)["workspace"]
    assert len(got["tasks"]) == 7 and len(got["workers"]) == 1


# -- create / update / delete ----------------------------------------------------------------------------------------


def test_create_workspace_derives_name_and_repo_from_repo_url(api, key):
    created = api.area(Workspaces).create_workspace(key("svc"), {"repoUrl": "https://github.com/acme/api.git"})
    assert (created["name"], created["repo"], created["teamId"], created["accessMode"]) == (
        "api",
        "acme/api",
        T1,
        "open",
    )


def test_create_workspace_without_name_or_repo_is_400(raw_api, key):
    with pytest.raises(BadRequest):
        raw_api.area(Workspaces).create_workspace(key("svc"), {"accessMode": "open"})


def test_create_workspace_in_a_team_the_user_is_not_in_lands_in_their_own_team(api, key, user):
    assert api.area(Workspaces).create_workspace(user("ada"), {"name": "x", "teamId": T2})["teamId"] == T1
    assert api.area(Workspaces).create_workspace(key("globex-svc"), {"name": "x", "teamId": T1})["teamId"] == T2


def test_update_floors_max_concurrent_tasks_and_merges_git_config(api, key):
    api.area(Workspaces).update_workspace(key("svc"), WEB, {"gitConfig": {"branchPrefix": "feat/"}})
    api.area(Workspaces).update_workspace(
        key("svc"), WEB, {"gitConfig": {"requiresPR": True}, "maxConcurrentTasks": 2.7}
    )
    web = api.store.get("workspaces", WEB)
    assert web["gitConfig"] == {"branchPrefix": "feat/", "requiresPR": True} and web["maxConcurrentTasks"] == 2


def test_update_moving_to_a_team_the_caller_is_not_in_is_403(api, key, user):
    for principal in (user("ada"), key("svc")):
        with pytest.raises(Forbidden):
            api.area(Workspaces).update_workspace(principal, WEB, {"teamId": T2})


def test_delete_workspace_needs_team_owner(api, user):
    with pytest.raises(NotFound, match="Workspace not found"):
        api.area(Workspaces).delete_workspace(user("bob"), WEB)
    assert api.area(Workspaces).delete_workspace(user("ada"), WEB) == {"success": True}
    assert api.store.get("tasks", TASK_IDS["low"]) is None
    with pytest.raises(NotFound):
        api.area(Workspaces).get_workspace(user("ada"), WEB)


# -- links -----------------------------------------------------------------------------------------------------------


def test_link_of_an_account_from_another_team_is_404(api, user):
    with pytest.raises(NotFound, match="Account not found"):
        api.area(Workspaces).link_workspace_account(user("ada"), VAULT, {"accountId": ACCOUNT_IDS["globex-svc"]})


def test_link_upserts_and_gives_access_to_a_restricted_workspace(api, key, user):
    got = api.area(Workspaces).link_workspace_account(user("ada"), VAULT, {"accountId": ACCOUNT_IDS["admin"]})
    assert got == {
        "success": True,
        "accountId": ACCOUNT_IDS["admin"],
        "workspaceId": VAULT,
        "canClaim": True,
        "canCreate": False,
    }
    assert api.area(Tasks).get_task(key("admin"), TASK_IDS["vault-task"])["id"] == TASK_IDS["vault-task"]
    api.area(Workspaces).unlink_workspace_account(user("ada"), VAULT, ACCOUNT_IDS["admin"])
    with pytest.raises(NotFound):
        api.area(Tasks).get_task(key("admin"), TASK_IDS["vault-task"])


def test_unlink_without_account_id_is_400(api, user):
    with pytest.raises(BadRequest, match="accountId is required"):
        api.area(Workspaces).unlink_workspace_account(user("ada"), VAULT, None)


# -- by repo ---------------------------------------------------------------------------------------------------------


def test_by_repo_finds_a_workspace_in_reach(api, key):
    assert api.area(Workspaces).get_workspace_by_repo(key("svc"), "ACME/web")["workspace"]["id"] == WEB


def test_by_repo_hides_workspaces_of_other_teams(api, key):
    assert api.area(Workspaces).get_workspace_by_repo(key("svc"), "globex/app") == {"workspace": None}


def test_by_repo_without_repo_is_400(api, key):
    with pytest.raises(BadRequest, match="repo parameter required"):
        api.area(Workspaces).get_workspace_by_repo(key("svc"), "")


# -- schedules -------------------------------------------------------------------------------------------------------


TEMPLATE = {"title": "Update dependencies"}


def schedules(api, op, principal, workspace_id, schedule_id=None, body=None):
    """One schedule operation through the resource layer (the CRUD is the declared resource `schedule`)."""
    path = {"id": workspace_id, **({"scheduleId": schedule_id} if schedule_id else {})}
    return api.serve_resource(op, principal, path, {}, body)[1]


def test_create_schedule_computes_the_next_run(api, user):
    schedule = schedules(
        api,
        "createSchedule",
        user("ada"),
        WEB,
        body={"name": "nightly", "cronExpression": "0 3 * * *", "taskTemplate": TEMPLATE},
    )["schedule"]
    assert schedule["nextRunAt"] == at(17 * 60) and schedule["timezone"] == "UTC"
    assert schedule["enabled"] is True and schedule["maxConcurrentFromSchedule"] == 1
    assert schedules(api, "listSchedules", user("bob"), WEB)["schedules"] == [schedule]


def test_schedule_list_is_newest_first_as_the_real_route_orders_it(api, user):
    body = {"cronExpression": "0 3 * * *", "taskTemplate": TEMPLATE}
    first = schedules(api, "createSchedule", user("ada"), WEB, body={"name": "first", **body})["schedule"]
    api.clock.advance(60)
    second = schedules(api, "createSchedule", user("ada"), WEB, body={"name": "second", **body})["schedule"]
    listed = schedules(api, "listSchedules", user("ada"), WEB)["schedules"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]


def test_schedule_next_run_honours_its_timezone_and_weekdays(api, user):
    schedule = schedules(
        api,
        "createSchedule",
        user("ada"),
        WEB,
        body={
            "name": "weekly",
            "cronExpression": "30 9 * * mon",
            "timezone": "Europe/Berlin",
            "taskTemplate": TEMPLATE,
        },
    )["schedule"]
    assert schedule["nextRunAt"] == "2026-01-19T08:30:00.000Z"  # Monday 09:30 CET


def test_schedule_writes_need_a_session_or_an_admin_key(api, key):
    body = {"name": "n", "cronExpression": "*/5 * * * *", "taskTemplate": TEMPLATE}
    with pytest.raises(Forbidden):
        schedules(api, "createSchedule", key("svc"), WEB, body=body)
    created = schedules(api, "createSchedule", key("admin"), WEB, body=body)["schedule"]
    with pytest.raises(Forbidden):
        schedules(api, "updateSchedule", key("svc"), WEB, created["id"], body={"enabled": False})
    with pytest.raises(Forbidden):
        schedules(api, "deleteSchedule", key("svc"), WEB, created["id"])
    assert schedules(api, "listSchedules", key("svc"), WEB)["schedules"][0] == created  # refused: nothing changed


@pytest.mark.parametrize("cron", ["61 * * * *", "* * * * * *", "a b c d e", "5-1 * * * *"])
def test_schedule_with_an_invalid_cron_expression_is_400(raw_api, user, cron):
    with pytest.raises(BadRequest):
        schedules(
            raw_api,
            "createSchedule",
            user("ada"),
            WEB,
            body={"name": "n", "cronExpression": cron, "taskTemplate": TEMPLATE},
        )


def test_schedule_with_an_unknown_timezone_is_400(api, user):
    with pytest.raises(BadRequest, match="Invalid timezone"):
        schedules(
            api,
            "createSchedule",
            user("ada"),
            WEB,
            body={"name": "n", "cronExpression": "0 * * * *", "timezone": "Mars/Base", "taskTemplate": TEMPLATE},
        )


def test_schedule_update_and_delete(api, user):
    created = schedules(
        api,
        "createSchedule",
        user("ada"),
        WEB,
        body={"name": "n", "cronExpression": "0 * * * *", "taskTemplate": TEMPLATE},
    )["schedule"]
    updated = schedules(api, "updateSchedule", user("ada"), WEB, created["id"], body={"enabled": False})["schedule"]
    assert updated["enabled"] is False and updated["nextRunAt"] is None
    assert schedules(api, "deleteSchedule", user("ada"), WEB, created["id"]) == {"success": True}
    with pytest.raises(NotFound, match="Schedule not found"):
        schedules(api, "getSchedule", user("ada"), WEB, created["id"])


def test_schedule_of_another_workspace_is_not_found_under_this_one(api, user):
    created = schedules(
        api,
        "createSchedule",
        user("ada"),
        WEB,
        body={"name": "n", "cronExpression": "0 * * * *", "taskTemplate": TEMPLATE},
    )["schedule"]
    with pytest.raises(NotFound, match="Schedule not found"):
        schedules(api, "getSchedule", user("ada"), EMPTY, created["id"])
    with pytest.raises(DomainError, match="Workspace not found") as outside:
        schedules(api, "getSchedule", user("eve"), WEB, created["id"])
    assert outside.value.status == 404
    with pytest.raises(NotFound, match="Schedule not found"):
        schedules(api, "getSchedule", user("ada"), WEB, uid(404))
