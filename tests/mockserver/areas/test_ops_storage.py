"""Area `ops`, files: upload URLs that point at the mock's own object store, downloads, share links and
attachments, over HTTP against the strict mock."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.mockserver.areas.ops_helpers import claimed_task, workspace_id


def local(url: str) -> str:
    """The path (and query) of a URL the mock handed out, for the in-process client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def uploaded(client: Any, key_auth: Any, world: dict[str, Any], content: bytes = b"hello") -> dict[str, Any]:
    ws = workspace_id(world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    ticket = client.post(
        "/api/artifacts/upload-url",
        json={"workerId": worker_id, "filename": "notes.txt", "mimeType": "text/plain", "sizeBytes": len(content)},
        headers=key_auth("acme-ci"),
    )
    assert ticket.status_code == 200, ticket.text
    put = client.put(local(ticket.json()["uploadUrl"]), content=content, headers={"Content-Type": "text/plain"})
    assert put.status_code == 200
    return dict(ticket.json())


def test_an_uploaded_file_downloads_back_for_the_team(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ticket = uploaded(client, key_auth, fixture_world)

    redirect = client.get(
        f"/api/artifacts/{ticket['artifactId']}/download", headers=key_auth("acme-admin"), follow_redirects=False
    )

    assert redirect.status_code == 302
    assert 'filename="notes.txt"' in redirect.headers["content-disposition"]
    served = client.get(local(redirect.headers["location"]))
    assert (served.status_code, served.content) == (200, b"hello")
    assert served.headers["content-type"].startswith("text/plain")
    artifact = client.get(f"/api/artifacts/{ticket['artifactId']}", headers=key_auth("acme-ci")).json()["artifact"]
    assert (artifact["type"], artifact["visibility"], artifact["storageKey"]) == (
        "file",
        "private",
        ticket["storageKey"],
    )


def test_downloads_need_credentials_of_the_team_or_the_share_token(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    ticket = uploaded(client, key_auth, fixture_world)
    url = f"/api/artifacts/{ticket['artifactId']}/download"

    assert client.get(url, follow_redirects=False).status_code == 401
    assert client.get(url, headers=key_auth("globex-admin"), follow_redirects=False).json() == {
        "error": "Artifact not found"
    }
    # the token works only once the artifact is shared
    assert client.get(local(ticket["downloadUrl"]), follow_redirects=False).json() == {"error": "Invalid token"}
    assert client.post(f"/api/artifacts/{ticket['artifactId']}/share", headers=key_auth("acme-ci")).status_code == 200
    assert client.get(local(ticket["downloadUrl"]), follow_redirects=False).status_code == 302
    assert client.get(f"{url}?token=not-the-token", follow_redirects=False).status_code == 403


def test_a_share_link_is_public_until_unshared(client: Any, key_auth: Any, fixture_world: Any) -> None:
    ticket = uploaded(client, key_auth, fixture_world)
    artifact_url = f"/api/artifacts/{ticket['artifactId']}/share"

    shared = client.post(artifact_url, headers=key_auth("acme-admin")).json()
    token = shared["shareUrl"].rsplit("/", 1)[1]
    public = client.get(f"/api/share/{token}")

    assert shared["shareUrl"] == ticket["shareUrl"]  # the token handed out with the upload URL
    assert public.status_code == 200
    assert public.json()["artifact"]["id"] == ticket["artifactId"]
    assert public.json()["task"]["title"] == "ops test task"
    assert client.delete(artifact_url, headers=key_auth("globex-admin")).json() == {"error": "Forbidden"}
    assert client.delete(artifact_url, headers=key_auth("acme-ci")).json() == {"ok": True}
    assert client.get(f"/api/share/{token}").status_code == 404


def test_only_announced_keys_can_be_written_and_within_their_limit(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    assert client.put("/mock-storage/artifacts/made-up/key.txt", content=b"x").status_code == 404
    ws = workspace_id(fixture_world, "acme-web")
    uploads = client.post(
        "/api/attachments/upload",
        json={"workspaceId": ws, "files": [{"filename": "a.png", "mimeType": "image/png", "sizeBytes": 3}]},
        headers=key_auth("acme-ci"),
    ).json()["uploads"]
    assert uploads[0]["storageKey"].startswith(f"attachments/{ws}/")
    assert client.put(local(uploads[0]["uploadUrl"]), content=b"png").status_code == 200
    assert client.get(local(uploads[0]["uploadUrl"])).content == b"png"


def test_upload_urls_refuse_other_accounts_workers_big_files_and_foreign_workspaces(
    client: Any, key_auth: Any, fixture_world: Any
) -> None:
    ws = workspace_id(fixture_world, "acme-scratch")
    _, worker_id = claimed_task(client, key_auth("acme-ci"), key_auth("acme-admin"), ws)
    body = {"workerId": worker_id, "filename": "a.bin", "mimeType": "application/octet-stream", "sizeBytes": 10}

    assert client.post("/api/artifacts/upload-url", json=body, headers=key_auth("acme-laptop")).status_code == 403
    too_big = {**body, "sizeBytes": 60 * 1024 * 1024}
    assert client.post("/api/artifacts/upload-url", json=too_big, headers=key_auth("acme-ci")).status_code == 400
    foreign = client.post(
        "/api/attachments/upload",
        json={
            "workspaceId": workspace_id(fixture_world, "globex-platform"),
            "files": [{"filename": "a.png", "mimeType": "image/png", "sizeBytes": 3}],
        },
        headers=key_auth("acme-ci"),
    )
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Workspace not found"})
    six = [{"filename": f"{i}.png", "mimeType": "image/png", "sizeBytes": 1} for i in range(6)]
    assert (
        client.post(
            "/api/attachments/upload", json={"workspaceId": ws, "files": six}, headers=key_auth("acme-ci")
        ).status_code
        == 400
    )
