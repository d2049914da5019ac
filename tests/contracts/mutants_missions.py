"""Mutants of the missions area (issue 14), appended to `tests.contracts.mutants.MUTANTS`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.contracts.mutants import Mutant, Patch

__all__ = ("MISSION_MUTANTS",)


def _plan_without_mission(original: Callable[..., Any]) -> Callable[..., Any]:
    """The planning task is created, but not under the mission (its missionId dropped)."""

    def plan(self: Any, principal: Any, mission: Any) -> Any:
        task = original(self, principal, mission)
        self.store.update("tasks", str(task["id"]), {"missionId": None})
        return {**task, "missionId": None}

    return plan


MISSION_MUTANTS: tuple[Mutant, ...] = (
    Patch(
        "mission-run-task-not-under-mission",
        "lifecycle.mission-run",
        "POST /api/missions/{id}/run",
        ("lifecycle",),
        patches=(("mockserver.domain.areas.missions:Missions._plan", _plan_without_mission),),
    ),
)
