"""A walk hypothesis cannot replay (its draws came from a stateful server's answers) is a reported skip of
`lifecycle.links`, never a `Server error` blamed on the step it was at (the "flaky 500" of watched projects)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import hypothesis.errors
import pytest

import contracts
from contracts.checks import lifecycle
from tests.contracts.conftest import FAST


def test_an_unreplayable_walk_is_a_skip_not_a_server_error(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def flaky(ctx: Any, tracker: Any = None) -> None:
        tracker.current = "POST /api/workspaces/{workspaceId}/watched-projects"
        raise hypothesis.errors.FlakyStrategyDefinition("Inconsistent data generation!")

    monkeypatch.setattr(lifecycle, "run_links", flaky)
    app = make_app()
    options = dataclasses.replace(FAST, suites=("lifecycle",))
    result = contracts.run(app, credentials_for(app), options=options)
    assert not [f for f in result.failures if f.rule == lifecycle.LINKS_RULE], result.failures
    skipped = [c for s in result.suites for c in s.checks if c.rule == lifecycle.LINKS_RULE and c.skipped]
    assert skipped and "could not replay" in str(skipped[0]), skipped


def test_a_crash_mid_walk_is_still_a_finding(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(ctx: Any, tracker: Any = None) -> None:
        tracker.current = "POST /api/tasks"
        raise ConnectionError("dropped")

    monkeypatch.setattr(lifecycle, "run_links", crash)
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=dataclasses.replace(FAST, suites=("lifecycle",)))
    assert [f for f in result.failures if f.rule == lifecycle.LINKS_RULE and f.operation == "POST /api/tasks"]


def test_after_an_unreplayable_run_the_walks_go_on_in_a_fresh_one(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    original = lifecycle._walk

    def first_run_flaky(machine: Any, walks: int) -> None:
        calls.append(walks)
        if len(calls) == 1:
            raise hypothesis.errors.FlakyStrategyDefinition("Inconsistent data generation!")
        original(machine, walks)

    monkeypatch.setattr(lifecycle, "_walk", first_run_flaky)
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=dataclasses.replace(FAST, suites=("lifecycle",)))
    assert len(calls) == 2 and calls[1] == FAST.state_machine_examples, calls
    links = [c for s in result.suites for c in s.checks if c.rule == lifecycle.LINKS_RULE]
    assert links and not any(c.skipped for c in links) and not result.failures, (links, result.failures)
