"""`memory_delete` (admin): DELETE /api/workspaces/{id}/memory/{memoryId} (the real tool moved it out of
buildd_memory). Param: id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import ActionContext, Api, Outcome, action

__all__ = ()


@action("memory_delete", "admin", "Delete a memory of the workspace. Params: id, workspaceId?")
async def memory_delete(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    from mockserver.mcp.memory_tools import delete_memory  # the memory tools' module imports this package

    return await delete_memory(api, params, ctx)
