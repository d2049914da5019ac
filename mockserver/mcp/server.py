"""The MCP server of one request: the `buildd` tool filtered by the key's level, and the resources.

Built per request (as the real route does, a stateless server): the caller's level, `?workspace=&worker=` and
REST client are closed over, so nothing leaks between requests.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from mockserver.mcp.actions import ACTIONS, ActionContext, ActionInputError, Api, ApiError, Outcome, actions_for
from mockserver.mcp.memory_tools import MEMORY_TOOLS, is_sensitive, memory_context, memory_workspace

__all__ = ("build_server",)

Context = ServerRequestContext[Any]

INSTRUCTIONS = (
    "Buildd is a task coordination system for AI coding agents (this is the buildd-api-kit mock). Tools: `buildd` "
    "(task actions), `recall` (read knowledge), `learn` (write knowledge); `buildd_memory` is the legacy one.\n\n"
    "**Token level:** {level} — this determines which `buildd` actions are available.\n\n"
    "**Worker workflow:** `buildd` action=claim_task → do the work → action=update_progress at milestones → "
    "action=create_artifact (type=summary) → action=complete_task (with summary)."
)

RESOURCES = (
    ("buildd://tasks/pending", "Pending Tasks", "Pending tasks sorted by priority"),
    ("buildd://workspace/memory", "Workspace Memory", "Team memories (patterns, gotchas, decisions)"),
    ("buildd://workspace/skills", "Workspace Skills", "Available skills"),
)
MEMORY_NOT_CONFIGURED = "Memory service not configured."  # the real fallback text when no memory can be read


def build_server(api: Api, ctx: ActionContext) -> Server[Any]:
    visible = actions_for(ctx.level)
    names = [a.name for a in visible]

    async def list_tools(_: Context, __: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        lines = "\n".join(f"- {a.name}: {a.description}" for a in visible)
        description = f"Buildd task coordination. Actions:\n{lines}"
        schema = {
            "type": "object",
            "properties": {
                "action": {"type": "string", "description": f"Action to perform: {', '.join(names)}", "enum": names},
                "params": {"type": "object", "description": "Action parameters (see each action's list above)"},
            },
            "required": ["action"],
        }
        annotations = types.ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
        tools = [types.Tool(name="buildd", description=description, input_schema=schema, annotations=annotations)]
        if not await is_sensitive(api, ctx):  # the memory tools are not listed in a sensitive workspace
            tools += [
                types.Tool(
                    name=t.name,
                    description=t.description,
                    input_schema=t.input_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=t.read_only, destructive_hint=False, open_world_hint=not t.read_only
                    ),
                )
                for t in MEMORY_TOOLS.values()
            ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(_: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        args = params.arguments or {}
        if params.name in MEMORY_TOOLS:
            sensitive = await is_sensitive(api, ctx)
            if sensitive:  # refused even when called without being listed, as the real route does
                return _error(f"Error: {params.name} is not available in sensitive workspaces.")
            return await _run(MEMORY_TOOLS[params.name].run(api, args, ctx, sensitive))
        if params.name != "buildd":
            return _error(f"Error: Unknown tool: {params.name}")
        name = str(args.get("action") or "")
        action = ACTIONS.get(name)
        if action is None or name not in names:
            # a known action above the key's level answers as the real route does for admin-gated ones
            if action is not None:
                return _error(
                    json.dumps(
                        {
                            "error": "forbidden",
                            "reason": f"action '{name}' requires {action.level} token level",
                            "tokenLevel": ctx.level,
                            "requiredLevel": action.level,
                        }
                    )
                )
            return _error(f"Error: Unknown action: {name}")
        action_params = args.get("params") or {}
        if not isinstance(action_params, dict):
            return _error("Error: params must be an object")
        return await _run(action.run(api, action_params, ctx))

    async def list_resources(_: Context, __: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(uri=uri, name=name, description=desc, mime_type="text/plain")
                for uri, name, desc in RESOURCES
            ]
        )

    async def read_resource(_: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == "buildd://tasks/pending":
            data = await api("GET", "/api/tasks")
            pending = sorted(
                (t for t in data.get("tasks") or [] if t.get("status") == "pending"),
                key=lambda t: -(t.get("priority") or 0),
            )
            text = (
                "\n\n".join(
                    f"[P{t.get('priority')}] {t.get('title')} ({t.get('id')})\n  "
                    f"{(t.get('description') or 'No description')[:150]}"
                    for t in pending
                )
                or "No pending tasks."
            )
        elif uri == "buildd://workspace/memory":
            try:  # the real route falls back to its not-configured text on any failure
                text = (await memory_context(api, await memory_workspace(api, {}, ctx), "No memories yet.")).text
            except (ApiError, ActionInputError):
                text = MEMORY_NOT_CONFIGURED
        elif uri == "buildd://workspace/skills":
            text = "Provide workspaceId in tool params to access workspace-scoped resources."
        else:
            raise ValueError(f"Unknown resource: {uri}")
        contents = types.TextResourceContents(uri=uri, mime_type="text/plain", text=text)
        return types.ReadResourceResult(contents=[contents])

    return Server(
        "buildd",
        version="0.1.0",
        instructions=INSTRUCTIONS.format(level=ctx.level),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


async def _run(pending: Awaitable[Outcome]) -> types.CallToolResult:
    """A tool's answer: its text and REST data, or the refusal (REST status and body, or the param error)."""
    try:
        outcome = await pending
    except ApiError as exc:
        return _error(f"Error: {exc}", {"status": exc.status, "body": exc.body})
    except ActionInputError as exc:
        return _error(f"Error: {exc}")
    structured = outcome.data if isinstance(outcome.data, dict) else {"items": outcome.data}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=outcome.text)], structured_content=structured
    )


def _error(text: str, rest: dict[str, Any] | None = None) -> types.CallToolResult:
    """A refused call: the text the real tool gives (`Error: API error: <status> - <body>`), and the REST answer."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=rest, is_error=True
    )
