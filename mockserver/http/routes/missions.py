"""Missions and initiatives (issue 14). Editing and deleting an initiative is the resource layer's (no handler)."""

from __future__ import annotations

from mockserver.domain.areas.missions import Missions
from mockserver.domain.areas.missions_initiatives import Initiatives
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import flag

__all__ = ()


def _missions(call: Call) -> Missions:
    return call.api.area(Missions)  # type: ignore[no-any-return]


def _initiatives(call: Call) -> Initiatives:
    return call.api.area(Initiatives)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------------ initiatives
@handles("listInitiatives")
def list_initiatives(call: Call) -> Reply:
    return _initiatives(call).list_initiatives(call.principal, call.query)


@handles("createInitiative")
def create_initiative(call: Call) -> Reply:
    return 201, _initiatives(call).create_initiative(call.principal, call.body or {})


@handles("getInitiativeEffort")
def get_initiative_effort(call: Call) -> Reply:
    return _initiatives(call).effort(call.principal, call.query["workspaceId"])


@handles("getInitiative")
def get_initiative(call: Call) -> Reply:
    return _initiatives(call).get_initiative(call.principal, call.path["initiativeId"])


@handles("listInitiativeArtifacts")
def list_initiative_artifacts(call: Call) -> Reply:
    return _initiatives(call).list_artifacts(call.principal, call.path["initiativeId"])


@handles("createInitiativeArtifact")
def create_initiative_artifact(call: Call) -> Reply:
    return _initiatives(call).create_artifact(call.principal, call.path["initiativeId"], call.body or {})


@handles("getInitiativeKpiState")
def get_initiative_kpi_state(call: Call) -> Reply:
    return _initiatives(call).kpis(call.principal, call.path["initiativeId"])


@handles("evaluateInitiative")
def evaluate_initiative(call: Call) -> Reply:
    return _initiatives(call).evaluate(call.principal, call.path["initiativeId"])


@handles("getInitiativeTrackerProgress")
def get_initiative_tracker_progress(call: Call) -> Reply:
    return _initiatives(call).tracker_progress(call.principal, call.path["initiativeId"])


# ------------------------------------------------------------------------------------------------ missions
@handles("listMissions")
def list_missions(call: Call) -> Reply:
    return _missions(call).list_missions(call.principal, call.query)


@handles("createMission")
def create_mission(call: Call) -> Reply:
    return 201, _missions(call).create_mission(call.principal, call.body or {})


@handles("getMissionCapabilities")
def get_mission_capabilities(call: Call) -> Reply:
    return Missions.capabilities()


@handles("getMission")
def get_mission(call: Call) -> Reply:
    return _missions(call).get_mission(call.principal, call.path["id"])


@handles("updateMission")
def update_mission(call: Call) -> Reply:
    return _missions(call).update_mission(call.principal, call.path["id"], call.body or {})


@handles("deleteMission")
def delete_mission(call: Call) -> Reply:
    return _missions(call).delete_mission(call.principal, call.path["id"])


@handles("listMissionArtifacts")
def list_mission_artifacts(call: Call) -> Reply:
    return _missions(call).list_artifacts(call.principal, call.path["id"])


@handles("createMissionArtifact")
def create_mission_artifact(call: Call) -> Reply:
    return _missions(call).create_artifact(call.principal, call.path["id"], call.body or {})


@handles("getMissionCriteriaState")
def get_mission_criteria_state(call: Call) -> Reply:
    return _missions(call).criteria(call.principal, call.path["id"])


@handles("evaluateMission")
def evaluate_mission(call: Call) -> Reply:
    return _missions(call).evaluate(call.principal, call.path["id"])


@handles("linkMissionTracker")
def link_mission_tracker(call: Call) -> Reply:
    return _missions(call).link(call.principal, call.path["id"], call.body or {})


@handles("listMissionNotes")
def list_mission_notes(call: Call) -> Reply:
    return _missions(call).list_notes(call.principal, call.path["id"], call.query)


@handles("createMissionNote")
def create_mission_note(call: Call) -> Reply:
    return 201, _missions(call).create_note(call.principal, call.path["id"], call.body or {})


@handles("replyToMissionNote")
def reply_to_mission_note(call: Call) -> Reply:
    return 201, _missions(call).reply_to_note(call.principal, call.path["id"], call.path["noteId"], call.body or {})


@handles("reconcileMission")
def reconcile_mission(call: Call) -> Reply:
    return _missions(call).reconcile(call.principal, call.path["id"], flag(call.query, "dryRun"))


@handles("runMission")
def run_mission(call: Call) -> Reply:
    return _missions(call).run_mission(call.principal, call.path["id"])


@handles("getMissionTrackerProgress")
def get_mission_tracker_progress(call: Call) -> Reply:
    return _missions(call).tracker_progress(call.principal, call.path["id"])
