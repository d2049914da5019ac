"""Area `ops`, platform: the runner proxy, the budget forecast, releases on a simulated repository, the QA judge and
the codebase-map metrics, over HTTP against the strict mock."""

from __future__ import annotations

from typing import Any

from tests.mockserver.areas.ops_helpers import claimed_task, workspace_id


def heartbeat_of(world: dict[str, Any], account_name: str) -> str:
    account = next(a for a in world["accounts"] if a["name"] == account_name)
    return str(next(b["id"] for b in world["heartbeats"] if b["accountId"] == account["id"]))


def test_the_runner_proxy_answers_for_runners_of_the_callers_teams(
    client: Any, session_auth: Any, fixture_world: Any
) -> None:
    beat = heartbeat_of(fixture_world, "acme-ci")
    url = f"/api/runners/{beat}/proxy"

    claims = client.get(url, params={"path": "debug/claims"}, headers=session_auth("ada@acme.example")).json()
    stats = client.get(url, params={"path": "history/stats"}, headers=session_auth("ada@acme.example")).json()

    assert claims["capacity"] == claims["maxConcurrentWorkers"] - len(claims["activeWorkers"])
    assert stats["total"] >= stats["completed"] + stats["failed"]
    assert client.get(url, params={"path": "doctor"}, headers=session_auth("grace@globex.example")).status_code == 403
    assert client.get(url, params={"path": "secrets"}, headers=session_auth("ada@acme.example")).status_code == 400
    missing = client.get(
        "/api/runners/00000000-0000-4000-8000-000000000000/proxy",
        params={"path": "doctor"},
        headers=session_auth("ada@acme.example"),
    )
    assert (missing.status_code, missing.json()) == (404, {"error": "Runner not found"})


