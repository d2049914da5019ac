"""Routes the runner calls besides the worker protocol: version, match-repos, tasks cleanup."""

from __future__ import annotations

from mockserver.domain.areas.runner_support import ErrorTraces, RunnerSupport, WorkspaceConfig
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import integer

__all__ = ()


@handles("getVersion")
def get_version(call: Call) -> Reply:
    return call.api.area(RunnerSupport).get_version()


@handles("matchRepos")
def match_repos(call: Call) -> Reply:
    return call.api.area(RunnerSupport).match_repos(call.principal, call.body or {})


@handles("cleanupTasks")
def cleanup_tasks(call: Call) -> Reply:
    return call.api.area(RunnerSupport).cleanup_tasks(call.principal)


@handles("getWorkspaceConfig")
def get_workspace_config(call: Call) -> Reply:
    return call.api.area(WorkspaceConfig).get_workspace_config(call.principal, call.path["id"])


@handles("saveWorkspaceConfig")
def save_workspace_config(call: Call) -> Reply:
    return call.api.area(WorkspaceConfig).save_workspace_config(call.principal, call.path["id"], call.body or {})


@handles("updateReleaseConfig")
def update_release_config(call: Call) -> Reply:
    return call.api.area(WorkspaceConfig).update_release_config(call.principal, call.path["id"], call.body or {})


@handles("listWorkerErrorTraces")
def list_worker_error_traces(call: Call) -> Reply:
    return call.api.area(ErrorTraces).worker_error_traces(
        call.principal, call.path["id"], integer(call.query, "limit"), call.query.get("since")
    )


@handles("listTaskErrorTraces")
def list_task_error_traces(call: Call) -> Reply:
    return call.api.area(ErrorTraces).task_error_traces(
        call.principal, call.path["id"], integer(call.query, "limit"), call.query.get("since")
    )
