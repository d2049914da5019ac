"""The worker protocol."""

from __future__ import annotations

from mockserver.domain.areas.artifacts import Artifacts
from mockserver.domain.areas.worker_control import WorkerControl
from mockserver.domain.areas.workers import Workers
from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import csv

__all__ = ()


@handles("claimTasks")
def claim_tasks(call: Call) -> Reply:
    return call.api.area(Workers).claim_tasks(call.principal, call.body or {})


@handles("getWorker")
def get_worker(call: Call) -> Reply:
    return call.api.area(Workers).get_worker(call.principal, call.path["id"])


@handles("updateWorker")
def update_worker(call: Call) -> Reply:
    return call.api.area(Workers).update_worker(call.principal, call.path["id"], call.body or {})


@handles("listMyWorkers")
def list_my_workers(call: Call) -> Reply:
    return call.api.area(Workers).list_my_workers(call.principal, csv(call.query, "status"))


@handles("sendHeartbeat")
def send_heartbeat(call: Call) -> Reply:
    return call.api.area(WorkerControl).send_heartbeat(call.principal, call.body or {})


@handles("listActiveWorkers")
def list_active_workers(call: Call) -> Reply:
    return call.api.area(WorkerControl).list_active_workers(call.principal)


@handles("sendWorkerCommand")
def send_worker_command(call: Call) -> Reply:
    return call.api.area(WorkerControl).send_worker_command(call.principal, call.path["id"], call.body or {})


@handles("instructWorker")
def instruct_worker(call: Call) -> Reply:
    return call.api.area(WorkerControl).instruct_worker(call.principal, call.path["id"], call.body or {})


@handles("recordWorkerActivity")
def record_worker_activity(call: Call) -> Reply:
    return call.api.area(WorkerControl).record_worker_activity(call.principal, call.path["id"], call.body or {})


@handles("listWorkerArtifacts")
def list_worker_artifacts(call: Call) -> Reply:
    return call.api.area(Artifacts).list_worker_artifacts(call.principal, call.path["id"])


@handles("createWorkerArtifact")
def create_worker_artifact(call: Call) -> Reply:
    return call.api.area(Artifacts).create_worker_artifact(call.principal, call.path["id"], call.body or {})


@handles("recoverWorker")
def recover_worker(call: Call) -> Reply:
    return call.api.area(WorkerControl).recover_worker(call.principal, call.path["id"], call.body or {})


@handles("respondToWorker")
def respond_to_worker(call: Call) -> Reply:
    return call.api.area(WorkerControl).respond_to_worker(call.principal, call.path["id"], call.body or {})
