"""A plain resource is its spec entries plus one declaration: this test adds a throwaway resource (`widget`) that
no module of the project knows, and gets the whole behaviour through the HTTP app with no other code: auth (401),
another team's workspace and record (404 as its `x-ownership` says), a bad body (400), filters and pagination,
write-only fields, events, cascades, and the state file round trip. The app runs strict, so every response and
event is also checked against the spec entries below.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from contracts.spec import DEFAULT_SPEC_PATH, parse_yaml
from mockserver import MockSettings, create_app
from mockserver.domain.errors import BadRequest, Forbidden
from mockserver.domain.resources import Cascade, HookCall, Resource, declare, forget
from mockserver.domain.store import Store

WORKSPACE_RULE = {
    "resource": "workspace",
    "in": "path",
    "name": "workspaceId",
    "rule": "team",
    "status": 404,
    "error": "Workspace not found",
}
WIDGET_RULE = {
    "resource": "widget",
    "in": "path",
    "name": "widgetId",
    "rule": "team",
    "status": 404,
    "error": "Widget not found",
}
ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "404": {
        "description": "Not found.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# The spec entries a new plain resource needs: its operations (each with `x-resource`), schemas and events.
PATHS: dict[str, Any] = {
    "/api/workspaces/{workspaceId}/widgets": {
        "parameters": [{"name": "workspaceId", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "operationId": "listWidgets",
            "tags": ["workspaces"],
            "summary": "List widgets",
            "x-resource": {"name": "widget", "action": "list"},
            "x-ownership": WORKSPACE_RULE,
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 2},
                },
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "color", "in": "query", "schema": {"type": "string", "enum": ["red", "blue"]}},
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["widgets", "total", "hasMore"],
                        "additionalProperties": False,
                        "properties": {
                            "widgets": {"type": "array", "items": _ref("Widget")},
                            "total": {"type": "integer"},
                            "hasMore": {"type": "boolean"},
                        },
                    }
                ),
                **ERRORS,
            },
        },
        "post": {
            "operationId": "createWidget",
            "tags": ["workspaces"],
            "summary": "Create a widget",
            "x-resource": {"name": "widget", "action": "create"},
            "x-ownership": WORKSPACE_RULE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("WidgetInput")}}},
            "responses": {"201": _json(_ref("WidgetEnvelope"), "Created"), **ERRORS},
        },
    },
    "/api/widgets/{widgetId}": {
        "parameters": [{"name": "widgetId", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "operationId": "getWidget",
            "tags": ["workspaces"],
            "summary": "Get a widget",
            "x-resource": {"name": "widget", "action": "get"},
            "x-ownership": WIDGET_RULE,
            "responses": {"200": _json(_ref("WidgetEnvelope")), **ERRORS},
        },
        "patch": {
            "operationId": "updateWidget",
            "tags": ["workspaces"],
            "summary": "Update a widget",
            "x-resource": {"name": "widget", "action": "update"},
            "x-ownership": WIDGET_RULE,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "minProperties": 1,
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "color": {"type": "string", "enum": ["red", "blue"]},
                            },
                        }
                    }
                },
            },
            "responses": {"200": _json(_ref("WidgetEnvelope")), **ERRORS},
        },
        "delete": {
            "operationId": "deleteWidget",
            "tags": ["workspaces"],
            "summary": "Delete a widget",
            "x-resource": {"name": "widget", "action": "delete"},
            "x-ownership": WIDGET_RULE,
            "responses": {"200": {"$ref": "#/components/responses/Success"}, **ERRORS},
        },
    },
}
SCHEMAS: dict[str, Any] = {
    "WidgetInput": {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "secret": {"type": "string"},
        },
    },
    "Widget": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "workspaceId", "name", "color", "status", "createdAt", "updatedAt"],
        "properties": {
            "id": {"type": "string"},
            "workspaceId": {"type": "string"},
            "name": {"type": "string"},
            "color": {"type": "string"},
            "status": {"type": "string"},
            "label": {"type": "string"},
            "secret": {"type": "string", "writeOnly": True},
            "createdAt": {"type": "string"},
            "updatedAt": {"type": "string"},
        },
    },
    "WidgetEnvelope": {
        "type": "object",
        "required": ["widget"],
        "additionalProperties": False,
        "properties": {"widget": _ref("Widget")},
    },
}
EVENTS: dict[str, Any] = {
    f"widget:{verb}": {
        "channels": ["workspace"],
        "schema": _ref("WidgetEnvelope"),
        "triggers": [f"{verb[:-1] if verb.endswith('ed') else verb}Widget"],
        "description": verb,
    }
    for verb in ("created", "updated", "deleted")
}
# ... and the one declaration
WIDGET = Resource(
    "widget",
    scope="workspace",
    defaults={"color": "red", "status": "active"},
    derived={"label": lambda stamp, record: f"{record['name']} ({record['color']})"},
    events={"create": "widget:created", "update": "widget:updated", "delete": "widget:deleted"},
    cascades=(Cascade("gadgets", "widgetId"),),
)
GADGET = Resource("gadget", scope="workspace")  # a child table, only to see the cascade


@pytest.fixture
def widget_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    raw = parse_yaml(DEFAULT_SPEC_PATH.read_text())
    raw["paths"].update(PATHS)
    raw["components"]["schemas"].update(SCHEMAS)
    raw["x-events"].update(EVENTS)
    path = tmp_path / "openapi.yaml"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("BUILDD_SPEC", str(path))
    declare(WIDGET)
    declare(GADGET)
    try:
        yield path
    finally:
        forget("gadget")
        forget("widget")


def _team(world: dict[str, Any], account_name: str) -> tuple[str, str]:
    """(an open workspace of the account's team, that team's id)."""
    account = next(a for a in world["accounts"] if a["name"] == account_name)
    ws = next(w for w in world["workspaces"] if w["teamId"] == account["teamId"] and w.get("accessMode") == "open")
    return str(ws["id"]), str(account["teamId"])


def _client(world: dict[str, Any], **settings: Any) -> TestClient[Any]:
    return TestClient(create_app(MockSettings(strict=True, **settings), world=copy.deepcopy(world)))


def test_a_declared_resource_gets_the_whole_behaviour_from_its_spec_entries(
    widget_spec: Path, fixture_world: dict[str, Any], key_auth: Any
) -> None:
    acme_ws, _ = _team(fixture_world, "acme-admin")
    globex_ws, _ = _team(fixture_world, "globex-admin")
    acme, globex = key_auth("acme-admin"), key_auth("globex-admin")
    with _client(fixture_world) as http:
        base = f"/api/workspaces/{acme_ws}/widgets"
        # auth: the spec's security, before anything else
        assert http.get(base).status_code == 401
        assert http.post(base, json={"name": "w"}).status_code == 401
        # a bad body: the request schema, nothing written
        bad = http.post(base, json={"name": ""}, headers=acme)
        assert bad.status_code == 400 and "error" in bad.json()
        assert http.post(base, json={"name": "w", "size": 3}, headers=acme).status_code == 400
        # create: 201 as the spec says, defaults and derived fields, write-only fields never shown
        made = http.post(base, json={"name": "first", "secret": "s3cret"}, headers=acme)
        assert made.status_code == 201, made.text
        widget = made.json()["widget"]
        assert widget["workspaceId"] == acme_ws and widget["color"] == "red" and widget["status"] == "active"
        assert widget["label"] == "first (red)" and "secret" not in widget
        for name, color in (("second", "blue"), ("third", "blue")):
            assert http.post(base, json={"name": name, "color": color}, headers=acme).status_code == 201
        # another team: its workspace and its records are out of reach, as x-ownership says
        assert http.get(base, headers=globex).json() == {"error": "Workspace not found"}
        assert http.post(base, json={"name": "x"}, headers=globex).status_code == 404
        for method in ("get", "delete"):
            other = getattr(http, method)(f"/api/widgets/{widget['id']}", headers=globex)
            assert (other.status_code, other.json()) == (404, {"error": "Widget not found"})
        other = http.patch(f"/api/widgets/{widget['id']}", json={"name": "mine"}, headers=globex)
        assert (other.status_code, other.json()) == (404, {"error": "Widget not found"})
        assert http.get(f"/api/workspaces/{globex_ws}/widgets", headers=globex).json()["widgets"] == []
        # pagination and filters as the list operation declares them (default limit 2, newest first)
        page = http.get(base, headers=acme).json()
        assert [w["name"] for w in page["widgets"]] == ["third", "second"]
        assert (page["total"], page["hasMore"]) == (3, True)
        rest = http.get(base, params={"offset": 2}, headers=acme).json()
        assert [w["name"] for w in rest["widgets"]] == ["first"] and rest["hasMore"] is False
        blue = http.get(base, params={"color": "blue", "limit": 50}, headers=acme).json()
        assert {w["name"] for w in blue["widgets"]} == {"second", "third"}
        assert http.get(base, params={"limit": 51}, headers=acme).status_code == 400
        # update: derived fields follow, the id and scope do not move
        changed = http.patch(f"/api/widgets/{widget['id']}", json={"color": "blue"}, headers=acme)
        assert changed.status_code == 200, changed.text
        assert changed.json()["widget"]["label"] == "first (blue)"
        assert http.get(f"/api/widgets/{widget['id']}", headers=acme).json()["widget"]["color"] == "blue"
        # events: on the scope's channel, in order, checked against x-events by the strict app
        log = http.get("/__mock/events").json()["events"]
        names = [e["event"] for e in log if e["event"].startswith("widget:")]
        assert names == ["widget:created"] * 3 + ["widget:updated"]
        assert all(e["channel"].endswith(f"workspace-{acme_ws}") for e in log if e["event"].startswith("widget:"))
        assert all("secret" not in e["data"]["widget"] for e in log if e["event"].startswith("widget:"))
        # delete: gone, then 404
        assert http.delete(f"/api/widgets/{widget['id']}", headers=acme).json() == {"success": True}
        assert http.get(f"/api/widgets/{widget['id']}", headers=acme).status_code == 404


def test_a_declared_resource_survives_a_restart_on_a_state_file_and_cascades(
    widget_spec: Path, fixture_world: dict[str, Any], key_auth: Any, tmp_path: Path
) -> None:
    acme_ws, _ = _team(fixture_world, "acme-admin")
    acme = key_auth("acme-admin")
    state = tmp_path / "state.sqlite"
    with _client(fixture_world, state_file=state) as http:
        made = http.post(f"/api/workspaces/{acme_ws}/widgets", json={"name": "kept", "secret": "x"}, headers=acme)
        widget = made.json()["widget"]
    with _client(fixture_world, state_file=state) as http:
        again = http.get(f"/api/widgets/{widget['id']}", headers=acme)
        assert again.status_code == 200 and again.json()["widget"] == widget
    store = Store(fixture_world, state_file=state)  # the write-only field is stored, only never shown
    assert store.get("widgets", widget["id"])["secret"] == "x"
    store.insert("gadgets", {"id": "g1", "workspaceId": acme_ws, "widgetId": widget["id"]})
    store.close()
    with _client(fixture_world, state_file=state) as http:
        assert http.delete(f"/api/widgets/{widget['id']}", headers=acme).status_code == 200
    store = Store(fixture_world, state_file=state)
    assert store.get("widgets", widget["id"]) is None and store.get("gadgets", "g1") is None
    store.close()


@pytest.fixture
def admin_widget_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The same widget, declared with `key_level="admin"`: only admin keys (and sessions) may write."""
    raw = parse_yaml(DEFAULT_SPEC_PATH.read_text())
    raw["paths"].update(PATHS)
    raw["components"]["schemas"].update(SCHEMAS)
    raw["x-events"].update(EVENTS)
    path = tmp_path / "openapi.yaml"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("BUILDD_SPEC", str(path))
    declare(dataclasses.replace(WIDGET, key_level="admin"))
    declare(GADGET)
    try:
        yield path
    finally:
        forget("gadget")
        forget("widget")


