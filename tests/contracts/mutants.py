"""Broken variants of the mock, one contract rule broken each (schemathesis' `test/apps/catalog` idea).

A mutant never touches `mockserver/`: it either wraps the app in an ASGI middleware that rewrites one kind of
request or answer (`Rewrite`), or monkeypatches one domain function for the duration of a test (`Patch`).
Each names the rule that must catch it, the operation the report must name, and the narrow run that does.

    app = mutant.apply(create_app(...), monkeypatch)
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from contracts.target import Target

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


@dataclass(slots=True)
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Resp:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    @classmethod
    def json(cls, status: int, payload: Any) -> Resp:
        return cls(status, json.dumps(payload).encode())


Before = Callable[[Req, "Keys"], Req | Resp]
After = Callable[[Req, Resp, "Keys"], Resp]


@dataclass(frozen=True, slots=True)
class Keys:
    """What a mutant may need to impersonate the owner: the first account's key and session."""

    owner_key: str
    owner_session: str | None = None


class _Middleware:
    def __init__(self, app: ASGIApp, keys: Keys, before: Before | None, after: After | None) -> None:
        self.app, self.keys, self.before, self.after = app, keys, before, after

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the wrapped app runs its own lifespan once (started in `apply`)
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        req = Req(scope["method"], scope["path"], headers, body)
        outcome = self.before(req, self.keys) if self.before else req
        if isinstance(outcome, Resp):
            await _send(send, outcome)
            return
        req = outcome
        scope = {**scope, "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.items()]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": req.body, "more_body": False}

        status, out_headers, chunks = 500, {}, []

        async def capture(message: Message) -> None:
            nonlocal status, out_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        resp = Resp(status, b"".join(chunks), out_headers)
        if self.after:
            resp = self.after(req, resp, self.keys)
        await _send(send, resp)