def test_the_budget_forecast_follows_the_teams_spend(client: Any, key_auth: Any, fixture_world: Any) -> None:
    before = client.get("/api/health/budget", headers=key_auth("acme-admin")).json()["forecast"]
    ws = workspace_id(fixture_world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    client.patch(f"/api/workers/{worker_id}", json={"costUsd": 12.5}, headers=key_auth("acme-ci"))

    after = client.get("/api/health/budget", headers=key_auth("acme-admin")).json()["forecast"]

    assert before["monthly"]["budgetUsd"] == 500
    assert round(after["monthly"]["spentUsd"] - before["monthly"]["spentUsd"], 4) == 12.5
    assert [s["accountName"] for s in after["oauthSessions"]] == ["acme-oauth"]
    globex = client.get("/api/health/budget", headers=key_auth("globex-admin")).json()["forecast"]
    assert globex["monthly"] is None and globex["oauthSessions"] == []


def test_the_budget_forecast_checks_its_workspace(client: Any, key_auth: Any, fixture_world: Any) -> None:
    bad = client.get("/api/health/budget", params={"workspaceId": "acme-web"}, headers=key_auth("acme-admin"))
    foreign = client.get(
        "/api/health/budget",
        params={"workspaceId": workspace_id(fixture_world, "globex-platform")},
        headers=key_auth("acme-admin"),
    )
    assert bad.status_code == 400 and bad.json()["error"].startswith("workspaceId")
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Workspace not found"})


def configure_release(client: Any, key_auth: Any, ws: str, **config: Any) -> None:
    saved = client.patch(f"/api/workspaces/{ws}/config", json={"releaseConfig": config}, headers=key_auth("acme-admin"))
    assert saved.status_code == 200, saved.text


def test_a_release_ships_what_completed_since_the_last_one(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-web")
    configure_release(
        client, key_auth, ws, enabled=True, strategy="workflow_dispatch", workflowFile="release.yml", ref="main",
        prodBranch="production",
    )  # fmt: skip
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    client.patch(
        f"/api/workers/{worker_id}", json={"status": "completed", "commitCount": 2, "lastCommitSha": "abc1234"},
        headers=key_auth("acme-ci"),
    )  # fmt: skip
    status = client.get("/api/releases/status", params={"workspaceId": ws}, headers=key_auth("acme-admin")).json()
    assert {"sha": "abc1234", "message": "ops test task"} in status["shippableCommits"]
    assert status["aheadBy"] == len(status["shippableCommits"]) and status["strategy"] == "workflow_dispatch"

    first = client.post("/api/releases/trigger", json={"workspaceId": ws}, headers=key_auth("acme-admin")).json()
    after = client.get("/api/releases/status", params={"repo": "acme/web"}, headers=key_auth("acme-admin")).json()
    second = client.post("/api/releases/trigger", json={"workspaceId": ws}, headers=key_auth("acme-admin")).json()

    assert (first["workflowFile"], first["ref"], first["dispatched"]) == ("release.yml", "main", True)
    assert second["runId"] == first["runId"] + 1
    assert after["aheadBy"] == 0


def test_release_refusals(client: Any, key_auth: Any, session_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-web")
    trigger = {"workspaceId": ws}
    none = client.post("/api/releases/trigger", json=trigger, headers=key_auth("acme-admin"))
    assert (none.status_code, none.json()["ok"]) == (422, False)
    same = client.get("/api/releases/status", params={"workspaceId": ws}, headers=session_auth("ada@acme.example"))
    assert same.status_code == 422  # ref and prodBranch are both the default branch
    configure_release(client, key_auth, ws, enabled=False, strategy="workflow_dispatch")
    assert client.post("/api/releases/trigger", json=trigger, headers=key_auth("acme-admin")).status_code == 409
    configure_release(client, key_auth, ws, enabled=True, strategy="branch_merge", prodBranch="prod")
    assert client.post("/api/releases/trigger", json=trigger, headers=key_auth("acme-admin")).status_code == 422
    assert client.post("/api/releases/trigger", json=trigger, headers=key_auth("acme-ci")).status_code == 403
    assert client.post("/api/releases/trigger", json={}, headers=key_auth("acme-admin")).status_code == 400
    scratch = {"workspaceId": workspace_id(fixture_world, "acme-scratch")}  # no repo
    assert client.post("/api/releases/trigger", json=scratch, headers=key_auth("acme-admin")).status_code == 400


def test_the_qa_judge_is_deterministic(client: Any, key_auth: Any) -> None:
    route = {
        "id": "tasks",
        "title": "Tasks",
        "expectations": [{"id": "a", "desc": "New task"}, {"id": "b", "desc": "Export"}],
    }
    judged = client.post(
        "/api/qa/judge", json={"route": route, "capture": {"url": "/app/tasks", "a11yText": 'button "New task"'}},
        headers=key_auth("acme-ci"),
    )  # fmt: skip
    skipped = client.post(
        "/api/qa/judge", json={"route": route, "capture": {"url": "/x", "skipped": True}}, headers=key_auth("acme-ci")
    )
    assert judged.json()["overallVerdict"] == "PARTIAL"
    assert [e["verdict"] for e in judged.json()["expectations"]] == ["MATCHES-SPEC", "DOCUMENTED-NOT-BUILT"]
    assert skipped.json()["overallVerdict"] == "SKIPPED"
    assert client.post("/api/qa/judge", json={"route": route}, headers=key_auth("acme-ci")).status_code == 400


def test_cbm_metrics_aggregate_what_workers_reported(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    reports = [
        {"outcome": "enforced", "readCount": 2, "grepCount": 1, "globCount": 1, "toolCalls": {"search": 4}},
        {
            "outcome": "disabled",
            "readCount": 8,
            "grepCount": 2,
            "globCount": 0,
            "disableReason": "no_index",
            "toolCalls": {},
        },
    ]
    for cbm in reports:
        _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
        done = client.patch(
            f"/api/workers/{worker_id}", json={"status": "completed", "inputTokens": 1000, "resultMeta": {"cbm": cbm}},
            headers=key_auth("acme-ci"),
        )  # fmt: skip
        assert done.status_code == 200

    metrics = client.get("/api/cbm/metrics", params={"window": "24h"}, headers=key_auth("acme-admin")).json()

    assert (metrics["totalTracked"], metrics["fallbackRate"]) == (2, 0.5)
    assert metrics["cbmActive"]["avgFileAccessCalls"] == 4 and metrics["cbmDisabled"]["disableReasons"] == {
        "no_index": 1
    }
    assert metrics["specTargets"]["fileAccessDeltaPct"] == -0.6
    assert client.get("/api/cbm/metrics", headers=key_auth("acme-ci")).status_code == 403


def test_cbm_windows_are_bounded_and_unknown_ones_count_as_a_week(client: Any, key_auth: Any) -> None:
    huge = client.get("/api/cbm/metrics", params={"window": "999999999d"}, headers=key_auth("acme-admin"))
    odd = client.get("/api/cbm/metrics", params={"window": "fortnight"}, headers=key_auth("acme-admin"))
    assert huge.status_code == 200 and huge.json()["windowStart"] < "2017"
    assert odd.json()["windowStart"].startswith("2026-01-08")


def test_a_release_config_with_an_unknown_strategy_is_unconfigured(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-web")
    configure_release(client, key_auth, ws, enabled=True, strategy="carrier-pigeon", prodBranch="prod", inputs={"n": 1})
    status = client.get("/api/releases/status", params={"workspaceId": ws}, headers=key_auth("acme-admin"))
    trigger = client.post("/api/releases/trigger", json={"workspaceId": ws}, headers=key_auth("acme-admin"))
    assert (status.status_code, status.json()["strategy"], status.json()["configured"]) == (200, None, False)
    assert (trigger.status_code, trigger.json()["error"]) == (422, "Unknown release strategy: carrier-pigeon")
