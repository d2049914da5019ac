"""Routes the runner calls besides the worker protocol: version, match-repos, tasks cleanup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .conftest import claim_body

LAPTOP = "acme-laptop"


def test_version_is_public_and_fixed(client: Any) -> None:
    first, second = client.get("/api/version"), client.get("/api/version")
    assert first.status_code == 200
    assert first.json()["latestCommit"] == second.json()["latestCommit"]
    assert len(first.json()["latestCommit"]) == 40 and first.json()["latestTag"] is None


def test_match_repos_matches_by_normalised_remote_url(client: Any, key_auth: Any) -> None:
    auth = key_auth("acme-admin")
    workspace = next(ws for ws in client.get("/api/workspaces", headers=auth).json()["workspaces"] if ws.get("repo"))
    owner, name = workspace["repo"].split("/")
    repos = [
        {
            "path": "/w",
            "remoteUrl": f"https://github.com/{owner.upper()}/{name}.git",
            "owner": owner,
            "repo": name,
            "provider": None,
        },
        {
            "path": "/o",
            "remoteUrl": f"git@github.com:{owner}/elsewhere",
            "owner": owner,
            "repo": "elsewhere",
            "provider": "github",
        },
        {"path": "/x", "remoteUrl": None, "owner": None, "repo": None, "provider": None},
    ]
    response = client.post("/api/workspaces/match-repos", headers=auth, json={"repos": repos})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(m["path"], m["workspaceId"], m["workspaceName"]) for m in body["matched"]] == [
        ("/w", workspace["id"], workspace["name"])
    ]
    assert [r["path"] for r in body["unmatchedInOrg"]] == ["/o"] and body["unmatchedInOrg"][0]["inOrg"] is True
    assert [r["path"] for r in body["unmatchedExternal"]] == ["/x"]


def test_match_repos_never_matches_another_teams_workspace(client: Any, key_auth: Any, fixture_world: Any) -> None:
    acme_team = next(a["teamId"] for a in fixture_world["accounts"] if a["name"] == "acme-admin")
    other = next(ws for ws in fixture_world["workspaces"] if ws["teamId"] != acme_team and ws.get("repo"))
    response = client.post(
        "/api/workspaces/match-repos",
        headers=key_auth("acme-admin"),
        json={
            "repos": [
                {
                    "path": "/g",
                    "remoteUrl": f"https://github.com/{other['repo']}",
                    "owner": None,
                    "repo": None,
                    "provider": None,
                }
            ]
        },
    )
    assert response.json()["matched"] == []


def test_match_repos_without_an_array_is_400(client: Any, key_auth: Any) -> None:
    response = client.post("/api/workspaces/match-repos", headers=key_auth(LAPTOP), json={"repos": "web"})
    assert response.status_code == 400 and "error" in response.json()


def test_cleanup_needs_an_admin_key_or_a_session(client: Any, key_auth: Any) -> None:
    assert client.post("/api/tasks/cleanup").status_code == 401
    refused = client.post("/api/tasks/cleanup", headers=key_auth(LAPTOP))
    assert refused.status_code == 403 and "error" in refused.json()


def test_cleanup_fails_a_worker_silent_for_an_hour_and_requeues_its_task(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    (worker,) = client.post("/api/workers/claim", headers=auth, json=claim_body()).json()["workers"]
    client.patch(f"/api/workers/{worker['id']}", headers=auth, json={"status": "running"})
    # the mock's own sweep would fail it after 15 min: move the clock without sweeping
    client.app.state.mock.clock.advance(timedelta(hours=2).total_seconds())
    response = client.post("/api/tasks/cleanup", headers=key_auth("acme-admin"))
    assert response.status_code == 200, response.text
    assert response.json()["cleaned"]["stalledWorkers"] >= 1
    got = client.get(f"/api/workers/{worker['id']}", headers=auth).json()
    assert got["status"] == "failed" and got["task"]["status"] == "pending"


def test_workspace_config_reads_back_as_its_last_write_left_it(client: Any, key_auth: Any) -> None:
    auth = key_auth("acme-admin")
    workspace = client.get("/api/workspaces", headers=auth).json()["workspaces"][0]
    url = f"/api/workspaces/{workspace['id']}/config"
    saved = client.post(url, headers=auth, json={"requiresPR": True, "branchPrefix": "bot/", "unknown": 1})
    assert saved.status_code == 200, saved.text
    git = saved.json()["gitConfig"]
    assert git["requiresPR"] is True and git["branchPrefix"] == "bot/" and git["defaultBranch"] == "main"
    assert "unknown" not in git
    release = client.patch(url, headers=auth, json={"releaseConfig": {"enabled": True}})
    assert release.json() == {"success": True, "releaseConfig": {"enabled": True}}
    got = client.get(url, headers=auth).json()
    assert got == {"gitConfig": git, "configStatus": "admin_confirmed", "releaseConfig": {"enabled": True}}
    assert client.patch(url, headers=auth, json={}).status_code == 400
    assert client.patch(url, headers=auth, json={"releaseConfig": "on"}).status_code == 400


def test_another_teams_workspace_config_is_404(client: Any, key_auth: Any, fixture_world: Any) -> None:
    acme_team = next(a["teamId"] for a in fixture_world["accounts"] if a["name"] == "acme-admin")
    other = next(ws for ws in fixture_world["workspaces"] if ws["teamId"] != acme_team)
    response = client.get(f"/api/workspaces/{other['id']}/config", headers=key_auth("acme-admin"))
    assert (response.status_code, response.json()) == (404, {"error": "Workspace not found"})


def test_error_traces_read_back_what_append_error_traces_stored(client: Any, key_auth: Any) -> None:
    auth = key_auth(LAPTOP)
    (worker,) = client.post("/api/workers/claim", headers=auth, json=claim_body()).json()["workers"]
    traces = [
        {"pattern": "TypeError", "excerpt": "x is undefined", "source": "bash"},
        {"pattern": "p" * 150, "excerpt": "e"},
        {"pattern": 1, "excerpt": "skipped"},
    ]
    client.patch(f"/api/workers/{worker['id']}", headers=auth, json={"appendErrorTraces": traces})
    got = client.get(f"/api/workers/{worker['id']}/error-traces", headers=auth)
    assert got.status_code == 200, got.text
    assert got.json()["count"] == 2
    assert {t["pattern"] for t in got.json()["traces"]} == {"TypeError", "p" * 100}
    by_task = client.get(f"/api/tasks/{worker['taskId']}/error-traces?limit=1", headers=auth).json()
    assert by_task["count"] == 1 and by_task["traces"][0]["workerId"] == worker["id"]


def test_another_accounts_worker_error_traces_are_403(client: Any, key_auth: Any) -> None:
    (worker,) = client.post("/api/workers/claim", headers=key_auth(LAPTOP), json=claim_body()).json()["workers"]
    response = client.get(f"/api/workers/{worker['id']}/error-traces", headers=key_auth("acme-ci"))
    assert response.status_code == 403 and "error" in response.json()
