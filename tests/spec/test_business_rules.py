"""`x-business-rules` has one reader (`contracts.spec.business_rules`, `Operation.business_rules`): the contract
check `status.valid-input`, the in-process schemathesis test and the fuzz soak all tolerate a refusal of valid data
exactly where the operation documents one, and nowhere else."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.checks import acceptance
from contracts.spec import business_rules, load_spec


def test_the_reader_maps_statuses_to_the_documented_rules() -> None:
    rules = load_spec().operations["startTask"].business_rules
    assert set(rules) == {400, 422}
    assert "pending" in rules[400]
    assert load_spec().operations["getMe"].business_rules == {}


@pytest.mark.parametrize(
    "raw",
    [None, [], {}, {"x-business-rules": None}, {"x-business-rules": ["400"]}, {"x-business-rules": {"4xx": "why"}}],
)
def test_the_reader_ignores_what_is_not_a_status_map(raw: Any) -> None:
    assert business_rules(raw) == {}


def test_the_contract_check_reads_the_same_rules() -> None:
    assert acceptance.business_rules is business_rules
