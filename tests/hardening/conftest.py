"""Fixtures of the hardening suite: fixture-world names and ids, and `buildd-api serve` subprocesses.

In-process and in-thread mocks come from the suite's own fixtures (`client`, `mock_app`, `live_server` in
tests/conftest.py); a subprocess is only used where a real process is the point (kill -9, restarts, its log).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hardening._proc import MockProcess


@pytest.fixture(scope="session")
def world_ids(fixture_world: dict[str, Any]) -> dict[str, str]:
    """Ids of the default world by name: account names, workspace names, user emails."""
    ids = {a["name"]: a["id"] for a in fixture_world["accounts"]}
    ids.update({w["name"]: w["id"] for w in fixture_world["workspaces"]})
    ids.update({u["email"]: u["id"] for u in fixture_world["users"]})
    return ids


@pytest.fixture
def mock_process(tmp_path: Path) -> Iterator[Callable[..., MockProcess]]:
    """`mock_process("--strict", ...)` -> an unstarted MockProcess logging to tmp_path; all killed at teardown."""
    made: list[MockProcess] = []

    def make(*args: str, log_name: str = "server.log", lifetime: int = 180) -> MockProcess:
        proc = MockProcess(tmp_path / log_name, *args, lifetime=lifetime)
        made.append(proc)
        return proc

    try:
        yield make
    finally:
        for proc in made:
            if proc.alive():
                proc.kill()
