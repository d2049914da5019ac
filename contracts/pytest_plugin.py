"""pytest entry point `buildd_contracts`: `pytest --buildd-url URL --buildd-key ... --buildd-other-key ...`.

With `--buildd-url` it adds one test per suite and rule (`buildd::ownership::ownership.worker-403`) that fails
with the rule's findings; the whole check runs once, on the first of these tests, through `contracts.run`.
Without `--buildd-url` it does nothing at all (it is loaded in every pytest run of this environment).
Credentials may also come from BUILDD_KEY, BUILDD_OTHER_KEY and BUILDD_SESSION_COOKIE.
"""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contracts.results import CheckResult, RunResult

_RESULT_KEY = "_buildd_contracts_result"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("buildd", "buildd contract checks (contracts/)")
    group.addoption("--buildd-url", default=None, help="Check the buildd deployment at this base URL.")
    group.addoption("--buildd-key", default=None, help="Its API key (default: env BUILDD_KEY).")
    group.addoption("--buildd-other-key", default=None, help="Another team's key (default: env BUILDD_OTHER_KEY).")
    group.addoption(
        "--buildd-session-cookie",
        default=None,
        help="A session of the key's team (default: env BUILDD_SESSION_COOKIE).",
    )
    group.addoption("--buildd-suite", default=None, help="Comma-separated suites (default: all).")
    group.addoption("--buildd-seed", type=int, default=None, help="Seed of the check run.")
    group.addoption("--buildd-read-only", action="store_true", default=False, help="Send nothing that mutates.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "buildd: a contract check of a deployment (added by --buildd-url)")


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection sees the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    url = config.getoption("--buildd-url")
    if not url:
        return
    from contracts.registry import RULES
    from contracts.runner import select_suites

    suite_option = config.getoption("--buildd-suite")
    suites = select_suites(suite_option.split(",") if suite_option else None)
    parent = BuilddCollector.from_parent(session, name="buildd", nodeid="buildd")
    for suite in suites:
        for rule in RULES:
            if rule.suite == suite.name:
                item = BuilddItem.from_parent(parent, name=f"{suite.name}::{rule.id}", suite=suite.name, rule=rule.id)
                item.add_marker("buildd")
                items.append(item)


class BuilddCollector(pytest.Collector):
    def collect(self) -> list[Any]:  # items are added directly by pytest_collection_modifyitems
        return []


class BuilddFailure(AssertionError):
    pass


class BuilddItem(pytest.Item):
    def __init__(self, *, suite: str, rule: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.rule = rule

    def _result(self) -> RunResult:
        stash = self.config.__dict__
        if _RESULT_KEY not in stash:
            try:
                stash[_RESULT_KEY] = _run(self.config)
            except Exception as exc:  # remembered: the other items fail the same way without retrying
                stash[_RESULT_KEY] = exc
        value = stash[_RESULT_KEY]
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[no-any-return]

    def runtest(self) -> None:
        result = self._result()
        checks: list[CheckResult] = [
            c
            for s in result.suites
            if s.name == self.suite
            for c in s.checks
            if fnmatch.fnmatchcase(c.rule, self.rule.replace("{resource}", "*").replace("{status}", "*"))
        ]
        failures = [f for c in checks for f in c.failures]
        if failures:
            raise BuilddFailure("\n\n".join(str(f) for f in failures))
        suite = next((s for s in result.suites if s.name == self.suite), None)
        if suite is not None and suite.error:
            raise BuilddFailure(f"suite {self.suite} stopped: {suite.error}")
        if not any(c.runs for c in checks):
            reasons = sorted({c.skipped for c in checks if c.skipped})
            pytest.skip("; ".join(reasons)[:300] if reasons else "no operation to check")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, BuilddFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "buildd", None, f"{self.suite}: {self.rule}"


def _run(config: pytest.Config) -> RunResult:
    import contracts

    def opt(name: str, env: str) -> str | None:
        return config.getoption(name) or os.environ.get(env) or None

    suite_option = config.getoption("--buildd-suite")
    options = contracts.RunOptions(
        suites=tuple(suite_option.split(",")) if suite_option else None,
        seed=config.getoption("--buildd-seed"),
        read_only=config.getoption("--buildd-read-only"),
    )
    credentials = contracts.Credentials(
        key=opt("--buildd-key", "BUILDD_KEY"),
        other_key=opt("--buildd-other-key", "BUILDD_OTHER_KEY"),
        session_cookie=opt("--buildd-session-cookie", "BUILDD_SESSION_COOKIE"),
    )
    try:
        return contracts.run(config.getoption("--buildd-url"), credentials, options=options)
    except (ValueError, OSError) as exc:
        raise pytest.UsageError(f"buildd check cannot start: {exc}") from None
