"""The `recall`, `learn` and `buildd_memory` tools, backed by the mock's workspace memory routes.

The real tools talk to an external memory service and a vector store; here they call GET/POST
/api/workspaces/{id}/memory and PATCH/DELETE .../memory/{memoryId} with the caller's key (ranking is the mock's
word-match search); `recall` leaves out the memories `consolidate_knowledge` archived, and on the other corpora
(`scope: task|artifact|code|docs|spec`) it searches the knowledge store's chunks (mockserver/domain/areas/
know_store.py). Any key level may use them (the real route gates none of them); they are left out of the
tool list, and refused if called anyway, when the connection's workspace is `dataClass: sensitive`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, ApiError, Outcome, _pick

__all__ = (
    "LEARN_TYPES",
    "MEMORY_ACTIONS",
    "MEMORY_TOOLS",
    "MemoryTool",
    "delete_memory",
    "is_sensitive",
    "memory_context",
    "memory_workspace",
)

LEARN_TYPES = ("gotcha", "pattern", "decision", "discovery", "architecture")
MEMORY_ACTIONS = ("context", "search", "save", "get", "update", "query_knowledge")
RECALL_SCOPES = ("memory", "task", "pr", "plan", "artifact", "code", "docs", "spec")
DEFAULT_LIMIT, MAX_LIMIT = 10, 50
PAGE = 100  # the memory list route's largest page
MAX_SUPERSEDES = 50
CONTEXT_SIZE = 20  # memories shown by buildd_memory action=context
SENSITIVE_READ = "(No results — memory access is disabled for sensitive workspaces.)"


async def is_sensitive(api: Api, ctx: ActionContext) -> bool:
    """The connection's workspace is sensitive (the real route: unknown workspace is standard, a failed lookup
    is sensitive, fail-closed)."""
    if not ctx.workspace_id:
        return False
    try:
        rows = (await api("GET", "/api/workspaces")).get("workspaces") or []
    except ApiError:
        return True
    found = next((w for w in rows if w.get("id") == ctx.workspace_id), None)
    return bool(found and found.get("dataClass") == "sensitive")


async def memory_workspace(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> str:
    """Where memories live: `?workspace=`, else params.workspaceId, else the worker's workspace, else the key's only
    workspace (the real route falls back to the key's team; the mock's memory routes are per workspace)."""
    if ctx.workspace_id or params.get("workspaceId"):
        return str(ctx.workspace_id or params["workspaceId"])
    if ctx.worker_id:
        worker = await api("GET", f"/api/workers/{ctx.worker_id}")
        if worker.get("workspaceId"):
            return str(worker["workspaceId"])
    rows = (await api("GET", "/api/workspaces")).get("workspaces") or []
    if len(rows) == 1:
        return str(rows[0]["id"])
    raise ActionInputError(
        "Cannot resolve workspace for memory action. Re-connect with ?workspace=<id> or pass workspaceId."
    )


def _limit(value: Any, default: int = DEFAULT_LIMIT) -> int:
    try:
        return min(max(int(value or default), 1), MAX_LIMIT)
    except (TypeError, ValueError):
        return default


def _files_match(memory: Mapping[str, Any], files: Any) -> bool:
    if not isinstance(files, list) or not files:
        return True
    return bool(set(map(str, files)) & set(memory.get("files") or []))


async def _search(api: Api, ws: str, params: Mapping[str, Any], query_key: str = "query") -> dict[str, Any]:
    """One page of the REST search, narrowed to `files` (the route has no files filter)."""
    limit = _limit(params.get("limit"))
    query = {"limit": str(PAGE if params.get("files") else limit), "offset": str(int(params.get("offset") or 0))}
    if params.get(query_key):
        query["search"] = str(params[query_key])
    if params.get("type"):
        query["type"] = str(params["type"])
    data = await api("GET", f"/api/workspaces/{ws}/memory", query=query)
    rows = [m for m in data.get("memories") or [] if _files_match(m, params.get("files"))]
    total = data.get("total", len(rows)) if not params.get("files") else len(rows)
    return {"memories": rows[:limit], "total": total}


async def _find(api: Api, ws: str, memory_id: str) -> dict[str, Any]:
    """A memory by id: the route has no single GET, so page through the list."""
    offset = 0
    while True:
        page = await api("GET", f"/api/workspaces/{ws}/memory", query={"limit": str(PAGE), "offset": str(offset)})
        rows = page.get("memories") or []
        found = next((m for m in rows if m.get("id") == memory_id), None)
        if found is not None:
            return dict(found)
        offset += len(rows)
        if not rows or offset >= int(page.get("total") or 0):
            raise ApiError(404, {"error": "Memory not found"})


def _detail(memory: Mapping[str, Any]) -> str:
    meta = [
        f"Type: {memory.get('type')}",
        f"Project: {memory['project']}" if memory.get("project") else "",
        f"Tags: {', '.join(memory['tags'])}" if memory.get("tags") else "",
        f"Files: {', '.join(memory['files'])}" if memory.get("files") else "",
        f"Source: {memory['source']}" if memory.get("source") else "",
    ]
    return f"# {memory.get('title')}\n\n" + "\n".join(m for m in meta if m) + f"\n\n{memory.get('content')}"


def _ranked(rows: list[Mapping[str, Any]]) -> str:
    return "\n\n---\n\n".join(
        f"### {i}. [{m.get('type')}] {m.get('title')}\n**ID:** {m.get('id')}\n\n{m.get('content')}"
        for i, m in enumerate(rows, 1)
    )


def _check_supersedes(value: Any) -> None:
    """The real tools refuse a malformed `supersedes` before saving; the mock keeps no superseded state (the real
    one lives in its vector store), so a well-formed list changes nothing."""
    if value is None:
        return
    if not isinstance(value, list):
        raise ActionInputError("supersedes must be an array of memory ids")
    if len(value) > MAX_SUPERSEDES:
        raise ActionInputError(f"supersedes accepts at most {MAX_SUPERSEDES} ids per call")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ActionInputError("supersedes entries must be non-empty strings")


def _save_body(params: Mapping[str, Any], ctx: ActionContext, source: Any = None) -> dict[str, Any]:
    if not params.get("type") or not params.get("title") or not params.get("content"):
        raise ActionInputError("type, title, and content are required")
    if params["type"] not in LEARN_TYPES:
        raise ActionInputError(f"Invalid type. Must be one of: {', '.join(LEARN_TYPES)}")
    _check_supersedes(params.get("supersedes"))
    body = _pick(params, "type", "title", "content", "tags", "files")
    body["source"] = source or (f"worker:{ctx.worker_id}" if ctx.worker_id else "mcp-agent")
    return body


def _saved_text(verb: str, data: Mapping[str, Any]) -> str:
    memory = data.get("memory") or {}
    return f'Memory {verb}: "{memory.get("title")}" ({memory.get("type")})\nID: {memory.get("id")}'


async def memory_context(api: Api, ws: str, empty: str = "(No memories yet)") -> Outcome:
    """The newest memories as markdown (the real memory service's project context)."""
    data = await _search(api, ws, {"limit": CONTEXT_SIZE})
    rows = data["memories"]
    lines = [f"- **[{m.get('type')}]** {m.get('title')}: {str(m.get('content'))[:200]}" for m in rows]
    return Outcome("## Team memories\n\n" + "\n".join(lines) if rows else empty, data)


# -- recall / learn ------------------------------------------------------------------------------------------------


async def recall(api: Api, args: Mapping[str, Any], ctx: ActionContext, sensitive: bool) -> Outcome:
    ws = await memory_workspace(api, args, ctx)
    if args.get("id"):  # a direct fetch ignores every other param
        memory = await _find(api, ws, str(args["id"]))
        return Outcome(_detail(memory), {"memory": memory})
    if not args.get("query"):
        raise ActionInputError("query is required (or pass id for a direct fetch)")
    scope = str(args.get("scope") or "memory")
    if scope != "memory":
        return _recall_corpus(ctx, ws, scope, str(args["query"]), _limit(args.get("limit")))
    if sensitive:
        return Outcome(SENSITIVE_READ, {"memories": [], "total": 0})
    data = await _search(api, ws, args)
    if ctx.local is not None:  # archived by consolidate_knowledge: no longer current, so not recalled
        archived = set(ctx.local.knowledge("archived", ws, corpus="memory"))
        data["memories"] = [m for m in data["memories"] if m.get("id") not in archived]
    rows = data["memories"]
    if not rows:
        return Outcome(f'No knowledge found for: "{args["query"]}"', data)
    return Outcome(f"Found {len(rows)} result(s):\n\n{_ranked(rows)}", data)


def _recall_corpus(ctx: ActionContext, ws: str | None, scope: str, query: str, limit: int) -> Outcome:
    """recall on a work-product corpus (task outcomes, artifacts, ingested code and docs): the knowledge store's
    current chunks, formatted as the real tool formats them (no source URLs: the mock indexes none)."""
    data = ctx.local_port().knowledge("recall", ws, corpus=scope, query=query, limit=limit)
    hits = data["results"]
    if not hits:
        if scope in ("code", "docs"):
            return Outcome(
                f"No {scope} index found. Run ingestion first: WORKSPACE_ID=<id> bun "
                "packages/core/scripts/ingest-knowledge.ts <repo-dir>",
                data,
            )
        return Outcome(f'No knowledge found for: "{query}"', data)
    formatted = "\n\n---\n\n".join(
        f"### {i}. {hit['sourceType']}\n**Score:** {hit['score']:.4f}\n\n{hit['content']}"
        for i, hit in enumerate(hits, 1)
    )
    return Outcome(f"Found {len(hits)} result(s):\n\n{formatted}", data)


async def learn(api: Api, args: Mapping[str, Any], ctx: ActionContext, sensitive: bool) -> Outcome:
    body = _save_body(args, ctx)
    if sensitive:
        raise ActionInputError("workspace is sensitive — memory writes disabled")
    ws = await memory_workspace(api, args, ctx)
    data = await api("POST", f"/api/workspaces/{ws}/memory", body=body)
    return Outcome(_saved_text("saved", data), data)


async def delete_memory(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    """buildd action=memory_delete (admin)."""
    if not params.get("id"):
        raise ActionInputError("id is required")
    if await is_sensitive(api, ctx):
        raise ActionInputError("workspace is sensitive — memory writes disabled")
    ws = await memory_workspace(api, params, ctx)
    data = await api("DELETE", f"/api/workspaces/{ws}/memory/{params['id']}")
    return Outcome(f"Memory deleted: {params['id']}", data)


# -- buildd_memory (legacy) -----------------------------------------------------------------------------------------


async def buildd_memory(api: Api, args: Mapping[str, Any], ctx: ActionContext, sensitive: bool) -> Outcome:
    verb = str(args.get("action") or "")
    params = args.get("params") or {}
    if not isinstance(params, dict):
        raise ActionInputError("params must be an object")
    if verb not in MEMORY_ACTIONS:
        raise ActionInputError(f"Unknown memory action: {verb}")
    if sensitive and verb in ("save", "update"):
        raise ActionInputError("workspace is sensitive — memory writes disabled")
    if sensitive:
        return Outcome(SENSITIVE_READ, {"memories": [], "total": 0})
    ws = await memory_workspace(api, params, ctx)
    if verb == "context":
        return await memory_context(api, ws)
    if verb == "search":
        data = await _search(api, ws, params)
        rows = data["memories"]
        if not rows:
            matching = f' matching "{params["query"]}"' if params.get("query") else ""
            return Outcome(f"No memories found{matching}. Use buildd_memory action=save to record memories.", data)
        details = "\n\n---\n\n".join(
            f"## {m.get('type')}: {m.get('title')}\n**ID:** {m.get('id')}\n"
            f"**Files:** {', '.join(m.get('files') or []) or 'none'}\n**Tags:** {', '.join(m.get('tags') or []) or 'none'}"
            f"\n\n{m.get('content')}"
            for m in rows
        )
        shown = f" (showing {len(rows)})" if data["total"] > len(rows) else ""
        return Outcome(f"Found {data['total']} memory(s){shown}:\n\n{details}", data)
    if verb == "save":
        data = await api("POST", f"/api/workspaces/{ws}/memory", body=_save_body(params, ctx, params.get("source")))
        return Outcome(_saved_text("saved", data), data)
    if not params.get("id") and verb in ("get", "update"):
        raise ActionInputError("id is required")
    if verb == "get":
        memory = await _find(api, ws, str(params["id"]))
        return Outcome(_detail(memory), {"memory": memory})
    if verb == "update":
        fields = _pick(params, "title", "content", "type", "files", "tags", "project")
        if not fields:
            raise ActionInputError("At least one field (title, content, type, files, tags, project) must be provided")
        _check_supersedes(params.get("supersedes"))
        data = await api("PATCH", f"/api/workspaces/{ws}/memory/{params['id']}", body=fields)
        return Outcome(_saved_text("updated", data), data)
    # query_knowledge: the mock's only corpus is the memory one
    if not params.get("query"):
        raise ActionInputError("query is required")
    corpus = str(params.get("corpus") or "memory")
    if corpus != "memory":
        return Outcome(f'No knowledge found for: "{params["query"]}"', {"memories": [], "total": 0})
    data = await _search(api, ws, {"query": params["query"], "limit": params.get("topK")})
    rows = data["memories"]
    if not rows:
        return Outcome(f'No knowledge found for: "{params["query"]}"', data)
    return Outcome(f"Found {len(rows)} result(s):\n\n{_ranked(rows)}", data)


# -- the tools as listed ----------------------------------------------------------------------------------------------

_STRINGS = {"type": "array", "items": {"type": "string"}}

ToolRunner = Callable[[Api, Mapping[str, Any], ActionContext, bool], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class MemoryTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool
    run: ToolRunner


MEMORY_TOOLS: dict[str, MemoryTool] = {
    t.name: t
    for t in (
        MemoryTool(
            "buildd_memory",
            "Legacy knowledge tool; recall (query) and learn (write) are the current interface — use those in new "
            f"sessions. Kept callable for compatibility. Actions: {', '.join(MEMORY_ACTIONS)}",
            {
                "type": "object",
                "properties": {
                    "action": {
                        "type": "string",
                        "description": f"Action: {', '.join(MEMORY_ACTIONS)}",
                        "enum": list(MEMORY_ACTIONS),
                    },
                    "params": {
                        "type": "object",
                        "description": "context: project?; search: query?, type?, files?, limit?, offset?; save: "
                        "type, title, content, files?, tags?, source?; get: id; update: id, title?, content?, type?, "
                        "files?, tags?, project?; query_knowledge: query, corpus?, topK?",
                    },
                },
                "required": ["action"],
            },
            False,
            buildd_memory,
        ),
        MemoryTool(
            "recall",
            "Team knowledge base. Query this BEFORE starting work or diagnosing a failure — it holds prior gotchas, "
            "architecture decisions, and outcomes of past tasks. Pass the task title and any error message.",
            {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Natural language query. Required unless id is given."},
                    "scope": {
                        "type": "string",
                        "description": "Corpus to search. Default: memory.",
                        "enum": list(RECALL_SCOPES),
                    },
                    "type": {"type": "string", "description": f"Filter by memory type: {' | '.join(LEARN_TYPES)}"},
                    "files": {**_STRINGS, "description": "Narrow results to entries touching these file paths."},
                    "limit": {"type": "number", "description": "Max results to return. Default: 10."},
                    "id": {"type": "string", "description": "Direct fetch by memory ID; all other params ignored."},
                },
            },
            True,
            recall,
        ),
        MemoryTool(
            "learn",
            "Record a durable lesson for the team — a gotcha, pattern, decision, discovery, or architecture fact. "
            "Write what the next agent would have wanted to know.",
            {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "description": "Memory type.", "enum": list(LEARN_TYPES)},
                    "title": {"type": "string", "description": "Short title for this lesson."},
                    "content": {"type": "string", "description": "The lesson content."},
                    "files": {**_STRINGS, "description": "File paths this lesson relates to."},
                    "tags": {**_STRINGS, "description": "Tags for categorisation."},
                    "scope": {"type": "string", "description": "Project/monorepo scope for this memory."},
                    "supersedes": {**_STRINGS, "description": "Memory IDs this entry replaces."},
                },
                "required": ["type", "title", "content"],
            },
            False,
            learn,
        ),
    )
}
