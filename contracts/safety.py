"""Safety rails for running against a live deployment: tag what we create, track it, never claim others' work.

Every request a run sends — our probes and schemathesis' generated ones alike — passes through one `Guard`:

- `prepare` tags titles and names of creates with the run's tag (when the field is a string and the tag fits its
  `maxLength`), and pins `POST /api/workers/claim` to a task of ours (or to an id that exists nowhere), so a
  generated claim can never take a real runner's task, and makes every `POST /api/tasks/bulk` a dry run;
- `observe` records the ids of everything created (tasks, workers, artifacts, schedules, accounts, workspaces)
  with the workbench, which deletes them at the end;
- generated writes (schemathesis calls that are not GET) may only name resources this run created: any other
  UUID in their path is swapped for one that exists nowhere, so a fuzzer that learned a real id from a
  response (a workspace, the key's own account) can never update, unlink, regenerate or delete it;
- `aim(targets, writable)` gives generation something real to hit: about half of the generated path ids are
  swapped for a target of the same kind (a task, worker and artifact made for the purpose; under --read-only
  resources found through lists, reads only), so 2xx answers get checked too, not only 404s.

For schemathesis runs the guard is attached through a process-wide `before_call` hook that acts only on the
schemas the guard was explicitly bound to (other schemathesis users in the same process are untouched).
"""

from __future__ import annotations

import copy
import hashlib
import threading
import uuid
from typing import TYPE_CHECKING, Any

import schemathesis

from contracts.plan import looks_like_uuid

if TYPE_CHECKING:
    from schemathesis import Case, HookContext, Response

    from contracts.spec import Spec
    from contracts.workbench import Workbench

__all__ = ("Guard",)

# operationId -> (field, maxLength) pairs to tag
_TAGGED: dict[str, tuple[tuple[str, int], ...]] = {
    "createTask": (("title", 500),),
    "createWorkspace": (("name", 200),),
    "createAccount": (("name", 200),),
    "createSchedule": (("name", 200),),
}
_BOUND: dict[int, Guard] = {}  # id(schema.raw_schema) -> guard; clones of a schema share its raw dict
_HOOK_LOCK = threading.Lock()
_HOOK_INSTALLED = False


