"""A fresh strict mock on a 127.0.0.1 port per test, and an official-SDK MCP session against its /api/mcp."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytestmark = pytest.mark.http


@pytest.fixture
def base_url(fixture_world: dict[str, Any]) -> Iterator[str]:
    from mockserver import MockSettings, create_app
    from mockserver.server import serve_in_thread

    settings = MockSettings(port=0, strict=True)
    base, stop = serve_in_thread(settings, app=create_app(settings, world=copy.deepcopy(fixture_world)))
    try:
        yield base
    finally:
        stop()


@asynccontextmanager
async def mcp_session(base_url: str, key: str, query: str = "") -> AsyncIterator[Any]:
    """An initialized `mcp.client.session.ClientSession` over Streamable HTTP with `Authorization: Bearer key`."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        streamable_http_client(f"{base_url}/api/mcp{query}", http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: Any, action: str, **params: Any) -> Any:
    """Call the `buildd` tool; returns the CallToolResult."""
    return await session.call_tool("buildd", {"action": action, "params": params})


def data(result: Any) -> Any:
    """The REST data of a successful call (its structured content); fails with the text of an error result."""
    assert not result.is_error, result.content[0].text
    content = result.structured_content
    return content.get("items", content) if isinstance(content, dict) and set(content) == {"items"} else content


def error_text(result: Any) -> str:
    assert result.is_error, f"expected an error result, got {json.dumps(result.structured_content)[:300]}"
    return str(result.content[0].text)
