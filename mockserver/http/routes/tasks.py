"""Tasks and their sub-operations."""

from __future__ import annotations

from mockserver.domain.areas.task_actions import TaskActions
from mockserver.domain.areas.tasks import Tasks
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import flag, integer

__all__ = ()


@handles("listTasks")
def list_tasks(call: Call) -> Reply:
    return call.api.area(Tasks).list_tasks(
        call.principal,
        workspace_id=call.query.get("workspaceId"),
        status=call.query.get("status"),
        limit=integer(call.query, "limit"),
        offset=integer(call.query, "offset"),
    )


@handles("createTask")
def create_task(call: Call) -> Reply:
    return call.api.area(Tasks).create_task(call.principal, call.body or {})


@handles("getTask")
def get_task(call: Call) -> Reply:
    return call.api.area(Tasks).get_task(call.principal, call.path["id"], call.query.get("include"))


@handles("updateTask")
def update_task(call: Call) -> Reply:
    return call.api.area(Tasks).update_task(call.principal, call.path["id"], call.body or {})


@handles("deleteTask")
def delete_task(call: Call) -> Reply:
    return call.api.area(Tasks).delete_task(call.principal, call.path["id"], force=flag(call.query, "force"))


@handles("startTask")
def start_task(call: Call) -> Reply:
    return call.api.area(TaskActions).start_task(call.principal, call.path["id"], call.body)


@handles("reassignTask")
def reassign_task(call: Call) -> Reply:
    return call.api.area(TaskActions).reassign_task(
        call.principal, call.path["id"], force=flag(call.query, "force"), body=call.body
    )


@handles("listTaskMessages")
def list_task_messages(call: Call) -> Reply:
    return call.api.area(TaskActions).list_task_messages(call.principal, call.path["id"])


@handles("createTaskNote")
def create_task_note(call: Call) -> Reply:
    return 201, call.api.area(TaskActions).create_task_note(call.principal, call.path["id"], call.body or {})
