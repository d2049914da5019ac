"""The `buildd_contracts` pytest plugin: one test per suite and rule with --buildd-url, nothing without it."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.contracts.conftest import OTHER, OWNER
from tests.contracts.mutants import BY_NAME, Keys

pytestmark = pytest.mark.http


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def null_account_mock(world: dict[str, Any], keys: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from mockserver import MockSettings, create_app
    from mockserver.server import serve_in_thread

    settings = MockSettings(port=0)
    app = create_app(settings, world=copy.deepcopy(world))
    broken = BY_NAME["devmode-null-account"].apply(app, Keys(owner_key=keys.key(OWNER)), monkeypatch)
    base_url, stop = serve_in_thread(settings, app=broken)
    try:
        yield base_url
    finally:
        stop()


def test_without_a_url_the_plugin_adds_nothing(tmp_path: Path) -> None:
    proc = _pytest(tmp_path)
    assert proc.returncode == 5, proc.stdout  # "no tests ran"


def test_one_test_per_rule_passes_against_the_mock(served_mock: str, keys: Any, tmp_path: Path) -> None:
    proc = _pytest(
        tmp_path,
        "--buildd-url",
        served_mock,
        "--buildd-key",
        keys.key(OWNER),
        "--buildd-other-key",
        keys.key(OTHER),
        "--buildd-suite",
        "devmode,auth",
        "--buildd-seed",
        "3",
        "-m",
        "buildd",
        "-rA",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "10 passed, 1 skipped" in proc.stdout  # auth.session-on-key-route needs a session
    assert "PASSED buildd::devmode::devmode.null-for-missing" in proc.stdout


def test_a_broken_rule_fails_its_test_with_the_report(null_account_mock: str, keys: Any, tmp_path: Path) -> None:
    proc = _pytest(
        tmp_path, "--buildd-url", null_account_mock, "--buildd-key", keys.key(OWNER), "--buildd-suite", "devmode"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED buildd::devmode::devmode.null-for-missing" in proc.stdout
    assert "GET /api/accounts/{id}" in proc.stdout and "3 passed" in proc.stdout
    assert keys.key(OWNER) not in proc.stdout