async def _send(send: Any, resp: Resp) -> None:
    headers = {k: v for k, v in resp.headers.items() if k != "content-length"}
    headers["content-length"] = str(len(resp.body))
    await send(
        {
            "type": "http.response.start",
            "status": resp.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": resp.body})


@dataclass(frozen=True)
class Mutant:
    """One planted bug: `apply` returns the broken app; `rule`/`operation` (a glob) must show up in the report."""

    name: str
    rule: str
    operation: str
    suites: tuple[str, ...]
    operations: tuple[str, ...] | None = None
    # a change to the spec both runs use (a rule the shipped spec gives nothing to judge on the mock)
    spec_patch: Callable[[dict[str, Any]], None] | None = None
    # RunOptions fields the narrow run needs besides the fast defaults (e.g. the coverage phase's negative cases)
    options: tuple[tuple[str, Any], ...] = ()

    def apply(self, app: ASGIApp, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
        raise NotImplementedError


@dataclass(frozen=True)
class Rewrite(Mutant):
    """Wraps the app: `before` may change the request or answer instead; `after` may change the answer."""

    before: Before | None = None
    after: After | None = None

    def apply(self, app: ASGIApp, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
        Target.of(app).new_session()  # one lifespan for the real app, whoever reaches it first
        return _Middleware(app, keys, self.before, self.after)


@dataclass(frozen=True)
class Patch(Mutant):
    """Replaces each `module:attribute` (or `module:Class.attribute`) by `replacement(original)` for the test."""

    patches: tuple[tuple[str, Callable[[Any], Any]], ...] = ()

    def apply(self, app: ASGIApp, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
        for target, replacement in self.patches:
            module_name, _, attr_path = target.partition(":")
            owner: Any = importlib.import_module(module_name)
            *parents, attr = attr_path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            monkeypatch.setattr(owner, attr, replacement(getattr(owner, attr)))
        return app


# --------------------------------------------------------------------------------------------- helpers
def _is(method: str, pattern: str) -> Callable[[Req], bool]:
    rx = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", pattern) + "$")
    return lambda req: req.method == method and bool(rx.match(req.path))


def _as_owner(req: Req, keys: Keys) -> Req:
    return Req(req.method, req.path, {**req.headers, "authorization": f"Bearer {keys.owner_key}"}, req.body)


def _without_error_field(body: bytes) -> bytes:
    payload = json.loads(body)
    payload["message"] = payload.pop("error")
    return json.dumps(payload).encode()


def _bearer_of(req: Req) -> str | None:
    value = req.headers.get("authorization", "")
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


# ------------------------------------------------------------------------------------------ the catalog
def _skip_auth_on_list_tasks(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/tasks")(req) and "authorization" not in req.headers:
        return _as_owner(req, keys)
    return req


def _lowercase_bearer_accepted(req: Req, keys: Keys) -> Req | Resp:
    value = req.headers.get("authorization", "")
    if value.startswith("bearer "):
        return Req(req.method, req.path, {**req.headers, "authorization": "Bearer " + value[7:]}, req.body)
    return req


def _key_on_session_route(req: Req, keys: Keys) -> Req | Resp:
    owner_key = _bearer_of(req) == keys.owner_key
    if _is("GET", "/api/accounts")(req) and owner_key and "cookie" not in req.headers and keys.owner_session:
        return Req(
            req.method, req.path, {**req.headers, "cookie": f"authjs.session-token={keys.owner_session}"}, req.body
        )
    return req


def _undocumented_teapot(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/workers/active")(req) and req.headers.get("authorization"):
        return Resp.json(418, {"error": "I'm a teapot"})
    return req


def _crash_on_invalid_json(req: Req, keys: Keys) -> Req | Resp:
    if _is("POST", "/api/tasks")(req) and req.headers.get("authorization"):
        try:
            json.loads(req.body or b"null")
        except ValueError:
            return Resp(500, b"Internal Server Error", {"content-type": "text/plain"})
    return req


def _drop_error_field_on_task_404(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("GET", "/api/tasks/{id}")(req) and resp.status == 404:
        return Resp(404, _without_error_field(resp.body), resp.headers)
    return resp


def _me_without_level(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("GET", "/api/accounts/me")(req) and resp.status == 200:
        payload = json.loads(resp.body)
        payload.pop("level", None)
        return Resp(200, json.dumps(payload).encode(), resp.headers)
    return resp


def _dev_null_account(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/accounts/{id}")(req) and req.path != "/api/accounts/me":
        return Resp.json(200, {"account": None})
    return req


def _dev_key_accepted(req: Req, keys: Keys) -> Req | Resp:
    if _bearer_of(req) == "bld_dev_key_123":
        return _as_owner(req, keys)
    return req


def _dev_task_ids(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("POST", "/api/tasks")(req) and resp.status == 200:
        payload = json.loads(resp.body)
        payload["id"] = "dev-task"
        return Resp(200, json.dumps(payload).encode(), resp.headers)
    return resp


def _other_team_lists_owner_tasks(req: Req, keys: Keys) -> Req | Resp:
    bearer = _bearer_of(req)
    if _is("GET", "/api/tasks")(req) and bearer and bearer != keys.owner_key:
        return _as_owner(req, keys)
    return req


def _other_team_filters_by_owner_workspace(req: Req, keys: Keys) -> Req | Resp:
    """GET /api/artifacts by another key answers as the owner: its `?workspaceId=` filter reaches across teams."""
    bearer = _bearer_of(req)
    if _is("GET", "/api/artifacts")(req) and bearer and bearer != keys.owner_key:
        return _as_owner(req, keys)
    return req


class _RefuseButApply:
    """PATCH /api/workers/{id} by another key: applied as the owner, answered 403 (the check runs too late)."""

    def before(self, req: Req, keys: Keys) -> Req | Resp:
        bearer = _bearer_of(req)
        if _is("PATCH", "/api/workers/{id}")(req) and bearer and bearer != keys.owner_key:
            req = _as_owner(req, keys)
            req.headers["x-mutant-refuse"] = "1"
        return req

    def after(self, req: Req, resp: Resp, keys: Keys) -> Resp:
        if req.headers.get("x-mutant-refuse"):
            return Resp.json(403, {"error": "Forbidden"})
        return resp


def _worker_for_without_ownership(original: Any) -> Any:
    def worker_for(store: Any, principal: Any, worker_id: Any) -> Any:
        worker = store.get("workers", worker_id)
        if worker is None:
            return original(store, principal, worker_id)
        return worker

    return worker_for


def _task_for_without_team(original: Any) -> Any:
    def task_for(store: Any, principal: Any, task_id: Any) -> Any:
        task = store.get("tasks", task_id)
        workspace = store.get("workspaces", task["workspaceId"]) if task else None
        if task is None or workspace is None:
            return original(store, principal, task_id)
        return task, workspace

    return task_for


def _no_terminal_guard(original: Any) -> Any:
    def check(self: Any, worker: Any, task: Any, status: Any) -> None:
        return None

    return check


def _any_worker_transition(original: Any) -> Any:
    return lambda current, new: None


def _walk_ignoring_claims(original: Any) -> Any:
    def walk(self: Any, workspaces: Any, task_id: Any) -> Iterator[Any]:
        if task_id is not None:
            task = self.store.get("tasks", task_id)
            if task is not None:  # no "still pending, no live worker" condition
                yield task
            return
        yield from original(self, workspaces, task_id)

    return walk


def _walk_newest_first(original: Any) -> Any:
    def walk(self: Any, workspaces: Any, task_id: Any) -> Iterator[Any]:
        found = list(original(self, workspaces, task_id))
        yield from sorted(found, key=lambda t: str(t.get("createdAt")), reverse=True)  # priority ignored

    return walk


def _max_tasks_ignored(original: Any) -> Any:
    return lambda body: 100


def _malformed_key_accepted(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/tasks")(req) and _bearer_of(req) == "not-a-buildd-key":
        return _as_owner(req, keys)
    return req


def _unknown_key_accepted(req: Req, keys: Keys) -> Req | Resp:
    bearer = _bearer_of(req) or ""
    if _is("GET", "/api/tasks")(req) and re.fullmatch(r"bld_[0-9a-f]{64}", bearer) and bearer != keys.owner_key:
        return _as_owner(req, keys)
    return req


def _session_on_key_route(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/workers/mine")(req) and "authorization" not in req.headers and "cookie" in req.headers:
        return _as_owner(req, keys)
    return req


def _valid_key_refused(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/tasks")(req) and _bearer_of(req) == keys.owner_key:
        return Resp.json(401, {"error": "Unauthorized"})
    return req


def _lists_without_credentials(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/workspaces")(req) and "authorization" not in req.headers and "cookie" not in req.headers:
        return _as_owner(req, keys)
    return req


def _tasks_created_queued(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("POST", "/api/tasks")(req) and resp.status == 200:
        payload = json.loads(resp.body)
        payload["status"] = "queued"
        return Resp(200, json.dumps(payload).encode(), resp.headers)
    return resp


def _claim_always_no_slots(req: Req, keys: Keys) -> Req | Resp:
    """The review's server: every claim is turned away with a `no_slots` nobody can confirm."""
    if _is("POST", "/api/workers/claim")(req):
        diagnostics = {"reason": "no_slots", "activeWorkers": 0, "maxConcurrent": 3, "availableSlots": 0}
        return Resp.json(200, {"workers": [], "diagnostics": diagnostics})
    return req


def _worker_update_rewriting(change: Callable[[dict[str, Any]], None]) -> Before:
    """PATCH /api/workers/{id} with `change` applied to its body first (the update is answered, but wrong)."""

    def before(req: Req, keys: Keys) -> Req | Resp:
        if _is("PATCH", "/api/workers/{id}")(req) and req.body:
            payload = json.loads(req.body)
            if isinstance(payload, dict):
                change(payload)
                return Req(req.method, req.path, req.headers, json.dumps(payload).encode())
        return req

    return before


def _ignore_running(payload: dict[str, Any]) -> None:
    if payload.get("status") == "running":
        payload.pop("status")


def _progress_lost(payload: dict[str, Any]) -> None:
    if "progress" in payload and payload.get("status") is None:
        payload["progress"] = 0


def _completion_ignored(payload: dict[str, Any]) -> None:
    if payload.get("status") == "completed":
        payload.pop("status")


def _machine_requests_crash(req: Req, keys: Keys) -> Req | Resp:
    """Every request of the state machine's client crashes (the suite's own requests do not).

    The machine chooses its own path through the links, so the operation it trips on is not fixed ("*").
    """
    if req.path.startswith("/api/") and req.headers.get("user-agent") != "buildd-api-check":
        return Resp(500, b"Internal Server Error", {"content-type": "text/plain"})
    return req


def _me_as_text(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("GET", "/api/accounts/me")(req) and resp.status == 200:
        return Resp(200, resp.body, {**resp.headers, "content-type": "text/plain"})
    return resp


def _document_request_id(raw: dict[str, Any]) -> None:
    """The shipped spec documents no response header on an API operation: document an optional one."""
    ok = raw["paths"]["/api/accounts/me"]["get"]["responses"]["200"]
    ok["headers"] = {"X-Request-Id": {"required": False, "schema": {"type": "string", "pattern": "^[0-9a-f-]{36}$"}}}


def _bad_request_id(req: Req, resp: Resp, keys: Keys) -> Resp:
    if _is("GET", "/api/accounts/me")(req) and resp.status == 200:
        return Resp(200, resp.body, {**resp.headers, "x-request-id": "not a request id"})
    return resp


def _active_workers_crash(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/workers/active")(req) and req.headers.get("authorization"):
        return Resp.json(500, {"error": "Internal Server Error"})
    return req


def _create_task_accepts_anything(req: Req, resp: Resp, keys: Keys) -> Resp:
    """A POST /api/tasks refused as invalid (valid JSON, wrong fields) is answered 200 as if created."""
    if _is("POST", "/api/tasks")(req) and resp.status in (400, 413, 415, 422) and req.headers.get("authorization"):
        try:
            json.loads(req.body or b"null")
        except ValueError:
            return resp  # broken JSON stays a 400: this mutant is about schema validation
        return Resp.json(200, {"id": "0b0b0b0b-0000-4000-8000-000000000000", "status": "pending"})
    return resp


def _my_workers_ignore_bad_filters(req: Req, resp: Resp, keys: Keys) -> Resp:
    """GET /api/workers/mine answers a refused (schema-violating) query with an empty list instead of 400."""
    if _is("GET", "/api/workers/mine")(req) and resp.status == 400:
        return Resp.json(200, {"workers": []})
    return resp


def _heartbeat_refused(req: Req, keys: Keys) -> Req | Resp:
    """Every heartbeat is refused as malformed (what the mock once did to buildd's runner)."""
    if _is("POST", "/api/workers/heartbeat")(req) and req.headers.get("authorization"):
        return Resp.json(400, {"error": "Invalid heartbeat"})
    return req


def _remove_member_keeps_them(original: Callable[..., Any]) -> Callable[..., Any]:
    """`DELETE /api/teams/{id}/members/{userId}` answers success and removes nobody."""
    return lambda self, principal, team_id, user_id: {"success": True}


def _lease_always_acquired(req: Req, keys: Keys) -> Req | Resp:
    """Area cred: every runner that asks for a credential lease gets it, whoever holds it."""
    if _is("POST", "/api/runner/credential-lease")(req) and b'"acquire"' in req.body:
        return Resp.json(200, {"acquired": True, "leaseId": "0c0c0c0c-0000-4000-8000-000000000000"})
    return req


def _memory_search_forgets(req: Req, resp: Resp, keys: Keys) -> Resp:
    """GET /api/workspaces/{id}/memory answers as if nothing was ever saved."""
    if _is("GET", r"/api/workspaces/[^/]+/memory")(req) and resp.status == 200:
        return Resp.json(200, {"memories": [], "total": 0})
    return resp


def _memory_delete_noop(req: Req, keys: Keys) -> Req | Resp:
    """DELETE .../memory/{memoryId} says it deleted, and keeps the memory."""
    if _is("DELETE", r"/api/workspaces/[^/]+/memory/[^/]+")(req):
        return Resp.json(200, {"success": True})
    return req


def _webhook_without_signature(original: Callable[..., Any]) -> Callable[..., Any]:
    """The GitHub webhook signs every delivery itself before checking: unsigned and forged ones get through."""
    from mockserver.domain.areas.know_github import webhook_signature

    def receive(self: Any, raw: bytes, headers: Mapping[str, str], payload: Any) -> Any:
        return original(self, raw, {**headers, "x-hub-signature-256": webhook_signature(raw)}, payload)

    return receive


def _ingest_without_signature(original: Callable[..., Any]) -> Callable[..., Any]:
    """The ingest hook takes any signature, or none, as valid (only this route: Linear's still checks)."""
    from mockserver.domain.areas import ext_webhooks

    def ingest(self: Any, *args: Any) -> Any:
        checked = ext_webhooks._signed
        ext_webhooks._signed = lambda *_args: True
        try:
            return original(self, *args)
        finally:
            ext_webhooks._signed = checked

    return ingest


def _always(_original: Any) -> Callable[..., bool]:
    return lambda *_args: True


# area ops: the cron jobs
_CRON_RESULT = {
    "processed": 0, "created": 0, "skipped": 0, "deferred": 0, "errors": 0, "triggerChecks": 0,
    "heartbeatOrphans": 0, "deterministicHeartbeatSkips": 0, "llmHeartbeatInvocations": 0, "healthWatcher": None,
    "archivedMissions": [], "overdueHeartbeatAlerts": 0,
}  # fmt: skip


def _archive_without_secret(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/cron/task-archive")(req):
        return Resp.json(200, {"ok": True, "archived": 0})  # runs for anyone: the secret is never compared
    return req


def _schedules_job_idles(req: Req, keys: Keys) -> Req | Resp:
    if _is("GET", "/api/cron/schedules")(req) and req.headers.get("authorization"):
        return Resp.json(200, _CRON_RESULT)  # answers as if no schedule were due
    return req


MUTANTS: tuple[Mutant, ...] = (
    Rewrite(
        "skips-auth",
        "auth.no-credentials",
        "GET /api/tasks",
        ("auth",),
        ("listTasks",),
        before=_skip_auth_on_list_tasks,
    ),
    Rewrite(
        "lowercase-bearer",
        "auth.wrong-scheme",
        "GET /api/workers/mine",
        ("auth",),
        ("listMyWorkers",),
        before=_lowercase_bearer_accepted,
    ),
    Rewrite(
        "key-on-session-route",
        "auth.key-on-session-route",
        "GET /api/accounts",
        ("auth",),
        ("listAccounts",),
        before=_key_on_session_route,
    ),
    Patch(
        "worker-readable-by-other",
        "ownership.worker-403",
        "GET /api/workers/{id}",
        ("ownership",),
        ("getWorker",),
        patches=(("mockserver.domain.access:worker_for", _worker_for_without_ownership),),
    ),
    Patch(
        "task-of-other-team-visible",
        "ownership.task-404",
        "GET /api/tasks/{id}",
        ("ownership",),
        ("getTask",),
        patches=(("mockserver.domain.access:task_for", _task_for_without_team),),
    ),
    Rewrite(
        "other-team-lists-tasks",
        "ownership.list-hidden",
        "GET /api/tasks",
        ("ownership",),
        ("GET /api/tasks",),
        before=_other_team_lists_owner_tasks,
    ),
    Rewrite(
        "filter-reaches-other-team",
        "ownership.query-filter",
        "GET /api/artifacts",
        ("ownership",),
        ("GET /api/artifacts",),
        before=_other_team_filters_by_owner_workspace,
    ),
    Rewrite(
        "refuses-but-applies",
        "ownership.worker-unchanged",
        "PATCH /api/workers/{id}",
        ("ownership",),
        ("updateWorker",),
        before=_RefuseButApply().before,
        after=_RefuseButApply().after,
    ),
    Rewrite(
        "error-body-without-error",
        "status.error-body",
        "GET /api/tasks/{id}",
        ("status",),
        ("getTask",),
        after=_drop_error_field_on_task_404,
    ),
    Rewrite(
        "undocumented-status",
        "status.documented",
        "GET /api/workers/active",
        ("status",),
        ("listActiveWorkers",),
        before=_undocumented_teapot,
    ),
    Rewrite(
        "500-on-invalid-json",
        "status.invalid-json",
        "POST /api/tasks",
        ("status",),
        ("createTask",),
        before=_crash_on_invalid_json,
    ),
    Rewrite(
        "response-schema-violated",
        "schemas.response-body",
        "GET /api/accounts/me",
        ("schemas",),
        ("getMe",),
        after=_me_without_level,
    ),
    Patch(
        "patch-after-terminal-accepted",
        "lifecycle.terminal-409",
        "PATCH /api/workers/{id}",
        ("lifecycle",),
        patches=(
            ("mockserver.domain.areas.workers:Workers.check_reactivation", _no_terminal_guard),
            ("mockserver.domain.lifecycle:check_worker_transition", _any_worker_transition),
        ),
    ),
    Patch(
        "task-handed-to-two-claimers",
        "lifecycle.double-claim",
        "POST /api/workers/claim",
        ("lifecycle",),
        patches=(("mockserver.domain.claims:_Candidates.walk", _walk_ignoring_claims),),
    ),
    Patch(
        "claim-newest-first",
        "lifecycle.claim-order",
        "POST /api/workers/claim",
        ("lifecycle",),
        patches=(("mockserver.domain.claims:_Candidates.walk", _walk_newest_first),),
    ),
    Patch(
        "max-tasks-ignored",
        "lifecycle.max-tasks",
        "POST /api/workers/claim",
        ("lifecycle",),
        patches=(("mockserver.domain.claims:_max_tasks", _max_tasks_ignored),),
    ),
    Rewrite(
        "devmode-null-account",
        "devmode.null-for-missing",
        "GET /api/accounts/{id}",
        ("devmode",),
        before=_dev_null_account,
    ),
    Rewrite(
        "devmode-key-accepted",
        "devmode.dev-key-accepted",
        "GET /api/accounts/me",
        ("devmode",),
        before=_dev_key_accepted,
    ),
    Rewrite("devmode-task-ids", "devmode.non-uuid-id", "POST /api/tasks", ("devmode",), after=_dev_task_ids),
    Rewrite(
        "malformed-key-accepted",
        "auth.malformed-key",
        "GET /api/tasks",
        ("auth",),
        ("listTasks",),
        before=_malformed_key_accepted,
    ),
    Rewrite(
        "unknown-key-accepted",
        "auth.unknown-key",
        "GET /api/tasks",
        ("auth",),
        ("listTasks",),
        before=_unknown_key_accepted,
    ),
    Rewrite(
        "session-on-key-route",
        "auth.session-on-key-route",
        "GET /api/workers/mine",
        ("auth",),
        ("listMyWorkers",),
        before=_session_on_key_route,
    ),
    Rewrite(
        "valid-key-refused",
        "auth.valid-credential",
        "GET /api/tasks",
        ("auth",),
        ("listTasks",),
        before=_valid_key_refused,
    ),
    Rewrite(
        "devmode-lists-without-credentials",
        "devmode.unauthenticated-200",
        "GET /api/workspaces",
        ("devmode",),
        before=_lists_without_credentials,
    ),
    Rewrite(
        "task-created-queued",
        "lifecycle.create-pending",
        "POST /api/tasks",
        ("lifecycle",),
        after=_tasks_created_queued,
    ),
    Rewrite(
        "claim-always-no-slots",
        "lifecycle.claim-assigns",
        "POST /api/workers/claim",
        ("lifecycle",),
        before=_claim_always_no_slots,
    ),
    Rewrite(
        "running-ignored",
        "lifecycle.running",
        "PATCH /api/workers/{id}",
        ("lifecycle",),
        before=_worker_update_rewriting(_ignore_running),
    ),
    Rewrite(
        "progress-lost",
        "lifecycle.progress",
        "PATCH /api/workers/{id}",
        ("lifecycle",),
        before=_worker_update_rewriting(_progress_lost),
    ),
    Rewrite(
        "completion-ignored",
        "lifecycle.completed",
        "PATCH /api/workers/{id}",
        ("lifecycle",),
        before=_worker_update_rewriting(_completion_ignored),
    ),
    Rewrite(
        "links-machine-crashes",
        "lifecycle.links",
        "*",
        ("lifecycle",),
        before=_machine_requests_crash,
    ),
    Rewrite(
        "me-as-text",
        "schemas.content-type",
        "GET /api/accounts/me",
        ("schemas",),
        ("getMe",),
        after=_me_as_text,
    ),
    Rewrite(
        "bad-request-id-header",
        "schemas.headers",
        "GET /api/accounts/me",
        ("schemas",),
        ("getMe",),
        spec_patch=_document_request_id,
        after=_bad_request_id,
    ),
    Rewrite(
        "active-workers-crash",
        "status.server-error",
        "GET /api/workers/active",
        ("status",),
        ("listActiveWorkers",),
        before=_active_workers_crash,
    ),
    Rewrite(
        "my-workers-ignore-bad-filters",
        "status.invalid-input",
        "GET /api/workers/mine",
        ("status",),
        ("listMyWorkers",),
        options=(("coverage_phase", True),),
        after=_my_workers_ignore_bad_filters,
    ),
    Rewrite(
        "heartbeat-refused",
        "status.valid-input",
        "POST /api/workers/heartbeat",
        ("status",),
        ("sendHeartbeat",),
        before=_heartbeat_refused,
    ),
    Rewrite(
        "create-task-accepts-wrong-types",
        "status.wrong-types",
        "POST /api/tasks",
        ("status",),
        ("createTask",),
        after=_create_task_accepts_anything,
    ),
    Patch(
        "removed-member-keeps-access",
        "lifecycle.team-membership",
        "DELETE /api/teams/{id}/members/{userId}",
        ("lifecycle",),
        ("createTeam",),
        patches=(("mockserver.domain.areas.teams:Teams.remove_member", _remove_member_keeps_them),),
    ),
    Rewrite(
        "credential-lease-never-exclusive",
        "lifecycle.credential-lease",
        "POST /api/runner/credential-lease",
        ("lifecycle",),
        before=_lease_always_acquired,
    ),
    Rewrite(
        "memory-search-forgets",
        "memory.recall",
        "GET /api/workspaces/{id}/memory",
        ("memory",),
        after=_memory_search_forgets,
    ),
    Rewrite(
        "memory-delete-noop",
        "memory.forget",
        "DELETE /api/workspaces/{id}/memory/{memoryId}",
        ("memory",),
        before=_memory_delete_noop,
    ),
    # `webhooks.signature`, one mutant per `x-signature` operation (each its own scheme and sender)
    Patch(  # Linear: any signature, or none, "verifies"
        "unsigned-webhook-accepted",
        "webhooks.signature",
        "POST /api/webhooks/linear/{workspaceId}",
        ("webhooks",),
        ("linearWebhook",),
        patches=(("mockserver.domain.areas.ext_webhooks:_signed", _always),),
    ),
    Patch(  # GitHub: the App signs every delivery itself before checking
        "webhook-accepts-unsigned",
        "webhooks.signature",
        "POST /api/github/webhook",
        ("webhooks",),
        ("receiveGithubWebhook",),
        patches=(("mockserver.domain.areas.know_github:GitHub.receive_webhook", _webhook_without_signature),),
    ),
    Patch(  # the ingest hook: the key is checked, the delivery's signature is not
        "ingest-accepts-unsigned",
        "webhooks.signature",
        "POST /api/webhooks/ingest",
        ("webhooks",),
        ("ingestWebhook",),
        patches=(("mockserver.domain.areas.ext_webhooks:Webhooks.ingest", _ingest_without_signature),),
    ),
    Patch(  # Slack: the v0 HMAC over timestamp and body is never compared
        "slack-accepts-unsigned",
        "webhooks.signature",
        "POST /api/integrations/slack",
        ("webhooks",),
        ("slackEvent",),
        patches=(("mockserver.domain.areas.ext_webhooks:Webhooks._slack_verified", _always),),
    ),
    Patch(  # Discord: the Ed25519 signature is never verified
        "discord-accepts-unsigned",
        "webhooks.signature",
        "POST /api/integrations/discord",
        ("webhooks",),
        ("discordInteraction",),
        patches=(("mockserver.domain.areas.ext_webhooks:verify_discord", _always),),
    ),
    Rewrite(
        "cron-job-without-secret",
        "cron.secret-required",
        "GET /api/cron/task-archive",
        ("cron",),
        ("archiveStaleTasks",),
        before=_archive_without_secret,
    ),
    Rewrite(
        "due-schedule-ignored",
        "cron.due-schedule-runs",
        "GET /api/cron/schedules",
        ("cron",),
        ("runDueSchedules",),
        before=_schedules_job_idles,
    ),
)

# the areas' own mutants (their modules import Mutant and its kinds from here, so they are read last)
from tests.contracts.mutants_missions import MISSION_MUTANTS  # noqa: E402

MUTANTS = (*MUTANTS, *MISSION_MUTANTS)
BY_NAME: Mapping[str, Mutant] = {m.name: m for m in MUTANTS}
