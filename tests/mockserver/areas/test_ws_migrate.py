"""Moving a workspace to another team: the dry run, its token and acknowledgments, the move, the repair."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def migrating(fixture_world: dict[str, Any]) -> Iterator[Any]:
    """A strict mock where Alan is an admin of both Acme and Globex (in the default world he is an Acme member)."""
    from litestar.testing import TestClient

    from mockserver import MockSettings, create_app

    world = copy.deepcopy(fixture_world)
    alan = next(u["id"] for u in world["users"] if u["email"] == "alan@consulting.example")
    for membership in world["memberships"]:
        if membership["userId"] == alan:
            membership["role"] = "admin"
    with TestClient(create_app(MockSettings(strict=True), world=world)) as client:
        yield client


@pytest.fixture
def teams(fixture_world: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["id"] for t in fixture_world["teams"]}


def test_a_workspace_moves_after_a_dry_run_with_every_breakage_acknowledged(
    migrating: Any, session_auth: Auth, workspace_ids: dict[str, str], teams: dict[str, str]
) -> None:
    alan, ws = session_auth("alan@consulting.example"), workspace_ids["acme-api"]
    base = f"/api/workspaces/{ws}/migrate"
    dry = migrating.post(f"{base}/precheck", headers=alan, json={"destinationTeamId": teams["Globex"]})
    assert dry.status_code == 200, dry.text
    report, token = dry.json()["report"], dry.json()["dryRunToken"]
    assert report["precheck"]["status"] == "PASS" and report["requiredAcks"]  # acme-api has linked accounts
    body = {"destinationTeamId": teams["Globex"], "dryRunToken": token}
    unconfirmed = migrating.post(f"{base}/execute", headers=alan, json=body)
    assert unconfirmed.status_code == 400
    assert unconfirmed.json() == {"error": "unconfirmed_items", "missing": report["requiredAcks"]}
    forged = token[:-1] + ("1" if token.endswith("0") else "0")  # a different last hex digit, never the same token
    tampered = migrating.post(f"{base}/execute", headers=alan, json={**body, "dryRunToken": forged})
    assert tampered.status_code == 400 and tampered.json()["reason"] in ("tampered", "malformed")
    moved = migrating.post(f"{base}/execute", headers=alan, json={**body, "confirmedItems": report["requiredAcks"]})
    assert moved.status_code == 200, moved.text
    run = moved.json()
    assert (run["sourceTeamId"], run["destinationTeamId"]) == (teams["Acme"], teams["Globex"])
    assert [o["status"] for o in run["outcomes"]] == ["completed"] * 7
    grace = session_auth("grace@globex.example")
    assert migrating.get(f"/api/workspaces/{ws}", headers=grace).json()["workspace"]["teamId"] == teams["Globex"]
    assert migrating.get(f"/api/workspaces/{ws}", headers=session_auth("ada@acme.example")).status_code == 404
    assert migrating.get(f"/api/workspaces/{ws}/accounts", headers=grace).json()["accounts"] == []
    repaired = migrating.post(f"{base}/repair", headers=alan, json={"runId": run["runId"]})
    assert repaired.json() == {"ok": True, "runId": run["runId"], "alreadyComplete": True}
    unknown = migrating.post(f"{base}/repair", headers=alan, json={"runId": "no-such-run"})
    assert unknown.status_code == 404 and unknown.json() == {"error": "Migration run not found"}


def test_a_stale_token_is_refused_and_nothing_moves(
    migrating: Any, session_auth: Auth, workspace_ids: dict[str, str], teams: dict[str, str]
) -> None:
    alan, ws = session_auth("alan@consulting.example"), workspace_ids["acme-scratch"]
    dry = migrating.post(
        f"/api/workspaces/{ws}/migrate/precheck", headers=alan, json={"destinationTeamId": teams["Globex"]}
    ).json()
    migrating.post("/__mock/clock", json={"advanceSeconds": 301})
    body = {"destinationTeamId": teams["Globex"], "dryRunToken": dry["dryRunToken"], "confirmedItems": []}
    stale = migrating.post(f"/api/workspaces/{ws}/migrate/execute", headers=alan, json=body)
    assert stale.status_code == 400 and stale.json() == {"error": "invalid_token", "reason": "stale"}
    assert migrating.get(f"/api/workspaces/{ws}", headers=alan).json()["workspace"]["teamId"] == teams["Acme"]


def test_who_may_migrate(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str], teams: dict[str, str]
) -> None:
    url = f"/api/workspaces/{workspace_ids['acme-web']}/migrate/precheck"
    to_globex = {"destinationTeamId": teams["Globex"]}
    member = client.post(url, headers=session_auth("alan@consulting.example"), json=to_globex)  # Acme member
    assert member.status_code == 403
    assert client.post(url, headers=key_auth("acme-laptop"), json=to_globex).status_code == 403  # worker key
    admin_key = client.post(url, headers=key_auth("acme-admin"), json=to_globex)  # a key acts in one team only
    assert admin_key.status_code == 404 and admin_key.json() == {"error": "Destination team not found"}
    same = client.post(url, headers=session_auth("ada@acme.example"), json={"destinationTeamId": teams["Acme"]})
    assert same.status_code == 400 and same.json() == {"error": "same_team"}
    assert client.post(url, headers=session_auth("grace@globex.example"), json=to_globex).status_code == 404
