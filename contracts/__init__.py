"""Contract suites for any buildd deployment: `run(target, credentials, options=...)` and what it returns.

    import contracts
    result = contracts.run(
        "http://127.0.0.1:4010",                      # or an ASGI app, checked in-process
        contracts.Credentials(key="bld_...", other_key="bld_..."),
        options=contracts.RunOptions(suites=("auth", "ownership"), seed=1),
    )
    for failure in result.failures:
        print(failure)                               # rule, operation, expected/actual, masked curl, fix

Credentials always come from the caller: this package reads no environment and imports neither the mock
nor the fixtures. Importing it is cheap; schemathesis loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.context import Credentials, RunOptions
    from contracts.failures import ContractFailure
    from contracts.registry import RULES, SUITES
    from contracts.report import ConsoleReporter, JsonReporter, JUnitReporter, to_json, to_junit
    from contracts.results import RunResult
    from contracts.runner import CheckUsageError, run
    from contracts.target import Target, TargetUnreachable

__all__ = (
    "RULES",
    "SUITES",
    "CheckUsageError",
    "ConsoleReporter",
    "ContractFailure",
    "Credentials",
    "JUnitReporter",
    "JsonReporter",
    "RunOptions",
    "RunResult",
    "Target",
    "TargetUnreachable",
    "run",
    "suite_names",
    "to_json",
    "to_junit",
)

_LAZY = {
    "Credentials": "contracts.context",
    "RunOptions": "contracts.context",
    "ContractFailure": "contracts.failures",
    "RULES": "contracts.registry",
    "SUITES": "contracts.registry",
    "ConsoleReporter": "contracts.report",
    "JsonReporter": "contracts.report",
    "JUnitReporter": "contracts.report",
    "to_json": "contracts.report",
    "to_junit": "contracts.report",
    "RunResult": "contracts.results",
    "CheckUsageError": "contracts.runner",
    "run": "contracts.runner",
    "Target": "contracts.target",
    "TargetUnreachable": "contracts.target",
}


def suite_names() -> list[str]:
    """The registered suites, in run order (the CLI's `--suite` choices)."""
    from contracts.registry import suite_names as names

    return names()


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    import importlib

    if name in ("RULES", "SUITES"):
        import contracts.checks  # noqa: F401  (registers the built-in suites and rules)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
