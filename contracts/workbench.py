"""The resources a run needs, created with the caller's key (tagged and tracked) or discovered read-only.

Everything created carries the run's tag in its title or name (`[buildd-check <run id>] ...`) and is tracked,
so `cleanup()` can remove it at the end — after a failure or Ctrl-C too: live workers are failed first (so they
stop holding the account's slots), then tasks, schedules, accounts and workspaces are deleted. What cannot be
deleted with the credentials given (workspaces and accounts need a session) is reported as a leftover.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.context import AUTH_KEY, AUTH_SESSION, Credentials
from contracts.curl import Secrets
from contracts.declared import kind_operations, path_ids, record_of
from contracts.plan import example_body, looks_like_uuid, plan
from contracts.results import Cleanup
from contracts.shares import shared_in
from contracts.target import NO_BODY, Exchange, Target

if TYPE_CHECKING:
    from contracts.spec import Operation, Spec

__all__ = ("Owned", "Workbench", "WorkbenchError")

KINDS = ("account", "workspace", "task", "worker", "artifact", "schedule", "team")  # made by hand-written steps
_NAME_FIELDS = ("name", "title", "label")  # where a created record carries the run's tag


class WorkbenchError(Exception):
    """A setup request did not give us the resource we need; carries the exchange for the report."""

    def __init__(self, what: str, exchange: Exchange | None = None, secrets: Secrets | None = None) -> None:
        self.what = what
        self.exchange = exchange
        detail = f": {exchange.describe(200)}" if exchange is not None else ""
        super().__init__(f"{what}{detail}")
        self.curl = exchange.curl(secrets) if exchange is not None else None


@dataclass(slots=True)
class Owned:
    """The first account's resources, by `x-ownership` resource kind; `created` ones may be written to."""

    ids: dict[str, str] = field(default_factory=dict)
    created: bool = False
    missing: dict[str, str] = field(default_factory=dict)  # kind -> why there is none
    workspace_of_schedule: str | None = None
    task_of_worker: str | None = None

    def get(self, kind: str) -> str | None:
        return self.ids.get(kind)


