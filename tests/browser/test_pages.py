"""/docs and /__mock/console in a real browser: they load cleanly, and the console follows the mock live."""

from __future__ import annotations

from typing import Any

import httpx

from contracts.spec import load_spec
from tests.browser.conftest import screenshot


def _keys(base: str) -> dict[str, str]:
    return {a["name"]: a["key"] for a in httpx.get(f"{base}/__mock/keys", timeout=10).json()["accounts"]}


def _workspace(base: str, key: str) -> str:
    response = httpx.get(f"{base}/api/workspaces", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    return str(response.json()["workspaces"][0]["id"])


def test_docs_lists_every_operation_and_the_realtime_events(page: Any, mock_url: str) -> None:
    page.goto(f"{mock_url}/docs")
    page.wait_for_selector(".opblock-summary-operation-id", timeout=90_000)
    shown = set(page.locator(".opblock-summary-operation-id").all_inner_texts())
    documented = {op.operation_id for op in load_spec().operations.values()}
    assert documented - {s.strip() for s in shown} == set()
    description = page.locator(".information-container").inner_text()
    assert "Realtime events" in description
    for name in load_spec().raw.get("x-events") or {}:
        assert name in description
    page.wait_for_function("document.getElementById('docs-auth').textContent.includes('fixture key')", timeout=10_000)
    screenshot(page, "docs")
    assert page.errors == []  # type: ignore[attr-defined]


def test_docs_try_it_out_talks_to_the_mock_with_a_fixture_key(page: Any, mock_url: str) -> None:
    page.goto(f"{mock_url}/docs#/accounts/getMe")
    page.wait_for_function("document.getElementById('docs-auth').textContent.includes('fixture key')", timeout=30_000)
    block = page.locator("#operations-accounts-getMe")
    block.wait_for(timeout=60_000)
    if not block.locator(".opblock-body").count():  # the deep link did not open it
        block.locator(".opblock-summary").first.click()
    block.locator(".opblock-body").wait_for(timeout=60_000)
    if not block.locator(".execute").count():  # tryItOutEnabled normally opens "Try it out" already
        block.locator(".try-out__btn").click()
    block.locator(".execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=60_000)
    assert status.inner_text().strip() == "200"
    assert page.errors == []  # type: ignore[attr-defined]


def test_console_shows_a_task_created_over_rest_through_the_event_stream(page: Any, mock_url: str) -> None:
    page.goto(f"{mock_url}/__mock/console")
    page.wait_for_function("document.getElementById('stream-status').textContent === 'live'", timeout=30_000)
    page.wait_for_selector("#accounts tr", timeout=10_000)
    key = _keys(mock_url)["acme-admin"]
    title = "made over REST for the console"
    created = httpx.post(
        f"{mock_url}/api/tasks",
        json={"title": title, "workspaceId": _workspace(mock_url, key)},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert created.status_code == 200
    # the tasks table is never polled: only the SSE `task:created` event can bring the row (the bound is generous
    # because a test must not assert speed; event latency is measured in bench/realtime_fanout.py)
    page.locator("#tasks tr", has_text=title).wait_for(timeout=30_000)
    page.locator("#events li", has_text="task:created").first.wait_for(timeout=30_000)
    logged = page.locator("#requests tr", has_text="createTask")
    logged.first.wait_for(timeout=10_000)  # the request log is polled
    logged.first.click()
    assert '"operationId": "createTask"' in page.locator("#request-detail").inner_text()
    page.fill("#request-filter", "no-such-request")
    assert page.locator("#requests tr").count() == 0
    page.fill("#request-filter", "")
    screenshot(page, "console")
    assert page.errors == []  # type: ignore[attr-defined]


def test_console_clock_advance_expires_a_claim(page: Any, mock_url: str) -> None:
    keys = _keys(mock_url)
    auth = {"Authorization": f"Bearer {keys['acme-admin']}"}
    workspace = _workspace(mock_url, keys["acme-admin"])
    task = httpx.post(
        f"{mock_url}/api/tasks",
        json={"title": "claimed, then left", "workspaceId": workspace},
        headers=auth,
        timeout=10,
    ).json()
    task_id = (task.get("task") or task)["id"]
    claim = httpx.post(
        f"{mock_url}/api/workers/claim",
        json={"runner": "r1", "workspaceId": workspace, "taskId": task_id},
        headers=auth,
        timeout=10,
    )
    assert claim.status_code == 200 and claim.json()["workers"]
    page.goto(f"{mock_url}/__mock/console")
    row = page.locator(f'#tasks tr[data-id="{task_id}"]')
    row.wait_for(timeout=30_000)
    assert "pending" not in row.inner_text()
    page.fill("#clock-seconds", "960")
    page.click("#clock-advance")
    page.wait_for_function(
        f"""(() => {{ const r = document.querySelector('#tasks tr[data-id="{task_id}"]');
                     return r && r.children[1].textContent === 'pending'; }})()""",
        timeout=10_000,
    )
    assert httpx.get(f"{mock_url}/api/tasks/{task_id}", headers=auth, timeout=10).json()["status"] == "pending"
    assert page.errors == []  # type: ignore[attr-defined]
