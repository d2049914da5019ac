from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import Live, serve


@pytest.fixture
def live() -> Iterator[Live]:
    """The realtime routes alone (plus a test-only publish route) on uvicorn, 127.0.0.1, a free port."""
    with serve() as server:
        yield server
