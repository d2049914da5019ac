"""Knowledge ingest jobs (a queue with claim semantics) and watched projects, over HTTP on the strict mock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

Auth = Callable[[str], dict[str, str]]


def _workspace(world: dict[str, Any], name: str) -> str:
    return str(next(ws["id"] for ws in world["workspaces"] if ws["name"] == name))


@pytest.fixture
def web(fixture_world: dict[str, Any]) -> str:
    return _workspace(fixture_world, "acme-web")  # linked to the fixture installation's acme/web


def _enqueue(client: TestClient[Litestar], auth: dict[str, str], workspace: str) -> dict[str, Any]:
    created = client.post(
        "/api/knowledge/ingest-jobs", json={"workspaceId": workspace, "trigger": "backfill"}, headers=auth
    )
    assert created.status_code == 201, created.text
    return dict(created.json()["job"])


# -- the queue ------------------------------------------------------------------------------------------------------


def test_a_job_is_queued_once_claimed_once_and_completed_once(
    client: TestClient[Litestar], key_auth: Auth, web: str
) -> None:
    ci = key_auth("acme-ci")
    job = _enqueue(client, ci, web)
    assert (job["repo"], job["scope"], job["status"], job["trigger"]) == ("acme/web", "full", "queued", "backfill")
    again = client.post("/api/knowledge/ingest-jobs", json={"workspaceId": web}, headers=ci)
    assert (again.status_code, again.json()) == (200, {"job": None, "reason": "already_queued"})

    claimed = client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["ACME/Web"]}, headers=ci).json()["job"]
    assert (claimed["id"], claimed["status"]) == (job["id"], "running") and claimed["startedAt"]
    # a claimed job is not claimed twice, by this runner or another
    assert client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["acme/web"]}, headers=ci).json() == {
        "job": None
    }
    laptop = key_auth("acme-laptop")
    assert client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["acme/web"]}, headers=laptop).json() == {
        "job": None
    }

    done = client.post(
        f"/api/knowledge/ingest-jobs/{job['id']}/complete", json={"status": "done", "stats": {"n": 1}}, headers=ci
    )
    assert (
        done.status_code == 200 and done.json()["job"]["status"] == "done" and done.json()["job"]["stats"] == {"n": 1}
    )
    twice = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/complete", json={"status": "done"}, headers=ci)
    assert (twice.status_code, twice.json()) == (409, {"error": "Job is done, expected running"})
    # finished: a new full job may be queued
    assert _enqueue(client, ci, web)["id"] != job["id"]


def test_claim_offers_only_the_repos_the_runner_holds(client: TestClient[Litestar], key_auth: Auth, web: str) -> None:
    ci = key_auth("acme-ci")
    _enqueue(client, ci, web)
    assert client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["acme/api"]}, headers=ci).json() == {
        "job": None
    }
    empty = client.post("/api/knowledge/ingest-jobs/claim", json={"repos": []}, headers=ci)
    assert empty.status_code == 400


def test_another_team_can_neither_claim_nor_touch_a_job(client: TestClient[Litestar], key_auth: Auth, web: str) -> None:
    job = _enqueue(client, key_auth("acme-ci"), web)
    globex = key_auth("globex-ci")
    assert client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["acme/web"]}, headers=globex).json() == {
        "job": None
    }
    refused = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/complete", json={"status": "error"}, headers=globex)
    assert (refused.status_code, refused.json()) == (404, {"error": "Ingest job not found"})
    enqueue = client.post("/api/knowledge/ingest-jobs", json={"workspaceId": web}, headers=globex)
    assert (enqueue.status_code, enqueue.json()) == (404, {"error": "Workspace not found"})


def test_levels_and_links_are_enforced(
    client: TestClient[Litestar], key_auth: Auth, fixture_world: dict[str, Any]
) -> None:
    listing = client.get("/api/knowledge/ingest-jobs", headers=key_auth("acme-ci"))
    assert (listing.status_code, listing.json()) == (403, {"error": "Admin-level API key required"})
    assert client.get("/api/knowledge/ingest-jobs", headers=key_auth("acme-admin")).status_code == 200
    scratch = _workspace(fixture_world, "acme-scratch")  # no GitHub repo
    unlinked = client.post("/api/knowledge/ingest-jobs", json={"workspaceId": scratch}, headers=key_auth("acme-admin"))
    assert unlinked.status_code == 422
    assert unlinked.json() == {"error": "Workspace has no linked GitHub repo", "job": None, "reason": "no_github_repo"}


def test_files_and_graph_need_a_running_job(client: TestClient[Litestar], key_auth: Auth, web: str) -> None:
    ci = key_auth("acme-ci")
    job = _enqueue(client, ci, web)
    files = {"files": [{"path": "src/a.ts", "content": "x" * 4500, "fileHash": "h1"}]}
    early = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/files", json=files, headers=ci)
    assert (early.status_code, early.json()) == (409, {"error": "Job is queued, expected running"})
    client.post("/api/knowledge/ingest-jobs/claim", json={"repos": ["acme/web"]}, headers=ci)

    batch = {**files, "files": [*files["files"], {"path": "node_modules/x/index.js", "content": "y"}]}
    first = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/files", json=batch, headers=ci).json()
    assert first == {
        "filesIngested": 1,
        "chunksUpserted": 3,
        "filesSkipped": 1,
        "filesDeleted": 0,
        "skippedUnchanged": 0,
    }
    second = client.post(
        f"/api/knowledge/ingest-jobs/{job['id']}/files", json={**files, "deletions": ["src/a.ts"]}, headers=ci
    ).json()
    assert (second["filesDeleted"], second["filesIngested"]) == (1, 1)  # deleted, then ingested again

    too_many = {"files": [{"path": f"f{i}.ts", "content": "a"} for i in range(65)]}
    big = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/files", json=too_many, headers=ci)
    assert (big.status_code, big.json()) == (413, {"error": "files exceeds 64 per batch"})

    graph = {
        "entities": [
            {"kind": "fn", "key": "a", "canonicalName": "a"},
            {"kind": "fn", "key": "b", "canonicalName": "b"},
        ],
        "edges": [
            {
                "fromEntityKind": "fn",
                "fromEntityKey": "a",
                "toEntityKind": "fn",
                "toEntityKey": "b",
                "type": "calls",
                "rule": "scip:call",
            },
            {
                "fromEntityKind": "fn",
                "fromEntityKey": "a",
                "toEntityKind": "fn",
                "toEntityKey": "zz",
                "type": "calls",
                "rule": "scip:call",
            },
        ],
        "aliases": [{"entityKind": "fn", "entityKey": "a", "alias": "alpha"}, "malformed"],
    }
    pushed = client.post(f"/api/knowledge/ingest-jobs/{job['id']}/graph", json=graph, headers=ci)
    assert pushed.json() == {"edges": 1, "aliases": 1}


def test_sessions_and_trigger_keys_are_refused(
    client: TestClient[Litestar], key_auth: Auth, session_auth: Auth, web: str
) -> None:
    offer = {"repos": ["acme/web"]}
    session = client.post("/api/knowledge/ingest-jobs/claim", json=offer, headers=session_auth("ada@acme.example"))
    assert (session.status_code, session.json()) == (401, {"error": "Unauthorized"})
    trigger = client.post("/api/knowledge/ingest-jobs/claim", json=offer, headers=key_auth("acme-trigger"))
    assert (trigger.status_code, trigger.json()) == (403, {"error": "Trigger tokens cannot claim ingest jobs"})
    enqueue = client.post("/api/knowledge/ingest-jobs", json={"workspaceId": web}, headers=key_auth("acme-trigger"))
    assert enqueue.status_code == 403


# -- watched projects -----------------------------------------------------------------------------------------------


def test_watched_project_lifecycle(client: TestClient[Litestar], key_auth: Auth, web: str) -> None:
    admin = key_auth("acme-admin")
    created = client.post(
        f"/api/workspaces/{web}/watched-projects",
        json={"repo": "acme/site", "releasePrFilter": {"label": "rel"}},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    project = created.json()["watchedProject"]
    assert (project["enabled"], project["inFlightWindowMin"], project["pushoverApp"], project["roleSlug"]) == (
        True,
        60,
        "alerts",
        "ops",
    )
    assert project["releasePrFilter"] == {"label": "rel", "base": "main"}

    duplicate = client.post(f"/api/workspaces/{web}/watched-projects", json={"repo": "acme/site"}, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["id"] == project["id"]
    bad = client.post(f"/api/workspaces/{web}/watched-projects", json={"repo": "no-slash"}, headers=admin)
    assert bad.status_code == 400

    path = f"/api/watched-projects/{project['id']}"
    assert client.patch(path, json={"unknown": 1}, headers=admin).status_code == 400  # nothing updatable
    assert client.patch(path, json={"enabled": False}, headers=admin).json()["watchedProject"]["enabled"] is False
    ran = client.post(f"{path}/run", headers=admin)
    assert ran.json() == {"ok": True, "fired": 0}
    assert client.get(path, headers=admin).json()["watchedProject"]["lastCheckedAt"] is not None
    other = client.get(path, headers=key_auth("globex-admin"))
    assert (other.status_code, other.json()) == (404, {"error": "Watched project not found"})
    assert client.delete(path, headers=key_auth("globex-admin")).status_code == 404
    assert client.delete(path, headers=admin).json() == {"ok": True}
    assert client.get(path, headers=admin).status_code == 404
