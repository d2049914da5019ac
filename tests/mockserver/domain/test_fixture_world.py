"""The committed fixture world loads into the store and every fixture key can claim by the rules."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.domain.auth import authenticate
from mockserver.domain.errors import DomainError
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids, parse_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

from .conftest import SpecChecked


@pytest.fixture(scope="module")
def fixture_world() -> dict[str, Any]:
    world = pytest.importorskip("fixtures.world")
    return world.load_world("default")  # type: ignore[no-any-return]


def test_every_fixture_key_gets_a_documented_claim_answer(fixture_world, spec):
    epoch = parse_iso(fixture_world["meta"]["epoch"])
    api = SpecChecked(Buildd(Store(fixture_world), Clock(frozen_at=epoch), Ids(1), Outbox()), spec)
    answers = {}
    for credential in fixture_world["credentials"]:
        principal = authenticate(api.store, authorization=f"Bearer {credential['apiKey']}", session_token=None,
                                 accept={"apiKey"})
        try:
            result = api.claim_tasks(principal, {"runner": "r", "claimAcrossAccessible": True})
            answers[principal.account["name"]] = len(result["workers"]) or result["diagnostics"]["reason"]
        except DomainError as exc:
            answers[principal.account["name"]] = exc.status
    assert 403 in answers.values() and any(isinstance(v, int) and 0 < v < 100 for v in answers.values())

