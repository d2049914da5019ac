"""Workspace memory over HTTP: what is written is found again by its words, within its team and project only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Auth = Callable[[str], dict[str, str]]


def _save(client: Any, auth: dict[str, str], ws: str, **fields: Any) -> dict[str, Any]:
    body = {"type": "gotcha", "title": "t", "content": "c", **fields}
    response = client.post(f"/api/workspaces/{ws}/memory", headers=auth, json=body)
    assert response.status_code == 201, response.text
    payload: dict[str, Any] = response.json()
    assert payload["memory"] == payload["observation"]
    return payload["memory"]  # type: ignore[no-any-return]


def test_a_saved_memory_is_found_by_any_of_its_words_best_match_first(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-laptop"), workspace_ids["acme-web"]
    loop = _save(client, auth, ws, title="Login redirect loop", content="Clear stale cookies first.", tags=["auth"])
    other = _save(client, auth, ws, title="Redirect after logout", content="Goes to /signin.")
    found = client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"query": "Fix login redirect loop"}).json()
    assert [m["id"] for m in found["memories"]] == [loop["id"], other["id"]]  # three words beat one
    assert found["total"] == 2
    by_tag = client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"search": "auth"}).json()
    assert [m["id"] for m in by_tag["memories"]] == [loop["id"]]
    none = client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"search": "kubernetes"}).json()
    assert none == {"memories": [], "total": 0}


def test_type_limit_and_offset_page_through_the_matches(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-laptop"), workspace_ids["acme-web"]
    # architecture and summary: types none of the world's seeded memories has
    ids = [_save(client, auth, ws, type="architecture", title=f"layer {i}")["id"] for i in range(3)]
    _save(client, auth, ws, type="summary", title="a summary")
    page = client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"type": "architecture", "limit": 2}).json()
    assert page["total"] == 3 and [m["id"] for m in page["memories"]] == ids[::-1][:2]  # newest first
    rest = client.get(
        f"/api/workspaces/{ws}/memory", headers=auth, params={"type": "architecture", "limit": 2, "offset": 2}
    ).json()
    assert [m["id"] for m in rest["memories"]] == [ids[0]]


def test_memories_belong_to_the_workspace_project_and_team(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    acme = key_auth("acme-laptop")
    saved = _save(client, acme, workspace_ids["acme-web"], title="only in web")
    assert saved["project"] == "acme/web"
    scratch = client.get(f"/api/workspaces/{workspace_ids['acme-scratch']}/memory", headers=acme).json()
    assert saved["id"] not in {m["id"] for m in scratch["memories"]}
    globex = key_auth("globex-admin")
    outside = client.get(f"/api/workspaces/{workspace_ids['acme-web']}/memory", headers=globex)
    assert outside.status_code == 404 and outside.json() == {"error": "Workspace not found"}
    own_ws = workspace_ids["globex-platform"]
    patched = client.patch(f"/api/workspaces/{own_ws}/memory/{saved['id']}", headers=globex, json={"title": "x"})
    assert patched.status_code == 404 and patched.json() == {"error": "Memory not found"}
    deleted = client.delete(f"/api/workspaces/{own_ws}/memory/{saved['id']}", headers=globex)
    assert deleted.status_code == 404


def test_update_and_delete_change_what_the_search_finds(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = session_auth("ada@acme.example"), workspace_ids["acme-web"]
    saved = _save(client, auth, ws, title="flaky test", concepts=["ci"])
    assert saved["tags"] == ["ci"] and saved["source"] == "dashboard"
    updated = client.patch(f"/api/workspaces/{ws}/memory/{saved['id']}", headers=auth, json={"title": "quarantined"})
    assert updated.status_code == 200 and updated.json()["memory"]["title"] == "quarantined"
    assert client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"search": "flaky"}).json()["total"] == 0
    assert client.delete(f"/api/workspaces/{ws}/memory/{saved['id']}", headers=auth).json() == {"success": True}
    left = client.get(f"/api/workspaces/{ws}/memory", headers=auth, params={"search": "quarantined"}).json()
    assert left["total"] == 0
    assert client.delete(f"/api/workspaces/{ws}/memory/{saved['id']}", headers=auth).status_code == 404


def test_a_memory_without_a_known_type_or_a_title_is_refused(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-laptop"), workspace_ids["acme-web"]
    seeded = client.get(f"/api/workspaces/{ws}/memory", headers=auth).json()["total"]
    for body in ({"type": "rumour", "title": "t", "content": "c"}, {"type": "gotcha", "content": "c"}):
        response = client.post(f"/api/workspaces/{ws}/memory", headers=auth, json=body)
        assert response.status_code == 400 and isinstance(response.json()["error"], str)
    assert client.get(f"/api/workspaces/{ws}/memory", headers=auth).json()["total"] == seeded


def test_quickstart_is_public_and_allows_three_a_client_an_hour(client: Any) -> None:
    first = client.post("/api/memory/quickstart", headers={"X-Forwarded-For": "203.0.113.5"})
    assert first.status_code == 200
    body = first.json()
    assert body["mcpConfig"]["mcpServers"]["memory"]["env"]["BUILDD_MEMORY_API_KEY"] == body["key"]
    for _ in range(2):
        assert client.post("/api/memory/quickstart", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
    limited = client.post("/api/memory/quickstart", headers={"X-Forwarded-For": "203.0.113.5, 10.0.0.1"})
    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate limit exceeded. Try again later.", "limit": 3, "current": 3}
    assert client.post("/api/memory/quickstart", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 200
    client.post("/__mock/clock", json={"advanceSeconds": 3601})
    assert client.post("/api/memory/quickstart", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
