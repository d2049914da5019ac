"""The ownership suite's reason for not probing an operation is true to its `security`: a public operation has
no credential to probe and is not counted unverified; a signature-only one says so; only an operation that takes
a session (and no key) asks for `--other-session-cookie`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import contracts
from contracts.checks.ownership import no_variant_reason
from contracts.spec import load_spec
from tests.contracts.conftest import FAST

PUBLIC = "GET /api/mcp-oauth/{workspace}"
SIGNED = "POST /api/webhooks/linear/{workspaceId}"
SESSION_ONLY = "GET /api/tasks/{id}/summary"


def _op(label: str) -> Any:
    return next(op for op in load_spec().api_operations() if op.label == label)


def _ctx(other_session: str | None) -> Any:
    return SimpleNamespace(credentials=SimpleNamespace(other_session_cookie=other_session))


def test_each_kind_of_security_gets_its_own_reason() -> None:
    assert no_variant_reason(_ctx(None), _op(PUBLIC)) is None
    assert "signature-only" in str(no_variant_reason(_ctx(None), _op(SIGNED)))
    assert "--other-session-cookie" not in str(no_variant_reason(_ctx(None), _op(SIGNED)))
    assert "needs --other-session-cookie" in str(no_variant_reason(_ctx(None), _op(SESSION_ONLY)))


def test_a_run_without_the_other_session_skips_with_true_reasons(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    credentials = dataclasses.replace(credentials_for(app), other_session_cookie=None)
    result = contracts.run(app, credentials, options=dataclasses.replace(FAST, suites=("ownership",)))

    skipped = {c.operation: str(c.skipped) for s in result.suites for c in s.checks if c.skipped and not c.runs}
    assert PUBLIC not in skipped and "GET /api/artifacts/{artifactId}/download" not in skipped
    assert any(n.startswith(f"{PUBLIC}: public") for s in result.suites for n in s.notes)
    assert "signature-only" in skipped[SIGNED]
    assert "needs --other-session-cookie" in skipped[SESSION_ONLY]
    misleading = [op for op, why in skipped.items() if "session-only" in why and _op(op).schemes != {"session"}]
    assert misleading == []
