"""The contract suites against the mock: fresh in-process apps, one served mock, the two fixture teams' keys.

Credentials: `acme-admin` owns the resources, `globex-admin` (another team) attacks them; sessions come from
the mock's own `POST /__mock/session` (ada owns Acme, grace owns Globex). Budgets are small: each test checks
one thing, the full default budget runs once (test_cli).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import contracts
from contracts.target import Target
from tests.contracts.mutants import Keys, Mutant

OWNER, OTHER = "acme-admin", "globex-admin"
OWNER_EMAIL, OTHER_EMAIL = "ada@acme.example", "grace@globex.example"

# enough to exercise every rule once, small enough to keep each run about a second
FAST = contracts.RunOptions(seed=7, max_examples=3, coverage_phase=False, workers=1, state_machine_examples=2)


def real_leftovers(leftovers: list[str]) -> list[str]:
    """Leftovers other than the records no operation can delete (an ingest job, an invitation): those are
    reported, never an error of the cleanup."""
    return [x for x in leftovers if "has no operation that deletes" not in x]


@pytest.fixture(scope="session")
def world() -> dict[str, Any]:
    from fixtures.world import load_world

    return load_world("default")


@pytest.fixture(scope="session")
def keys(world: dict[str, Any]) -> Any:
    from fixtures.keys import FixtureKeys

    return FixtureKeys.of(world)


@pytest.fixture
def make_app(world: dict[str, Any]) -> Callable[[], Any]:
    """A fresh in-process mock of the default world per call."""
    from mockserver import MockSettings, create_app

    return lambda: create_app(MockSettings(), world=copy.deepcopy(world))


def mock_session(target: Any, email: str) -> str:
    """A dashboard session from the mock's control API."""
    exchange = Target.of(target).send("POST", "/__mock/session", json_body={"email": email})
    assert exchange.status == 200, exchange.describe()
    return str(exchange.json()["token"])


@pytest.fixture
def credentials_for(keys: Any) -> Callable[[Any], contracts.Credentials]:
    """Full credentials against one target (sessions minted by that target)."""

    def build(target: Any) -> contracts.Credentials:
        from mockserver import MockSettings

        return contracts.Credentials(
            key=keys.key(OWNER),
            other_key=keys.key(OTHER),
            session_cookie=mock_session(target, OWNER_EMAIL),
            other_session_cookie=mock_session(target, OTHER_EMAIL),
            cron_secret=MockSettings().cron_secret,
        )

    return build


@pytest.fixture
def mutant_keys(keys: Any) -> Callable[[contracts.Credentials], Keys]:
    return lambda creds: Keys(owner_key=keys.key(OWNER), owner_session=creds.session_cookie)


@pytest.fixture
def run_broken(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    mutant_keys: Callable[[contracts.Credentials], Keys],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[contracts.RunResult, contracts.Credentials]]:
    """Run `check` against a fresh mock with `mutant` planted: (the result, the credentials it ran with)."""

    def run(
        mutant: Mutant, options: contracts.RunOptions, spec: Any = None
    ) -> tuple[contracts.RunResult, contracts.Credentials]:
        app = make_app()
        credentials = credentials_for(app)
        broken = mutant.apply(app, mutant_keys(credentials), monkeypatch)
        return contracts.run(broken, credentials, options=options, spec=spec), credentials

    return run


@pytest.fixture(scope="module")
def served_mock() -> Iterator[str]:
    """One mock on a free 127.0.0.1 port for the module (its own, so no other test sees its state)."""
    from mockserver import MockSettings
    from mockserver.server import serve_in_thread

    base_url, stop = serve_in_thread(MockSettings(port=0))
    try:
        yield base_url
    finally:
        stop()