class Guard:
    """Applies the safety rails for one run (see the module docstring)."""

    def __init__(self, spec: Spec, workbench: Workbench) -> None:
        self.spec = spec
        self.workbench = workbench
        self.decoy_task = str(uuid.UUID(int=0xB0B0_0000_0000_4000_8000_0000_0000_0000))  # exists nowhere
        self._by_label = {op.label: op.operation_id for op in spec.operations.values()}
        self._targets: dict[str, str] = {}
        self._writable: frozenset[str] = frozenset()

    def aim(self, targets: dict[str, str], writable: frozenset[str] | set[str]) -> None:
        """Resources generated requests may be pointed at (`writable` kinds also by writes)."""
        self._targets = dict(targets)
        self._writable = frozenset(writable)

    # ------------------------------------------------------------------ the rails
    def prepare(self, operation_id: str, body: Any) -> Any:
        """The body to send instead of `body` (changed in place when it is a dict)."""
        if not isinstance(body, dict):
            return body
        tag = self.workbench.tag
        for name, limit in _TAGGED.get(operation_id, ()):
            value = body.get(name)
            if isinstance(value, str) and not value.startswith(tag) and len(value) + len(tag) + 1 <= limit:
                body[name] = f"{tag} {value}"
        if operation_id == "claimTasks" and body.get("taskId") not in self.workbench.tracked("task"):
            body["taskId"] = self.decoy_task
        if operation_id == "bulkTasks":  # a generated `delete` would wipe the team's tasks: only ever count them
            body["dryRun"] = True
        return body

    def observe(self, operation_id: str, status: int, body: Any, path: dict[str, Any] | None = None) -> None:
        """Track what a 2xx answer created."""
        if not 200 <= status < 300 or not isinstance(body, dict):
            return
        wb = self.workbench
        if operation_id == "createTask" and isinstance(body.get("id"), str):
            wb.track("task", body["id"])
        elif operation_id == "respondToWorker" and isinstance(body.get("taskId"), str):
            wb.track("task", body["taskId"])
        elif operation_id == "createWorkspace" and isinstance(body.get("id"), str):
            wb.track("workspace", body["id"])
        elif operation_id == "createAccount" and isinstance(body.get("id"), str):
            wb.track("account", body["id"])
        elif operation_id == "createSchedule":
            schedule = body.get("schedule") or {}
            if isinstance(schedule, dict) and isinstance(schedule.get("id"), str):
                wb.track("schedule", schedule["id"], workspaceId=(path or {}).get("id") or schedule.get("workspaceId"))
        elif operation_id == "createWorkerArtifact":
            artifact = body.get("artifact") or {}
            if isinstance(artifact, dict) and isinstance(artifact.get("id"), str):
                wb.track("artifact", artifact["id"])
        elif operation_id == "claimTasks":
            for worker in body.get("workers") or []:
                if isinstance(worker, dict) and isinstance(worker.get("id"), str):
                    wb.track("worker", worker["id"], taskId=worker.get("taskId"))

    # ------------------------------------------------------------------ schemathesis wiring
    def bind(self, schema: Any) -> None:
        """Apply the rails to every call made through `schema` and its clones (engine phases, state machines)."""
        _install_hooks()
        with _HOOK_LOCK:
            _BOUND[id(schema.raw_schema)] = self

    def unbind(self, schema: Any) -> None:
        with _HOOK_LOCK:
            if _BOUND.get(id(schema.raw_schema)) is self:
                del _BOUND[id(schema.raw_schema)]

    def _before_call(self, case: Case[Any]) -> None:
        # replace, never edit in place: schemathesis may hand us the spec's own example objects
        op_id = self._by_label.get(case.operation.label)
        if op_id is not None and isinstance(case.body, dict):
            body = self.prepare(op_id, copy.deepcopy(case.body))
            if body != case.body:
                case.body = body
        if case.path_parameters:
            path = dict(case.path_parameters)
            write = case.method.upper() != "GET"
            for name, value in path.items():
                kind = _kind_of(case.operation.path, name)
                if not kind or not looks_like_uuid(value):
                    continue
                target = self._targets.get(kind)
                if target and (not write or kind in self._writable) and _half(value):
                    path[name] = target
                elif write and value not in self.workbench.tracked(kind):
                    path[name] = self.decoy_task
            if path != case.path_parameters:
                case.path_parameters = path

    def _after_call(self, case: Case[Any], response: Response) -> None:
        op_id = self._by_label.get(case.operation.label)
        if op_id is None or not 200 <= response.status_code < 300:
            return
        try:
            body = response.json()
        except Exception:
            return
        self.observe(op_id, response.status_code, body, dict(case.path_parameters or {}))


def _half(value: str) -> bool:
    """A stable coin flip per generated value (same seed, same choices, whatever the thread order)."""
    return hashlib.sha256(value.encode()).digest()[0] < 128


def _kind_of(path: str, param: str) -> str | None:
    """The resource kind a path parameter names: `/api/tasks/{id}` -> task, `{scheduleId}` -> schedule."""
    if param.endswith("Id") and param != "id":
        return param[:-2]
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "api":
        return parts[1].rstrip("s") or None
    return None


def _guard_of(case: Case[Any]) -> Guard | None:
    return _BOUND.get(id(getattr(case.operation.schema, "raw_schema", None)))


def _install_hooks() -> None:
    global _HOOK_INSTALLED
    with _HOOK_LOCK:
        if _HOOK_INSTALLED:
            return

        @schemathesis.hook("before_call")
        def buildd_contracts_before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
            guard = _guard_of(case)
            if guard is not None:
                guard._before_call(case)

        @schemathesis.hook("after_call")
        def buildd_contracts_after_call(context: HookContext, case: Case[Any], response: Response) -> None:
            guard = _guard_of(case)
            if guard is not None:
                guard._after_call(case, response)

        _HOOK_INSTALLED = True
