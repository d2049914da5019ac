"""Every request buildd's own clients really sent (the corpus) gets the status the real route gives it.

Each line is replayed on a fresh mock (strict: every response and event checked against the spec), with its
`{id}` placeholders replaced by real fixture ids: a worker the runner's account has just claimed, the workspace
of that worker, and a pending task of it. The response is also validated here against the operation's schema.
Lines whose route the mock does not serve yet are strict xfails naming the route, so they turn green (and must
be unmarked) as the routes arrive.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from contracts.spec import Operation, load_spec

from ._corpus import corpus_lines
from .conftest import claim_body

RUNNER_ACCOUNT = "acme-laptop"
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"  # the corpus's stand-in id in bodies

# (method, corpus path without its query) -> the status the real route gives that line (apps/web/src/app/api/...)
EXPECTED: dict[tuple[str, str], int] = {
    ("POST", "/api/workers/heartbeat"): 200,
    ("GET", "/api/workspaces"): 200,
    ("POST", "/api/workers/claim"): 200,
    ("POST", "/api/workspaces/match-repos"): 200,
    ("PATCH", "/api/workers/{id}"): 200,
    ("GET", "/api/workers/{id}"): 200,
    ("POST", "/api/mcp"): 200,
    ("POST", "/api/auth/device/code"): 200,
    ("POST", "/api/auth/device/token"): 428,  # nobody approved the code yet: authorization_pending
    ("GET", "/api/accounts/me"): 200,
    ("GET", "/api/version"): 200,
    ("GET", "/api/workspaces/{id}/config"): 200,
    ("GET", "/api/workspaces/{id}/memory"): 200,
    ("POST", "/api/workspaces/{id}/memory"): 201,
    ("GET", "/api/workspaces/{id}/skills"): 403,  # the runner's key is not admin-level (the real route says 401)
    ("POST", "/api/tasks/cleanup"): 403,  # the runner's key is not admin-level (the real route says 401)
    ("POST", "/api/runner/credential-lease"): 200,
    # not routes of the real server (routes-v0.175.tsv): Next.js answers 404
    ("POST", "/api/workers/{id}/plan"): 404,
    ("GET", "/api/account/level"): 404,
}

# routes the mock does not serve yet, and who brings them
NOT_SERVED: dict[tuple[str, str], str] = {}


def _key(line: dict[str, Any]) -> tuple[str, str]:
    return line["method"], line["path"].split("?", 1)[0]


def _params() -> list[Any]:
    params = []
    for number, line in enumerate(corpus_lines(), start=1):
        key = _key(line)
        missing = NOT_SERVED.get(key)
        marks = [pytest.mark.xfail(reason=f"not served yet: {missing}", strict=True)] if missing else []
        params.append(pytest.param(line, id=f"{number:02d}-{line['method']}-{key[1]}", marks=marks))
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no corpus on this machine"))]


def _operation(method: str, path: str) -> Operation | None:
    for op in load_spec().operations.values():
        pattern = re.escape(op.path).replace(r"\{", "{").replace(r"\}", "}")
        if op.method == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", pattern), path):
            return op
    return None


def _fill(client: Any, auth: dict[str, str], line: dict[str, Any]) -> tuple[str, Any]:
    """The line's path and body with `{id}`s replaced by real ids (claiming a worker first where one is needed)."""
    path, body = line["path"], line["body"]
    text = json.dumps(body)
    if "{id}" in path:
        claimed = client.post("/api/workers/claim", headers=auth, json=claim_body())
        assert claimed.status_code == 200, claimed.text
        worker = claimed.json()["workers"][0]
        path = path.replace("/api/workers/{id}", f"/api/workers/{worker['id']}")
        path = path.replace("worker={id}", f"worker={worker['id']}").replace("{id}", worker["task"]["workspaceId"])
    if PLACEHOLDER in text:  # a claim of one task: a pending task the runner's account may claim
        listed = client.get("/api/tasks?status=pending", headers=auth)
        assert listed.status_code == 200, listed.text
        task = listed.json()["tasks"][0]
        text = text.replace(f'"workspaceId": "{PLACEHOLDER}"', f'"workspaceId": "{task["workspaceId"]}"')
        text = text.replace(f'"taskId": "{PLACEHOLDER}"', f'"taskId": "{task["id"]}"')
    if line["path"] == "/api/runner/credential-lease" and not body:
        # the corpus keeps the route, not the body; the broker sends {credentialId, runnerId, action} (broker.ts)
        stored = client.post(
            "/api/secrets", headers=auth, json={"value": "sk-ant-oat01-replay", "purpose": "oauth_token"}
        )
        assert stored.status_code == 200, stored.text
        text = json.dumps({"credentialId": stored.json()["id"], "runnerId": "replay-runner", "action": "acquire"})
    if "<from /api/auth/device/code>" in text:
        code = client.post("/api/auth/device/code", json={"clientName": "replay", "level": "worker"}).json()
        text = text.replace("<from /api/auth/device/code>", code["device_token"])
    return path, json.loads(text)


@pytest.mark.parametrize("line", _params())
def test_each_corpus_request_gets_the_real_routes_status_and_a_spec_valid_answer(
    client: Any, key_auth: Any, line: dict[str, Any]
) -> None:
    auth = key_auth(RUNNER_ACCOUNT)
    path, body = _fill(client, auth, line)
    kwargs: dict[str, Any] = {"headers": auth}
    if body is not None:
        kwargs["json"] = body
    response = client.request(line["method"], path, **kwargs)
    expected = EXPECTED[_key(line)]
    assert response.status_code == expected, f"{line['method']} {path}: {response.status_code} {response.text}"
    assert response.status_code != 400
    payload = response.json()
    if expected >= 400:
        assert isinstance(payload.get("error"), str)
        return
    op = _operation(line["method"], path.split("?", 1)[0])
    assert op is not None
    pointer = op.responses.get(str(expected))
    if pointer:
        errors = load_spec().check(pointer).errors(payload)
        assert not errors, f"{op.operation_id} {expected}: {[str(e) for e in errors]}"


def test_every_corpus_route_has_an_expected_status() -> None:
    assert {_key(line) for line in corpus_lines()} <= set(EXPECTED), "a new corpus route needs its real status"
