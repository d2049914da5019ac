"""The bad-input corpus: every entry is one request written byte for byte, and the answer it must get.

`ENTRIES` is read by test_bad_input.py (one test id per entry, over a real port and, where the request survives
httpx unchanged, in-process) and rendered into docs/hardening.md by `python -m tests.hardening.corpus`.

Answers come from two places, and the corpus says which:

- `app`: our Litestar app. A 4xx must be JSON `{"error": "<string>"}` (at most 500 characters of message);
- `uvicorn`: uvicorn's HTTP parser refused the request before any app code ran. uvicorn then answers
  `400 text/plain "Invalid HTTP request received."` itself and closes the connection. That is not our error
  format, and we cannot change it from the app; the corpus pins it so that any change shows.

Never a 5xx, and no response header may carry anything a request tried to inject (`evil`).
A known bug of the mock is an entry with `bug=`: the test is a strict xfail naming the bug (docs/hardening.md),
so it starts to fail, as a reminder to drop the marker, the moment the bug is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ("BUGS", "ENTRIES", "Ctx", "Entry", "Req")

MiB = 1024 * 1024
# Known bugs of the mock, by the id docs/hardening.md gives them: an entry with `bug=` is a strict xfail.
# None is open today. Found by this corpus and fixed in http/validation.py while it was written:
#   H1  a body nested deeper than msgspec's limit raised RecursionError -> 500 (now 400, nesting cap 100)
#   H2  invalid UTF-8 inside a JSON string raised UnicodeDecodeError -> 500 (now 400 "not valid UTF-8")
#   H3  a valid body nested ~500 deep crashed the domain's copy.deepcopy -> 500 (now 400, same cap)
BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Ctx:
    key: str  # acme-admin's key
    workspace_id: str  # acme-web: acme-admin may create tasks there
    task_id: str  # a task acme-admin can see


Transport = Literal["plain", "unsent-body", "chunked-paced"]


@dataclass(frozen=True)
class Req:
    method: str
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None
    transport: Transport = "plain"
    content_length: int | None = None  # announce this instead of len(body) (unsent-body)
    raw: bytes | None = None  # sent as is instead of a rendered request


@dataclass(frozen=True)
class Entry:
    id: str
    what: str  # the request, for people
    request: Callable[[Ctx], Req]
    expect: tuple[int, ...]
    answer: str  # the answer, for people
    origin: Literal["app", "uvicorn"] = "app"
    inproc: bool = False  # also run in-process (httpx sends this request unchanged)
    bug: str | None = None  # key of BUGS: a strict xfail until fixed
    error_contains: str | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)  # named extra checks (see test_bad_input.EXTRA)


def _auth(ctx: Ctx) -> tuple[bytes, bytes]:
    return (b"Authorization", f"Bearer {ctx.key}".encode())


JSON = (b"Content-Type", b"application/json")


def _post_task(
    body: bytes | Callable[[Ctx], bytes],
    *,
    headers: tuple[tuple[bytes, bytes], ...] | None = None,
    path: bytes = b"/api/tasks",
) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        raw = body(ctx) if callable(body) else body
        return Req("POST", path, (_auth(ctx), *(headers if headers is not None else (JSON,))), raw)

    return build


def _task_body(title: bytes = b"hardening") -> Callable[[Ctx], bytes]:
    return lambda ctx: b'{"title": "' + title + b'", "workspaceId": "' + ctx.workspace_id.encode() + b'"}'


def _get(
    target: bytes | Callable[[Ctx], bytes], *extra: tuple[bytes, bytes], auth: bool = True, method: str = "GET"
) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        path = target(ctx) if callable(target) else target
        return Req(method, path, ((_auth(ctx),) if auth else ()) + extra)

    return build


def _nested_context(depth: int) -> Callable[[Ctx], bytes]:
    return lambda ctx: (
        b'{"title": "deep", "workspaceId": "'
        + ctx.workspace_id.encode()
        + b'", "context": {"a": '
        + b"[" * depth
        + b"]" * depth
        + b"}}"
    )


_CRLF = b"%0d%0aSet-Cookie:%20evil=1"
_BIG = b"a" * 64 * 1024

ENTRIES: tuple[Entry, ...] = (
    # -- JSON bodies (POST /api/tasks as acme-admin) ------------------------------------------------------------
    Entry(
        "json-malformed",
        'body `{"title": `',
        _post_task(b'{"title": '),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
        error_contains="Malformed JSON",
    ),
    Entry(
        "json-truncated",
        "body cut inside a string",
        _post_task(lambda c: _task_body()(c)[:-20]),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
        error_contains="Malformed JSON",
    ),
    Entry(
        "json-trailing-garbage",
        'body `{"title": "x"} xyz`',
        _post_task(b'{"title": "x"} xyz'),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
        error_contains="Malformed JSON",
    ),
    Entry(
        "json-empty-body",
        "empty body with Content-Type: application/json",
        _post_task(b""),
        (400,),
        "400 Request body is required",
        inproc=True,
        error_contains="required",
    ),
    Entry("json-null", "body `null`", _post_task(b"null"), (400,), "400 null is not of type object", inproc=True),
    Entry("json-array", "body `[]`", _post_task(b"[]"), (400,), "400 [] is not of type object", inproc=True),
    Entry(
        "json-duplicate-keys",
        'body `{"title": "x", "title": 5, ...}` (last wins)',
        _post_task(lambda c: b'{"title": "x", "title": 5, "workspaceId": "' + c.workspace_id.encode() + b'"}'),
        (400,),
        "400 title: 5 is not of type string",
        inproc=True,
        error_contains="title",
    ),
    Entry(
        "json-nan",
        "`priority: NaN`",
        _post_task(b'{"title": "x", "priority": NaN}'),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
    ),
    Entry(
        "json-huge-integer",
        "`priority` of 5000 digits",
        _post_task(b'{"title": "x", "priority": ' + b"9" * 5000 + b"}"),
        (400,),
        "400 Malformed JSON body (integer out of range)",
        inproc=True,
    ),
    Entry(
        "json-number-overflow",
        "`priority: 1e400`",
        _post_task(b'{"title": "x", "priority": 1e400}'),
        (400,),
        "400 Malformed JSON body (number out of range)",
        inproc=True,
    ),
    Entry(
        "json-lone-surrogate",
        r'title `"\ud800"` (unpaired surrogate escape)',
        _post_task(b'{"title": "\\ud800"}'),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
    ),
    Entry(
        "json-raw-nul-byte",
        "a raw 0x00 byte inside a JSON string",
        _post_task(b'{"title": "a\x00b"}'),
        (400,),
        "400 Malformed JSON body (control character)",
        inproc=True,
    ),
    Entry(
        "json-bom",
        "UTF-8 BOM before the JSON",
        _post_task(lambda c: b"\xef\xbb\xbf" + _task_body()(c)),
        (400,),
        "400 Malformed JSON body",
        inproc=True,
    ),
    Entry(
        "json-nested-100k-open",
        "100 000 `[` (deeply nested, never closed)",
        _post_task(b"[" * 100_000),
        (400,),
        "400 Malformed JSON body: nested deeper than 100 levels (was 500: H1)",
        inproc=True,
        error_contains="nested deeper",
    ),
    Entry(
        "json-nested-100k-objects",
        '100 000 `{"a":`',
        _post_task(b'{"a":' * 100_000),
        (400,),
        "400 Malformed JSON body: nested deeper than 100 levels (was 500: H1)",
        inproc=True,
        error_contains="nested deeper",
    ),
    Entry(
        "json-nested-10k-balanced",
        "10 000 `[` then 10 000 `]` (valid JSON, not an object)",
        _post_task(b"[" * 10_000 + b"]" * 10_000),
        (400,),
        "400 nested deeper than 100 levels (was 500: H1)",
        inproc=True,
        error_contains="nested deeper",
    ),
    Entry(
        "json-nested-600-in-context",
        "a valid task whose `context.a` is 600 nested arrays",
        _post_task(_nested_context(600)),
        (400,),
        "400 nested deeper than 100 levels (was 500: H3)",
        inproc=True,
        error_contains="nested deeper",
    ),
    Entry(
        "json-nested-50-in-context",
        "the same with 50 nested arrays (under the cap)",
        _post_task(_nested_context(50)),
        (200,),
        "200, stored as data",
        inproc=True,
    ),
    Entry(
        "utf8-invalid-in-string",
        "bytes 0xff 0xfe inside the title string",
        _post_task(lambda c: _task_body(b"\xff\xfe")(c)),
        (400,),
        "400 Malformed JSON body: not valid UTF-8 (was 500: H2)",
        inproc=True,
        error_contains="UTF-8",
    ),
    Entry(
        "utf8-overlong-in-string",
        "overlong UTF-8 0xc0 0xaf (`/`) inside the title string",
        _post_task(lambda c: _task_body(b"\xc0\xaf")(c)),
        (400,),
        "400 Malformed JSON body: not valid UTF-8 (was 500: H2)",
        inproc=True,
        error_contains="UTF-8",
    ),
    Entry(
        "utf8-invalid-outside-string",
        "the body in UTF-16 (starts 0xff 0xfe)",
        _post_task(lambda c: _task_body()(c).decode().encode("utf-16")),
        (400,),
        "400 Malformed JSON body: not valid UTF-8",
        inproc=True,
        error_contains="UTF-8",
    ),
    # -- content types --------------------------------------------------------------------------------------------
    Entry(
        "ctype-text-plain",
        "valid JSON sent as text/plain",
        _post_task(_task_body(), headers=((b"Content-Type", b"text/plain"),)),
        (415,),
        "415 Content-Type must be application/json",
        inproc=True,
        error_contains="Content-Type",
    ),
    Entry(
        "ctype-form",
        "`title=x` as application/x-www-form-urlencoded",
        _post_task(b"title=x", headers=((b"Content-Type", b"application/x-www-form-urlencoded"),)),
        (415,),
        "415 Content-Type must be application/json",
        inproc=True,
    ),
    Entry(
        "ctype-missing",
        "valid JSON without Content-Type",
        _post_task(_task_body(), headers=()),
        (415,),
        "415 Content-Type must be application/json",
        inproc=True,
    ),
    Entry(
        "ctype-multipart",
        "multipart/form-data body",
        _post_task(b"--x\r\n\r\n--x--", headers=((b"Content-Type", b"multipart/form-data; boundary=x"),)),
        (415,),
        "415 Content-Type must be application/json",
        inproc=True,
    ),
    Entry(
        "ctype-lookalike",
        "Content-Type: application/jsonx",
        _post_task(_task_body(), headers=((b"Content-Type", b"application/jsonx"),)),
        (415,),
        "415 Content-Type must be application/json",
        inproc=True,
    ),
    # -- body sizes (limit 1 MiB) ---------------------------------------------------------------------------------
    Entry(
        "body-10mib-content-length",
        "10 MiB body with Content-Length",
        _post_task(b'{"title": "' + b"a" * (10 * MiB) + b'"}'),
        (413,),
        "413 Request body is larger than 1048576 bytes (from the header: no body byte read)",
        error_contains="larger than",
        extra=("nothing-sent",),
    ),
    Entry(
        "body-10mib-announced-not-sent",
        "Content-Length: 10485760, no body sent at all",
        lambda c: Req("POST", b"/api/tasks", (_auth(c), JSON), b"", transport="unsent-body", content_length=10 * MiB),
        (413,),
        "413 at once, from the header (nothing read)",
        extra=("nothing-sent",),
    ),
    Entry(
        "body-10mib-chunked",
        "10 MiB chunked body without Content-Length; the client pauses after 2 MiB",
        lambda c: Req(
            "POST", b"/api/tasks", (_auth(c), JSON, (b"Transfer-Encoding", b"chunked")), None, transport="chunked-paced"
        ),
        (413,),
        "413 after ~1 MiB, before the client sends the rest",
        extra=("answered-before-end",),
    ),
    Entry(
        "content-length-invalid",
        "Content-Length: abc",
        lambda c: Req("POST", b"/api/tasks", (_auth(c), JSON, (b"Content-Length", b"abc")), None),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "content-length-negative",
        "Content-Length: -1",
        lambda c: Req("POST", b"/api/tasks", (_auth(c), JSON, (b"Content-Length", b"-1")), None),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "content-length-and-chunked",
        "Content-Length and Transfer-Encoding: chunked together (smuggling shape)",
        lambda c: Req(
            "POST",
            b"/api/tasks",
            (_auth(c), JSON, (b"Content-Length", b"4"), (b"Transfer-Encoding", b"chunked")),
            b"2\r\n{}\r\n0\r\n\r\n",
        ),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    # -- headers --------------------------------------------------------------------------------------------------
    Entry(
        "header-64kib-unknown",
        "GET /api/tasks with a 64 KiB `X-Filler` header",
        _get(b"/api/tasks", (b"X-Filler", _BIG)),
        (200,),
        "200: the header is ignored (no header size limit, see finding H5)",
    ),
    Entry(
        "header-64kib-authorization",
        "64 KiB Authorization value",
        _get(b"/api/tasks", (b"Authorization", b"Bearer " + _BIG), auth=False),
        (401,),
        "401 Unauthorized",
        error_contains="Unauthorized",
    ),
    Entry(
        "header-64kib-cookie",
        "64 KiB session cookie",
        _get(b"/api/tasks", (b"Cookie", b"authjs.session-token=" + _BIG), auth=False),
        (401,),
        "401 Unauthorized",
    ),
    Entry(
        "header-raw-crlf",
        "a bare CR inside a header value",
        _get(b"/api/tasks", (b"X-A", b"a\rSet-Cookie: evil=1")),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "header-raw-nul",
        "a NUL byte inside a header value",
        _get(b"/api/tasks", (b"X-A", b"a\x00b")),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "header-latin1-authorization",
        "Authorization: Bearer 0xff 0xfe",
        _get(b"/api/tasks", (b"Authorization", b"Bearer \xff\xfe"), auth=False),
        (401,),
        "401 Unauthorized",
    ),
    Entry(
        "prefer-encoded-crlf",
        "Prefer: example=x%0d%0aSet-Cookie:%20evil=1",
        _get(b"/api/tasks?limit=1", (b"Prefer", b"example=x" + _CRLF)),
        (400,),
        "400, the unknown example refused in the body, no Preference-Applied",
        extra=("no-preference-applied",),
    ),
    Entry(
        "bearer-lowercase-scheme",
        "`Authorization: bearer <key>`",
        lambda c: Req("GET", b"/api/tasks", ((b"Authorization", f"bearer {c.key}".encode()),)),
        (401,),
        "401 Unauthorized (the scheme is case-sensitive, as on the real server)",
    ),
    Entry(
        "bearer-similar-key",
        "the key with its last hex digit changed",
        lambda c: Req(
            "GET",
            b"/api/tasks",
            ((b"Authorization", f"Bearer {c.key[:-1]}{'0' if c.key[-1] != '0' else '1'}".encode()),),
        ),
        (401,),
        "401 Unauthorized, the key not echoed",
        inproc=True,
        extra=("no-key-echo",),
    ),
    # -- paths: traversal, injection, encodings -------------------------------------------------------------------
    Entry(
        "path-traversal-encoded",
        "GET /api/tasks/..%2F..%2Fetc%2Fpasswd",
        _get(b"/api/tasks/..%2F..%2Fetc%2Fpasswd"),
        (404,),
        "404 Not found (route miss)",
        inproc=True,
        extra=("no-file",),
    ),
    Entry(
        "path-traversal-raw",
        "GET /api/workers/../../accounts (dot segments on the wire)",
        _get(b"/api/workers/../../accounts"),
        (404,),
        "404 Not found: never the account list",
        extra=("no-file",),
    ),
    Entry(
        "path-traversal-encoded-dots",
        "GET /api/tasks/%2e%2e/%2e%2e/accounts",
        _get(b"/api/tasks/%2e%2e/%2e%2e/accounts"),
        (404,),
        "404 Not found",
        inproc=True,
    ),
    Entry(
        "path-dotdot-id", "GET /api/tasks/..", _get(b"/api/tasks/%2e%2e"), (400,), "400 id does not match", inproc=True
    ),
    Entry(
        "path-backslash-traversal",
        r"GET /api/tasks/..%5C..%5Cwin.ini",
        _get(b"/api/tasks/..%5C..%5Cwin.ini"),
        (400,),
        "400 id does not match",
        inproc=True,
    ),
    Entry(
        "path-sql-id",
        "GET /api/tasks/1' OR '1'='1",
        _get(b"/api/tasks/1'%20OR%20'1'%3D'1"),
        (400,),
        "400 id does not match",
        inproc=True,
        error_contains="id",
    ),
    Entry(
        "path-sql-worker-id",
        "GET /api/workers/1;DROP TABLE workers",
        _get(b"/api/workers/1;DROP%20TABLE%20workers"),
        (400,),
        "400 id does not match",
        inproc=True,
    ),
    Entry(
        "path-encoded-crlf",
        "GET /api/tasks/%0d%0aSet-Cookie:%20evil=1",
        _get(b"/api/tasks/" + _CRLF),
        (400,),
        "400 id does not match (escaped in the JSON, never a header)",
        inproc=True,
    ),
    Entry(
        "path-encoded-nul",
        "GET /api/tasks/abc%00def",
        _get(b"/api/tasks/abc%00def"),
        (400,),
        "400 id does not match",
        inproc=True,
    ),
    Entry(
        "path-raw-nul",
        "a raw NUL byte in the request target",
        _get(b"/api/tasks/a\x00b"),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "path-unicode-encoded",
        "GET /api/tasks/ünïcødé-✓ (percent-encoded UTF-8)",
        _get(b"/api/tasks/%C3%BCn%C3%AFc%C3%B8d%C3%A9-%E2%9C%93"),
        (400,),
        "400 id does not match",
        inproc=True,
    ),
    Entry(
        "path-unicode-raw",
        "raw UTF-8 bytes in the request target",
        _get("/api/tasks/✓".encode()),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "path-invalid-percent",
        "GET /api/tasks/%ff%fe (invalid percent-encoded UTF-8)",
        _get(b"/api/tasks/%ff%fe"),
        (400,),
        "400 id does not match (U+FFFD)",
        inproc=True,
    ),
    Entry(
        "path-unknown-method",
        "FOO /api/tasks",
        _get(b"/api/tasks", method="FOO"),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
    Entry(
        "path-trace-method",
        "TRACE /api/tasks",
        _get(b"/api/tasks", method="TRACE"),
        (405,),
        "405 Method not allowed + Allow",
        inproc=True,
        extra=("allow",),
    ),
    # -- query strings --------------------------------------------------------------------------------------------
    Entry(
        "query-sql",
        "GET /api/tasks?workspaceId=' OR 1=1--",
        _get(b"/api/tasks?workspaceId='%20OR%201=1--"),
        (400,),
        "400 workspaceId does not match",
        inproc=True,
        error_contains="workspaceId",
    ),
    Entry(
        "query-encoded-crlf",
        "GET /api/tasks?status=%0d%0aSet-Cookie:%20evil=1",
        _get(b"/api/tasks?status=" + _CRLF),
        (400,),
        "400 status is not one of ...",
        inproc=True,
    ),
    Entry(
        "query-encoded-nul",
        "GET /api/tasks?workspaceId=%00",
        _get(b"/api/tasks?workspaceId=%00"),
        (400,),
        "400 workspaceId does not match",
        inproc=True,
    ),
    Entry(
        "query-unicode",
        "GET /api/tasks?status=✓",
        _get(b"/api/tasks?status=%E2%9C%93"),
        (400,),
        "400 status is not one of ...",
        inproc=True,
    ),
    Entry(
        "query-duplicate-invalid",
        "GET /api/tasks?status=pending&status=bogus",
        _get(b"/api/tasks?status=pending&status=bogus"),
        (400,),
        "400: every value is validated",
        inproc=True,
    ),
    Entry(
        "query-duplicate-valid",
        "GET /api/tasks?limit=1&limit=2",
        _get(b"/api/tasks?limit=1&limit=2"),
        (200,),
        "200, the last value wins (2 tasks)",
        inproc=True,
        extra=("two-tasks",),
    ),
    Entry(
        "query-60kib-unknown-param",
        "GET /api/tasks?x=<60 KiB>",
        _get(b"/api/tasks?x=" + b"a" * 60_000),
        (200,),
        "200: unknown parameters are ignored",
        inproc=True,
    ),
    Entry(
        "query-60kib-declared-param",
        "GET /api/tasks?status=<60 KiB>",
        _get(b"/api/tasks?status=" + b"a" * 60_000),
        (400,),
        "400, the message cut to 500 characters",
        inproc=True,
    ),
    Entry(
        "query-1500-duplicates",
        "GET /api/tasks?status=pending x 1500 (22 KiB)",
        _get(b"/api/tasks?" + b"&".join([b"status=pending"] * 1500)),
        (200,),
        "200",
    ),
    Entry(
        "query-64kib-target",
        "a request target of 64 KiB or more",
        _get(b"/api/tasks?x=" + b"a" * 65_536),
        (400,),
        "uvicorn 400 text/plain (httptools' URL limit)",
        origin="uvicorn",
    ),
    # -- SQL-looking and injection-looking data in bodies: just data ------------------------------------------------
    Entry(
        "body-sql-title",
        "title `'; DROP TABLE tasks; --`",
        _post_task(lambda c: _task_body(b"'; DROP TABLE tasks; --")(c)),
        (200,),
        "200, stored verbatim",
        inproc=True,
        extra=("title-verbatim",),
    ),
    Entry(
        "body-sql-workspace",
        "workspaceId `' OR 1=1 --`",
        _post_task(b'{"title": "x", "workspaceId": "\' OR 1=1 --"}'),
        (404,),
        "404 Workspace not found",
        inproc=True,
        error_contains="Workspace",
    ),
    Entry(
        "body-crlf-title",
        r'title `"x\r\nSet-Cookie: evil=1"`',
        _post_task(lambda c: _task_body(b"x\\r\\nSet-Cookie: evil=1")(c)),
        (200,),
        "200, stored as data, never a header",
        inproc=True,
    ),
    Entry(
        "body-escaped-nul-title",
        r'title `"a\u0000b"`',
        _post_task(lambda c: _task_body(b"a\\u0000b")(c)),
        (200,),
        "200, stored as data",
        inproc=True,
    ),
    Entry(
        "body-unicode-title",
        "title with emoji, RTL and combining marks",
        _post_task(lambda c: _task_body("ship 🚀 \u202eevil \u0301 ✓".encode())(c)),
        (200,),
        "200, stored verbatim",
        inproc=True,
        extra=("title-verbatim",),
    ),
    # -- HTTP framing ---------------------------------------------------------------------------------------------
    Entry(
        "http-garbage",
        "TLS ClientHello bytes on the plain port",
        lambda c: Req("GET", b"", raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64),
        (400,),
        "uvicorn 400 text/plain",
        origin="uvicorn",
    ),
)


def markdown_table() -> str:
    rows = ["| # | entry | request | answer | run |", "|---|---|---|---|---|"]
    for number, entry in enumerate(ENTRIES, 1):
        answer = entry.answer + (f" — **known bug {entry.bug}** (strict xfail)" if entry.bug else "")
        what = entry.what.replace("|", "\\|")
        run = "port + in-process" if entry.inproc else "port"
        rows.append(f"| {number} | `{entry.id}` | {what} | {answer} | {run} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
