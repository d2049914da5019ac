"""Lint rule `id-ownership`: an operation that takes a resource id says who may reach it, so no id goes unprobed."""

from __future__ import annotations

import copy
from typing import Any

from contracts.lint import lint_spec
from contracts.spec import Spec, load_spec


def _findings(raw: dict[str, Any]) -> list[str]:
    return [f"{f.location}: {f.message}" for f in lint_spec(Spec(raw), rules=["id-ownership"]).findings]


def test_the_shipped_spec_gives_every_id_a_rule() -> None:
    assert _findings(copy.deepcopy(load_spec().raw)) == []


def test_an_id_parameter_without_x_ownership_is_reported() -> None:
    raw = copy.deepcopy(load_spec().raw)
    del raw["paths"]["/api/model-tiers"]["get"]["x-ownership"]
    found = _findings(raw)
    assert len(found) == 1 and "getModelTiers" in found[0] and "'workspaceId'" in found[0], found


def test_an_unmarked_list_filter_is_reported_and_a_misplaced_marker_too() -> None:
    raw = copy.deepcopy(load_spec().raw)
    params = raw["paths"]["/api/tasks"]["get"]["parameters"]
    workspace = next(p for p in params if p.get("name") == "workspaceId")
    del workspace["x-filter"]
    assert any("listTasks" in f for f in _findings(raw))
    workspace["x-filter"] = "team"
    workspace["required"] = True
    assert any("optional query filter only" in f for f in _findings(raw))
