"""`buildd-api spec lint`: clean on the real spec, one broken spec per kind of finding, exit codes 0 / 1 / 2."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.lint import RULES, VALIDATOR_RULE, Finding, Rule, lint, lint_spec, rule
from contracts.spec import DEFAULT_SPEC_PATH, Spec

Raw = dict[str, Any]
DEFAULT_RULES = [name for name, r in RULES.items() if r.default]


def op(raw: Raw, path: str, method: str) -> dict[str, Any]:
    return raw["paths"][path][method]


def link(raw: Raw, path: str, method: str, name: str) -> dict[str, Any]:
    return op(raw, path, method)["responses"]["200"]["links"][name]


def json_body(raw: Raw, path: str, method: str) -> dict[str, Any]:
    return op(raw, path, method)["requestBody"]["content"]["application/json"]


def rules_in(output: str) -> set[str]:
    """The rule column of every finding line (the last line is the count)."""
    return {line.split()[0] for line in output.strip().splitlines()[:-1]}


# ------------------------------------------------------------------------------------------ the real spec
def test_real_spec_is_clean(run_cli: Callable[..., Any]) -> None:
    result = run_cli("spec", "lint", str(DEFAULT_SPEC_PATH))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(")") and "clean" in result.output


def test_default_path_is_the_repo_spec(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUILDD_SPEC", raising=False)
    result = run_cli("spec", "lint")
    assert result.exit_code == 0, result.output
    assert str(DEFAULT_SPEC_PATH) in result.output


def test_public_function_on_the_real_spec() -> None:
    report = lint(DEFAULT_SPEC_PATH)
    assert report.ok, "\n".join(map(str, report.findings))
    assert report.operations >= 48
    assert report.rules == (VALIDATOR_RULE, *(name for name, r in RULES.items() if r.default))


def test_every_rule_is_registered() -> None:
    assert set(RULES) == {
        "secured-401",
        "ownership-status",
        "error-schema",
        "examples-valid",
        "events-resolve",
        "operation-id",
        "links-resolve",
        "resource-ops",
        "id-ownership",
        "open-request",
        "paths-order",
        "signature-declared",
        "shared-in-declared",
    }
    assert [name for name, r in RULES.items() if not r.default] == []
    with pytest.raises(ValueError, match="already registered"):
        rule("secured-401", "again")(lambda spec: ())


def test_a_registered_rule_runs_without_touching_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_mock_tag(spec: Spec) -> list[Finding]:
        mock = [o for o in spec.operations.values() if o.is_mock_only]
        return [Finding("no-mock", f"{o.label} ({o.operation_id})", "mock tag") for o in mock]

    monkeypatch.setitem(RULES, "no-mock", Rule("no-mock", "example", no_mock_tag))
    report = lint(DEFAULT_SPEC_PATH, rules=["no-mock"])
    assert report.findings and {f.rule for f in report.findings} == {"no-mock"}
    assert "POST /__mock/reset (mockReset)" in {f.location for f in report.findings}


# ------------------------------------------------------------------------------------------ one broken spec per finding
def _set(node: dict[str, Any], **values: Any) -> None:
    node.update(values)


CASES: list[tuple[str, Callable[[Raw], Any], str, str, str]] = [
    # (id, mutation, rule, location, words the message must contain)
    (
        "validator-missing-description",
        lambda r: op(r, "/api/accounts/me", "get")["responses"].update({"200": {"content": {}}}),
        VALIDATOR_RULE, "$.paths['/api/accounts/me'].get.responses", "description",
    ),
    (
        "validator-unresolvable-parameter",
        lambda r: op(r, "/api/tasks", "get")["parameters"].append({"$ref": "#/components/parameters/Nope"}),
        VALIDATOR_RULE, "$", "Nope",
    ),
    (
        "secured-without-401",
        lambda r: op(r, "/api/accounts/me", "get")["responses"].pop("401"),
        "secured-401", "GET /api/accounts/me (getMe)", "Unauthorized",
    ),
    (
        "ownership-status-not-documented",
        lambda r: op(r, "/api/workers/{id}", "get")["responses"].pop("403"),
        "ownership-status", "GET /api/workers/{id} (getWorker)", "does not document 403",
    ),
    (
        "ownership-session-status-not-documented",
        lambda r: op(r, "/api/workers/{id}/cmd", "post")["responses"].pop("404"),
        "ownership-status", "POST /api/workers/{id}/cmd (sendWorkerCommand)", "x-ownership.session answers 404",
    ),
    (
        "ownership-unknown-resource",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], resource="spaceship"),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "resource 'spaceship'",
    ),
    (
        "ownership-bad-in",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], **{"in": "header"}),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "in 'header'",
    ),
    (
        "ownership-unknown-path-parameter",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], name="taskId"),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "parameter 'taskId'",
    ),
    (
        "ownership-unknown-body-field",
        lambda r: _set(op(r, "/api/tasks", "post")["x-ownership"], name="workspace"),
        "ownership-status", "POST /api/tasks (createTask)", "body field 'workspace'",
    ),
    (
        "ownership-bad-rule",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], rule="admin"),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "rule 'admin'",
    ),
    (
        "ownership-status-not-4xx",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], status=200),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "not a 4xx",
    ),
    (
        "ownership-empty-error",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], error=""),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "non-empty string",
    ),
    (
        "ownership-error-rejected-by-documented-response",
        lambda r: _set(op(r, "/api/tasks/{id}", "get")["x-ownership"], error="Nope"),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "rejects",
    ),
    (
        "ownership-missing-keys",
        lambda r: op(r, "/api/tasks/{id}", "get")["x-ownership"].pop("status"),
        "ownership-status", "GET /api/tasks/{id} (getTask)", "lacks status",
    ),
    (
        "error-schema-without-error",
        lambda r: op(r, "/api/tasks", "post")["responses"].update(
            {"400": {"description": "Bad.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"message": {"type": "string"}}}}}}}
        ),
        "error-schema", "POST /api/tasks (createTask)", "400 body schema does not require a string `error`",
    ),
    (
        "error-schema-non-string-error",
        lambda r: op(r, "/api/tasks", "post")["responses"].update(
            {"409": {"description": "Busy.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error"], "properties": {"error": {"type": "integer"}}}}}}}
        ),
        "error-schema", "POST /api/tasks (createTask)", "409",
    ),
    (
        "error-schema-no-json-body",
        lambda r: op(r, "/api/tasks/{id}", "delete")["responses"].update({"400": {"description": "Bad."}}),
        "error-schema", "DELETE /api/tasks/{id} (deleteTask)", "no application/json body",
    ),
    (
        "example-request-body",
        lambda r: _set(json_body(r, "/api/accounts", "post"), example={"name": "ci", "type": "robot"}),
        "examples-valid", "POST /api/accounts (createAccount)", "'robot' is not one of",
    ),
    (
        "example-named-request-body",
        lambda r: _set(json_body(r, "/api/tasks", "post")["examples"]["full"]["value"], priority="high"),
        "examples-valid", "POST /api/tasks (createTask)", "example 'full': priority",
    ),
    (
        "example-parameter",
        lambda r: _set(op(r, "/api/workspaces/by-repo", "get")["parameters"][0], example="no-slash"),
        "examples-valid", "GET /api/workspaces/by-repo (getWorkspaceByRepo)", "parameter query.repo example",
    ),
    (
        "example-schema",
        lambda r: _set(r["components"]["schemas"]["Uuid"], example="not-a-uuid"),
        "examples-valid", "components/schemas/Uuid", "not-a-uuid",
    ),
    (
        "example-nested-schema-property",
        lambda r: _set(r["components"]["schemas"]["Task"]["properties"]["priority"], example="high"),
        "examples-valid", "components/schemas/Task", "properties/priority",
    ),
    (
        "example-component-response",
        lambda r: _set(r["components"]["responses"]["TaskNotFound"]["content"]["application/json"], example={"error": "gone"}),
        "examples-valid", "components/responses/TaskNotFound", "does not match",
    ),
    (
        "event-unknown-channel",
        lambda r: _set(r["x-events"]["task:created"], channels=["team"]),
        "events-resolve", "x-events/task:created", "unknown channel 'team'",
    ),
    (
        "event-schema-unresolved",
        lambda r: _set(r["x-events"]["task:created"], schema={"$ref": "#/components/schemas/TaskCreated"}),
        "events-resolve", "x-events/task:created", "does not resolve",
    ),
    (
        "event-unknown-trigger",
        lambda r: _set(r["x-events"]["task:claimed"], triggers=["claimTask"]),
        "events-resolve", "x-events/task:claimed", "'claimTask' is not an operationId",
    ),
    (
        "operation-without-id",
        lambda r: op(r, "/api/accounts/me", "get").pop("operationId"),
        "operation-id", "GET /api/accounts/me", "has no operationId",
    ),
    (
        "operation-without-tags",
        lambda r: op(r, "/api/accounts/me", "get").pop("tags"),
        "operation-id", "GET /api/accounts/me (getMe)", "has no tags",
    ),
    (
        "operation-undeclared-tag",
        lambda r: _set(op(r, "/api/accounts/me", "get"), tags=["me"]),
        "operation-id", "GET /api/accounts/me (getMe)", "tag 'me' is not declared",
    ),
    (
        "link-unknown-operation",
        lambda r: _set(link(r, "/api/accounts", "post", "GetAccount"), operationId="fetchAccount"),
        "links-resolve", "POST /api/accounts (createAccount)", "'fetchAccount' does not exist",
    ),
    (
        "link-unknown-parameter",
        lambda r: _set(link(r, "/api/accounts", "post", "GetAccount"), parameters={"accountId": "$response.body#/id"}),
        "links-resolve", "POST /api/accounts (createAccount)", "'accountId' is not a parameter of getAccount",
    ),
    (
        "link-undeclared-response-field",
        lambda r: _set(link(r, "/api/accounts", "post", "GetAccount"), parameters={"id": "$response.body#/accountId"}),
        "links-resolve", "POST /api/accounts (createAccount)", "does not declare",
    ),
    (
        "link-request-body-field",
        lambda r: _set(link(r, "/api/tasks", "post", "ClaimTask"), requestBody={"runnerName": "x"}),
        "links-resolve", "POST /api/tasks (createTask)", "'runnerName' is not in claimTasks",
    ),
    (
        "resource-unknown-action",
        lambda r: op(r, "/api/tasks/{id}", "get").update({"x-resource": {"name": "task", "action": "fetch"}}),
        "resource-ops", "GET /api/tasks/{id} (getTask)", "action 'fetch'",
    ),
    (
        "resource-without-id-parameter",
        lambda r: op(r, "/api/tasks/{id}", "get").update({"x-resource": {"name": "task", "action": "get"}}),
        "resource-ops", "GET /api/tasks/{id} (getTask)", "path parameter `taskId`",
    ),
    (
        "resource-action-twice",
        lambda r: [op(r, p, "get").update({"x-resource": {"name": "task", "action": "list"}})
                   for p in ("/api/tasks", "/api/tasks/{id}")],
        "resource-ops", "GET /api/tasks/{id} (getTask)", "task.list is also GET /api/tasks",
    ),
    (
        "resource-create-without-body",
        lambda r: op(r, "/api/tasks/{id}", "delete").update({"x-resource": {"name": "task", "action": "create"}}),
        "resource-ops", "DELETE /api/tasks/{id} (deleteTask)", "needs a JSON request body",
    ),
    (
        "closed-request-schema",
        lambda r: _set(r["components"]["schemas"]["WorkerUpdate"], additionalProperties=False),
        "open-request", "PATCH /api/workers/{id} (updateWorker)", "x-rejects-unknown-fields",
    ),
    (
        "signature-unknown-scheme",
        lambda r: op(r, "/api/github/webhook", "post")["x-signature"].update(scheme="md5"),
        "signature-declared", "POST /api/github/webhook (receiveGithubWebhook)", "scheme must be one of",
    ),
    (
        "signature-refused-undocumented",
        lambda r: op(r, "/api/github/webhook", "post")["x-signature"].update(refused=403),
        "signature-declared", "POST /api/github/webhook (receiveGithubWebhook)", "does not document",
    ),
    (
        "signature-timestamp-without-header",
        lambda r: op(r, "/api/integrations/slack", "post")["x-signature"].pop("timestamp"),
        "signature-declared", "POST /api/integrations/slack (slackEvent)", "both or neither",
    ),
    (
        "signature-probe-path-unfilled",
        lambda r: op(r, "/api/webhooks/linear/{workspaceId}", "post")["x-signature"]["probe"].pop("path"),
        "signature-declared", "POST /api/webhooks/linear/{workspaceId} (linearWebhook)", "workspaceId",
    ),
    (
        "signature-probe-refused-as-bad-input",
        lambda r: op(r, "/api/integrations/discord", "post")["x-signature"]["probe"].update(body={"kind": 1}),
        "signature-declared", "POST /api/integrations/discord (discordInteraction)", "'type' is a required property",
    ),
    (
        "shared-in-malformed",
        lambda r: op(r, "/api/connectors", "get").update({"x-shared-in": {"field": "shared"}}),
        "shared-in-declared", "GET /api/connectors (listConnectors)", "needs shares, list, team",
    ),
    (
        "shared-in-field-not-listed",
        lambda r: op(r, "/api/connectors", "get")["x-shared-in"].update(field="sharedIn"),
        "shared-in-declared", "GET /api/connectors (listConnectors)", "'sharedIn' is not a property",
    ),
    (
        "shared-in-unknown-shares-operation",
        lambda r: op(r, "/api/connectors", "get")["x-shared-in"].update(shares="listConnectorShare"),
        "shared-in-declared", "GET /api/connectors (listConnectors)", "is no operationId",
    ),
    (
        "shared-in-shares-list-without-team",
        lambda r: op(r, "/api/connectors", "get")["x-shared-in"].update(team="teamId"),
        "shared-in-declared", "GET /api/connectors (listConnectors)", "no array 'shares' of entries with 'teamId'",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "rule_name", "location", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_of_finding_is_reported(
    real_raw: Raw, mutate: Callable[[Raw], Any], rule_name: str, location: str, words: str
) -> None:
    """Linted in memory (the exit codes and the file path are the CLI tests' business). openapi-spec-validator takes
    ~9 of a lint's ~10 s, so a case of one of our rules runs our rules only; the validator's cases run it."""
    raw = copy.deepcopy(real_raw)
    mutate(raw)
    report = lint_spec(Spec(raw), rules=None if rule_name == VALIDATOR_RULE else DEFAULT_RULES)
    assert not report.ok
    findings = list(report.findings)
    assert {f.rule for f in findings} == {rule_name}, "\n".join(map(str, findings))
    assert any(f.location.startswith(location) and words in f.message for f in findings), "\n".join(map(str, findings))


def test_duplicate_operation_id_is_reported_by_both_passes(
    write_spec: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    path = write_spec(lambda r: _set(op(r, "/api/accounts/me", "get"), operationId="getAccount"))
    result = run_cli("spec", "lint", str(path))
    assert result.exit_code == 1
    assert rules_in(result.output) == {"operation-id", VALIDATOR_RULE}
    assert "operationId 'getAccount' is also used by GET /api/accounts/me" in result.output


def test_structurally_broken_document_reports_paths_and_skips_our_rules(
    write_spec: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    path = write_spec(lambda r: op(r, "/api/accounts/me", "get").update(parameters=[{"name": "x"}]))
    result = run_cli("spec", "lint", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "$.paths['/api/accounts/me'].get.parameters[0]" in result.output
    assert "could not run" in result.output


def test_json_format(write_spec: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    path = write_spec(lambda r: op(r, "/api/accounts/me", "get")["responses"].pop("401"))
    result = run_cli("spec", "lint", str(path), "--format", "json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["count"] == 1 == len(body["findings"])
    assert body["findings"][0] == {
        "rule": "secured-401",
        "location": "GET /api/accounts/me (getMe)",
        "message": body["findings"][0]["message"],
    }
    clean = run_cli("spec", "lint", str(DEFAULT_SPEC_PATH), "--format", "json")
    assert clean.exit_code == 0 and json.loads(clean.stdout)["findings"] == []


def test_rule_filter(write_spec: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    path = write_spec(lambda r: op(r, "/api/accounts/me", "get")["responses"].pop("401"))
    assert run_cli("spec", "lint", str(path), "--rule", "examples-valid").exit_code == 0
    assert run_cli("spec", "lint", str(path), "--rule", "secured-401").exit_code == 1
    unknown = run_cli("spec", "lint", str(path), "--rule", "no-such-rule")
    assert unknown.exit_code == 2 and len(unknown.stderr.strip().splitlines()) == 1


def test_lint_spec_works_on_an_in_memory_document(real_raw: Raw) -> None:
    import copy

    raw = copy.deepcopy(real_raw)
    raw["x-events"]["task:created"]["channels"] = ["nonsense"]
    report = lint_spec(Spec(raw))
    assert [f.rule for f in report.findings] == ["events-resolve"]
    assert report.path == "<memory>"


# ------------------------------------------------------------------------------------------ unreadable files: exit 2
@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.yaml", None, "cannot read"),
        ("broken.yaml", "openapi: 3.1.0\npaths: {/api: [\n", "not valid YAML"),
        ("tabs.yaml", "openapi: 3.1.0\n\tpaths: {}\n", "not valid YAML"),
        ("list.yaml", "- just\n- a list\n", "not an OpenAPI document"),
    ],
)
def test_unreadable_or_unparseable_file_exits_2_with_one_line(
    tmp_path: Path, run_cli: Callable[..., Any], name: str, content: str | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = run_cli("spec", "lint", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_resource_actions_are_the_resource_layers() -> None:
    from contracts.lint import RESOURCE_ACTIONS
    from mockserver.domain.resources import ACTIONS

    assert RESOURCE_ACTIONS == ACTIONS


def test_a_closed_request_schema_marked_as_rejecting_unknown_fields_is_accepted(
    write_spec: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    path = write_spec(
        lambda r: _set(
            r["components"]["schemas"]["WorkerUpdate"], additionalProperties=False, **{"x-rejects-unknown-fields": True}
        )
    )
    result = run_cli("spec", "lint", str(path))
    assert result.exit_code == 0, result.output
