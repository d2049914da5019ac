"""The domain tests' fixtures and constants live in `world.py` (a plain module, so the route-handler tests in
tests/mockserver/http can use the same world without importing a conftest); this makes them fixtures here."""

from tests.mockserver.domain.world import *  # noqa: F403
