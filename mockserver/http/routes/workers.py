"""The worker protocol."""

from __future__ import annotations

from mockserver.http.routes import Call, Reply, handles
from mockserver.http.routes._params import csv

__all__ = ()


@handles("claimTasks")
def claim_tasks(call: Call) -> Reply:
    return call.api.claim_tasks(call.principal, call.body or {})


@handles("getWorker")
def get_worker(call: Call) -> Reply:
    return call.api.get_worker(call.principal, call.path["id"])


@handles("updateWorker")
def update_worker(call: Call) -> Reply:
    return call.api.update_worker(call.principal, call.path["id"], call.body or {})


@handles("listMyWorkers")
def list_my_workers(call: Call) -> Reply:
    return call.api.list_my_workers(call.principal, csv(call.query, "status"))


@handles("sendHeartbeat")
def send_heartbeat(call: Call) -> Reply:
    return call.api.send_heartbeat(call.principal, call.body or {})


@handles("listActiveWorkers")
def list_active_workers(call: Call) -> Reply:
    return call.api.list_active_workers(call.principal)


@handles("sendWorkerCommand")
def send_worker_command(call: Call) -> Reply:
    return call.api.send_worker_command(call.principal, call.path["id"], call.body or {})


@handles("instructWorker")
def instruct_worker(call: Call) -> Reply:
    return call.api.instruct_worker(call.principal, call.path["id"], call.body or {})


@handles("recordWorkerActivity")
def record_worker_activity(call: Call) -> Reply:
    return call.api.record_worker_activity(call.principal, call.path["id"], call.body or {})


@handles("listWorkerArtifacts")
def list_worker_artifacts(call: Call) -> Reply:
    return call.api.list_worker_artifacts(call.principal, call.path["id"])


@handles("createWorkerArtifact")
def create_worker_artifact(call: Call) -> Reply:
    return call.api.create_worker_artifact(call.principal, call.path["id"], call.body or {})


@handles("recoverWorker")
def recover_worker(call: Call) -> Reply:
    return call.api.recover_worker(call.principal, call.path["id"], call.body or {})


@handles("respondToWorker")
def respond_to_worker(call: Call) -> Reply:
    return call.api.respond_to_worker(call.principal, call.path["id"], call.body or {})
