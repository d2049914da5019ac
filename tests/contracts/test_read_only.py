"""`--read-only` is safe for production: nothing it sends changes the deployment's state."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import contracts
from contracts.target import Target
from tests.contracts.conftest import FAST


class _Recorder:
    """ASGI middleware that notes every (method, path, status) the run sends."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []
        Target.of(app).new_session()  # the real app runs one lifespan; this wrapper answers its own

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def spy(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, spy)
        self.seen.append((scope["method"], scope["path"], status))


def _state(app: Any) -> Any:
    state = Target.of(app).send("GET", "/__mock/state").json()
    state.pop("meta", None)
    return state


def test_a_read_only_run_changes_nothing(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    credentials = credentials_for(app)
    before = _state(app)
    spy = _Recorder(app)
    result = contracts.run(spy, credentials, options=dataclasses.replace(FAST, read_only=True))

    assert result.ok, "\n\n".join(str(f) for f in result.failures)
    assert _state(app) == before
    writes_accepted = [(m, p, s) for m, p, s in spy.seen if m != "GET" and 200 <= s < 300]
    assert writes_accepted == []
    skipped = {c.rule for s in result.suites for c in s.checks if c.skipped and not c.runs}
    assert "lifecycle.create-pending" in skipped and "ownership.worker-unchanged" not in {
        c.rule for s in result.suites for c in s.checks if c.runs
    }
    assert result.cleanup.deleted == [] and result.cleanup.leftovers == []


def test_read_only_ownership_still_checks_reads_on_discovered_resources(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    result = contracts.run(
        app, credentials_for(app), options=dataclasses.replace(FAST, read_only=True, suites=("ownership",))
    )
    ran = {(c.rule, c.operation) for s in result.suites for c in s.checks if c.runs}
    assert ("ownership.task-404", "GET /api/tasks/{id}") in ran
    assert ("ownership.worker-403", "GET /api/workers/{id}") in ran
    skipped = {(c.rule, c.operation): c.skipped for s in result.suites for c in s.checks if c.skipped}
    assert "read-only" in str(skipped[("ownership.worker-403", "PATCH /api/workers/{id}")])