def test_a_resource_may_need_a_key_level_to_write(
    admin_widget_spec: Path, fixture_world: dict[str, Any], key_auth: Any
) -> None:
    acme_ws, _ = _team(fixture_world, "acme-admin")
    base = f"/api/workspaces/{acme_ws}/widgets"
    with _client(fixture_world) as http:
        refused = http.post(base, json={"name": "w"}, headers=key_auth("acme-ci"))
        assert (refused.status_code, refused.json()) == (403, {"error": "Requires admin-level API key"})
        assert http.get(base, headers=key_auth("acme-ci")).json()["widgets"] == []  # nothing written; reads stay
        made = http.post(base, json={"name": "w"}, headers=key_auth("acme-admin"))
        assert made.status_code == 201
        widget_id = made.json()["widget"]["id"]
        for method, kwargs in (("patch", {"json": {"name": "x"}}), ("delete", {})):
            answer = getattr(http, method)(f"/api/widgets/{widget_id}", headers=key_auth("acme-trigger"), **kwargs)
            assert answer.status_code == 403, answer.text
        assert http.get(f"/api/widgets/{widget_id}", headers=key_auth("acme-ci")).json()["widget"]["name"] == "w"


def test_hooks_run_real_behaviour_inside_the_same_transaction(
    widget_spec: Path, fixture_world: dict[str, Any], key_auth: Any
) -> None:
    """before_* hooks may refuse or adjust the write, after_* hooks may write elsewhere; a refusal from any of them
    undoes the whole request (the record, the other writes and the events)."""

    def before_create(call: HookCall) -> None:
        if call.record["name"] == "forbidden":
            raise BadRequest("that name is taken by policy")
        call.record["status"] = f"made-by-{call.principal.account_id is not None}"

    def after_create(call: HookCall) -> None:  # a write to another table, through the facade the hook is given
        call.api.store.insert(
            "gadgets",
            {"id": f"g-{call.record['id']}", "workspaceId": call.stamp.scope_id, "widgetId": call.record["id"]},
        )
        if call.record["name"] == "rolled-back":
            raise Forbidden("refused after the write")

    def before_update(call: HookCall) -> None:
        assert call.previous is not None and call.previous["color"] != call.changes.get("color", "?")
        call.changes["status"] = "recoloured"

    def before_delete(call: HookCall) -> None:
        if call.record["color"] == "blue":
            raise Forbidden("blue widgets are kept")

    forget("widget")
    declare(
        dataclasses.replace(
            WIDGET,
            hooks={
                "before_create": before_create,
                "after_create": after_create,
                "before_update": before_update,
                "before_delete": before_delete,
            },
        )
    )
    acme_ws, _ = _team(fixture_world, "acme-admin")
    acme = key_auth("acme-admin")
    with _client(fixture_world) as http:
        base = f"/api/workspaces/{acme_ws}/widgets"
        refused = http.post(base, json={"name": "forbidden"}, headers=acme)
        assert (refused.status_code, refused.json()) == (400, {"error": "that name is taken by policy"})
        late = http.post(base, json={"name": "rolled-back"}, headers=acme)
        assert (late.status_code, late.json()) == (403, {"error": "refused after the write"})
        assert http.get(base, headers=acme).json()["total"] == 0  # nothing of either request was kept
        made = http.post(base, json={"name": "kept"}, headers=acme).json()["widget"]
        assert made["status"] == "made-by-True"
        changed = http.patch(f"/api/widgets/{made['id']}", json={"color": "blue"}, headers=acme).json()["widget"]
        assert (changed["color"], changed["status"]) == ("blue", "recoloured")
        kept = http.delete(f"/api/widgets/{made['id']}", headers=acme)
        assert (kept.status_code, kept.json()) == (403, {"error": "blue widgets are kept"})
        assert http.get(f"/api/widgets/{made['id']}", headers=acme).status_code == 200
        events = [e["event"] for e in http.get("/__mock/events").json()["events"] if e["event"].startswith("widget:")]
        assert events == ["widget:created", "widget:updated"]  # none from the refused requests


def test_unknown_hook_points_are_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="unknown hook points"):
        Resource("thing", scope="workspace", hooks={"before_list": lambda call: None})  # type: ignore[dict-item]
