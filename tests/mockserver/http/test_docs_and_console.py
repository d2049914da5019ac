"""/docs and /__mock/console as HTTP resources: served offline from the package, derived from the spec."""

from __future__ import annotations

from typing import Any

from contracts.spec import load_spec
from mockserver import MockSettings, create_app
from mockserver.http.docs import events_markdown


def test_docs_page_loads_its_renderer_from_the_mock_not_a_cdn(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text  # every asset is local
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "docs.js"):
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.content) > 500


def test_docs_serves_only_known_assets(client: Any) -> None:
    for name in ("swagger-editor.js", "LICENSE", "..%2F..%2Fopenapi.yaml", "nope.js"):
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 404 and response.json() == {"error": "Not found"}


def test_docs_spec_points_try_it_at_this_mock_and_lists_every_event(client: Any) -> None:
    shown = client.get("/docs/openapi.json").json()
    assert shown["servers"] == [{"url": "http://testserver.local", "description": "this mock"}]
    spec = load_spec()
    assert set(shown["paths"]) == set(spec.raw["paths"])
    events = spec.raw["x-events"]
    assert "## Realtime events" in shown["info"]["description"]
    for name, event in events.items():
        line = next(line for line in events_markdown(spec).splitlines() if line.startswith(f"| `{name}` |"))
        assert event["schema"]["$ref"].rsplit("/", 1)[-1] in line
        assert all(f"`{trigger}`" in line for trigger in event.get("triggers") or [])


def test_console_page_lists_the_scenarios_and_event_names(client: Any) -> None:
    from fixtures.scenarios import scenario_names

    page = client.get("/__mock/console")
    assert page.status_code == 200
    for name in scenario_names():
        assert f'<option value="{name}">' in page.text
    assert "task:created" in page.text and "{{" not in page.text
    assert client.get("/__mock/console/assets/console.js").status_code == 200
    assert client.get("/__mock/console/assets/secret.py").status_code == 404


def test_console_script_uses_only_the_control_api_and_its_stream(client: Any) -> None:
    script = client.get("/__mock/console/assets/console.js").text
    import re

    paths = set(re.findall(r'"(/[a-z_/]+)', script))
    assert paths and all(p.startswith("/__mock") or p == "/docs" for p in paths), paths  # /docs: a log filter


def test_console_is_absent_without_the_control_api(fixture_world: dict[str, Any]) -> None:
    from litestar.testing import TestClient

    app = create_app(MockSettings(control_api=False), world=fixture_world)
    with TestClient(app) as plain:
        assert plain.get("/__mock/console").status_code == 404
        assert plain.get("/docs").status_code == 200
