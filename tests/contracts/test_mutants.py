"""Every contract rule has a broken server that proves it fires, and passes on the clean mock.

For each mutant (tests/contracts/mutants.py) the same narrow run goes against the clean mock and against the
mock with the planted bug: the clean run has no finding for the rule, the broken run reports the rule on the
operation that breaks it — with a masked curl and a fix hint. Mutants that need the same narrow run share one
clean run.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import re
from collections.abc import Callable
from typing import Any

import pytest

import contracts
from contracts.registry import RULES
from contracts.spec import Spec, load_spec
from tests.contracts.conftest import FAST
from tests.contracts.mutants import MUTANTS, Mutant


def _options(mutant: Mutant) -> contracts.RunOptions:
    return dataclasses.replace(FAST, suites=mutant.suites, operations=mutant.operations, **dict(mutant.options))


def _spec(mutant: Mutant) -> Spec | None:
    if mutant.spec_patch is None:
        return None
    raw = copy.deepcopy(load_spec().raw)
    mutant.spec_patch(raw)
    return Spec(raw)


def _findings(result: contracts.RunResult, rule: str) -> list[contracts.ContractFailure]:
    return [f for f in result.failures if f.rule == rule]


def _clean_runs() -> dict[tuple[Any, ...], list[Mutant]]:
    """Mutants grouped by the narrow run they need: twelve lifecycle mutants need the same clean lifecycle run, so it
    runs once for all of them."""
    runs: dict[tuple[Any, ...], list[Mutant]] = {}
    for m in MUTANTS:
        runs.setdefault((m.suites, m.operations, m.options, m.spec_patch), []).append(m)
    return runs


CLEAN_RUNS = _clean_runs()


@pytest.mark.parametrize(
    "mutants", CLEAN_RUNS.values(), ids=["+".join(m.name for m in ms) for ms in CLEAN_RUNS.values()]
)
def test_the_clean_mock_passes_the_checks_that_catch(
    mutants: list[Mutant], make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=_options(mutants[0]), spec=_spec(mutants[0]))
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    for mutant in mutants:
        checked = [
            c
            for s in result.suites
            for c in s.checks
            if c.rule == mutant.rule and fnmatch.fnmatchcase(c.operation, mutant.operation)
        ]
        assert checked and checked[0].runs > 0, f"{mutant.rule} never ran on {mutant.operation}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_broken_mock_fails_with_the_rule_and_operation(mutant: Mutant, run_broken: Callable[..., Any]) -> None:
    result, credentials = run_broken(mutant, _options(mutant), _spec(mutant))
    assert result.exit_code == 1
    found = _findings(result, mutant.rule)
    assert found, f"expected {mutant.rule}; got " + ", ".join(f"{f.rule} {f.operation}" for f in result.failures)
    failure = next((f for f in found if fnmatch.fnmatchcase(str(f.operation), mutant.operation)), None)
    assert failure is not None, f"{mutant.rule} not on {mutant.operation}: {[f.operation for f in found]}"
    assert failure.hint and failure.expected and failure.actual
    if failure.request:
        assert credentials.key not in failure.request  # secrets are masked


def test_every_registered_rule_has_a_mutant() -> None:
    """A rule without a broken server that trips it is a rule nobody has seen fail: the registry decides."""
    import contracts.checks  # noqa: F401  (registers every rule)

    caught = {m.rule for m in MUTANTS}
    # a template id (`ownership.{resource}-{status}`) is covered by a mutant of any concrete id it spells
    missing = [r.id for r in RULES if not any(_matches(r.id, rule) for rule in caught)]
    assert not missing, f"rules without a mutant in tests/contracts/mutants.py: {', '.join(missing)}"
    unknown = [m.rule for m in MUTANTS if not any(_matches(r.id, m.rule) for r in RULES)]
    assert not unknown, f"mutants naming no registered rule: {unknown}"


def _matches(rule_id: str, concrete: str) -> bool:
    return bool(re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[a-z0-9-]+", re.escape(rule_id)), concrete))
