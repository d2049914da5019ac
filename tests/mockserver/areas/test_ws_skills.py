"""Workspace skills over HTTP: upsert by slug, admin-level keys or sessions only, scoped to their workspace."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

Auth = Callable[[str], dict[str, str]]


def test_a_create_with_a_used_slug_replaces_that_skill(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth, ws = key_auth("acme-admin"), workspace_ids["acme-web"]
    created = client.post(f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "UI Check!", "content": "# a"})
    assert created.status_code == 201
    skill = created.json()["skill"]
    assert (skill["slug"], skill["enabled"], skill["origin"], skill["model"]) == ("ui-check", True, "manual", "inherit")
    assert skill["contentHash"] == hashlib.sha256(b"# a").hexdigest()
    again = client.post(
        f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "UI check v2", "slug": "ui-check", "content": "# b"}
    )
    assert again.status_code == 200
    replaced = again.json()["skill"]
    assert replaced["id"] == skill["id"] and replaced["name"] == "UI check v2"
    assert replaced["contentHash"] == hashlib.sha256(b"# b").hexdigest()
    listed = client.get(f"/api/workspaces/{ws}/skills", headers=auth).json()["skills"]
    assert [s["id"] for s in listed if s["slug"] == "ui-check"] == [skill["id"]]


def test_a_bad_slug_or_a_missing_content_is_refused(client: Any, key_auth: Auth, workspace_ids: dict[str, str]) -> None:
    auth, ws = key_auth("acme-admin"), workspace_ids["acme-web"]
    before = client.get(f"/api/workspaces/{ws}/skills", headers=auth).json()
    for body in ({"name": "x", "slug": "Not_A_Slug", "content": "c"}, {"name": "x"}, {"name": "!!!", "content": "c"}):
        response = client.post(f"/api/workspaces/{ws}/skills", headers=auth, json=body)
        assert response.status_code == 400, body
    assert client.get(f"/api/workspaces/{ws}/skills", headers=auth).json() == before


def test_keys_below_admin_level_may_not_touch_skills(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    ws = workspace_ids["acme-web"]
    for name in ("acme-laptop", "acme-trigger"):
        listed = client.get(f"/api/workspaces/{ws}/skills?enabled=true", headers=key_auth(name))
        assert listed.status_code == 403 and isinstance(listed.json()["error"], str)
        made = client.post(f"/api/workspaces/{ws}/skills", headers=key_auth(name), json={"name": "x", "content": "c"})
        assert made.status_code == 403
    session = session_auth("katherine@acme.example")
    assert (
        client.post(f"/api/workspaces/{ws}/skills", headers=session, json={"name": "x", "content": "c"}).status_code
        == 201
    )


def test_filters_get_patch_and_delete(client: Any, key_auth: Auth, workspace_ids: dict[str, str]) -> None:
    auth, ws = key_auth("acme-admin"), workspace_ids["acme-web"]
    base = f"/api/workspaces/{ws}/skills"

    def ids(query: str) -> set[str]:
        return {s["id"] for s in client.get(f"{base}?{query}", headers=auth).json()["skills"]}

    seeded = {q: ids(q) for q in ("isRole=true", "enabled=false", "enabled=maybe")}  # the world's own skills
    role = client.post(
        f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "Planner", "content": "c", "isRole": True}
    ).json()["skill"]
    off = client.post(
        f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "Old", "content": "c", "enabled": False}
    ).json()["skill"]
    assert ids("isRole=true") - seeded["isRole=true"] == {role["id"]}
    assert ids("enabled=false") - seeded["enabled=false"] == {off["id"]}
    assert ids("enabled=maybe") == seeded["enabled=maybe"] | {role["id"], off["id"]}  # ignored, as the real route
    patched = client.patch(f"{base}/{off['id']}", headers=auth, json={"enabled": True, "content": "new", "slug": "x"})
    assert patched.status_code == 200
    assert patched.json()["skill"]["enabled"] is True and patched.json()["skill"]["slug"] == "old"
    assert client.get(f"{base}/{off['id']}", headers=auth).json()["skill"]["content"] == "new"
    assert client.delete(f"{base}/{off['id']}", headers=auth).json() == {"success": True}
    gone = client.get(f"{base}/{off['id']}", headers=auth)
    assert gone.status_code == 404 and gone.json() == {"error": "Skill not found"}


def test_a_skill_is_reached_only_through_its_own_workspace(
    client: Any, key_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    auth = key_auth("acme-admin")
    skill = client.post(
        f"/api/workspaces/{workspace_ids['acme-web']}/skills", headers=auth, json={"name": "x", "content": "c"}
    ).json()["skill"]
    elsewhere = client.get(f"/api/workspaces/{workspace_ids['acme-scratch']}/skills/{skill['id']}", headers=auth)
    assert elsewhere.status_code == 404 and elsewhere.json() == {"error": "Skill not found"}
    other_team = client.get(
        f"/api/workspaces/{workspace_ids['acme-web']}/skills/{skill['id']}", headers=key_auth("globex-admin")
    )
    assert other_team.status_code == 404 and other_team.json() == {"error": "Workspace not found"}


def test_skills_and_roles_are_one_table_told_apart_by_is_role(
    client: Any, key_auth: Auth, session_auth: Auth, workspace_ids: dict[str, str]
) -> None:
    """As the real `workspace_skills`: a workspace skill with `isRole` is a role; one without is not."""
    auth, ws = key_auth("acme-admin"), workspace_ids["acme-web"]
    role = client.post(
        f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "Release Captain", "content": "c", "isRole": True}
    ).json()["skill"]
    plain = client.post(f"/api/workspaces/{ws}/skills", headers=auth, json={"name": "Lint Fixer", "content": "c"})
    slugs = {r["slug"] for r in client.get("/api/roles", headers=auth).json()["roles"]}
    assert "release-captain" in slugs and "lint-fixer" not in slugs
    session = session_auth("ada@acme.example")
    assert client.get(f"/api/roles/{role['id']}", headers=session).json()["skill"]["id"] == role["id"]
    assert client.get(f"/api/roles/{plain.json()['skill']['id']}", headers=session).status_code == 200
    team_role = client.post("/api/roles", json={"name": "Gatekeeper", "content": "g"}, headers=session).json()["skill"]
    listed = client.get(f"/api/workspaces/{ws}/skills", headers=auth).json()["skills"]
    assert team_role["id"] not in {s["id"] for s in listed}  # team level: no workspace row
