"""The ceiling: a bare Litestar handler on the same ASGI server as the mock.

One GET returning a small JSON body, no auth, no state, no validation; configured like the mock
(`openapi_config=None`, sync handler not sent to a thread). What the mock reaches relative to this is the
share of the server + framework budget left after its own work.

    uvicorn:  python bench/serve.py --app ceiling --server uvicorn --port 4801
    granian:  python bench/serve.py --app ceiling --server granian --port 4802
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get

BODY = {"id": "2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64", "status": "pending", "priority": 0}


@get("/api/ping", sync_to_thread=False)
def ping() -> dict[str, Any]:
    return BODY


def create_app() -> Litestar:
    return Litestar(route_handlers=[ping], openapi_config=None, debug=False)


app = create_app()
