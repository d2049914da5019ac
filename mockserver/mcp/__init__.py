"""buildd's MCP server (`/api/mcp`, Streamable HTTP) over the mock's own REST routes. See transport.py."""

from mockserver.mcp.transport import MCP_OPERATIONS, MCP_PATH, mcp_handlers

__all__ = ("MCP_OPERATIONS", "MCP_PATH", "mcp_handlers")
