"""Without `--workspace`, the isolation reads cover one workspace per access mode the key sees.

The run works in the key's first workspace (open in the default world). A mock that hides open workspaces from
other teams but shows them restricted ones passes every probe on the run's own workspace; the reads on a
restricted workspace catch it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

import contracts
from mockserver.domain import access
from tests.contracts.conftest import FAST

OPTIONS = dataclasses.replace(FAST, suites=("ownership",), operations=("GET /api/workspaces/{id}",))


def test_the_clean_mock_passes_in_every_mode(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=OPTIONS)
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    runs = next(c.runs for s in result.suites for c in s.checks if c.rule == "ownership.workspace-404")
    assert runs >= 2  # the run's own workspace and at least one of another mode


def test_a_gap_only_in_restricted_workspaces_is_caught(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = access.workspace_for

    def restricted_leak(store: Any, principal: Any, workspace_id: str | None) -> Any:
        workspace = store.get("workspaces", workspace_id)
        if workspace is not None and workspace.get("accessMode") == "restricted":
            return workspace
        return original(store, principal, workspace_id)

    monkeypatch.setattr(access, "workspace_for", restricted_leak)
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=OPTIONS)
    assert result.exit_code == 1
    assert ("ownership.workspace-404", "GET /api/workspaces/{id}") in {(f.rule, f.operation) for f in result.failures}
