"""The `buildd` tool's actions: one declaration each, mapping an action to the REST operation it stands for.

An action never touches the domain itself. Like the real server (whose MCP route calls its own REST API with the
caller's bearer key), it sends the same request the REST route takes through the mock's own app, so auth,
ownership, validation, state changes, realtime events and fault rules are the REST route's, by construction.
A refused request raises `ApiError`, which the server turns into an `isError: true` result carrying the REST
status and `{"error": ...}` body.

Levels nest as in the real server (trigger ⊂ worker ⊂ admin): an action declared at `worker` is listed for worker
and admin keys. Adding an action for a newly served route is one `@action(...)` function here.

Every action of the real tool is served. Three of them the real server answers without a REST route, so here they
go through `ActionContext.local` (`Local`, implemented by the transport) instead of `Api`:

- trigger: `list_artifact_templates` lists the real tool's template catalogue, which the spec declares
  (`x-artifact-templates` in openapi.yaml); nothing else reads or changes it.
- admin: `spec_compare` and `consolidate_knowledge` (mockserver/mcp/actions/consolidation.py) query the real
  server's vector store directly; the mock's stand-in is the domain area `KnowledgeStore`
  (mockserver/domain/areas/know_store.py: chunks derived from memories, task outcomes, artifacts and ingested
  files, word-vector cosine instead of embeddings, archiving recorded in the `knowledgeArchive` table). The caller's
  key decides reach there (admin keys only; a workspace out of reach is `404 Workspace not found`), as a REST
  route would, but the call is not in `/__mock/requests` and no fault rule applies: there is no route to log.

The `recall`, `learn` and `buildd_memory` tools live in mockserver/mcp/memory_tools.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ("ACTIONS", "LEVELS", "Action", "ActionContext", "ApiError", "Local", "Outcome", "actions_for")

LEVELS = ("trigger", "worker", "admin")
TASK_STATUS_ACTIVE = "active"
LIST_TASKS_PAGE = 5  # the real list_tasks shows five tasks a page


class ApiError(Exception):
    """A REST call the action made was refused; `status` and `body` are the REST answer."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"API error: {status} - {json.dumps(body, separators=(',', ':'))}")


class Api(Protocol):
    """The caller's REST API (same bearer key); returns the JSON body of a 2xx answer, raises ApiError otherwise."""

    async def __call__(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, body: Any = None
    ) -> Any: ...


