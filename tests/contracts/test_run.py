"""`contracts.run` against the mock: in-process and over HTTP every suite passes; usage errors are one line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

import contracts
from contracts.results import Outcome
from tests.contracts.conftest import FAST, real_leftovers


def _explain(result: contracts.RunResult) -> str:
    lines = [str(f) for f in result.failures] + result.errors
    return "\n\n".join(lines) or "ok"


def test_every_suite_passes_against_the_in_process_mock(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=FAST)
    assert result.ok, _explain(result)
    assert [s.name for s in result.suites] == contracts.suite_names()
    for suite in result.suites:
        assert suite.count(Outcome.PASSED) > 0, f"{suite.name} checked nothing"
    ran = {c.rule for s in result.suites for c in s.checks if c.runs}
    for rule in (
        "auth.no-credentials",
        "ownership.worker-403",
        "ownership.task-404",
        "lifecycle.terminal-409",
        "lifecycle.double-claim",
        "lifecycle.links",
        "devmode.null-for-missing",
        "status.invalid-json",
        "status.server-error",
        "schemas.response-body",
        "ownership.account-404",
    ):
        assert rule in ran, f"{rule} never ran"
    assert not real_leftovers(result.cleanup.leftovers)


# over HTTP, the full default run is tests/contracts/test_cli.py's (the same suites, more examples)


def test_the_same_seed_sends_the_same_probes(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    def curls(options: contracts.RunOptions) -> list[str]:
        app = make_app()
        result = contracts.run(app, credentials_for(app), options=options)
        return [c.operation + c.rule + str(c.runs) for s in result.suites for c in s.checks]

    options = dataclasses.replace(FAST, suites=("auth", "devmode"), seed=11)
    assert curls(options) == curls(options)


def test_a_suite_that_needs_another_key_is_a_usage_error(make_app: Callable[[], Any], keys: Any) -> None:
    with pytest.raises(contracts.CheckUsageError, match="needs --other-key"):
        contracts.run(make_app(), contracts.Credentials(key=keys.key("acme-admin")), options=FAST)


def test_an_unknown_suite_is_a_usage_error(make_app: Callable[[], Any]) -> None:
    with pytest.raises(contracts.CheckUsageError, match="unknown suite nope"):
        contracts.run(make_app(), options=dataclasses.replace(FAST, suites=("nope",)))


def test_a_refused_key_stops_before_any_check(make_app: Callable[[], Any]) -> None:
    bogus = contracts.Credentials(key="bld_" + "0" * 64)
    with pytest.raises(contracts.CheckUsageError, match="--key was refused"):
        contracts.run(make_app(), bogus, options=dataclasses.replace(FAST, suites=("auth",)))


def test_another_key_of_the_same_team_is_refused_for_ownership(make_app: Callable[[], Any], keys: Any) -> None:
    same_team = contracts.Credentials(key=keys.key("acme-admin"), other_key=keys.key("acme-ci"))
    with pytest.raises(contracts.CheckUsageError, match="another team"):
        contracts.run(make_app(), same_team, options=dataclasses.replace(FAST, suites=("ownership",)))


def test_an_unreachable_target_is_one_os_error() -> None:
    with pytest.raises(contracts.TargetUnreachable, match=r"cannot reach http://127\.0\.0\.1:9"):
        contracts.run(
            "http://127.0.0.1:9", contracts.Credentials(), options=dataclasses.replace(FAST, suites=("devmode",))
        )


def test_without_a_session_nothing_is_left_behind(make_app: Callable[[], Any], keys: Any) -> None:
    """Workspaces and accounts can only be deleted with a session: without one the run creates none."""
    from contracts.target import Target

    app = make_app()
    credentials = contracts.Credentials(key=keys.key("acme-admin"), other_key=keys.key("globex-admin"))
    before = Target.of(app).send("GET", "/api/workspaces", headers=credentials.headers("key")).json()
    result = contracts.run(app, credentials, options=FAST)
    after = Target.of(app).send("GET", "/api/workspaces", headers=credentials.headers("key")).json()
    assert result.ok, _explain(result)
    assert real_leftovers(result.cleanup.leftovers) == []
    assert len(after["workspaces"]) == len(before["workspaces"])
    tasks = Target.of(app).send("GET", "/api/tasks", headers=credentials.headers("key")).json()["tasks"]
    assert not [t for t in tasks if "[buildd-check" in t["title"]]
