"""The public surface of `mockserver`: what it exports, that importing it stays light, and its settings."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from pydantic import ValidationError

import mockserver
from mockserver import MockSettings


def test_mockserver_exports_create_app_and_settings() -> None:
    assert sorted(mockserver.__all__) == ["MockSettings", "create_app"]
    assert callable(mockserver.create_app)
    with pytest.raises(AttributeError):
        mockserver.nothing  # noqa: B018


def test_importing_mockserver_loads_no_framework() -> None:
    code = "import sys, mockserver; print(sorted(m for m in ('litestar', 'uvicorn', 'msgspec') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_settings_defaults_match_the_cli() -> None:
    settings = MockSettings()
    assert (settings.host, settings.port, settings.scenario, settings.base_url) == (
        "127.0.0.1",
        4010,
        "default",
        "http://127.0.0.1:4010",
    )
    assert settings.control_api and not settings.strict and settings.max_body_bytes == 1024 * 1024


def test_settings_are_frozen_and_checked() -> None:
    with pytest.raises(ValidationError):
        MockSettings(port=70000)
    with pytest.raises(ValidationError):
        MockSettings(frozen_clock=datetime(2026, 1, 1))  # naive: which timezone?
    with pytest.raises(ValidationError):
        MockSettings().port = 1  # type: ignore[misc]
