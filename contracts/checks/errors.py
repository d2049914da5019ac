"""The error-body rule, as a schemathesis check (for generated runs) and as a plain function (for our probes).

Every 4xx answer is JSON with a non-empty string `error`; a 429 adds numeric `limit` and `current`
(the patterns note's response table).

`error_body_shape` is a schemathesis check function. It is registered with schemathesis (`schemathesis.check`)
only while one of our runs uses it (`registered()`): a registered custom check is on by default in *every*
schemathesis run of the process, and importing `contracts` must not change anybody else's tests. Pass it
explicitly to use it in your own schemathesis tests: `case.call_and_validate(checks=[error_body_shape])`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import schemathesis

from contracts.curl import to_curl
from contracts.failures import ErrorBodyMalformed
from contracts.registry import declare

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response

__all__ = ("ERROR_BODY_RULE", "error_body_problem", "error_body_shape", "registered")

_LOCK = threading.Lock()
_USERS = 0

ERROR_BODY_RULE = "status.error-body"
EXPECTED = '4xx bodies are JSON {"error": "<non-empty string>"}; 429 also has numeric "limit" and "current"'

declare(ERROR_BODY_RULE, suite="status", title="Every 4xx body has a string `error`", failure=ErrorBodyMalformed)


def error_body_problem(status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with a 4xx body (None when it is fine or the status is not 4xx)."""
    if not 400 <= status < 500:
        return None
    if not body:
        return "empty body"
    if "json" not in content_type:
        return f"Content-Type {content_type or '(none)'} is not JSON"
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return "body is not valid JSON"
    if not isinstance(payload, dict):
        return f"body is a JSON {type(payload).__name__}, not an object"
    error = payload.get("error")
    if not isinstance(error, str) or not error:
        return "no string `error` field" if "error" not in payload else f"`error` is {json.dumps(error)}"
    if status == 429:
        for name in ("limit", "current"):
            value = payload.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"429 without a numeric `{name}`"
    return None


def error_body_shape(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """4xx answers carry `{"error": "..."}` (429: plus numeric `limit` and `current`)."""
    content_type = _header(response.headers, "content-type")
    problem = error_body_problem(response.status_code, content_type, response.content)
    if problem is None:
        return None
    request = response.request
    raise ErrorBodyMalformed(
        rule=ERROR_BODY_RULE,
        operation=case.operation.label,
        expected=EXPECTED,
        actual=f"{response.status_code}: {problem} — {response.content[:200].decode('utf-8', 'replace')}",
        request=to_curl(
            str(request.method),
            str(request.url),
            {str(k): str(v) for k, v in request.headers.items()},
            request.body if isinstance(request.body, (bytes, str)) else None,
        ),
    )


@contextmanager
def registered() -> Iterator[None]:
    """Our schemathesis checks are known to schemathesis (by name, for its config) inside this block only."""
    global _USERS
    from schemathesis.checks import CHECKS

    from contracts.checks.acceptance import valid_data_accepted

    ours = (error_body_shape, valid_data_accepted)
    with _LOCK:
        _USERS += 1
        if _USERS == 1:
            for check in ours:
                schemathesis.check(check)
    try:
        yield
    finally:
        with _LOCK:
            _USERS -= 1
            for check in ours:
                if _USERS == 0 and check.__name__ in CHECKS.get_all_names():
                    CHECKS.unregister(check.__name__)


def _header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return (value[0] if isinstance(value, list) else str(value)).split(";")[0].strip().lower()
    return ""
