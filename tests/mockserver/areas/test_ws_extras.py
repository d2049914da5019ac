"""Workspace extras over HTTP: artifacts by workspace, settings, projects, runners, knowledge health, releases,
repo creation, migration slots, cron previews and schedule suggestions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Auth = Callable[[str], dict[str, str]]


def test_workspace_artifacts_filter_by_key_and_clamp_the_limit(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-admin"), workspace_ids["acme-web"]
    everything = client.get(f"/api/workspaces/{ws}/artifacts", headers=auth, params={"limit": 500}).json()["artifacts"]
    assert everything and all(a["workspaceId"] == ws for a in everything)
    stamps = [a["updatedAt"] for a in everything]
    assert stamps == sorted(stamps, reverse=True)
    one = client.get(f"/api/workspaces/{ws}/artifacts", headers=auth, params={"limit": 0}).json()["artifacts"]
    assert len(one) == 1
    key = next(a["key"] for a in everything if a["key"])
    keyed = client.get(f"/api/workspaces/{ws}/artifacts", headers=auth, params={"key": key}).json()["artifacts"]
    assert keyed and {a["key"] for a in keyed} == {key}
    assert client.get(f"/api/workspaces/{ws}/artifacts", headers=auth, params={"missionId": "m1"}).json() == {
        "artifacts": []
    }


def test_settings_refuse_a_tracker_the_workspace_cannot_use_and_clear_with_null(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    # acme-scratch has no GitHub installation linked (acme-web and acme-api do: fixtures/_know.py)
    auth, url = key_auth("acme-admin"), f"/api/workspaces/{workspace_ids['acme-scratch']}/settings"
    github = client.patch(url, headers=auth, json={"workTrackerConfig": {"provider": "github"}})
    assert github.status_code == 400 and github.json() == {"error": "github_app_not_installed"}
    linear = client.patch(url, headers=auth, json={"workTrackerConfig": {"provider": "linear", "connectorId": "c1"}})
    assert linear.status_code == 403
    no_connector = client.patch(url, headers=auth, json={"workTrackerConfig": {"provider": "linear"}})
    assert no_connector.status_code == 400
    assert client.patch(url, headers=auth, json={}).status_code == 400
    cleared = client.patch(url, headers=auth, json={"workTrackerConfig": None})
    assert cleared.json() == {"success": True, "workTrackerConfig": None}
    assert client.get(url, headers=auth).json() == {"workTrackerConfig": None}


def test_projects_upsert_by_name_and_replace_keeping_only_known_fields(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, url = key_auth("acme-laptop"), f"/api/workspaces/{workspace_ids['acme-web']}/projects"
    before = client.get(url, headers=auth).json()["projects"]
    added = client.post(url, headers=auth, json={"name": "mobile", "path": "apps/mobile", "owner": "x"})
    assert added.status_code == 201
    assert added.json()["project"] == {"name": "mobile", "path": "apps/mobile"}
    replaced = client.post(url, headers=auth, json={"name": "mobile", "color": "#fff"})
    assert replaced.status_code == 200
    assert replaced.json()["projects"] == [*before, {"name": "mobile", "color": "#fff"}]
    refused = client.put(url, headers=auth, json={"projects": [{"name": "ok"}, {"path": "no-name"}]})
    assert refused.status_code == 400
    assert client.get(url, headers=auth).json()["projects"] == [*before, {"name": "mobile", "color": "#fff"}]
    assert client.put(url, headers=auth, json={"projects": []}).json() == {"projects": []}


def test_runners_are_for_sessions_and_list_only_the_workspace_teams_beating_accounts(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    url = f"/api/workspaces/{workspace_ids['acme-scratch']}/runners"
    assert client.get(url, headers=key_auth("acme-admin")).status_code == 401
    runners = client.get(url, headers=session_auth("ada@acme.example")).json()["runners"]
    acme = next(t["id"] for t in fixture_world["teams"] if t["name"] == "Acme")
    team_accounts = {a["id"] for a in fixture_world["accounts"] if a["teamId"] == acme}
    assert runners and {r["accountId"] for r in runners} <= team_accounts
    order = [(r["status"] != "online", -r["capacity"]) for r in runners]
    assert order == sorted(order)
    client.post("/__mock/clock", json={"advanceSeconds": 151 * 60})
    assert client.get(url, headers=session_auth("ada@acme.example")).json() == {"runners": []}


def test_knowledge_health_counts_the_workspace_memories(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-laptop"), workspace_ids["acme-web"]
    before = client.get(f"/api/workspaces/{ws}/knowledge-health", headers=auth).json()["health"]
    seeded = len(client.get(f"/api/workspaces/{ws}/memory", headers=auth).json()["memories"])  # the world's own
    assert seeded > 0 and before["freshness"] == "no-index"
    assert before["corpora"] == [{"corpus": "memory", "currentChunks": seeded}]
    client.post(f"/api/workspaces/{ws}/memory", headers=auth, json={"type": "pattern", "title": "t", "content": "c"})
    health = client.get(f"/api/workspaces/{ws}/knowledge-health", headers=auth).json()["health"]
    assert health["corpora"] == [{"corpus": "memory", "currentChunks": seeded + 1}]
    assert health["totalCurrentChunks"] == seeded + 1


def test_last_release_is_empty_without_released_tasks(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    got = client.get(f"/api/workspaces/{workspace_ids['acme-web']}/last-release", headers=key_auth("acme-admin"))
    assert got.json() == {"lastRelease": None, "recentReleases": []}


def test_create_repo_links_the_new_repo_and_refuses_a_taken_name(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth = key_auth("acme-admin")
    made = client.post(
        f"/api/workspaces/{workspace_ids['acme-scratch']}/create-repo", headers=auth, json={"name": "landing"}
    )
    assert made.json() == {"repoUrl": "https://github.com/acme/landing", "fullName": "acme/landing"}
    detail = client.get(f"/api/workspaces/{workspace_ids['acme-scratch']}", headers=session_auth("ada@acme.example"))
    assert detail.json()["workspace"]["repo"] == "acme/landing"
    url = f"/api/workspaces/{workspace_ids['acme-scratch']}/create-repo"
    taken = client.post(url, headers=auth, json={"name": "web"})  # acme-web's repo
    assert taken.status_code == 422 and taken.json() == {"error": "Repository acme/web already exists"}
    assert (
        client.get(f"/api/workspaces/{workspace_ids['acme-scratch']}", headers=session_auth("ada@acme.example")).json()[
            "workspace"
        ]["repo"]
        == "acme/landing"
    )
    other = client.post(
        f"/api/workspaces/{workspace_ids['acme-web']}/create-repo", headers=key_auth("globex-admin"), json={"name": "x"}
    )
    assert other.status_code == 404  # the real route skips this check for keys (deviations.md)


def test_migration_slots_only_go_up(client: Any, key_auth: Auth, workspace_ids: dict[str, str]) -> None:
    auth, url = key_auth("acme-ci"), f"/api/workspaces/{workspace_ids['acme-web']}/migration-slot"
    assert client.post(url, headers=auth).json() == {"nextNumber": 1, "formatted": "0001"}
    assert client.post(url, headers=auth, json={"currentMax": 105.7}).json() == {"nextNumber": 106, "formatted": "0106"}
    assert client.post(url, headers=auth, json={"currentMax": 3}).json()["nextNumber"] == 107
    assert client.post(url, headers=key_auth("globex-admin")).status_code == 404


def test_cron_preview(client: Any, session_auth: Auth, workspace_ids: dict[str, str]) -> None:
    auth, url = session_auth("ada@acme.example"), f"/api/workspaces/{workspace_ids['acme-web']}/schedules/validate"
    ok = client.get(url, headers=auth, params={"cron": "0 3 * * *", "timezone": "Europe/Paris"}).json()
    assert ok["valid"] is True and ok["description"] == "Every day at 03:00" and len(ok["nextRuns"]) == 3
    assert all(run.endswith("3:00 AM") for run in ok["nextRuns"])
    bad = client.get(url, headers=auth, params={"cron": "61 * * * *"}).json()
    assert bad["valid"] is False and "minute" in bad["description"]
    assert client.get(url, headers=auth).json() == {"valid": False, "description": "No expression provided"}


@pytest.fixture
def schedule_url(client: Any, key_auth: Auth, workspace_ids: dict[str, str]) -> str:
    ws = workspace_ids["acme-web"]
    schedules = client.get(f"/api/workspaces/{ws}/schedules", headers=key_auth("acme-admin")).json()["schedules"]
    return f"/api/workspaces/{ws}/schedules/{schedules[0]['id']}"


def test_a_suggestion_is_made_by_any_key_and_applied_by_an_admin(
    client: Any, key_auth: Auth, schedule_url: str
) -> None:
    worker, admin = key_auth("acme-laptop"), key_auth("acme-admin")
    made = client.post(
        f"{schedule_url}/suggestion", headers=worker, json={"reason": "weekdays only", "cronExpression": "0 3 * * 1-5"}
    )
    assert made.status_code == 200
    assert made.json()["schedule"]["pendingSuggestion"] == made.json()["suggestion"]
    again = client.post(f"{schedule_url}/suggestion", headers=worker, json={"reason": "r", "enabled": False})
    assert again.status_code == 409
    assert client.patch(f"{schedule_url}/suggestion", headers=worker).status_code == 403
    applied = client.patch(f"{schedule_url}/suggestion", headers=admin)
    assert applied.status_code == 200
    schedule = applied.json()["schedule"]
    assert schedule["cronExpression"] == "0 3 * * 1-5" and schedule["pendingSuggestion"] is None
    gone = client.patch(f"{schedule_url}/suggestion", headers=admin)
    assert gone.status_code == 404 and gone.json() == {"error": "Suggestion not found"}


def test_a_dismissed_suggestion_changes_nothing_else(client: Any, key_auth: Auth, schedule_url: str) -> None:
    admin = key_auth("acme-admin")
    before = client.get(schedule_url, headers=admin).json()["schedule"]
    client.post(f"{schedule_url}/suggestion", headers=admin, json={"reason": "pause it", "enabled": False})
    dismissed = client.delete(f"{schedule_url}/suggestion", headers=admin).json()["schedule"]
    assert dismissed["enabled"] == before["enabled"] and dismissed["pendingSuggestion"] is None
    assert client.delete(f"{schedule_url}/suggestion", headers=admin).status_code == 404


def test_a_suggestion_needs_a_reason_and_a_valid_change(client: Any, key_auth: Auth, schedule_url: str) -> None:
    auth = key_auth("acme-laptop")
    for body in ({"cronExpression": "0 3 * * *"}, {"reason": "r"}, {"reason": "r", "cronExpression": "99 3 * * *"}):
        assert client.post(f"{schedule_url}/suggestion", headers=auth, json=body).status_code == 400, body
    assert client.get(schedule_url, headers=auth).json()["schedule"].get("pendingSuggestion") is None
