"""The pieces on their own: masking, request plans, the guard, registries, reports, the public surface."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from io import StringIO
from typing import Any

import pytest

import contracts
from contracts.checks.errors import error_body_problem
from contracts.curl import Secrets, to_curl
from contracts.failures import FAILURE_TYPES, AuthNotEnforced, OwnershipViolation
from contracts.plan import example_body, looks_like_uuid, minimal_instance, wrong_types
from contracts.registry import RULES, SUITES, Registry
from contracts.report import ConsoleReporter, to_json, to_junit
from contracts.results import CheckResult, Cleanup, RunResult, SuiteResult
from contracts.safety import Guard
from contracts.spec import load_spec
from contracts.target import RateLimiter

KEY = "bld_" + "ab" * 32


# --------------------------------------------------------------------------------------------- masking
def test_curl_masks_keys_and_sessions_wherever_they_appear() -> None:
    secrets = Secrets([KEY, "sess_secret_token_123"])
    curl = to_curl(
        "PATCH",
        f"http://h/api/x?k={KEY}",
        {"Authorization": f"Bearer {KEY}", "Cookie": "authjs.session-token=sess_secret_token_123"},
        json.dumps({"apiKey": KEY}),
        secrets,
    )
    assert KEY not in curl and "sess_secret_token_123" not in curl
    assert "Bearer bld_****" in curl and "authjs.session-token=****" in curl
    assert curl.startswith("curl -X PATCH 'http://h/api/x?k=bld_****'")


def test_unknown_keys_and_sessions_are_masked_by_shape() -> None:
    masked = Secrets().mask("Authorization: Bearer bld_0123456789abcdef; Cookie: authjs.session-token=abc.def")
    assert masked == "Authorization: Bearer bld_****; Cookie: authjs.session-token=****"
    assert Secrets().mask("Bearer bld_dev_key_123") == "Bearer bld_dev_key_123"  # a public probe value


def test_long_bodies_are_shortened_in_curl() -> None:
    assert "…(+" in to_curl("POST", "http://h/", None, "x" * 5000)


# ------------------------------------------------------------------------------------------ error bodies
@pytest.mark.parametrize(
    ("status", "content_type", "body", "problem"),
    [
        (404, "application/json", b'{"error": "Task not found"}', None),
        (200, "text/html", b"<html>", None),
        (404, "application/json", b'{"message": "x"}', "no string `error` field"),
        (400, "application/json", b'{"error": ""}', '`error` is ""'),
        (401, "text/plain", b"Unauthorized", "Content-Type text/plain is not JSON"),
        (400, "application/json", b"[1]", "body is a JSON list, not an object"),
        (429, "application/json", b'{"error": "limit", "limit": 3}', "429 without a numeric `current`"),
        (429, "application/json", b'{"error": "limit", "limit": 3, "current": 3}', None),
        (403, "application/json", b"", "empty body"),
    ],
)
def test_error_body_rule(status: int, content_type: str, body: bytes, problem: str | None) -> None:
    assert error_body_problem(status, content_type, body) == problem


# --------------------------------------------------------------------------------------------- plans
def test_example_bodies_come_from_the_spec() -> None:
    spec = load_spec()
    assert example_body(spec, spec.operations["createTask"]) == {"title": "Fix flaky login test"}
    assert example_body(spec, spec.operations["updateWorker"])["status"] == "running"


def test_wrong_types_change_every_field() -> None:
    assert wrong_types({"title": "t", "priority": 1, "tags": ["a"], "context": {}, "ok": True}) == {
        "title": 12345,
        "priority": "not-a-number",
        "tags": {"not": "a list"},
        "context": ["not", "an", "object"],
        "ok": "yes",
    }
    assert wrong_types({}) == ["not", "an", "object"]


def test_minimal_instances_satisfy_the_schema() -> None:
    spec = load_spec()
    for name in ("ClaimRequest", "TaskCreate", "HeartbeatRequest", "WorkerCommandRequest"):
        instance = minimal_instance(
            spec, {"$ref": f"#/components/schemas/{name}"}, lambda: "6f1c1a52-3b0e-4c8e-9a55-0c1f6f0e2b11"
        )
        assert spec.schema_check(name).is_valid(instance), (name, instance)


# --------------------------------------------------------------------------------------------- guard
class _Bench:
    tag = "[buildd-check 1234abcd]"

    def __init__(self) -> None:
        self.tracked_ids: dict[str, list[str]] = {"task": ["11111111-1111-4111-8111-111111111111"]}
        self.calls: list[tuple[str, str]] = []

    def tracked(self, kind: str) -> list[str]:
        return self.tracked_ids.get(kind, [])

    def track(self, kind: str, rid: str, **extra: Any) -> None:
        self.calls.append((kind, rid))


def test_the_guard_tags_creates_and_pins_claims_to_our_tasks() -> None:
    bench = _Bench()
    guard = Guard(load_spec(), bench)  # type: ignore[arg-type]
    assert guard.prepare("createTask", {"title": "x"}) == {"title": "[buildd-check 1234abcd] x"}
    assert guard.prepare("createTask", {"title": "y" * 499}) == {"title": "y" * 499}  # would break maxLength
    assert guard.prepare("claimTasks", {"runner": "r"})["taskId"] == guard.decoy_task
    ours = bench.tracked_ids["task"][0]
    assert guard.prepare("claimTasks", {"runner": "r", "taskId": ours})["taskId"] == ours
    guard.observe("claimTasks", 200, {"workers": [{"id": "w1", "taskId": ours}]})
    guard.observe("createTask", 400, {"id": "t-failed"})
    assert bench.calls == [("worker", "w1")]


def test_the_guard_makes_every_bulk_task_request_a_dry_run() -> None:
    guard = Guard(load_spec(), _Bench())  # type: ignore[arg-type]
    assert guard.prepare("bulkTasks", {"action": "delete"}) == {"action": "delete", "dryRun": True}
    assert guard.prepare("bulkTasks", {"action": "cancel", "dryRun": False})["dryRun"] is True


# ------------------------------------------------------------------------------------------ registries
def test_registries_refuse_a_second_item_under_a_taken_name() -> None:
    registry: Registry[object] = Registry("thing")
    registry.register("a", object())
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", object())
    with pytest.raises(LookupError, match="choose from: a"):
        registry.get("b")


def test_every_suite_and_rule_is_registered_with_a_fix() -> None:
    assert contracts.suite_names() == [
        "auth",
        "status",
        "schemas",
        "ownership",
        "lifecycle",
        "cron",
        "webhooks",
        "memory",
        "devmode",
    ]
    assert {r.suite for r in RULES} == set(SUITES.names())
    for rule in RULES:
        assert rule.fix.endswith(".") and rule.failure in FAILURE_TYPES, rule.id


def test_the_rate_limit_parses_units() -> None:
    assert RateLimiter.parse("10/s").interval == pytest.approx(0.1)  # type: ignore[union-attr]
    assert RateLimiter.parse("120/m").interval == pytest.approx(0.5)  # type: ignore[union-attr]
    assert RateLimiter.parse(None) is None
    with pytest.raises(ValueError, match="invalid --rate-limit"):
        RateLimiter.parse("fast")


def test_uuid_shape() -> None:
    assert looks_like_uuid("2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64") and not looks_like_uuid("dev-task")


# ---------------------------------------------------------------------------------------------- reports
def _result() -> RunResult:
    failure = AuthNotEnforced(
        rule="auth.no-credentials",
        operation="GET /api/tasks",
        expected='401 {"error": "Unauthorized"}',
        actual='200 {"tasks": []} <&>',
        request="curl -X GET http://h/api/tasks",
    )
    other = OwnershipViolation(
        rule="ownership.worker-403", operation="GET /api/workers/{id}", expected="403", actual="200"
    )
    auth = SuiteResult(
        name="auth",
        title="Authentication",
        checks=[
            CheckResult("auth", "auth.no-credentials", "GET /api/tasks", runs=1, failures=[failure], occurrences=1),
            CheckResult("auth", "auth.valid-credential", "GET /api/accounts", skipped="needs --session-cookie"),
            CheckResult("auth", "auth.unknown-key", "GET /api/tasks", runs=1),
        ],
        duration=0.5,
        requests=3,
    )
    own = SuiteResult(
        "ownership",
        "Ownership",
        [CheckResult("ownership", "ownership.worker-403", "GET /api/workers/{id}", 1, [other], 1)],
        0.1,
        1,
    )
    return RunResult(
        "1234abcd", 7, "http://h", False, "2026-01-01T00:00:00+00:00", 1.25, [auth, own], 4, Cleanup(["task 1"], [])
    )


def test_junit_has_a_testsuite_per_suite_and_a_testcase_per_operation_and_rule() -> None:
    root = ET.fromstring(to_junit(_result()))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "1")
    auth = root.find("testsuite[@name='auth']")
    assert auth is not None and len(auth.findall("testcase")) == 3
    failing = auth.find("testcase[@name='GET /api/tasks [auth.no-credentials]']")
    assert failing is not None and failing.get("classname") == "buildd.auth"
    node = failing.find("failure")
    assert node is not None and node.get("type") == "AuthNotEnforced" and "<&>" in (node.text or "")
    assert auth.find("testcase/skipped") is not None


def test_the_json_report_is_the_documented_shape() -> None:
    data = json.loads(to_json(_result()))
    assert data["version"] == 2 and data["exit_code"] == 1 and data["ok"] is False
    assert data["summary"] == {"suites": 2, "checks": 4, "passed": 1, "failed": 2, "skipped": 1, "failures": 2}
    coverage = data["coverage"]
    assert (coverage["verified"], coverage["skipped"]) == (3, 1)
    assert coverage["not_verified"] == [
        {
            "suite": "auth",
            "rule": "auth.valid-credential",
            "operation": "GET /api/accounts",
            "reason": "needs --session-cookie",
        }
    ]
    assert coverage["by_rule"]["auth.valid-credential"] == {"verified": 0, "skipped": 1}
    first = data["failures"][0]
    assert set(first) == {
        "suite",
        "type",
        "rule",
        "operation",
        "title",
        "severity",
        "expected",
        "actual",
        "request",
        "hint",
    }
    assert first["severity"] == "critical"


def test_the_console_shows_the_table_then_each_failure_with_its_fix() -> None:
    out = StringIO()
    ConsoleReporter(out=out, err=StringIO(), color=False).finish(_result())
    text = out.getvalue()
    assert "GET /api/workers/{id}" in text and "auth.no-credentials" in text
    assert "Request:   curl -X GET http://h/api/tasks" in text
    assert "Fix:       Authenticate before anything else" in text
    assert "2 failure(s)" in text and "--seed 7" in text
    # failures and what was not verified come before the table
    assert text.index("auth.no-credentials") < text.index("not verified: 1") < text.index("buildd-api check")
    assert "needs --session-cookie" in text


def test_a_check_that_judged_nothing_is_skipped_with_a_reason_and_the_gates_fail_it() -> None:
    empty = CheckResult("lifecycle", "lifecycle.max-tasks", "POST /api/workers/claim")
    assert empty.outcome.value == "skipped" and empty.reason
    suite = SuiteResult("lifecycle", "Lifecycle", [empty, CheckResult("lifecycle", "x", "y", runs=1)], 0.1, 1)
    result = RunResult("id", 1, "http://h", False, "t", 0.1, [suite], 1)
    assert result.exit_code == 0
    result.options = {"fail_on_skip": True}
    assert result.exit_code == 1 and "--fail-on-skip" in result.gate_problems[0]
    result.options = {"min_coverage": 60}
    assert result.exit_code == 1 and "50.0%" in result.gate_problems[0]
    result.options = {"min_coverage": 50}
    assert result.exit_code == 0
    skipped = ET.fromstring(to_junit(result)).find(".//testcase/skipped")
    assert skipped is not None and skipped.get("message") == empty.reason


def test_the_public_surface() -> None:
    assert set(contracts.__all__) >= {
        "run",
        "Credentials",
        "RunOptions",
        "RunResult",
        "suite_names",
        "to_junit",
        "to_json",
    }
    for name in contracts.__all__:
        assert getattr(contracts, name) is not None
