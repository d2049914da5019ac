"""`GET /docs`: the API reference, rendered by Swagger UI from the mock's own openapi.yaml, offline.

Swagger UI's files come from the `swagger-ui-py` wheel (`swagger_ui/static`), a dependency installed with the kit,
so no CDN is needed. `/docs/openapi.json` is the spec as the page shows it: `servers` points at this mock (so
"Try it out" talks to it) and `info.description` gains a "Realtime events" section built from `x-events`.
The page pre-authorizes the first fixture admin key from `/__mock/keys`.
"""

from __future__ import annotations

import copy
import html
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from contracts.spec import Spec

__all__ = ("docs_handlers", "docs_spec", "events_markdown")

# only these files of the renderer are served (the package also ships Swagger Editor, which we do not use)
_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
_OWN = {"docs.js": "text/javascript"}


def _swagger_static() -> Traversable:
    return files("swagger_ui") / "static"


@cache
def _asset(name: str) -> bytes:
    if name in _OWN:
        return (files("mockserver.http") / "docs_assets" / name).read_bytes()
    return (_swagger_static() / name).read_bytes()


def events_markdown(spec: Spec) -> str:
    """The `x-events` map as a Markdown section: event, channels, payload schema, triggering operations."""
    events: dict[str, Any] = spec.raw.get("x-events") or {}
    lines = [
        "## Realtime events",
        "",
        (
            "Published on Pusher channels (and the mock's `/__mock/events/stream` SSE) when state changes. "
            "Payload schemas are under *Schemas* below."
        ),
        "",
        "| event | channels | payload | triggered by | description |",
        "|---|---|---|---|---|",
    ]
    for name, event in events.items():
        schema = str((event.get("schema") or {}).get("$ref", "")).rsplit("/", 1)[-1]
        channels = ", ".join(f"`{c}-{{id}}`" for c in event.get("channels") or [])
        triggers = ", ".join(f"`{t}`" for t in event.get("triggers") or [])
        text = " ".join(str(event.get("description") or "").split()).replace("|", "\\|")
        lines.append(f"| `{name}` | {channels} | `{schema}` | {triggers} | {text} |")
    return "\n".join(lines)


def docs_spec(spec: Spec, base_url: str) -> dict[str, Any]:
    """The spec as /docs renders it: this mock as the only server, and the realtime events in the description."""
    shown = copy.deepcopy(spec.raw)
    shown["servers"] = [{"url": base_url.rstrip("/"), "description": "this mock"}]
    info = shown.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n{events_markdown(spec)}\n"
    return shown


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} · API reference</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <style>body {{ margin: 0 }} .mock-bar {{ font: 14px sans-serif; padding: 8px 16px; background: #1b1b1b;
    color: #eee }} .mock-bar a {{ color: #9cf }}</style>
</head>
<body>
  <div class="mock-bar">buildd mock · <a href="/__mock/console">console</a> · <a href="/openapi.yaml">openapi.yaml</a>
    · <span id="docs-auth">no fixture key</span></div>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/docs.js"></script>
</body>
</html>
"""


def docs_handlers(spec: Spec) -> list[BaseRouteHandler]:
    """`/docs`, `/docs/openapi.json` and `/docs/assets/{name}`."""
    title = html.escape(str(spec.raw.get("info", {}).get("title", "API")))

    @get("/docs", media_type="text/html", include_in_schema=False, sync_to_thread=False)
    def page() -> str:
        return _PAGE.format(title=title)

    @get("/docs/openapi.json", include_in_schema=False, sync_to_thread=False)
    def shown_spec(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return docs_spec(spec, str(request.base_url))

    @get("/docs/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
    def asset(name: FromPath[str]) -> Response[bytes]:
        media = _ASSETS.get(name) or _OWN.get(name)
        if media is None:
            return Response(b'{"error":"Not found"}', status_code=404, media_type="application/json")
        return Response(_asset(name), media_type=media, headers={"Cache-Control": "max-age=3600"})

    return [page, shown_spec, asset]
