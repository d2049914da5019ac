"""The realtime channel names buildd publishes on, in one place for the domain (which publishes) and the realtime
transports (which carry). Names are unprefixed; `EventHub.publish` adds the configured `channel_prefix`.

This module imports nothing of the project, so both sides may depend on it without depending on each other.
"""

from __future__ import annotations

__all__ = ("mission_channel", "task_channel", "worker_channel", "workspace_channel")


def workspace_channel(workspace_id: object) -> str:
    return f"workspace-{workspace_id}"


def task_channel(task_id: object) -> str:
    return f"task-{task_id}"


def worker_channel(worker_id: object) -> str:
    return f"worker-{worker_id}"


def mission_channel(mission_id: object) -> str:
    return f"mission-{mission_id}"