class Local(Protocol):
    """What the real tool reads without a REST route, for the caller's key: the spec's artifact template catalogue
    and the knowledge store's operations (`KnowledgeStore` in the domain: `spec_compare`, `find_duplicates`,
    `find_decayed`, `archive`). A refusal raises `ApiError` (403, 404) or `ActionInputError` (a bad param)."""

    def artifact_templates(self) -> Mapping[str, Any]: ...

    def knowledge(self, operation: str, workspace_id: str | None, **args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What the MCP URL and the key say about the caller (`?workspace=&worker=`, the key's level), and the
    transport's `Local` port (None where no app is behind the actions)."""

    level: str
    workspace_id: str | None
    worker_id: str | None
    local: Local | None = None

    def local_port(self) -> Local:
        if self.local is None:
            raise ActionInputError("this action needs the mock's app behind the MCP server")
        return self.local


@dataclass(frozen=True, slots=True)
class Outcome:
    """An action's answer: a line for the agent and the REST data it came from (sent as structured content)."""

    text: str
    data: Any = None


class ActionInputError(Exception):
    """Params the real tool refuses before any REST call (a missing required param)."""


Runner = Callable[[Api, Mapping[str, Any], ActionContext], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    level: str  # the lowest key level that sees it
    description: str  # one line: what it does and which params it takes
    run: Runner

    def visible_to(self, level: str) -> bool:
        return LEVELS.index(level) >= LEVELS.index(self.level) if level in LEVELS else False


ACTIONS: dict[str, Action] = {}


def action(name: str, level: str, description: str) -> Callable[[Runner], Runner]:
    """Register an action of the `buildd` tool."""

    def register(run: Runner) -> Runner:
        if name in ACTIONS:
            raise ValueError(f"action {name} declared twice")
        ACTIONS[name] = Action(name, level, description, run)
        return run

    return register


def actions_for(level: str) -> list[Action]:
    """The actions a key of `level` sees, in declaration order (an unknown level counts as worker, as the real
    route does)."""
    level = level if level in LEVELS else "worker"
    return [a for a in ACTIONS.values() if a.visible_to(level)]


# -- param helpers ---------------------------------------------------------------------------------------------


def _require(params: Mapping[str, Any], *names: str) -> None:
    missing = [n for n in names if params.get(n) in (None, "")]
    if missing:
        raise ActionInputError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")


def _worker_id(params: Mapping[str, Any], ctx: ActionContext) -> str:
    worker = params.get("workerId") or ctx.worker_id
    if not worker:
        raise ActionInputError("workerId is required (pass it in params or connect with ?worker=<id>)")
    return str(worker)


def _workspace_id(params: Mapping[str, Any], ctx: ActionContext) -> str | None:
    value = params.get("workspaceId") or ctx.workspace_id
    return str(value) if value else None


def _pick(params: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: params[n] for n in names if params.get(n) is not None}


def _now_ms() -> int:
    """Milestone `ts`: the agent's wall clock in epoch ms (Date.now() in the real tool), not the mock's clock."""
    return int(time.time() * 1000)


# -- tasks -----------------------------------------------------------------------------------------------------


@action("list_tasks", "trigger", "List active tasks (pending first, five a page). Params: offset?, workspaceId?")
async def list_tasks(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    offset = max(int(params.get("offset") or 0), 0)
    query = {"status": TASK_STATUS_ACTIVE, "limit": str(LIST_TASKS_PAGE), "offset": str(offset)}
    if ws := _workspace_id(params, ctx):
        query["workspaceId"] = ws
    data = await api("GET", "/api/tasks", query=query)
    tasks = data.get("tasks") or []
    if not tasks:
        return Outcome("No active tasks found.", data)
    lines = [f"- {t.get('title')} [{t.get('status')}] (id: {t.get('id')})" for t in tasks]
    total = data.get("total", len(tasks))
    hint = "\n\nTo claim a task, call action=claim_task."
    return Outcome(f"{total} active task(s):\n\n" + "\n".join(lines) + hint, data)


@action("get_task", "trigger", "Get a task with its workers and artifacts. Params: taskId, include?")
async def get_task(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "taskId")
    include = params.get("include")
    includes = include if isinstance(include, list) else ["workers", "artifacts"]
    query = {"include": ",".join(map(str, includes))} if includes else None
    task = await api("GET", f"/api/tasks/{params['taskId']}", query=query)
    return Outcome(f"**Task:** {task.get('title')} ({task.get('id')})\n**Status:** {task.get('status')}", task)


@action(
    "create_task",
    "trigger",
    "Create a task. Params: title, description?, priority?, workspaceId?, and the other createTask fields",
)
async def create_task(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "title")
    body = {k: v for k, v in params.items() if v is not None}
    if ws := _workspace_id(params, ctx):
        body["workspaceId"] = ws
    task = await api("POST", "/api/tasks", body=body)
    return Outcome(f"Task created: {task.get('title')} (id: {task.get('id')})", task)


@action(
    "update_task",
    "worker",
    "Update a task. Params: taskId, title?, description?, priority?, project?, status?, maxLoops?",
)
async def update_task(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "taskId")
    fields = _pick(params, "title", "description", "priority", "project", "status", "maxLoops")
    if not fields:
        raise ActionInputError(
            "At least one field (title, description, priority, project, status, maxLoops) must be provided"
        )
    task = await api("PATCH", f"/api/tasks/{params['taskId']}", body=fields)
    return Outcome(f"Task updated: {task.get('title')} ({task.get('id')})", task)


@action("get_task_messages", "trigger", "Messages exchanged with a task's agent. Params: taskId")
async def get_task_messages(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "taskId")
    data = await api("GET", f"/api/tasks/{params['taskId']}/messages")
    messages = data.get("messages") or []
    if not messages:
        return Outcome(f"No messages for task {params['taskId']}.", data)
    lines = [f"[{m.get('type')}] {m.get('message')}" for m in messages]
    return Outcome(f"{len(messages)} message(s) for task {params['taskId']}:\n\n" + "\n".join(lines), data)


# -- the worker's own flow -------------------------------------------------------------------------------------


@action(
    "claim_task", "worker", "Claim the highest-priority pending task (auto-assigned). Params: maxTasks?, workspaceId?"
)
async def claim_task(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    body: dict[str, Any] = {"maxTasks": params.get("maxTasks") or 1, "runner": "mcp"}
    if ws := _workspace_id(params, ctx):
        body["workspaceId"] = ws
    data = await api("POST", "/api/workers/claim", body=body)
    workers = data.get("workers") or []
    if not workers:
        return Outcome("No tasks available to claim. All tasks may be assigned or completed.", data)
    claimed = "\n\n---\n\n".join(
        f"**Worker ID:** {w.get('id')}\n**Task:** {(w.get('task') or {}).get('title')}\n**Branch:** {w.get('branch')}"
        for w in workers
    )
    return Outcome(
        f"Claimed {len(workers)} task(s):\n\n{claimed}\n\nUse the worker ID to report progress and completion.", data
    )


@action(
    "update_progress",
    "worker",
    "Report progress. Params: progress (0-100), message?, plan?, workerId?, "
    "inputTokens?, outputTokens?, lastCommitSha?, commitCount?, filesChanged?, linesAdded?, linesRemoved?",
)
async def update_progress(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    progress = params.get("progress") or 0
    ts = _now_ms()
    milestones = [
        {"type": kind, "label": params[key], "progress": progress, "ts": ts}
        for kind, key in (("plan", "plan"), ("status", "message"))
        if params.get(key)
    ]
    body: dict[str, Any] = {"status": "running", "progress": progress}
    if milestones:
        body["appendMilestones"] = milestones
    if params.get("message"):
        body["currentAction"] = params["message"]
    body.update(
        _pick(
            params,
            "inputTokens",
            "outputTokens",
            "lastCommitSha",
            "commitCount",
            "filesChanged",
            "linesAdded",
            "linesRemoved",
        )
    )
    try:
        data = await api("PATCH", f"/api/workers/{worker}", body=body)
    except ApiError as exc:
        if exc.status == 409:  # the real tool's abort notice for a terminated worker
            raise ApiError(
                409, {"error": "ABORT: Your worker has been terminated. STOP working on this task.", "cause": exc.body}
            ) from exc
        raise
    text = f"Progress updated: {progress}%" + (f" - {params['message']}" if params.get("message") else "")
    if isinstance(data, dict) and data.get("instructions"):
        queued = data["instructions"]  # a list on the wire; the real tool prints it as JS does (comma-joined)
        text += f"\n\n**ADMIN INSTRUCTION:** {','.join(map(str, queued)) if isinstance(queued, list) else queued}"
    return Outcome(text, data)


@action(
    "complete_task",
    "worker",
    "Finish the task. Params: summary?, error? (marks it failed), workerId?, structuredOutput?, nextSuggestion?",
)
async def complete_task(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    if params.get("error"):
        data = await api("PATCH", f"/api/workers/{worker}", body={"status": "failed", "error": params["error"]})
        return Outcome(f"Task marked as failed: {params['error']}", data)
    body = {"status": "completed", **_pick(params, "summary", "structuredOutput", "nextSuggestion")}
    data = await api("PATCH", f"/api/workers/{worker}", body=body)
    summary = f"\n\nSummary: {params['summary']}" if params.get("summary") else ""
    return Outcome(f"Task completed successfully!{summary}", data)


@action(
    "emit_event",
    "trigger",
    "Append a custom milestone to the worker's timeline. Params: type, label, metadata?, workerId?",
)
async def emit_event(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    _require(params, "type", "label")
    milestone: dict[str, Any] = {"type": params["type"], "label": params["label"], "ts": _now_ms()}
    if isinstance(params.get("metadata"), dict):
        milestone["metadata"] = params["metadata"]
    data = await api("PATCH", f"/api/workers/{worker}", body={"appendMilestones": [milestone]})
    return Outcome(f"Event emitted: [{params['type']}] {params['label']}", data)


@action("query_events", "worker", "The worker's timeline events. Params: type?, workerId?")
async def query_events(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    worker = _worker_id(params, ctx)
    data = await api("GET", f"/api/workers/{worker}")
    events = [m for m in data.get("milestones") or [] if not params.get("type") or m.get("type") == params["type"]]
    if not events:
        return Outcome("No events found" + (f' of type "{params["type"]}"' if params.get("type") else "") + ".", events)
    return Outcome(
        f"{len(events)} event(s):\n\n" + "\n".join(f"- [{m.get('type')}] {m.get('label')}" for m in events), events
    )


NOTE_TYPES = ("question", "decision", "update", "blocker", "learning")


@action(
    "post_note",
    "worker",
    f"Post a note on the worker's task. Params: type ({'|'.join(NOTE_TYPES)}), title, body?, defaultChoice?, workerId?",
)
async def post_note(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "type", "title")
    worker = _worker_id(params, ctx)
    worker_data = await api("GET", f"/api/workers/{worker}")
    task_id = worker_data.get("taskId") or (worker_data.get("task") or {}).get("id")
    if not task_id:
        raise ActionInputError("Could not resolve a task or mission from the current worker")
    body: dict[str, Any] = {
        "type": params["type"],
        "title": params["title"],
        "authorType": "agent",
        "taskId": task_id,
        "workerId": worker,
        "status": "open" if params["type"] == "question" else "answered",
    }
    if params.get("body"):
        body["bodyText"] = params["body"]
    if params.get("defaultChoice"):
        body["defaultChoice"] = params["defaultChoice"]
    data = await api("POST", f"/api/tasks/{task_id}/notes", body=body)
    return Outcome(f'Note posted: "{params["title"]}" ({params["type"]})', data)


# -- artifacts -------------------------------------------------------------------------------------------------


@action(
    "create_artifact",
    "trigger",
    "Attach a deliverable to the worker's task (same key upserts). Params: type, "
    "title, content?, url?, metadata?, key?, workerId?",
)
async def create_artifact(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "type", "title")
    worker = _worker_id(params, ctx)
    body = _pick(params, "type", "title", "content", "url", "key")
    if isinstance(params.get("metadata"), dict):
        body["metadata"] = params["metadata"]
    data = await api("POST", f"/api/workers/{worker}/artifacts", body=body)
    art = data.get("artifact") or {}
    return Outcome(f"Artifact created: {art.get('title')} (id: {art.get('id')})", data)


@action("get_artifact", "trigger", "Get an artifact. Params: artifactId")
async def get_artifact(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "artifactId")
    data = await api("GET", f"/api/artifacts/{params['artifactId']}")
    art = data.get("artifact", data) if isinstance(data, dict) else data
    return Outcome(f"Artifact: {art.get('title')} ({art.get('type')})", data)


@action("update_artifact", "worker", "Update an artifact. Params: artifactId, title?, content?, metadata?")
async def update_artifact(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    _require(params, "artifactId")
    body = _pick(params, "title", "content", "metadata")
    data = await api("PATCH", f"/api/artifacts/{params['artifactId']}", body=body)
    return Outcome(f"Artifact updated: {params['artifactId']}", data)


@action(
    "list_artifact_templates",
    "trigger",
    "List the artifact templates (type, description, JSON schema of the structured content). No params",
)
async def list_artifact_templates(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    templates = ctx.local_port().artifact_templates()
    listed = "\n\n---\n\n".join(
        f"## {name}\n**Type:** {t.get('type')}\n**Description:** {t.get('description')}\n**Schema:**\n"
        f"```json\n{json.dumps(t.get('schema'), indent=2, ensure_ascii=False)}\n```"
        for name, t in templates.items()
    )
    return Outcome(
        f"Available artifact templates:\n\n{listed}\n\n"
        "Use create_artifact with matching type and structured content following the schema.",
        {"templates": dict(templates)},
    )


# -- schedules -------------------------------------------------------------------------------------------------


def _schedule_workspace(params: Mapping[str, Any], ctx: ActionContext) -> str:
    ws = _workspace_id(params, ctx)
    if not ws:
        raise ActionInputError("workspaceId is required (pass it in params or connect with ?workspace=<id>)")
    return ws


@action("list_schedules", "trigger", "List the workspace's schedules. Params: workspaceId?")
async def list_schedules(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _schedule_workspace(params, ctx)
    data = await api("GET", f"/api/workspaces/{ws}/schedules")
    schedules = data.get("schedules") or []
    lines = [f"- {s.get('name')} ({s.get('cronExpression')}) id: {s.get('id')}" for s in schedules]
    return Outcome(f"{len(schedules)} schedule(s)" + (":\n\n" + "\n".join(lines) if lines else "."), data)


_SCHEDULE_FIELDS = (
    "name",
    "cronExpression",
    "timezone",
    "taskTemplate",
    "enabled",
    "maxConcurrentFromSchedule",
    "pauseAfterFailures",
    "trigger",
)


@action(
    "create_schedule",
    "admin",
    "Create a schedule. Params: name, cronExpression, taskTemplate, timezone?, enabled?, workspaceId?",
)
async def create_schedule(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _schedule_workspace(params, ctx)
    data = await api("POST", f"/api/workspaces/{ws}/schedules", body=_pick(params, *_SCHEDULE_FIELDS))
    schedule = data.get("schedule", data)
    return Outcome(f"Schedule created: {schedule.get('name')} (id: {schedule.get('id')})", data)


@action("update_schedule", "admin", "Update a schedule. Params: scheduleId, and the fields to change, workspaceId?")
async def update_schedule(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _schedule_workspace(params, ctx)
    _require(params, "scheduleId")
    data = await api(
        "PATCH", f"/api/workspaces/{ws}/schedules/{params['scheduleId']}", body=_pick(params, *_SCHEDULE_FIELDS)
    )
    return Outcome(f"Schedule updated: {params['scheduleId']}", data)


@action("delete_schedule", "admin", "Delete a schedule. Params: scheduleId, workspaceId?")
async def delete_schedule(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    ws = _schedule_workspace(params, ctx)
    _require(params, "scheduleId")
    data = await api("DELETE", f"/api/workspaces/{ws}/schedules/{params['scheduleId']}")
    return Outcome(f"Schedule deleted: {params['scheduleId']}", data)


# -- more actions, one module per area (mockserver/mcp/actions/<area>.py): imported here so they register -------


def _load_area_modules() -> None:
    import importlib
    import pkgutil

    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")


_load_area_modules()
