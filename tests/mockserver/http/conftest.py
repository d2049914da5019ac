"""The domain tests' hand-built world, for the tests of the route handlers that translate calls onto it."""

from tests.mockserver.domain.world import api, key, raw_api, spec, user, world

__all__ = ("api", "key", "raw_api", "spec", "user", "world")