class Workbench:
    """Creates and tracks a run's resources; `cleanup()` removes them."""

    def __init__(
        self,
        target: Target,
        credentials: Credentials,
        *,
        run_id: str,
        read_only: bool,
        secrets: Secrets,
        spec: Spec | None = None,
    ) -> None:
        self.target = target
        self.spec = spec
        self.credentials = credentials
        self.run_id = run_id
        self.read_only = read_only
        self.secrets = secrets
        self.tag = f"[buildd-check {run_id}]"
        self.runner = f"buildd-check-{run_id}"
        self._lock = threading.RLock()
        self._tracked: list[tuple[str, str, dict[str, Any]]] = []
        self._me: dict[str, Any] | None = None
        self._workspace: str | None = None
        self._owned: Owned | None = None

    # ------------------------------------------------------------------ plumbing
    def send(self, method: str, path: str, *, auth: str | None = AUTH_KEY, **kwargs: Any) -> Exchange:
        headers = self.credentials.headers(auth) if auth else {}
        return self.target.send(method, path, headers=headers, **kwargs)

    def auth_for(self, op: Operation) -> str:
        """The owner's credential an operation takes: the key, else (session-only) the session cookie."""
        if "apiKey" in op.schemes or not op.schemes:
            return AUTH_KEY
        if "session" in op.schemes and self.credentials.session_cookie:
            return AUTH_SESSION
        raise WorkbenchError(f"{op.label} takes a session only: needs --session-cookie")

    def _json(self, exchange: Exchange, what: str, status: int = 200) -> dict[str, Any]:
        body = exchange.json()
        if exchange.status != status or not isinstance(body, dict):
            raise WorkbenchError(what, exchange, self.secrets)
        return body

    def title(self, text: str) -> str:
        return f"{self.tag} {text}"

    def track(self, kind: str, resource_id: str, **extra: Any) -> None:
        with self._lock:
            if not any(k == kind and i == resource_id for k, i, _ in self._tracked):
                self._tracked.append((kind, resource_id, extra))

    def tracked(self, kind: str) -> list[str]:
        with self._lock:
            return [i for k, i, _ in self._tracked if k == kind]

    # ------------------------------------------------------------------ lookups
    def team_id(self) -> str:
        """The key's team, as `GET /api/accounts/me` names it (the real server's answer has no `teamId`)."""
        team = self.me().get("teamId")
        if not team:
            raise WorkbenchError("GET /api/accounts/me names no teamId")
        return str(team)

    def me(self) -> dict[str, Any]:
        """`GET /api/accounts/me` with the key (cached)."""
        if self._me is None:
            self._me = self._json(self.send("GET", "/api/accounts/me"), "could not read the key's account")
        return self._me

    def workspace_id(self) -> str:
        """`--workspace` (an id, a name or `owner/repo`), else the first workspace the key sees."""
        if self._workspace is not None:
            return self._workspace
        wanted = self.credentials.workspace
        if wanted and looks_like_uuid(wanted):
            self._workspace = wanted
            return wanted
        listing = self._json(self.send("GET", "/api/workspaces"), "could not list the key's workspaces")
        workspaces = [w for w in listing.get("workspaces", []) if isinstance(w, dict) and "id" in w]
        if wanted:
            low = wanted.lower()
            workspaces = [
                w for w in workspaces if low in (str(w.get("name", "")).lower(), str(w.get("repo", "")).lower())
            ]
            if not workspaces:
                raise WorkbenchError(f"no workspace named {wanted!r} is visible to the key")
        if not workspaces:
            raise WorkbenchError("the key sees no workspace; pass --workspace")
        self._workspace = str(workspaces[0]["id"])
        return self._workspace

    def workspaces_by_mode(self) -> dict[str, str]:
        """One workspace the key sees per access mode (`open`, `restricted`, ...), other than the run's own:
        the isolation probes read these too, so a gap in one mode is not hidden behind the mode of the first."""
        try:
            own = self.workspace_id()
            listing = self._json(self.send("GET", "/api/workspaces"), "could not list the key's workspaces")
        except WorkbenchError:
            return {}
        found: dict[str, str] = {}
        for ws in listing.get("workspaces") or []:
            if isinstance(ws, dict) and "id" in ws and str(ws["id"]) != own:
                found.setdefault(str(ws.get("accessMode") or "unknown"), str(ws["id"]))
        return found

    # ------------------------------------------------------------------ creation
    def create_task(self, text: str, *, workspace_id: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"title": self.title(text), "workspaceId": workspace_id or self.workspace_id(), **fields}
        exchange = self.send("POST", "/api/tasks", json_body=body)
        task = self._json(exchange, "could not create a task")
        if "id" in task:
            self.track("task", str(task["id"]))
        return task

    def claim(self, task_id: str, *, workspace_id: str | None = None, runner: str | None = None) -> Exchange:
        body: dict[str, Any] = {"runner": runner or self.runner, "taskId": task_id, "maxTasks": 1}
        if workspace_id:
            body["workspaceId"] = workspace_id
        exchange = self.send("POST", "/api/workers/claim", json_body=body)
        self.track_claim(exchange)
        return exchange

    def track_claim(self, exchange: Exchange) -> None:
        body = exchange.json()
        if exchange.status == 200 and isinstance(body, dict):
            for worker in body.get("workers") or []:
                if isinstance(worker, dict) and "id" in worker:
                    self.track("worker", str(worker["id"]), taskId=worker.get("taskId"))

    def claim_worker(self, task_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        exchange = self.claim(task_id, workspace_id=workspace_id)
        body = self._json(exchange, "could not claim our task")
        workers = [w for w in body.get("workers") or [] if isinstance(w, dict) and w.get("taskId") == task_id]
        if not workers:
            reason = (body.get("diagnostics") or {}).get("reason", "no worker returned")
            raise WorkbenchError(
                f"claiming our task gave no worker (diagnostics.reason={reason})", exchange, self.secrets
            )
        return workers[0]

    def create_artifact(self, worker_id: str) -> dict[str, Any]:
        body = {"type": "report", "title": self.title("ownership probe"), "content": "created by buildd-api check"}
        exchange = self.send("POST", f"/api/workers/{worker_id}/artifacts", json_body=body)
        artifact = self._json(exchange, "could not attach an artifact").get("artifact") or {}
        if "id" not in artifact:
            raise WorkbenchError("attaching an artifact returned no artifact id", exchange, self.secrets)
        self.track("artifact", str(artifact["id"]))
        return artifact

    def create_schedule(
        self, workspace_id: str, *, cron_expression: str = "0 3 * * *", enabled: bool = False
    ) -> dict[str, Any]:
        body = {
            "name": self.title("ownership probe" if not enabled else "cron probe"),
            "cronExpression": cron_expression,
            "enabled": enabled,
            "taskTemplate": {"title": self.title("scheduled")},
        }
        exchange = self.send("POST", f"/api/workspaces/{workspace_id}/schedules", json_body=body)
        schedule = self._json(exchange, "could not create a schedule", status=201).get("schedule") or {}
        if "id" not in schedule:
            raise WorkbenchError("creating a schedule returned no schedule id", exchange, self.secrets)
        self.track("schedule", str(schedule["id"]), workspaceId=workspace_id)
        return schedule

    def create_workspace(self, text: str) -> dict[str, Any]:
        exchange = self.send("POST", "/api/workspaces", json_body={"name": self.title(text), "accessMode": "open"})
        workspace = self._json(exchange, "could not create a workspace")
        if "id" in workspace:
            self.track("workspace", str(workspace["id"]))
        return workspace

    def finish_worker(self, worker_id: str, status: str = "completed") -> Exchange:
        return self.send("PATCH", f"/api/workers/{worker_id}", json_body={"status": status})

    # ------------------------------------------------------------------ the ownership world
    def owned(self) -> Owned:
        """The first account's resources: created (tagged) normally, discovered through lists under --read-only."""
        with self._lock:
            if self._owned is None:
                self._owned = self._discover() if self.read_only else self._create()
            return self._owned

    def _create(self) -> Owned:
        owned = Owned(created=True)
        steps = [
            ("account", lambda: str(self.me()["id"])),
            ("workspace", self.workspace_id),
            ("team", self.team_id),
        ]
        for kind, step in steps:
            _attempt(owned, kind, step)
        if "workspace" in owned.ids:
            _attempt(owned, "task", lambda: str(self.create_task("ownership probe")["id"]))
        if "task" in owned.ids:
            _attempt(owned, "worker", lambda: str(self.claim_worker(owned.ids["task"])["id"]))
            owned.task_of_worker = owned.ids["task"]
        else:
            owned.missing.setdefault("worker", "no task to claim")
        if "worker" in owned.ids:
            _attempt(owned, "artifact", lambda: str(self.create_artifact(owned.ids["worker"])["id"]))
        else:
            owned.missing.setdefault("artifact", "no worker to attach an artifact to")
        if "workspace" in owned.ids:
            _attempt(owned, "schedule", lambda: str(self.create_schedule(owned.ids["workspace"])["id"]))
            owned.workspace_of_schedule = owned.ids["workspace"]
        self._acquire_declared(owned, create=True)
        return owned

    def _acquire_declared(self, owned: Owned, *, create: bool) -> None:
        """One resource of every other kind the spec's `x-ownership` rules name, made (or, read-only, found in a
        list) through the operations `contracts.declared` finds; a kind under another (a note under a mission)
        waits for its parent, in as many passes as there are kinds."""
        if self.spec is None:
            return
        kinds = {k: ops for k, ops in kind_operations(self.spec).items() if k not in KINDS}
        pending = sorted(kinds)
        for _ in range(len(pending) + 1):
            progressed = False
            for kind in list(pending):
                ops = kinds[kind]
                making = create and ops.external is None  # an external kind is found by listing, never made
                op = ops.create if making else ops.list
                if op is None:
                    verb = "creates" if making else "lists"
                    owned.missing[kind] = f"the spec has no operation that {verb} a {kind}"
                    pending.remove(kind)
                    continue
                params = {p["name"] for p in op.path_params()}
                if not params <= set(path_ids(op, owned.ids)):
                    continue  # its parent is not there (yet)
                step = self._create_or_find_kind if making else self._find_kind
                _attempt(owned, kind, lambda kind=kind, step=step: step(owned, kind))
                pending.remove(kind)
                progressed = True
            if not progressed:
                break
        for kind in pending:
            op = kinds[kind].create if create and kinds[kind].external is None else kinds[kind].list
            needs = sorted({p["name"] for p in op.path_params()} - set(path_ids(op, owned.ids))) if op else []
            owned.missing[kind] = f"no parent resource for {', '.join(needs)}"

    def _create_or_find_kind(self, owned: Owned, kind: str) -> str:
        """A new record of `kind`, or, when the server will not make one (an ingest job already queued for the
        workspace), one the owner already has: either is the owner's, so either can be probed."""
        try:
            return self._create_kind(owned, kind)
        except WorkbenchError as refused:
            assert self.spec is not None
            lister = kind_operations(self.spec)[kind].list
            if lister is None or not {p["name"] for p in lister.path_params()} <= set(path_ids(lister, owned.ids)):
                raise
            try:
                return self._find_kind(owned, kind)
            except WorkbenchError:
                raise refused from None

    def _create_kind(self, owned: Owned, kind: str) -> str:
        assert self.spec is not None
        ops = kind_operations(self.spec)[kind]
        assert ops.create is not None
        body = example_body(self.spec, ops.create)
        if isinstance(body, dict):
            for name in body:  # a parent named in the body (`workspaceId`) is the owner's, not the example's
                if name.endswith("Id") and name[:-2] in owned.ids:
                    body[name] = owned.ids[name[:-2]]
            for name in _NAME_FIELDS:
                if isinstance(body.get(name), str):
                    body[name] = self.title(f"ownership probe {kind}")
                    break
        request = plan(self.spec, ops.create, path_ids(ops.create, owned.ids), fresh_id=_no_fresh_id, body=body)
        exchange = self.send(
            "POST", request.path, auth=self.auth_for(ops.create), params=request.params, json_body=body
        )
        record = record_of(exchange.json(), ops.create_field)
        if exchange.status // 100 != 2 or record is None or "id" not in record:
            raise WorkbenchError(f"could not create a {kind} ({ops.create.label})", exchange, self.secrets)
        rid = str(record["id"])
        if ops.delete is not None and ("apiKey" in ops.delete.schemes or self.credentials.session_cookie):
            ids = {**owned.ids, kind: rid}
            deleting = plan(self.spec, ops.delete, path_ids(ops.delete, ids), fresh_id=_no_fresh_id, body=NO_BODY)
            self.track(
                kind, rid, delete_path=deleting.path, delete_params=deleting.params, auth=self.auth_for(ops.delete)
            )
        else:
            self.track(kind, rid)
        return rid

    def _find_kind(self, owned: Owned, kind: str) -> str:
        assert self.spec is not None
        ops = kind_operations(self.spec)[kind]
        assert ops.list is not None
        request = plan(self.spec, ops.list, path_ids(ops.list, owned.ids), fresh_id=_no_fresh_id, body=NO_BODY)
        exchange = self.send("GET", request.path, auth=self.auth_for(ops.list), params=request.params)
        body = self._json(exchange, f"could not list {kind}s")
        field_name = ops.id_field
        shared = shared_in(ops.list)  # a record another team shared into ours is not the owner's to probe
        items = [
            i
            for i in body.get(ops.list_field or "") or []
            if isinstance(i, dict) and i.get(field_name) is not None and not (shared and shared.marked(i))
        ]
        if not items:
            why = f"{ops.external}; the suite never makes one" if ops.external else "read-only mode creates nothing"
            raise WorkbenchError(f"{ops.list.label} shows the owner no {kind} ({why})")
        return str(items[0][field_name])

    def _discover(self) -> Owned:
        owned = Owned(created=False)
        _attempt(owned, "account", lambda: str(self.me()["id"]))
        _attempt(owned, "workspace", self.workspace_id)
        _attempt(owned, "team", self.team_id)
        ws = owned.ids.get("workspace")

        def first(path: str, field_name: str, what: str, params: dict[str, Any] | None = None) -> str:
            body = self._json(self.send("GET", path, params=params), f"could not list {what}")
            items = [i for i in body.get(field_name) or [] if isinstance(i, dict) and "id" in i]
            if not items:
                raise WorkbenchError(f"the key sees no {what} (read-only mode creates nothing)")
            return str(items[0]["id"])

        _attempt(owned, "task", lambda: first("/api/tasks", "tasks", "task", {"workspaceId": ws} if ws else None))
        _attempt(owned, "worker", lambda: first("/api/workers/mine", "workers", "worker of the key's account"))
        _attempt(owned, "artifact", lambda: first("/api/artifacts", "artifacts", "artifact"))
        if ws:
            _attempt(owned, "schedule", lambda: first(f"/api/workspaces/{ws}/schedules", "schedules", "schedule"))
            owned.workspace_of_schedule = ws
        self._acquire_declared(owned, create=False)
        return owned

    def engine_targets(self) -> tuple[dict[str, str], set[str]]:
        """Resources for generated requests to hit: (ids by kind, kinds writes may touch).

        Normally a task, its worker and an artifact made for generation alone (it may break them freely);
        under --read-only the resources the lists show, for reads only.
        """
        if self.read_only:
            return dict(self.owned().ids), set()
        targets: dict[str, str] = {}
        try:
            task = self.create_task("generation target")
            targets["task"] = str(task["id"])
            worker = self.claim_worker(targets["task"])
            targets["worker"] = str(worker["id"])
            targets["artifact"] = str(self.create_artifact(targets["worker"])["id"])
        except (WorkbenchError, KeyError):
            pass  # fewer targets: generation still runs, with more 404s
        writable = set(targets)
        try:
            targets.setdefault("workspace", self.workspace_id())
            targets.setdefault("account", str(self.me()["id"]))
        except (WorkbenchError, KeyError):
            pass
        return targets, writable

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> Cleanup:
        """Remove everything tracked, newest first within each kind; never raises."""
        report = Cleanup()
        with self._lock:
            tracked = list(self._tracked)
        has_session = bool(self.credentials.session_cookie)
        for kind, rid, extra in reversed(tracked):  # the kinds found in the spec first: they hang off the rest
            if kind not in KINDS and "delete_path" not in extra:  # nothing deletes it (an ingest job): say so
                report.leftovers.append(f"{kind} {rid} (the spec has no operation that deletes a {kind})")
            if "delete_path" in extra:
                self._try(
                    report,
                    f"{kind} {rid}",
                    "DELETE",
                    extra["delete_path"],
                    params=extra["delete_params"],
                    auth=extra.get("auth", AUTH_KEY),
                )
        for kind, rid, _extra in reversed(tracked):
            if kind != "worker":
                continue
            self._try(
                report,
                f"worker {rid}",
                "PATCH",
                f"/api/workers/{rid}",
                json_body={"status": "failed", "error": f"{self.tag} cleanup"},
                ok=(200, 404, 409),
            )
        for kind, rid, extra in reversed(tracked):
            if kind == "task":
                self._try(report, f"task {rid}", "DELETE", f"/api/tasks/{rid}", params={"force": True})
            elif kind == "schedule":
                ws = extra.get("workspaceId")
                self._try(report, f"schedule {rid}", "DELETE", f"/api/workspaces/{ws}/schedules/{rid}")
        for kind, rid, _extra in reversed(tracked):
            if kind not in ("account", "workspace"):
                continue
            what = f"{kind} {rid}"
            if not has_session:
                report.leftovers.append(f"{what} (deleting a {kind} needs --session-cookie)")
                continue
            self._try(report, what, "DELETE", f"/api/{kind}s/{rid}", auth=AUTH_SESSION)
        with self._lock:
            self._tracked.clear()
        return report

    def _try(
        self,
        report: Cleanup,
        what: str,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 404),
        auth: str = AUTH_KEY,
        **kwargs: Any,
    ) -> None:
        try:
            exchange = self.send(method, path, auth=auth, **kwargs)
        except Exception as exc:  # cleanup must go on whatever happens
            report.leftovers.append(f"{what} ({type(exc).__name__}: {exc})")
            return
        if exchange.status in ok:
            if method == "DELETE":
                report.deleted.append(what)
        else:
            report.leftovers.append(f"{what} ({method} answered {exchange.describe(120)})")


def _no_fresh_id() -> str:
    raise WorkbenchError("a path parameter names a resource the run does not have")


def _attempt(owned: Owned, kind: str, step: Any) -> None:
    try:
        owned.ids[kind] = step()
    except WorkbenchError as exc:
        owned.missing[kind] = str(exc)
    except Exception as exc:  # a setup step must never take the run down
        owned.missing[kind] = f"{type(exc).__name__}: {exc}"
