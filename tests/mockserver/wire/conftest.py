"""Helpers of the wire-fidelity tests."""

from __future__ import annotations

from typing import Any

from ._corpus import ENVIRONMENT, RUNNER


def claim_body(**extra: Any) -> dict[str, Any]:
    """The runner's claim body (`maxTasks`, `runner`, `environment`) plus `extra`."""
    return {"maxTasks": 1, "runner": RUNNER, "environment": ENVIRONMENT, **extra}
