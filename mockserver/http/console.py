"""`GET /__mock/console`: a live page for a person developing against the mock.

Server-rendered HTML (the scenario names and the `x-events` names are filled in here) plus one small script that
reads and writes only through the control API (`/__mock/*`) and its SSE stream: it adds no second path into
the state. Shown only when the control API is on.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib.resources import files

from litestar import Response, get
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from contracts.spec import Spec

__all__ = ("console_handlers",)

_ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}


@cache
def _read(name: str) -> str:
    return (files("mockserver.http") / "console_assets" / name).read_text(encoding="utf-8")


def console_page(spec: Spec, scenarios: list[str]) -> str:
    """The console's HTML: the template with the scenario options and the event names filled in."""
    events = sorted((spec.raw.get("x-events") or {}).keys())
    options = "".join(f'<option value="{html.escape(s)}">{html.escape(s)}</option>' for s in scenarios)
    return (
        _read("console.html")
        .replace("{{scenario_options}}", options)
        .replace("{{event_names}}", html.escape(json.dumps(events), quote=True))
    )


def console_handlers(spec: Spec) -> list[BaseRouteHandler]:
    """`/__mock/console` and `/__mock/console/assets/{name}`."""
    from fixtures.scenarios import scenario_names

    page_html = console_page(spec, list(scenario_names()))

    @get("/__mock/console", media_type="text/html", include_in_schema=False, sync_to_thread=False)
    def page() -> str:
        return page_html

    @get("/__mock/console/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
    def asset(name: FromPath[str]) -> Response[str]:
        media = _ASSETS.get(name)
        if media is None:
            return Response('{"error":"Not found"}', status_code=404, media_type="application/json")
        return Response(_read(name), media_type=media)

    return [page, asset]
