"""Workspace extras: memory, skills, artifacts by workspace, settings, projects, runners, knowledge health,
releases, repo creation, migrations and their slots, cron previews and schedule suggestions."""

from __future__ import annotations

from mockserver.domain.areas.ws import WorkspaceExtras
from mockserver.domain.areas.ws_memory import Memories
from mockserver.domain.areas.ws_migrate import Migrations
from mockserver.domain.areas.ws_skills import Skills
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import integer

__all__ = ()


def _extras(call: Call) -> WorkspaceExtras:
    return call.api.area(WorkspaceExtras)  # type: ignore[no-any-return]


def _memories(call: Call) -> Memories:
    return call.api.area(Memories)  # type: ignore[no-any-return]


def _skills(call: Call) -> Skills:
    return call.api.area(Skills)  # type: ignore[no-any-return]


# -- memory ------------------------------------------------------------------------------------------------------


@handles("listMemories")
def list_memories(call: Call) -> Reply:
    return _memories(call).list_memories(
        call.principal,
        call.path["id"],
        search=call.query.get("search") or call.query.get("query"),
        type=call.query.get("type"),
        limit=integer(call.query, "limit"),
        offset=integer(call.query, "offset"),
    )


@handles("saveMemory")
def save_memory(call: Call) -> Reply:
    return 201, _memories(call).save_memory(call.principal, call.path["id"], call.body or {})


@handles("updateMemory")
def update_memory(call: Call) -> Reply:
    return _memories(call).update_memory(call.principal, call.path["id"], call.path["memoryId"], call.body or {})


@handles("deleteMemory")
def delete_memory(call: Call) -> Reply:
    return _memories(call).delete_memory(call.principal, call.path["id"], call.path["memoryId"])


@handles("memoryQuickstart")
def memory_quickstart(call: Call) -> Reply:
    forwarded = (call.headers.get("x-forwarded-for") or "").split(",")[0].strip()
    return _memories(call).quickstart(forwarded or "unknown")


# -- skills ------------------------------------------------------------------------------------------------------


@handles("listSkills")
def list_skills(call: Call) -> Reply:
    return _skills(call).list_skills(
        call.principal, call.path["id"], enabled=call.query.get("enabled"), is_role=call.query.get("isRole")
    )


@handles("createSkill")
def create_skill(call: Call) -> Reply:
    return _skills(call).create_skill(call.principal, call.path["id"], call.body or {})


@handles("getSkill")
def get_skill(call: Call) -> Reply:
    return _skills(call).get_skill(call.principal, call.path["id"], call.path["skillId"])


@handles("updateSkill")
def update_skill(call: Call) -> Reply:
    return _skills(call).update_skill(call.principal, call.path["id"], call.path["skillId"], call.body or {})


@handles("deleteSkill")
def delete_skill(call: Call) -> Reply:
    return _skills(call).delete_skill(call.principal, call.path["id"], call.path["skillId"])


# -- artifacts, settings, projects -------------------------------------------------------------------------------


@handles("listWorkspaceArtifacts")
def list_workspace_artifacts(call: Call) -> Reply:
    return _extras(call).list_workspace_artifacts(
        call.principal,
        call.path["id"],
        mission_id=call.query.get("missionId"),
        key=call.query.get("key"),
        type=call.query.get("type"),
        limit=integer(call.query, "limit"),
    )


@handles("getWorkspaceSettings")
def get_workspace_settings(call: Call) -> Reply:
    return _extras(call).get_settings(call.principal, call.path["id"])


@handles("updateWorkspaceSettings")
def update_workspace_settings(call: Call) -> Reply:
    return _extras(call).update_settings(call.principal, call.path["id"], call.body or {})


@handles("listWorkspaceProjects")
def list_workspace_projects(call: Call) -> Reply:
    return _extras(call).list_projects(call.principal, call.path["id"])


@handles("upsertWorkspaceProject")
def upsert_workspace_project(call: Call) -> Reply:
    return _extras(call).upsert_project(call.principal, call.path["id"], call.body or {})


@handles("replaceWorkspaceProjects")
def replace_workspace_projects(call: Call) -> Reply:
    return _extras(call).replace_projects(call.principal, call.path["id"], call.body or {})


# -- runners, knowledge health, releases, repo, migration slot ---------------------------------------------------


@handles("listWorkspaceRunners")
def list_workspace_runners(call: Call) -> Reply:
    return _extras(call).list_runners(call.principal, call.path["id"])


@handles("getKnowledgeHealth")
def get_knowledge_health(call: Call) -> Reply:
    return _extras(call).knowledge_health(call.principal, call.path["id"])


@handles("getLastRelease")
def get_last_release(call: Call) -> Reply:
    return _extras(call).last_release(call.principal, call.path["id"])


@handles("createWorkspaceRepo")
def create_workspace_repo(call: Call) -> Reply:
    return _extras(call).create_repo(call.principal, call.path["id"], call.body or {})


@handles("reserveMigrationSlot")
def reserve_migration_slot(call: Call) -> Reply:
    return _extras(call).reserve_migration_slot(call.principal, call.path["id"], call.body)


@handles("precheckWorkspaceMigration")
def precheck_workspace_migration(call: Call) -> Reply:
    return call.api.area(Migrations).precheck(call.principal, call.path["id"], call.body or {})


@handles("executeWorkspaceMigration")
def execute_workspace_migration(call: Call) -> Reply:
    return call.api.area(Migrations).execute(call.principal, call.path["id"], call.body or {})


@handles("repairWorkspaceMigration")
def repair_workspace_migration(call: Call) -> Reply:
    return call.api.area(Migrations).repair(call.principal, call.path["id"], call.body or {})


# -- schedules ---------------------------------------------------------------------------------------------------


@handles("validateScheduleCron")
def validate_schedule_cron(call: Call) -> Reply:
    return _extras(call).validate_cron(
        call.principal, call.path["id"], call.query.get("cron"), call.query.get("timezone")
    )


@handles("suggestScheduleUpdate")
def suggest_schedule_update(call: Call) -> Reply:
    return _extras(call).suggest_schedule_update(
        call.principal, call.path["id"], call.path["scheduleId"], call.body or {}
    )


@handles("approveScheduleSuggestion")
def approve_schedule_suggestion(call: Call) -> Reply:
    return _extras(call).approve_schedule_suggestion(call.principal, call.path["id"], call.path["scheduleId"])


@handles("dismissScheduleSuggestion")
def dismiss_schedule_suggestion(call: Call) -> Reply:
    return _extras(call).dismiss_schedule_suggestion(call.principal, call.path["id"], call.path["scheduleId"])
