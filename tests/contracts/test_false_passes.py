"""Issue 15: broken deployments that used to get exit 0 from `check` now get a finding (or a reasoned skip).

Each test plants one of the review's broken servers (tests/contracts/mutants.py machinery) and runs the narrow
suite that must notice it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import contracts
from contracts.results import Outcome
from tests.contracts.conftest import FAST
from tests.contracts.mutants import Keys, Req, Resp, Rewrite, _is

LIFECYCLE = dataclasses.replace(FAST, suites=("lifecycle",))


def _checks(result: contracts.RunResult, rule: str) -> list[Any]:
    return [c for s in result.suites for c in s.checks if c.rule == rule]


def _reset_worker_reads(req: Req, keys: Keys) -> Req | Resp:
    """The connection drops on `/api/workers/{id}...` from the state machine (not our own client)."""
    by_machine = req.headers.get("user-agent") != "buildd-api-check"  # the machine uses the engine's client
    if by_machine and re.match(r"^/api/workers/[0-9a-f-]{36}(/|$)", req.path):
        raise ConnectionResetError("connection reset by peer")
    return req


def _claims_always_no_slots(req: Req, keys: Keys) -> Req | Resp:
    if _is("POST", "/api/workers/claim")(req):
        diagnostics = {"reason": "no_slots", "activeWorkers": 0, "maxConcurrent": 3, "availableSlots": 0}
        return Resp.json(200, {"workers": [], "diagnostics": diagnostics})
    return req


def _claims_never_win(req: Req, keys: Keys) -> Req | Resp:
    if _is("POST", "/api/workers/claim")(req):
        return Resp.json(200, {"workers": [], "diagnostics": {"reason": "race_lost"}})
    return req


def _second_racer_crashes(req: Req, keys: Keys) -> Req | Resp:
    if _is("POST", "/api/workers/claim")(req) and json.loads(req.body or b"{}").get("runner", "").endswith("-b"):
        return Resp(500, b"Internal Server Error", {"content-type": "text/plain"})
    return req


def _run(
    before: Any,
    options: contracts.RunOptions,
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    mutant_keys: Callable[[contracts.Credentials], Keys],
    monkeypatch: pytest.MonkeyPatch,
) -> contracts.RunResult:
    app = make_app()
    credentials = credentials_for(app)
    mutant = Rewrite("m", "-", "-", options.suites or (), before=before)
    return contracts.run(mutant.apply(app, mutant_keys(credentials), monkeypatch), credentials, options=options)


def test_a_connection_dropped_inside_the_state_machine_is_a_finding(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the machine walks only the task and worker links: with all 266 operations its few walks rarely reach a worker
    options = dataclasses.replace(LIFECYCLE, state_machine_examples=6, operations=("* /api/tasks*", "* /api/workers*"))
    result = _run(_reset_worker_reads, options, make_app, credentials_for, mutant_keys, monkeypatch)
    assert result.exit_code == 1
    found = [f for f in result.failures if f.rule == "lifecycle.links"]
    assert found and "/api/workers/{id}" in str(found[0].operation), [str(f) for f in result.failures]
    assert "ConnectionResetError" in found[0].actual


def test_a_claim_that_always_says_no_slots_fails_claim_assigns(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(_claims_always_no_slots, LIFECYCLE, make_app, credentials_for, mutant_keys, monkeypatch)
    assert result.exit_code == 1
    found = [f for f in result.failures if f.rule == "lifecycle.claim-assigns"]
    assert found and found[0].operation == "POST /api/workers/claim"
    assert "no_slots" in found[0].actual
    # the rules that never saw a worker are skipped with a reason, not passed
    for rule in ("lifecycle.max-tasks", "lifecycle.double-claim", "lifecycle.running"):
        (check,) = _checks(result, rule)
        assert check.outcome == Outcome.SKIPPED and check.reason, rule


def test_a_claim_nobody_ever_wins_is_no_pass_for_max_tasks_or_double_claim(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = dataclasses.replace(LIFECYCLE, fail_on_skip=True)
    result = _run(_claims_never_win, options, make_app, credentials_for, mutant_keys, monkeypatch)
    assert result.exit_code == 1
    for rule in ("lifecycle.max-tasks", "lifecycle.double-claim"):
        (check,) = _checks(result, rule)
        assert check.outcome == Outcome.SKIPPED and check.reason, rule
    assert any("--fail-on-skip" in p for p in result.gate_problems)
    reasons = {r["reason"] for r in result.as_dict()["coverage"]["reasons"]}
    assert any("never tested" in r for r in reasons), reasons


def test_a_racer_answered_with_a_500_is_a_finding(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(_second_racer_crashes, LIFECYCLE, make_app, credentials_for, mutant_keys, monkeypatch)
    assert result.exit_code == 1
    assert any(f.rule == "lifecycle.double-claim" and f.operation == "POST /api/workers/claim" for f in result.failures)


def test_a_broken_body_answered_404_without_a_path_id_is_a_finding(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_found_for_bad_json(req: Req, keys: Keys) -> Req | Resp:
        if _is("POST", "/api/tasks")(req) and req.headers.get("authorization"):
            try:
                json.loads(req.body or b"null")
            except ValueError:
                return Resp.json(404, {"error": "Not found"})
        return req

    options = dataclasses.replace(FAST, suites=("status",), operations=("createTask",))
    result = _run(not_found_for_bad_json, options, make_app, credentials_for, mutant_keys, monkeypatch)
    assert result.exit_code == 1
    assert any(f.rule == "status.invalid-json" and f.operation == "POST /api/tasks" for f in result.failures)


def _me_answers(status: int, body: bytes, content_type: str = "application/json") -> Any:
    def after(req: Req, resp: Resp, keys: Keys) -> Resp:
        if _is("GET", "/api/accounts/me")(req) and resp.status == 200:
            return Resp(status, body if body else resp.body, {**resp.headers, "content-type": content_type})
        return resp

    return after


def test_preflight_203_goes_on_and_the_suites_report_it(
    make_app: Any, credentials_for: Any, mutant_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    credentials = credentials_for(app)
    mutant = Rewrite("me-203", "-", "-", ("status",), after=_me_answers(203, b""))
    options = dataclasses.replace(FAST, suites=("status",), operations=("getMe",))
    result = contracts.run(mutant.apply(app, mutant_keys(credentials), monkeypatch), credentials, options=options)
    assert result.exit_code == 1
    found = {(f.rule, f.operation) for f in result.failures}
    assert ("status.documented", "GET /api/accounts/me") in found, found


@pytest.mark.parametrize(
    ("status", "body", "content_type", "message"),
    [
        (401, b'{"error": "Unauthorized"}', "application/json", "--key was refused"),
        (403, b'{"error": "Forbidden"}', "application/json", "--key was refused"),
        (404, b"<html>Not Found</html>", "text/html", "no buildd API at"),
        (200, b"<html>welcome</html>", "text/html", "no buildd API at"),
    ],
)
def test_preflight_blames_the_key_or_the_url(
    status: int,
    body: bytes,
    content_type: str,
    message: str,
    make_app: Any,
    credentials_for: Any,
    mutant_keys: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    credentials = credentials_for(app)
    mutant = Rewrite("me", "-", "-", ("schemas",), after=_me_answers(status, body, content_type))
    broken = mutant.apply(app, mutant_keys(credentials), monkeypatch)
    with pytest.raises(contracts.CheckUsageError, match=message):
        contracts.run(broken, credentials, options=dataclasses.replace(FAST, suites=("schemas",)))


def test_wrong_prefix_names_the_url_tried(served_mock: str, credentials_for: Any) -> None:
    credentials = credentials_for(served_mock)
    with pytest.raises(contracts.CheckUsageError, match=r"no buildd API at .*/v2: GET .*/v2/api/accounts/me"):
        contracts.run(served_mock + "/v2", credentials, options=dataclasses.replace(FAST, suites=("schemas",)))
