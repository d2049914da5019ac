"""Artifacts across the caller's workspaces."""

from __future__ import annotations

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import integer

__all__ = ()


@handles("listArtifacts")
def list_artifacts(call: Call) -> Reply:
    return call.api.area(Artifacts).list_artifacts(
        call.principal,
        workspace_id=call.query.get("workspaceId"),
        worker_id=call.query.get("workerId"),
        task_id=call.query.get("taskId"),
        type=call.query.get("type"),
        limit=integer(call.query, "limit"),
    )
