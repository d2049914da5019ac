"""Headless Chromium from Debian's package, driven by Playwright (never `playwright install`).

Every test here is marked `browser` and skipped, with the reason, when /usr/bin/chromium (or Playwright) is
absent; `.ci/run` installs both, so CI runs them. Screenshots go to reports/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
CHROMIUM = os.environ.get("BUILDD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium chromium-driver` (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install '.[test]')")
    # launch() gives the browser a fresh temporary profile of its own (it refuses --user-data-dir)
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=60_000)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that records console errors and uncaught exceptions in `page.errors`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on(
        "console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
    )
    new_page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    new_page.errors = errors  # type: ignore[attr-defined]
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture
def mock_url() -> Iterator[str]:
    """A fresh mock (default world) on a free 127.0.0.1 port, as `buildd-api serve` runs it."""
    from mockserver import MockSettings
    from mockserver.server import serve_in_thread

    base_url, stop = serve_in_thread(MockSettings(port=0, strict=True))
    try:
        yield base_url
    finally:
        stop()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
